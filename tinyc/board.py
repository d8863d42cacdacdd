"""Board files (boards/*.toml): the limits a model is checked against."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tinyc.errors import BadInput
from tinyc.resources import boards_dir


def known_boards() -> dict[str, Path]:
    return {p.stem: p for p in sorted(boards_dir().glob("*.toml"))}


def load_board(name_or_path: str) -> dict:
    """A board by name from boards/, or a user's own board file of the same form."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        boards = known_boards()
        if name_or_path not in boards:
            listed = ", ".join(boards) or "none yet"
            raise BadInput(f"--board {name_or_path!r}: unknown board (known: {listed})")
        path = boards[name_or_path]
    if not path.is_file():
        raise BadInput(f"--board {path}: no such file")
    try:
        board = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"--board {path}: not valid TOML ({e})") from None
    board.setdefault("name", path.stem)
    return board
