"""`tinyc compile --arduino`: the folder is an Arduino library (library.properties, the model and kernels
under src/, an example sketch, no second main), src/ builds warning-free as C99, and the sketch compiles as
C++ against a stand-in for the Arduino core and runs, printing the class the reference interpreter gives."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from tests.conftest import need_tool
from tinyc import api, interpreter

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ARDUINO_STUB = """#include <stdio.h>
struct SerialStub {
    void begin(long) {}
    void print(const char *s) { fputs(s, stdout); }
    void print(long v) { printf("%ld", v); }
    void print(unsigned long v) { printf("%lu", v); }
    void println(const char *s) { puts(s); }
};
static SerialStub Serial;
static unsigned long micros() { return 0; }
static void delay(unsigned long) {}
"""


def test_arduino_library_layout_builds_and_the_sketch_runs(tmp_path):
    need_tool("cc")
    need_tool("g++")
    out = tmp_path / "digits_cnn"
    api.compile(EXAMPLES / "digits_cnn.onnx", out, calib=EXAMPLES / "digits_calib_cnn.npz", arduino=True)
    props = dict(line.split("=", 1) for line in (out / "library.properties").read_text().splitlines())
    assert props["name"] == "digits_cnn" and props["includes"] == "digits_cnn.h" and props["architectures"] == "*"
    assert (out / "src" / "digits_cnn.h").is_file() and list((out / "src" / "tinyc").glob("*.c"))
    assert not list(out.rglob("main_*.c")) and not (out / "Makefile").exists()  # the IDE compiles all it sees
    sources = sorted(map(str, (out / "src").rglob("*.c")))
    objects = []
    for i, src in enumerate(sources):
        obj = tmp_path / f"{i}.o"
        subprocess.run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-c",
                        "-I", str(out / "src"), src, "-o", str(obj)], check=True)
        objects.append(str(obj))
    (tmp_path / "Arduino.h").write_text(ARDUINO_STUB)
    main = tmp_path / "sketch.cpp"
    main.write_text('#include "Arduino.h"\n#include "' + str(out / "examples" / "digits_cnn" / "digits_cnn.ino")
                    + '"\nint main() { setup(); loop(); return 0; }\n')
    exe = tmp_path / "sketch"
    subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-I", str(tmp_path), "-I", str(out / "src"), str(main),
                    *objects, "-o", str(exe), "-lm"], check=True)
    printed = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    compiled = api.build(EXAMPLES / "digits_cnn.onnx", calib=EXAMPLES / "digits_calib_cnn.npz")
    g = compiled.graph
    feeds = {n: np.zeros((1, *g.tensors[n].shape), np.int8) for n in g.inputs}  # the sketch writes int8 zeros
    expected = int(np.argmax(interpreter.run_samples(g, feeds)[g.outputs[0]][0]))  # first maximum, as the sketch
    assert printed.startswith(f"class {expected},"), printed
