"""Print the onnxruntime agreement table: zoo models quantized by onnxruntime's quantize_static (QDQ and
QOperator), compiled int8 by tinyc, against onnxruntime's own execution of the same file, in output
quantization steps (docs/onnxruntime_quantization.md). Usage: .venv/bin/python scripts/ort_agreement.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.ort_quantized import CASES, EVAL_SAMPLES, measure  # noqa: E402


def main() -> None:
    logging.disable(logging.WARNING)  # onnxruntime's quantizer advises pre-processing on every call
    print("| model | format | activations | ref = host C | % within 1 step | % within 2 steps | max steps |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for model, form, activations in CASES:
            m = measure(model, form, activations, Path(tmp))
            exact = all(np.array_equal(m["ref"][n], m["host"][n]) for n in m["graph"].outputs)
            a = m["agreement"]
            print(f"| {model} | {form} | {activations} | {'yes' if exact else 'NO'} | {a['within1']:.1f} | "
                  f"{a['within2']:.1f} | {a['max']:.0f} |", flush=True)
    print(f"\n{EVAL_SAMPLES} seeded inputs per model; calibration on the zoo's 4 other seeded inputs.")


if __name__ == "__main__":
    main()
