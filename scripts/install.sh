#!/usr/bin/env bash
# Install handpose-live into ./.venv (and the system libraries Qt needs, when we may apt-get).
#   bash scripts/install.sh          # the app
#   bash scripts/install.sh --dev    # the app + test tools (Xvfb, pytest, pytest-qt, pytest-xvfb)
#                                    # + the training requirements (pyproject.toml's extra "train")
# The project is installed editable from pyproject.toml (the one list of dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python="${PYTHON:-python3}"
apt_packages="libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0 \
libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 \
libxcb-xkb1 libxcb-randr0 libxcb-xfixes0 libxcb-cursor0"
[ $dev = 1 ] && apt_packages="$apt_packages xvfb xauth"
# Debian's own Python ships venv/ensurepip separately
"$python" -c "import ensurepip, venv" 2>/dev/null || apt_packages="$apt_packages python3-venv"

missing=""
if command -v dpkg-query >/dev/null; then
  for p in $apt_packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null; then
    echo "install.sh: please install these system packages yourself:$missing" >&2
  else
    echo "install.sh: installing system packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ $dev = 1 ]; then
  # the tests also check the training-time converters of pretrained starts
  .venv/bin/python -m pip install -q -e ".[dev,train]"
else
  .venv/bin/python -m pip install -q -e .
fi
echo "install.sh: ready (.venv/bin/python)"
