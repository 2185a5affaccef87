"""The replay window on a session written by SessionWriter: scrubbing shows frame k and line
k's hands, playing reaches the end, lost video is redrawn; ``--replay`` errors and screenshot."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PyQt5.QtCore import QSettings, Qt  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402

from handpose_live.gui import panes, replay_window  # noqa: E402
from handpose_live.gui.hand_view_3d import (NoGLView, display_points,  # noqa: E402
                                            gl_available)
from handpose_live.gui.replay_window import ReplayWindow  # noqa: E402
from handpose_live.session import SessionReader, SessionWriter  # noqa: E402
from test_gui import to_rgb  # noqa: E402
from test_gui_cli import load_main  # noqa: E402
from session_fakes import make_hand  # noqa: E402

pytestmark = pytest.mark.gui
FRAMES, FPS = 25, 10.0


def frame_bgr(k: int) -> np.ndarray:
    """A flat colour per frame (survives video compression), 160x120."""
    return np.full((120, 160, 3), (10 * k, 240 - 8 * k, 90 + 5 * k), np.uint8)


@pytest.fixture
def session(tmp_path):
    """25 frames at 10 fps in 10-frame segments; frame k has a hand at x = 20 + 3k (none at 7)."""
    folder = tmp_path / "session"
    with SessionWriter(folder, fps=FPS, model_name="fake", source_kind="video",
                       source_description="clip.mp4", segment_seconds=1.0) as writer:
        for k in range(FRAMES):
            hands = [] if k == 7 else [make_hand(20 + 3 * k, 30, 60 + 3 * k, 100, track_id=k % 3)]
            writer.write(k, k / FPS, hands, frame_bgr(k))
    return folder


@pytest.fixture
def open_replay(qtbot, monkeypatch):
    def make(folder, gl=False, **kwargs):
        if not gl:  # one GL widget per process: pyqtgraph caches shader programs per context
            monkeypatch.setattr(panes, "make_hand_view", NoGLView)
        w = ReplayWindow(SessionReader(folder), **kwargs)
        qtbot.addWidget(w)
        w.resize(1000, 600)
        w.show()
        qtbot.waitExposed(w)
        return w
    return make


def line(folder, k: int) -> dict:
    return json.loads((folder / "keypoints.jsonl").read_text().splitlines()[k])


def video_centre_rgb(w) -> np.ndarray:
    shot = to_rgb(w.video.grab().toImage())
    rect = w.video.image_rect()
    return shot[int(rect.center().y()), int(rect.center().x())].astype(int)


def test_scrubbing_shows_frame_k_and_its_hands(open_replay, session):
    w = open_replay(session)
    w.actions.play.setChecked(False)
    for k in (13, 2, 7, 24):  # across segments, backwards, a frame without hands
        w.bar.slider.setValue(k)  # what dragging the slider does
        assert w.current == k and w.bar.slider.value() == k
        b, g, r = frame_bgr(k)[0, 0]
        assert np.abs(video_centre_rgb(w) - (r, g, b)).max() <= 12, k
        expected = line(session, k)["hands"]
        assert [h.to_dict() for h in w.hands_3d] == expected
        assert f"Frame {k + 1} / {FRAMES}" in w.bar.position_label.text()
    assert "0 hand" not in w.view3d_header.text()
    w.bar.slider.setValue(7)
    assert "no hand" in w.view3d_header.text()
    w.actions.step_back.trigger()
    assert w.current == 6


@pytest.mark.gl
def test_3d_view_holds_line_k_hands(open_replay, session):
    if not gl_available():
        pytest.skip("no OpenGL context (no X server)")
    w = open_replay(session, gl=True)
    w.actions.play.setChecked(False)
    w.seek(11)
    hand = line(session, 11)["hands"][0]
    expected = display_points(np.array(hand["keypoints_3d"], np.float32))
    expected -= (expected.min(0) + expected.max(0)) / 2  # one hand: centred in the view
    assert w.view3d.hands_shown == 1
    assert np.allclose(w.view3d.joints[0].pos, expected, atol=1e-5)
    assert w.view3d.labels[0].isVisible() and w.view3d.labels[0].text() == f"{hand['side'].capitalize()} " \
        f"{hand['score']:.2f}"


def test_playing_reaches_the_end_at_speed(open_replay, session, qtbot):
    w = open_replay(session)
    assert w.playback.playing and w.actions.play.isChecked()
    w.bar.speed_combo.setCurrentIndex(w.bar.speed_combo.findData(4.0))
    assert w.playback.speed == 4.0
    qtbot.waitUntil(lambda: not w.playback.playing, timeout=20000)  # 2.5 s of media at 4x (slack for a busy CPU)
    assert w.current == FRAMES - 1 and not w.actions.play.isChecked()
    assert w.actions.play.text() == "Play"


def test_lost_video_is_redrawn_from_keypoints(open_replay, session):
    (session / "annotated_002.mp4").unlink()  # frames 20-24, as if killed mid-segment
    w = open_replay(session)
    w.actions.play.setChecked(False)
    w.seek(22)
    assert "redrawn" in w.video._banner
    shot = to_rgb(w.video.grab().toImage())  # (Xvfb may run at 16 bits per pixel)
    assert (np.abs(shot.astype(int) - 70).max(-1) <= 6).sum() > 10000  # the grey canvas
    assert w.hands_3d and [h.to_dict() for h in w.hands_3d] == line(session, 22)["hands"]
    w.seek(3)
    assert w.video._banner == ""


@pytest.fixture
def run_main(tmp_path, monkeypatch, capsys):
    from handpose_live.gui import app

    monkeypatch.setattr(app, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(app, "default_store",
                        lambda: QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    monkeypatch.setattr(panes, "make_hand_view", NoGLView)
    main = load_main()

    def run(*argv):
        code = main.main([str(a) for a in argv])
        return code, capsys.readouterr().err.strip()
    return run


def test_replay_errors_are_one_line(run_main, tmp_path, session):
    code, err = run_main("--replay", tmp_path / "nope")
    assert code == 2 and err.startswith("error: ") and "not found" in err and "\n" not in err
    (tmp_path / "plain").mkdir()
    code, err = run_main("--replay", tmp_path / "plain")
    assert code == 2 and "not a session" in err and "\n" not in err
    code, err = run_main("--replay", session, "--source", "0")
    assert code == 2 and "cannot be combined with --source" in err


def test_replay_screenshot_after_max_frames(run_main, tmp_path, session):
    shot = tmp_path / "shot.png"
    code, err = run_main("--replay", session, "--max-frames", "4", "--screenshot", shot)
    assert code == 0, err
    import cv2

    image = cv2.imread(str(shot)).astype(int)
    frame3 = frame_bgr(3)[0, 0].astype(int)
    assert (np.abs(image - frame3).max(-1) <= 12).sum() > 5000  # frame 3 fills the video panel


def test_file_open_session_from_the_live_window(qtbot, tmp_path, monkeypatch, session):
    from handpose_live.gui import main_window
    from handpose_live.gui.settings import AppSettings
    from handpose_live.sources import open_demo
    from test_runtime_fake_estimator import FakeEstimator

    monkeypatch.setattr(panes, "make_hand_view", NoGLView)
    warnings = []
    monkeypatch.setattr(replay_window.QMessageBox, "warning",
                        lambda parent, title, text: warnings.append(text))
    w = main_window.MainWindow(AppSettings(), QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                               FakeEstimator(), data_dir=tmp_path)
    qtbot.addWidget(w)
    w.show()
    w.start_source(open_demo(), "demo")
    (tmp_path / "plain").mkdir()
    for folder in (tmp_path / "plain", session):
        monkeypatch.setattr(replay_window.QFileDialog, "getExistingDirectory",
                            lambda *a, f=folder: str(f))
        w.actions.open_session.trigger()
    assert len(warnings) == 1 and "not a session" in warnings[0]
    (replay,) = w.replay_windows
    assert replay.reader.folder == session and replay.isVisible()
    assert w.runtime.paused  # live processing pauses while replaying
    replay.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is replay, timeout=3000)
    assert replay.playback.playing
    qtbot.keyClick(replay, Qt.Key_Space)  # the replay's Space, not also the live window's
    assert not replay.playback.playing and w.runtime.paused
    w.close()  # closes the replay window too
    assert not replay.isVisible()


def test_a_damaged_line_shows_its_frame_with_a_banner_and_playback_goes_on(open_replay, session, qtbot):
    lines = (session / "keypoints.jsonl").read_text().splitlines()
    lines[12] = "garbage"
    (session / "keypoints.jsonl").write_text("\n".join(lines) + "\n")
    w = open_replay(session)
    w.actions.play.setChecked(False)
    w.bar.slider.setValue(12)
    assert w.current == 12 and w.hands_3d == []
    assert "line 13" in w.video._banner and "damaged" in w.video._banner
    b, g, r = frame_bgr(12)[0, 0]
    assert np.abs(video_centre_rgb(w) - (r, g, b)).max() <= 12  # the video frame of line 12 still shows
    w.bar.slider.setValue(13)
    assert [h.to_dict() for h in w.hands_3d] == line(session, 13)["hands"] and not w.video._banner
    w.seek(10)
    w.actions.play.setChecked(True)  # plays through the damaged line to the end
    qtbot.waitUntil(lambda: w.current == FRAMES - 1, timeout=8000)


def test_replay_window_fits_the_screen(qtbot, monkeypatch, session):
    """Its default size is shrunk to the screen's free area, and its layout fits a 1366x768 laptop."""
    from PyQt5.QtWidgets import QApplication

    monkeypatch.setattr(panes, "make_hand_view", NoGLView)
    w = ReplayWindow(SessionReader(session))
    qtbot.addWidget(w)
    free = QApplication.primaryScreen().availableGeometry()
    assert w.width() <= free.width() and w.height() <= free.height()
    hint = w.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, (hint.width(), hint.height())
