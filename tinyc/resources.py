"""Where the C runtime, the Jinja templates and the board files are, installed or in a checkout."""

from importlib import resources
from pathlib import Path


def _dir(package: str, top: str) -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / top).is_dir():
        return checkout / top  # a source tree: its own files, even when another one is installed editable
    try:
        path = Path(str(resources.files(package)))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return checkout / top


def runtime_dir() -> Path:
    return _dir("tinyc.runtime_c", "runtime_c")


def templates_dir() -> Path:
    return _dir("tinyc.templates", "templates")


def boards_dir() -> Path:
    return _dir("tinyc.boards", "boards")
