#!/usr/bin/env bash
# Every user-facing command and option through the *installed* `tinyc`: a fresh virtual environment,
# a plain `pip install REPO` (no extras, no checkout on the path), run from an empty folder outside the
# checkout. Fails on a packaging warning, a traceback, a wrong exit status or a missing output file.
# Usage: bash scripts/smoke_installed.sh [REPO]   (needs cc, arm-none-eabi-gcc and qemu-system-arm)
set -uo pipefail
repo=$(cd "${1:-$(dirname "$0")/..}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0

python3 -m venv venv
venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1
# -v shows the build backend's own warnings, which a quiet install hides
if ! venv/bin/python -m pip install -v "$repo" >pip.log 2>&1; then
    tail -20 pip.log; echo "smoke: pip install failed"; exit 1
fi
if grep -E "[A-Za-z_]*Warning: |is absent from the .packages. configuration" pip.log; then
    echo "smoke: pip install printed a packaging warning (above)"; failures=$((failures + 1))
fi
tinyc="$work/venv/bin/tinyc"
ex="$repo/examples"

# ok NAME ARGS...: exit 0, no traceback
ok() {
    local name=$1; shift
    if "$tinyc" "$@" >"$name.out" 2>"$name.err" && ! grep -q Traceback "$name.out" "$name.err"; then
        echo "ok    $name"
    else
        echo "FAIL  $name: tinyc $*"; tail -5 "$name.err"; failures=$((failures + 1))
    fi
}

# fails NAME ARGS...: exit 1 with exactly one line on stderr, starting `error:`
fails() {
    local name=$1; shift
    "$tinyc" "$@" >"$name.out" 2>"$name.err"
    local rc=$?
    if [ "$rc" -eq 1 ] && [ "$(wc -l <"$name.err")" -eq 1 ] && grep -q '^error: ' "$name.err"; then
        echo "ok    $name ($(cat "$name.err"))"
    else
        echo "FAIL  $name (exit $rc): tinyc $*"; head -5 "$name.err"; failures=$((failures + 1))
    fi
}

# exists FILE...: the outputs a command promised
exists() {
    for f in "$@"; do
        [ -s "$f" ] || { echo "FAIL  missing $f"; failures=$((failures + 1)); }
    done
}

cnn="$ex/digits_cnn.onnx" cnn_calib="$ex/digits_calib_cnn.npz" cnn_test="$ex/digits_test_cnn.npz"
mlp="$ex/digits_mlp.onnx" mlp_calib="$ex/digits_calib_mlp.npz" mlp_test="$ex/digits_test_mlp.npz"

ok boards boards
ok compile_default compile "$cnn" -o default
exists default/digits_cnn.c default/digits_cnn.h default/digits_cnn_weights.c default/Makefile default/report.json \
    default/report.html default/CMakeLists.txt default/library.json
ok compile_float32 compile "$cnn" -o float32 --dtype float32 --name digits_f32
exists float32/digits_f32.c
ok compile_board compile "$ex/kws_dscnn.onnx" -o kws --board nucleo-l4r5zi --calib "$ex/kws_dscnn_samples.npz"
exists kws/tinyc/tinyc_depthwise.c kws/tinyc/tinyc_conv_common.h  # the runtime files travel with the package
ok compile_prune compile "$cnn" -o prune --calib "$cnn_calib" --prune 0.8
exists prune/sensitivity.md prune/sensitivity.json prune/sensitivity.svg
ok compile_sparsity compile "$cnn" -o nm --calib "$cnn_calib" --sparsity 2:4
ok compile_prune_channels compile "$cnn" -o channels --calib "$cnn_calib" --prune-channels 0.25
ok compile_kronecker compile "$mlp" -o kp --calib "$mlp_calib" --kronecker auto
ok compile_doped compile "$mlp" -o dkp --calib "$mlp_calib" --kronecker auto --doped
ok compile_max_drop compile "$cnn" -o maxdrop --calib "$cnn_calib" --max-drop 1 --eval "$cnn_test"
ok compile_flash_budget compile "$cnn" -o flash --calib "$cnn_calib" --flash-budget 12K
ok compile_ram_budget compile "$cnn" -o ram --calib "$cnn_calib" --ram-budget 40K --board stm32f103c8
ok compile_latency_budget compile "$cnn" -o latency --calib "$cnn_calib" --latency-budget 400k --board mps2-an386
ok compile_eval compile "$mlp" -o eval --calib "$mlp_calib" --eval "$mlp_test"
ok compile_arduino compile "$cnn" -o arduino --calib "$cnn_calib" --arduino
exists arduino/library.properties arduino/src/digits_cnn.h arduino/examples/digits_cnn/digits_cnn.ino
ok compile_zoo compile "$repo/tests/zoo/kwt_dynamo18.onnx" -o kwt --dtype float32  # a PyTorch transformer export
tflite="$repo/../shared/models/tflite_int8/ad01_int8.tflite"  # beside the checkout, as in CI
if [ -f "$tflite" ]; then
    ok compile_tflite compile "$tflite" -o ad_tflite --board nucleo-l4r5zi
    ok verify_tflite verify "$tflite" --board mps2-an386
else
    echo "skip  compile_tflite: $tflite not found"
fi
ok report report default
ok run_ref run "$cnn" --target ref --input "$cnn_calib" --calib "$cnn_calib" --output ref.npy
ok run_host run "$cnn" --target host --input "$cnn_calib" --calib "$cnn_calib" --output host.npy
ok run_qemu run "$cnn" --target mps2-an386 --input "$cnn_calib" --calib "$cnn_calib" --output qemu.npz \
    --report measured.json
exists ref.npy host.npy qemu.npz measured.json measured.html
ok verify verify "$mlp" --board mps2-an385 --calib "$mlp_calib"
ok verify_float32 verify "$mlp" --dtype float32

# the board firmware (self-test, then verify --port) built by make alone, run under QEMU with its UART on a socket
ok compile_selftest compile "$mlp" -o selftest --board mps2-an386 --calib "$mlp_calib" --selftest "$mlp_test"
ok compile_pico compile "$mlp" -o pico --board rpi-pico --calib "$mlp_calib" --selftest "$mlp_test"
if make -s -C selftest firmware >make.out 2>&1 && env PATH=/usr/bin:/bin make -s -C pico firmware >>make.out 2>&1; then
    exists selftest/digits_mlp.elf pico/digits_mlp.elf pico/digits_mlp.uf2
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    qemu-system-arm -M mps2-an386 -nographic -monitor none -icount shift=0 \
        -serial "tcp:127.0.0.1:$port,server=on,wait=off" -kernel selftest/digits_mlp.elf >qemu.out 2>&1 &
    qemu=$!
    sleep 1
    ok verify_port verify "$mlp" --board mps2-an386 --calib "$mlp_calib" --port "socket://127.0.0.1:$port"
    kill "$qemu"
    grep -q "agree bit for bit on 32 sample" verify_port.out || { echo "FAIL  verify --port"; failures=$((failures + 1)); }
else
    echo "FAIL  make firmware"; tail -5 make.out; failures=$((failures + 1))
fi

fails missing_model compile "$work/nope.onnx" -o x
fails bad_dtype compile "$cnn" -o x --dtype int4
fails bad_board compile "$cnn" -o x --board no-such-board
fails bad_ratio compile "$cnn" -o x --prune 1.5
fails bad_budget compile "$cnn" -o x --flash-budget lots
fails latency_without_board compile "$cnn" -o x --latency-budget 400k
# a plain install has no PyTorch: --finetune says what to install, in one line
fails finetune_without_torch compile "$cnn" -o x --prune 0.5 --finetune "$ex/digits_train_cnn.npz"
grep -q "tinyc\[train\]" finetune_without_torch.err || { echo "FAIL  --finetune's error names the extra"; failures=$((failures + 1)); }
fails bad_option compile "$cnn" -o x --no-such-option
fails missing_report report "$work/nothing"
fails selftest_without_board compile "$mlp" -o x --selftest "$mlp_test"
fails port_nobody_listens verify "$mlp" --board mps2-an386 --calib "$mlp_calib" --port socket://127.0.0.1:9
[ ! -e x ] || { echo "FAIL  a failed compile left its output folder"; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then
    echo "smoke: $failures failure(s)"; exit 1
fi
echo "smoke: every command through the installed tinyc works"
