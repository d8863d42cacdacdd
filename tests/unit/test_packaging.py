"""What `pip install .` carries: every Python package of the source tree."""

from __future__ import annotations

import tomllib
from pathlib import Path


def test_every_python_package_is_installed_by_pyproject():
    """A package missing from pyproject's list works in the checkout and fails after `pip install .`."""
    root = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "tinyc").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
