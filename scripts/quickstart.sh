#!/usr/bin/env bash
# Quick start: set up, compile the bundled keyword-spotting model to int8 C for the MLPerf Tiny
# reference board, run it as firmware on an emulated Cortex-M4, check reference = host = QEMU
# bit for bit, and print the report with measured flash, RAM and instructions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PATH="$PWD/.venv/bin:$PATH"

samples=examples/kws_dscnn_samples.npz
tinyc compile examples/kws_dscnn.onnx --board nucleo-l4r5zi -o out/kws_dscnn --calib "$samples"
echo
tinyc verify examples/kws_dscnn.onnx --board mps2-an386 --calib "$samples"
echo
tinyc run examples/kws_dscnn.onnx --target mps2-an386 --input "$samples" --calib "$samples" \
    --output out/kws_dscnn_result.npy --report out/kws_dscnn_measured.json
