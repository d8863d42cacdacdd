"""Measure every runtime_c kernel family on every core and write tinyc/data/family_bytes.json, the table
the fit check's code estimate reads (tinyc/fit.py). Run it when a kernel grows; tests/unit/test_fit.py
fails while the table under-counts (or over-counts by more than 25 %).

    .venv/bin/python scripts/family_bytes.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tinyc import fit  # noqa: E402
from tinyc.board import gcc_flags  # noqa: E402
from tinyc.toolchain.arm import family_bytes  # noqa: E402


def measure() -> dict[str, dict[str, dict[str, int]]]:
    """core -> family -> {"int8", "float32"} bytes, at -O2 with each core's board flags."""
    table = {}
    with tempfile.TemporaryDirectory() as work:
        for core, board in fit.measured_boards().items():
            table[core] = {source.stem: family_bytes(source, gcc_flags(board), Path(work))
                           for source in fit.family_sources()}
    return table


def as_json(table: dict) -> str:
    """One line per family, so a diff shows which kernel grew on which core."""
    cores = [f'  "{core}": {{\n' + ",\n".join(f'    "{f}": {json.dumps(sizes, sort_keys=True)}'
                                              for f, sizes in sorted(families.items())) + "\n  }"
             for core, families in sorted(table.items())]
    return "{\n" + ",\n".join(cores) + "\n}\n"


if __name__ == "__main__":
    fit.FAMILY_BYTES_FILE.write_text(as_json(measure()))
    print(f"wrote {fit.FAMILY_BYTES_FILE}")
