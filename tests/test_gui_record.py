"""Recording from the window: ``--record DIR``, SIGTERM, the record button, failures."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from handpose_live.gui.recording import RecordingController
from handpose_live.runtime import Frame, Result
from handpose_live.session import SessionReader

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "assets" / "demo" / "demo.mp4"


def app_env(tmp_path) -> dict:
    """Settings, log and sessions of the child app in ``tmp_path``, not the user's."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
                XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(runtime))


@pytest.mark.slow  # > 2 s on the 2-core dev VM (pytest --durations)
def test_record_refuses_a_non_empty_folder(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    proc = subprocess.run([sys.executable, str(REPO / "main.py"), "--source", str(DEMO),
                           "--record", str(target)], env=app_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "not an empty folder" in proc.stderr and str(target) in proc.stderr
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


@pytest.mark.gui
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_recording_cleanly(tmp_path, tiny_model_dir, signum):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server")
    out = tmp_path / "rec"
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "--source", str(DEMO), "--record", str(out),
         "--max-frames", "180", "--model", str(tiny_model_dir), "--device", "cpu"],
        env=app_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        jsonl, deadline = out / "keypoints.jsonl", time.monotonic() + 60
        while not (jsonl.is_file() and jsonl.read_text().count("\n") >= 3):
            if proc.poll() is not None or time.monotonic() > deadline:  # never block on a live pipe
                proc.kill()
                pytest.fail(f"the app ended or stalled before 3 frames: {proc.communicate()[1][-2000:]}")
            time.sleep(0.05)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    info = json.loads((out / "session.json").read_text())
    assert info["status"] == "interrupted"
    assert info["status_message"] == f"interrupted by {signal.Signals(signum).name}"
    with SessionReader(out) as r:
        assert 3 <= len(r) < 180 and info["frames"] == len(r) and not r.truncated
        assert r.video_frame(len(r) - 1) is not None  # the video segment was closed properly
        assert r[len(r) - 1].frame == len(r) - 1  # every frame of the file, in order


def result(k: int) -> Result:
    image = np.full((48, 64, 3), 90, np.uint8)
    return Result(Frame(k, image, time.monotonic(), k / 10), [], None, time.monotonic())


def test_an_unexpected_write_error_fails_the_session(tmp_path):
    rec = RecordingController()
    folder = rec.start(tmp_path / "s", fps=10, model_name="m", weights_sha256={},
                       source_kind="video", source_description="x.mp4", smoothed=False)
    rec.on_result(result(0))
    rec._writer.write = lambda *a, **k: 1 / 0  # a bug, not a RecordingError
    rec.on_result(result(1))  # must not raise on the worker thread
    assert not rec.recording and "ZeroDivisionError" in rec.error
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "failed" and "ZeroDivisionError" in info["status_message"]
    with SessionReader(folder) as r:
        assert len(r) == 1


@pytest.mark.gui
def test_record_button_shows_time_and_frames_and_uses_the_sessions_folder(qtbot, tmp_path,
                                                                          monkeypatch):
    pytest.importorskip("pytestqt")
    from PyQt5.QtCore import QSettings

    from handpose_live.gui import main_window, panes
    from handpose_live.gui.hand_view_3d import NoGLView
    from handpose_live.gui.settings import AppSettings
    from handpose_live.sources import open_demo
    from test_runtime_fake_estimator import FakeEstimator

    monkeypatch.setattr(panes, "make_hand_view", NoGLView)
    settings = AppSettings(sessions_dir=str(tmp_path / "my sessions"))
    w = main_window.MainWindow(settings, QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                               FakeEstimator(delay_s=0.01), data_dir=tmp_path)
    qtbot.addWidget(w)
    w.show()
    w.start_source(open_demo(), "demo")
    w.panel.hand_size_spin.setValue(9.5)  # the hand size scales the estimator and goes into the session
    assert w.estimator.palm_length_m == pytest.approx(0.095) and settings.hand_size_cm == 9.5
    w.panel.fov_spin.setValue(70)  # so does the camera's field of view
    assert w.estimator.camera_fov_deg == 70.0 and settings.camera_fov_deg == 70.0
    w.actions.record.setChecked(True)
    qtbot.waitUntil(lambda: w.recorder.frames >= 3, timeout=10000)
    w.update_status()
    assert not w.panel.hand_size_spin.isEnabled() and not w.panel.fov_spin.isEnabled()  # fixed while recording
    text = w.actions.record.text()
    assert text.startswith("Stop ● 0:0") and text.endswith(" frames")
    assert w.panel.record_button.text() == text
    (folder,) = (tmp_path / "my sessions").iterdir()
    w.close()  # closing the window while recording: status "interrupted"
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "interrupted" and info["status_message"] == "window closed"
    assert info["palm_length_m"] == pytest.approx(0.095) and info["camera_fov_deg"] == 70.0
    loaded = AppSettings.load(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    assert loaded.sessions_dir == str(tmp_path / "my sessions") and loaded.hand_size_cm == 9.5
    assert loaded.camera_fov_deg == 70.0


@pytest.mark.gui
@pytest.mark.slow
def test_gui_recording_of_an_image_folder_matches_headless(tmp_path, tiny_model_dir):
    """--record from the first frame; each line names its file; a skipped file leaves a gap."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server")
    import cv2

    folder = tmp_path / "photos"
    folder.mkdir()
    for name, value in (("a.jpg", 60), ("b.jpg", 120), ("d.jpg", 180)):
        cv2.imwrite(str(folder / name), np.full((120, 160, 3), value, np.uint8))
    (folder / "c.jpg").write_bytes(b"not a picture")
    out = tmp_path / "rec"
    proc = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--source", str(folder), "--record", str(out),
         "--max-frames", "3", "--model", str(tiny_model_dir), "--device", "cpu"],
        env=app_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with SessionReader(out) as r:
        assert [(x.frame, x.source) for x in r] == [(0, "a.jpg"), (1, "b.jpg"), (3, "d.jpg")]
        assert r.info["status"] == "complete" and r.info["source"]["kind"] == "images"


@pytest.mark.gui
@pytest.mark.slow
def test_gui_recording_of_a_damaged_video_ends_incomplete(tmp_path, tiny_model_dir):
    """The window reads past a damaged spot, numbers frames with the gap, closes the recording as
    "incomplete" with the lost frames, and stores the hand size it was given."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server")
    from session_fakes import write_damaged_videos

    video = write_damaged_videos(tmp_path)["damaged"]
    out = tmp_path / "rec"
    proc = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--source", str(video), "--record", str(out),
         "--max-frames", "100", "--model", str(tiny_model_dir), "--device", "cpu", "--hand-size", "9",
         "--camera-fov", "65"],
        env=app_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with SessionReader(out) as r:
        assert len(r) == 57 and [x.frame for x in r][21:25] == [21, 22, 26, 27]
        assert r.info["status"] == "incomplete" and r.info["source_frames_lost"] == 3
        assert "3 frames lost" in r.info["status_message"]
        assert r.info["palm_length_m"] == pytest.approx(0.09) and r.info["camera_fov_deg"] == 65.0
        assert r.info["video"]["codec"] in ("h264", "mpeg4")


@pytest.mark.gui
@pytest.mark.slow
def test_kill_9_during_a_gui_recording_keeps_the_video_to_within_a_second(tmp_path, tiny_model_dir):
    """kill -9 of the window while it records: the video plays up to ~1 s (one fragment) before
    the last keypoints line, replay opens the session and CSV export takes every line."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server")
    from handpose_live.session import export_csv

    out, log = tmp_path / "rec", tmp_path / "stderr.txt"
    # --max-frames: every frame of the clip is processed (none dropped, however slow the machine),
    # so the recording is still running when it holds 75 lines
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "main.py"), "--source", str(DEMO), "--record", str(out),
             "--max-frames", "240", "--model", str(tiny_model_dir), "--device", "cpu"],
            env=app_env(tmp_path), stdout=subprocess.DEVNULL, stderr=err)
    try:
        jsonl, deadline = out / "keypoints.jsonl", time.monotonic() + 90
        while not (jsonl.is_file() and jsonl.read_text().count("\n") >= 75):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no handler runs
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with SessionReader(out) as r:
        fps, lines = r.fps, len(r)
        assert r.info["status"] == "recording" and lines >= 75
        readable = [k for k in range(lines) if r.video_frame(k) is not None]
        assert readable == list(range(len(readable)))  # no hole before the end
        assert lines - len(readable) <= fps + 1, (lines, len(readable), fps)  # at most ~1 s lost
        hands = sum(len(rec.hands) for rec in r)
    rows = list(open(export_csv(out)))
    assert len(rows) == 1 + 21 * hands  # the header, then every keypoint of every hand of every line
    replay = subprocess.run([sys.executable, str(REPO / "main.py"), "--replay", str(out), "--max-frames", "3"],
                            env=app_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert replay.returncode == 0, replay.stderr[-2000:]
