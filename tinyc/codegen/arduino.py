"""The generated folder as an Arduino library: the model and its kernels under src/ (the IDE compiles that
folder, recursively), library.properties, and an example sketch. Host and firmware test mains, Makefile and
CMake files are left out: the IDE would compile them too. Works on a folder emit() wrote; reads no model.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tinyc.codegen.emit import template_env

LEFT_OUT = ("main_host.c", "main_board.c", "main_firmware.c", "Makefile", "CMakeLists.txt", "library.json",
            "arm-none-eabi.cmake")


def as_arduino_library(folder: Path, name: str, dtype: str, first_output_typed: bool) -> None:
    """Rearrange `folder` (emitted for model `name`) into the Arduino library layout, in place."""
    folder = Path(folder)
    src = folder / "src"
    src.mkdir()
    for f in (f"{name}.h", f"{name}.c", f"{name}_weights.c"):
        (folder / f).rename(src / f)
    (folder / "tinyc").rename(src / "tinyc")
    for f in LEFT_OUT:
        (folder / f).unlink(missing_ok=True)
    for d in ("port",):
        shutil.rmtree(folder / d, ignore_errors=True)
    for f in folder.glob("*.ld"):
        f.unlink()
    env = template_env()
    ctx = {"name": name, "dtype": dtype, "first_output_typed": first_output_typed}
    (folder / "library.properties").write_text(env.get_template("library.properties.j2").render(ctx))
    sketch = folder / "examples" / name
    sketch.mkdir(parents=True)
    (sketch / f"{name}.ino").write_text(env.get_template("example.ino.j2").render(ctx))
