#!/usr/bin/env bash
# Install everything the tests need (system packages included) and run the test suite.
# GUI and OpenGL tests run on a virtual X server started by pytest-xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-xcb}"
exec .venv/bin/python -m pytest "$@"
