"""SIGTERM during a headless run closes the session cleanly (status "interrupted")."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from handpose_live.session import SessionReader

ROOT = Path(__file__).resolve().parent.parent

RUNNER = textwrap.dedent("""
    import sys, time
    from handpose_live import batch
    sys.path.insert(0, 'tests')
    from session_fakes import FakeEstimator, fake_factory

    class Slow(FakeEstimator):
        def process(self, frames):
            time.sleep(0.05 * len(frames))
            return super().process(frames)

    sys.exit(batch.main(["--headless", "--source", sys.argv[1], "--out", sys.argv[2],
                         "--batch-size", "2"], estimator_factory=fake_factory(Slow())))
""")


@pytest.mark.slow  # > 2 s on the 2-core dev VM (pytest --durations)
def test_sigterm_closes_the_session(tmp_path):
    images, out = tmp_path / "imgs", tmp_path / "out"
    images.mkdir()
    for i in range(200):
        cv2.imwrite(str(images / f"{i:03d}.png"), np.full((32, 32, 3), i, np.uint8))
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(images), str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        jsonl, deadline = out / "keypoints.jsonl", time.monotonic() + 60
        while not (jsonl.is_file() and jsonl.read_text().count("\n") >= 6):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "(interrupted)" in stdout and "Traceback" not in stderr
    info = json.loads((out / "session.json").read_text())
    assert info["status"] == "interrupted"
    with SessionReader(out) as r:
        assert 6 <= len(r) < 200 and info["frames"] == len(r)
        assert r.video_frame(len(r) - 1) is not None  # the last segment was finished properly
