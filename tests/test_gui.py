"""The main window under Xvfb: frames, overlay and 3D view in a screenshot; settings; fallbacks."""
from __future__ import annotations

import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PyQt5.QtCore import QPoint, QSettings  # noqa: E402
from PyQt5.QtGui import QImage  # noqa: E402

from handpose_live.gui.app import open_start_source  # noqa: E402
from handpose_live.gui.dialogs import conventions_html  # noqa: E402
from handpose_live.gui import panes  # noqa: E402
from handpose_live.gui.hand_view_3d import NoGLView, gl_available  # noqa: E402
from handpose_live.gui.main_window import MainWindow  # noqa: E402
from handpose_live.gui.model_choice import NO_MODEL_MESSAGE  # noqa: E402
from handpose_live.gui.settings import AppSettings  # noqa: E402
from handpose_live.skeleton import KEYPOINT_NAMES  # noqa: E402
from handpose_live.sources import SourceError, open_demo  # noqa: E402
from test_runtime_fake_estimator import FakeEstimator  # noqa: E402

pytestmark = pytest.mark.gui


def to_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format_RGB888)
    ptr = image.bits()
    ptr.setsize(image.byteCount())
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def region(shot: np.ndarray, window, widget) -> np.ndarray:
    top_left = widget.mapTo(window, QPoint(0, 0))
    x, y = top_left.x(), top_left.y()
    return shot[y: y + widget.height(), x: x + widget.width()]


def near(pixels: np.ndarray, rgb, tol=40) -> int:
    return int((np.abs(pixels.astype(int) - np.array(rgb)).max(-1) <= tol).sum())


@pytest.fixture
def make_window(qtbot, tmp_path, monkeypatch):
    def make(estimator, message="", max_frames=20, settings=None, gl=False):
        if not gl:  # one GL widget per process: pyqtgraph caches shader programs per context
            monkeypatch.setattr(panes, "make_hand_view", NoGLView)
        store = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        w = MainWindow(settings or AppSettings(), store, estimator, message,
                       max_frames=max_frames, data_dir=tmp_path)
        qtbot.addWidget(w)
        w.resize(1200, 700)
        w.show()
        return w
    return make


def run_to_end(qtbot, w, source, note=""):
    with qtbot.waitSignal(w.finished, timeout=20000):
        w.start_source(source, "demo", note)
    w.update_status()
    return to_rgb(w.grab().toImage())


@pytest.mark.gl
def test_window_shows_frame_overlay_and_3d_hand(make_window, qtbot, tmp_path):
    if not gl_available():
        pytest.skip("no OpenGL context (no X server)")
    w = make_window(FakeEstimator(), max_frames=24, gl=True)
    shot = run_to_end(qtbot, w, open_demo())
    assert w.runtime.stats().processed == 24 and w.video.frames_shown >= 1
    video = region(shot, w, w.video)
    assert video.std() > 20 and near(video, (205, 150, 120)) > 500  # the room and the skin
    assert near(video, (0, 200, 255)) > 30  # joints in the colour of track 0 (sky blue)
    assert near(video, (60, 200, 80), 30) > 30  # middle finger bones (green)
    view3d = region(shot, w, w.view3d)
    background = np.array([21, 23, 26])
    colored = (np.abs(view3d.astype(int) - background).max(-1) > 60).sum()
    assert colored > 300 and near(view3d, (0, 200, 255), 50) > 20
    assert w.view3d.hands_shown == 1 and "1 hand" in w.view3d_header.text()


def test_no_model_still_shows_video_and_says_so(make_window, qtbot):
    w = make_window(None, NO_MODEL_MESSAGE, max_frames=5)
    shot = run_to_end(qtbot, w, open_demo())
    assert "No trained model" in w.status.message.toolTip()  # the whole message; the label elides it
    video = region(shot, w, w.video)
    assert near(video, (185, 108, 0), 30) > 2000  # the orange banner
    assert video.std() > 20
    assert w.status.labels["model"].text() == "Model: none"
    # no model: no inference rate, no latency (nothing is computed), and the 3D header says why
    # (--max-frames: every frame read; without a model that rate is all there is to show)
    assert w.status.labels["inference"].text().startswith("Reading ")
    assert w.status.labels["latency"].text() == "Latency —"
    assert w.view3d_header.text() == "3D pose · no model loaded"


def test_window_fits_a_1366x768_screen_whatever_the_message(make_window):
    w = make_window(None, NO_MODEL_MESSAGE + " " + "a long explanation " * 30, max_frames=5)
    w.update_status()
    hint = w.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 768, (hint.width(), hint.height())


def test_model_exception_surfaces_in_status(make_window, qtbot):
    w = make_window(FakeEstimator(fail_after=2), max_frames=12)
    run_to_end(qtbot, w, open_demo())
    assert "fake model exploded" in w.status.message.text()


def test_no_camera_falls_back_to_demo_clip():
    class Args:
        source = None

    settings = AppSettings(camera_index=63)
    source, key, note = open_start_source(Args(), settings)
    assert key == "demo" and source.name == "demo clip" and "No camera" in note
    source.close()


def test_settings_persist_and_toggles_reach_the_runtime(make_window, qtbot, tmp_path):
    w = make_window(FakeEstimator(), max_frames=None)
    w.start_source(open_demo(), "demo")
    w.actions.mirror.setChecked(True)
    w.actions.smoothing.setChecked(False)
    w.actions.camera_mirrors.setChecked(True)
    assert not w.runtime.worker.smoothing and w.runtime.worker.camera_mirrors
    qtbot.waitUntil(lambda: w.last_result is not None, timeout=5000)
    w.actions.play.setChecked(False)
    assert w.runtime.paused and w.actions.play.text() == "Start"
    w.close()
    assert w.runtime is None
    loaded = AppSettings.load(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    assert loaded.mirror_view and not loaded.smoothing and loaded.camera_mirrors


def test_snapshot_saves_png_and_keypoints(make_window, qtbot, tmp_path):
    w = make_window(FakeEstimator(), max_frames=3)
    run_to_end(qtbot, w, open_demo())
    w.actions.snapshot.trigger()
    pngs = list((tmp_path / "snapshots").glob("*.png"))
    assert len(pngs) == 1 and pngs[0].with_suffix(".json").is_file()


def test_record_writes_a_session(make_window, qtbot, tmp_path):
    w = make_window(FakeEstimator(delay_s=0.01), max_frames=None)
    w.start_source(open_demo(), "demo")
    w.actions.record.setChecked(True)
    qtbot.waitUntil(lambda: w.recorder.frames >= 5, timeout=10000)
    w.actions.record.setChecked(False)
    sessions = list((tmp_path / "sessions").iterdir())
    assert len(sessions) == 1 and (sessions[0] / "session.json").is_file()


def test_help_lists_every_keypoint():
    html = conventions_html()
    assert all(name in html for name in KEYPOINT_NAMES)


def test_side_choice_only_for_two_class_models(make_window):
    w = make_window(FakeEstimator())  # 3 classes: the model estimates the side
    assert not w.panel.side_combo.isEnabled()
    two_class = FakeEstimator()
    two_class.num_classes, two_class.estimates_side = 2, False
    w.set_estimator(two_class)
    assert w.panel.side_combo.isEnabled()


def test_a_lost_camera_stops_the_recording_shows_a_banner_and_reconnects(make_window, qtbot, monkeypatch, tmp_path):
    import json

    from handpose_live.gui import window_handlers
    from handpose_live.sources import FrameSource

    with open_demo() as demo:
        picture = demo.read()

    class Camera(FrameSource):
        name, kind, is_live, fps = "camera 0", "camera", True, 30.0

        def __init__(self, frames):
            self.left = frames

        def read(self):
            time.sleep(0.02)
            self.left -= 1
            return picture.copy() if self.left >= 0 else None  # then reads fail: unplugged

    attempts = []

    def reopen(key, resolution=None):
        attempts.append(key)
        if len(attempts) < 2:
            raise SourceError("camera 0 cannot be opened")
        return Camera(10_000)

    monkeypatch.setattr(window_handlers, "open_source", reopen)
    w = make_window(FakeEstimator(), max_frames=None)
    w.reconnect_timer.setInterval(200)
    w.start_source(Camera(15), 0, record_dir=tmp_path / "rec")
    assert w.recorder.recording
    qtbot.waitUntil(lambda: w.lost_source is not None, timeout=10000)
    assert not w.recorder.recording
    info = json.loads((tmp_path / "rec" / "session.json").read_text())
    assert info["status"] == "interrupted" and "camera 0 lost" in info["status_message"]
    assert "camera 0 lost" in w.video._banner and "reconnect" in w.video._banner
    assert w.view3d_header.text().endswith("no hand in this frame")  # no stale hands on the frozen frame
    assert w.status.labels["camera"].text() == "Camera lost" and w.status.labels["latency"].text() == "Latency —"
    qtbot.waitUntil(lambda: w.lost_source is None, timeout=10000)  # the second attempt opens it
    assert attempts == [0, 0] and w.runtime is not None and not w.runtime.finished
    assert not w.recorder.recording  # a new recording is the user's choice
    qtbot.waitUntil(lambda: "reconnected" in w.video._banner, timeout=5000)
