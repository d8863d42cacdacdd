"""A long fuzz campaign: seeded mutants of the example models (tests/fuzzing.py) through the frontend,
int8 and float32 compiles, then each generated folder built with ASan/UBSan and run on random inputs.

    .venv/bin/python scripts/fuzz.py --count 10000 [--start 0] [--no-run]

A failure is a traceback that is not a TinycError, a build that fails, a crash or a sanitizer report;
each prints its seed (rerun it alone with --start SEED --count 1). Exit status 1 if any.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import fuzzing  # noqa: E402
from tinyc.errors import BadInput, TinycError  # noqa: E402
from tinyc.toolchain import host  # noqa: E402

SAMPLES = 3


CFLAGS = [*host.WARNINGS, "-O1", *host.SANITIZE]
RUNTIME_CACHE = Path(tempfile.gettempdir()) / "tinyc-fuzz-objects"


def _compile(src: Path, obj: Path, folder: Path) -> None:
    cmd = [host.compiler(), *CFLAGS, "-I", str(folder), "-I", str(folder / "tinyc"), "-c", str(src), "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BadInput(f"build of {src.name} failed: {done.stderr.strip()[:500]}")


def build(folder: Path, exe: Path) -> Path:
    """host.build with sanitizers, reusing the runtime's object files (same bytes, same object) across mutants."""
    RUNTIME_CACHE.mkdir(exist_ok=True)
    objects = []
    for src in host.sources(folder):
        if src.parent.name == "tinyc":
            key = src.read_bytes() + b"".join(h.read_bytes() for h in sorted((folder / "tinyc").glob("*.h")))
            obj = RUNTIME_CACHE / (hashlib.sha1(key).hexdigest() + ".o")
            if not obj.exists():
                _compile(src, obj.with_suffix(".tmp.o"), folder)
                obj.with_suffix(".tmp.o").rename(obj)
        else:
            obj = exe.parent / (src.stem + ".o")
            _compile(src, obj, folder)
        objects.append(str(obj))
    done = subprocess.run([host.compiler(), *CFLAGS, "-o", str(exe), *objects, "-lm"], capture_output=True, text=True)
    if done.returncode != 0:
        raise BadInput(f"link of {folder} failed: {done.stderr.strip()[:500]}")
    return exe


def run_built(built: fuzzing.Built, seed: int, tmp: Path) -> None:
    """Build under ASan/UBSan and run SAMPLES random inputs; TinycError here (build or run) is a failure."""
    exe = build(built.folder, tmp / "model_host")
    rng = np.random.default_rng(seed)
    inputs = []
    for shape, dtype in built.inputs:
        if dtype == np.int8:
            inputs.append(rng.integers(-128, 128, (SAMPLES, *shape), dtype=np.int8))
        else:
            inputs.append((rng.standard_normal((SAMPLES, *shape)) * 4).astype(dtype))
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    host.run_exe(exe, inputs, built.outputs, env)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--no-run", action="store_true", help="skip building and running the generated C")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")  # numpy's overflow warnings on mutated weights are expected
    totals = dict(mutants=0, rejected=0, compiled=0, built_and_run_clean=0, failures=0)
    started = time.time()
    for seed in range(args.start, args.start + args.count):
        with tempfile.TemporaryDirectory(prefix="tinyc-fuzz-") as tmp:
            outcome = fuzzing.check(seed, Path(tmp))
            totals["mutants"] += 1
            if outcome.failure:
                totals["failures"] += 1
                print(f"FAIL seed {seed} ({outcome.what}):\n{outcome.failure}", flush=True)
                continue
            if outcome.rejected or not outcome.compiled:
                totals["rejected"] += 1
                continue
            totals["compiled"] += 1
            if args.no_run:
                continue
            clean = True
            for built in outcome.compiled:
                try:
                    run_built(built, seed, Path(tmp))
                except TinycError as e:
                    clean = False
                    print(f"FAIL seed {seed} ({outcome.what}), {built.folder.name}: {e}", flush=True)
                    keep = Path("fuzz-failures") / built.folder.name
                    shutil.rmtree(keep, ignore_errors=True)
                    shutil.copytree(built.folder, keep)
            totals["built_and_run_clean" if clean else "failures"] += 1
        if totals["mutants"] % 100 == 0:
            print(f"... {totals} ({time.time() - started:.0f} s)", flush=True)
    print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in totals.items()) + f" ({time.time() - started:.0f} s)")
    return 1 if totals["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
