#!/usr/bin/env bash
# Quick start: set up, compile the bundled keyword-spotting model to int8 C, run it on the host,
# check it bit for bit against the reference interpreter, and print the RAM/flash report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$PWD/.venv/bin:$PATH"

samples=examples/kws_dscnn_samples.npz
tinyc compile examples/kws_dscnn.onnx -o out/kws_dscnn --calib "$samples"
tinyc run examples/kws_dscnn.onnx --target host --input "$samples" --calib "$samples" --output out/kws_dscnn_result.npy
tinyc verify examples/kws_dscnn.onnx --calib "$samples"
echo
tinyc report out/kws_dscnn
