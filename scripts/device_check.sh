#!/usr/bin/env bash
# The GPU check for a session whose task is lent one (DEVELOPERS' brief: run it first). Runs from the
# working tree on the device machine (torch 2.11 there, no network, nothing pip-installed):
#   bash scripts/device_check.sh            # figures under $OUT (or runs/device_check)
# 1. the estimator on CUDA (auto = fp16) against the CPU (fp32) on the demo clip (scripts/device_check.py);
# 2. benchmark_estimator.py on CUDA: paper, light and the shipped model, batch 1 and larger batches.
# BENCHMARKS.md's CUDA table comes from benchmark_cuda.md.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/device_check}"
mkdir -p "$out"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1 || true
status=0
timeout 240 "$python" scripts/device_check.py --out "$out" 2>&1 | tee "$out/device_check.log" || status=1
timeout 300 "$python" scripts/benchmark_estimator.py --device cuda --presets paper light default \
  --precisions fp32 auto --frames 30 --batches 8 32 128 2>&1 | tee "$out/benchmark_cuda.md" || status=1
exit $status
