"""A recording process killed with SIGKILL leaves a readable session."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from handpose_live.session import SessionReader

ROOT = Path(__file__).resolve().parent.parent

RECORDER = textwrap.dedent("""
    import sys, numpy as np
    from handpose_live.session import SessionWriter
    sys.path.insert(0, 'tests')
    from session_fakes import make_hand
    w = SessionWriter(sys.argv[1], fps=10, model_name="m", source_kind="camera",
                      time_base="wall_clock", segment_seconds=3.0, record_raw=True)
    k = 0
    while True:
        frame = np.full((48, 64, 3), (8 * k) % 256, np.uint8)
        w.write(k, k / 10, [make_hand(5, 5, 40, 40, track_id=k)], frame, raw_bgr=frame)
        print(k, flush=True)  # frame k is complete
        k += 1
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_recording_keeps_every_completed_frame(tmp_path):
    folder = tmp_path / "s"
    proc = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(folder)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        completed = -1
        while completed < 74:  # two finished 30-frame segments and 15 frames of the third
            line = proc.stdout.readline()
            assert line, "recorder exited early"
            completed = int(line)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "recording" and info["frame_size"] == [64, 48]
    with SessionReader(folder) as r:
        assert not r.ended_cleanly
        assert len(r) >= completed + 1
        assert [rec.frame for rec in r] == list(range(len(r)))
        assert r[completed].hands[0].track_id == completed
        # finished segments survive the kill, and so does the open one up to its last closed
        # 1 s fragment (a keyframe every fps = 10 frames): frame 64 of >= 75 is readable
        for kind in ("annotated", "raw"):
            for k in (15, 45, completed - 10):
                assert abs(float(r.video_frame(k, kind).mean()) - (8 * k) % 256) < 4, (kind, k)
        r.video_frame(len(r) - 1)  # a frame past the last fragment is None, never an error


DIE_EARLY = textwrap.dedent("""
    import os, signal, sys
    from handpose_live.session import SessionWriter
    w = SessionWriter(sys.argv[1], fps=10, model_name="m", source_kind="camera", time_base="wall_clock")
    os.kill(os.getpid(), signal.SIGKILL)  # killed before the first frame
""")

DIE_IN_REPLACE = textwrap.dedent("""
    import os, signal, sys, numpy as np
    from handpose_live.session import SessionWriter
    w = SessionWriter(sys.argv[1], fps=10, model_name="m", source_kind="camera", time_base="wall_clock")
    real_replace = os.replace
    def dying_replace(src, dst, *args, **kwargs):  # killed between writing session.json.tmp and the rename
        if str(dst).endswith("session.json"):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *args, **kwargs)
    os.replace = dying_replace
    w.write(0, 0.0, [], np.full((48, 64, 3), 90, np.uint8))  # the first frame rewrites session.json
""")


@pytest.mark.slow  # ~2 s each: a Python process that imports the writer
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("script, lines", [(DIE_EARLY, 0), (DIE_IN_REPLACE, 1)], ids=["early", "in-replace"])
def test_killed_at_fixed_moments_the_session_still_opens(tmp_path, script, lines):
    folder = tmp_path / "s"
    proc = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    info = json.loads((folder / "session.json").read_text())  # the last complete header, never half a file
    assert info["status"] == "recording" and info["frames"] == 0
    with SessionReader(folder) as r:
        assert not r.ended_cleanly and len(r) == lines
        if lines:
            assert r[0].frame == 0 and r[0].hands == []
            r.video_frame(0)  # readable or None (the fragment may not have closed), never an error
