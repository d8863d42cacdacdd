"""`tinyc verify --port`: samples to a board's firmware over its serial port, outputs back.

The framed protocol is the one runtime_c/port/tinyc_link.h describes: one request ("TCRQ", length,
the inputs, CRC-32), one answer ("TCRS", length, status, fingerprint, cycles, the outputs, CRC-32).
Anything else the firmware prints (its self-test) is skipped on the way to the answer.
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass

import numpy as np

from tinyc.errors import BadInput
from tinyc.progress import Progress, silent

REQUEST, ANSWER = b"TCRQ", b"TCRS"
BAD_LENGTH, BAD_CRC = 1, 2  # the firmware's answers to a request it cannot take
RETRIES = 3  # a damaged frame is sent again this many times
ANSWER_TIMEOUT = 60.0  # seconds for one inference and its answer


@dataclass
class Answer:
    outputs: bytes  # every output, raw, in order
    cycles: int  # of the inference, as the firmware counted them


def request(payload: bytes) -> bytes:
    return REQUEST + struct.pack("<I", len(payload)) + payload + struct.pack("<I", zlib.crc32(payload))


def open_port(port: str, baud: int):
    """A device path (/dev/ttyACM0, COM3) or a pyserial URL (socket://host:port, rfc2217://...)."""
    import serial

    try:
        return serial.serial_for_url(port, baudrate=baud, timeout=0.5)
    except (serial.SerialException, ValueError) as e:
        raise BadInput(f"--port {port}: cannot open it ({e})") from None


def exchange(link, payloads: list[bytes], output_bytes: int, fingerprint: int, port: str,
             progress: Progress = silent) -> list[Answer]:
    """Send each payload (the inputs of one sample) in turn and read its answer (output_bytes of outputs);
    BadInput names what went wrong."""
    answers = []
    for payload in progress(payloads, f"samples over {port}", len(payloads)):
        for attempt in range(RETRIES + 1):
            link.write(request(payload))
            got = _read_answer(link, port, 12 + output_bytes)
            if got is not None:
                status, found, answer = got
                if found != fingerprint:
                    raise BadInput(f"--port {port}: the firmware there runs another model (fingerprint {found:#010x}, "
                                   f"this compile {fingerprint:#010x}): flash the firmware of this compile "
                                   "(`make -C OUT flash`) and give verify the same model and options")
                if status == 0:
                    answers.append(answer)
                    break
                if status != BAD_CRC:
                    raise BadInput(f"--port {port}: the firmware answered status {status}"
                                   f"{': the request is not the size of the inputs' if status == BAD_LENGTH else ''}")
            if attempt == RETRIES:  # damaged on the way, again and again
                raise BadInput(f"--port {port}: {RETRIES + 1} requests or answers in a row arrived damaged (CRC); "
                               "check the baud rate and the cable")
    return answers


def _read_answer(link, port: str, most: int) -> tuple[int, int, Answer] | None:
    """(status, fingerprint, answer), or None when the answer arrived damaged."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    seen = bytearray()
    while not seen.endswith(ANSWER):
        byte = link.read(1)
        if not byte and time.monotonic() > deadline:
            said = bytes(seen[-80:]).decode(errors="replace").strip().splitlines()
            raise BadInput(f"--port {port}: no answer within {ANSWER_TIMEOUT:.0f} s "
                           f"({'it last printed: ' + said[-1] if said else 'it printed nothing'}); is this "
                           "compile's firmware flashed and running, and is this its serial port?")
        seen += byte
        del seen[:-256]  # only the tail matters: the magic, and what to quote in an error
    (length,) = struct.unpack("<I", _read_exactly(link, 4, deadline, port))
    if length > most:  # a damaged length: do not wait for bytes that will never come
        return None
    payload = _read_exactly(link, length, deadline, port)
    (crc,) = struct.unpack("<I", _read_exactly(link, 4, deadline, port))
    if length < 12 or crc != zlib.crc32(payload):
        return None
    status, fingerprint, cycles = struct.unpack("<III", payload[:12])
    return status, fingerprint, Answer(payload[12:], cycles)


def _read_exactly(link, count: int, deadline: float, port: str) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = link.read(count - len(data))
        if not chunk and time.monotonic() > deadline:
            raise BadInput(f"--port {port}: the answer stopped after {len(data)} of {count} bytes")
        data += chunk
    return bytes(data)


def split(answers: list[Answer], specs: list[tuple[tuple[int, ...], np.dtype]]) -> list[np.ndarray]:
    """The answers' raw outputs -> one array per output, with a leading sample axis."""
    results = []
    offset = 0
    for shape, dtype in specs:
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        results.append(np.stack([np.frombuffer(a.outputs[offset:offset + size], dtype).reshape(shape)
                                 for a in answers]))
        offset += size
    return results
