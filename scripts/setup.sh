#!/usr/bin/env bash
# Installs what tinyc needs on Debian/Ubuntu: a C compiler, make and CMake, the Arm toolchain and QEMU,
# Chromium (the tests render report.html headless), and a virtual environment .venv with tinyc and its
# test and train extras (train: torch==2.13.0, whose CPU wheel pip finds on these machines; CI runs the
# fine-tuning tests). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in cc g++ make cmake arm-none-eabi-gcc qemu-system-arm chromium; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
python3 -m venv --help >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing packages for: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        gcc g++ make cmake gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium python3-venv python3-pip >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet '.[test,train]'
echo "setup: tinyc $(.venv/bin/python -c 'import tinyc; print(tinyc.__version__)') installed in .venv"
