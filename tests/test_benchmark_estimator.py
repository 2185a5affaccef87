"""scripts/benchmark_estimator.py runs through the periodic search for a second hand (frame 10 of
video mode) with one hand, for a preset and for the shipped model folder (with its refiner)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["tiny", "default"])
def test_benchmark_keeps_one_hand_past_the_periodic_search(name):
    if name == "default" and not (ROOT / "assets" / "models" / "default" / "config.json").exists():
        pytest.skip("no shipped model")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark_estimator.py"), "--presets", name,
                          "--precisions", "fp32", "--frames", "15", "--batches", "1", "--threads", "2"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    row = [line for line in out.stdout.splitlines() if line.startswith(f"| {name} |")]
    assert len(row) == 1
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    backend, precision = cells[1:3]
    assert precision == "fp32" and backend in ("onnxruntime", "torch")
    image_ms, video_ms = (float(v) for v in cells[3:5])
    assert image_ms > 0 and video_ms > 0
