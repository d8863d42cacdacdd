"""Progress of long work (sensitivity sweeps, budget searches, accuracy over many samples).

A pass takes a `Progress` and only calls it; what it shows is the caller's choice: nothing (the default,
and always in tests and pipes), or a bar on a terminal (tqdm), which the command line picks when stderr is one.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    def __call__(self, items: Iterable[T], what: str, total: int | None = None) -> Iterable[T]: ...


def silent(items: Iterable[T], what: str, total: int | None = None) -> Iterable[T]:
    """No output: the items as they are."""
    return items


def terminal(items: Iterable[T], what: str, total: int | None = None) -> Iterator[T]:
    """A tqdm bar on stderr, cleared when done."""
    from tqdm import tqdm

    size = shutil.get_terminal_size((80, 24))  # a pty of unset size reports 0 x 0, which hides tqdm's bar
    # mininterval 0: every step is drawn, however fast the steps come (QEMU runs hundreds a second)
    yield from tqdm(items, desc=what, total=total, leave=False, file=sys.stderr, unit="step", mininterval=0,
                    ncols=size.columns or 80, nrows=size.lines or 24)


def for_stream(stream=None) -> Progress:
    """terminal when `stream` (stderr by default) is a terminal, else silent."""
    stream = sys.stderr if stream is None else stream
    return terminal if hasattr(stream, "isatty") and stream.isatty() else silent
