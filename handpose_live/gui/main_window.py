"""The main window: video panel, 3D panel, controls, menus and the status bar.

Threads: the ``LiveRuntime`` captures and infers off the GUI thread; this window polls its
latest result from a QTimer (≤ 30 repaints/s) and touches widgets only on the GUI thread.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from PyQt5.QtCore import QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea

from ..drawing import DrawSpec, draw_view
from ..runtime import LiveRuntime, Result
from ..sources import FrameSource
from .controls import ControlPanel, make_actions
from .hand_memory import HandMemory
from .panes import initial_size, make_panes
from .recording import RecordingController
from .settings import AppSettings
from .status_bar import StatusBar
from .status_text import hands_header
from .recording_actions import RecordingActions
from .window_handlers import WindowActions

log = logging.getLogger(__name__)
REPAINT_MS = 33  # at most ~30 repaints per second: rendering and inference share the cores
STATS_MS = 500
RECONNECT_MS = 3000  # a lost camera is tried again this often


class MainWindow(WindowActions, RecordingActions, QMainWindow):
    """``finished`` is emitted once, with the exit code, when ``max_frames`` frames (or the whole
    source) have been processed and shown."""

    finished = pyqtSignal(int)

    def __init__(self, settings: AppSettings, store: QSettings, estimator, model_message: str = "",
                 *, max_frames: int | None = None, devices: tuple[str, ...] = ("auto", "cpu"),
                 log_path: str = "", data_dir: Path | None = None):
        super().__init__()
        self.settings, self.store = settings, store
        self.estimator, self.model_message = estimator, model_message
        self.apply_hand_size()
        self.max_frames, self.log_path = max_frames, log_path
        self.data_dir = Path(data_dir) if data_dir else Path.home()
        self.runtime: LiveRuntime | None = None
        self.source_key = None
        self.source_note = ""  # e.g. "No camera found — playing the demo clip"
        self.memory = HandMemory()
        self.recorder = RecordingController()
        self.last_result: Result | None = None
        self.last_view = None  # the annotated frame shown last (BGR)
        self.display_latency_ms: float | None = None  # capture -> display of the frame shown last
        self._finished_emitted = False
        self.close_hooks: list = []  # called first thing in closeEvent (e.g. --screenshot)
        self.replay_windows: list = []  # sessions opened with File → Open session
        self.stop_reason = ""  # why the window is closing, when not by the user (a signal)
        self.lost_source = None  # (key, name, reason) of a camera that stopped delivering
        self.reconnect_attempts = 0

        self.setWindowTitle("handpose-live")
        self.actions = make_actions(self)
        self.panel = ControlPanel(self.actions)
        self.enable_side_choice()
        panes = make_panes()
        self.video, self.view3d, self.view3d_header = panes.video, panes.view3d, panes.view3d_header
        splitter = panes.splitter
        self.set_3d_header([])
        self.setCentralWidget(splitter)
        dock = QDockWidget("Controls", self)
        dock.setObjectName("controls")
        scroll = QScrollArea()  # the controls scroll on short screens instead of growing the window
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.panel.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.build_menus()
        self.apply_settings_to_controls(devices)
        self.connect_controls()
        self.resize(*initial_size())  # fits the screen (a 1366x768 laptop too)

        self.repaint_timer = QTimer(self)
        self.repaint_timer.setInterval(REPAINT_MS)
        self.repaint_timer.timeout.connect(self.tick)
        self.stats_timer = QTimer(self)
        self.stats_timer.setInterval(STATS_MS)
        self.stats_timer.timeout.connect(self.update_status)
        self.reconnect_timer = QTimer(self)
        self.reconnect_timer.setInterval(RECONNECT_MS)
        self.reconnect_timer.timeout.connect(self.try_reconnect)
        self.repaint_timer.start()
        self.stats_timer.start()

    # ------------------------------------------------------------------ sources
    def start_source(self, source: FrameSource, key, note: str = "", record_dir=None) -> None:
        """Stop the current stream (if any) and process ``source``; with ``record_dir``, the
        recording starts before the first frame is captured (so it holds every frame). Raises
        what ``start_recording`` raises, with nothing started."""
        self.stop_runtime()
        self.reconnect_timer.stop()
        self.lost_source = None
        self.source_key, self.source_note = key, note
        self.memory.clear()
        self.last_result = None
        self.display_latency_ms = None
        self.runtime = LiveRuntime(
            source, self.estimator, max_frames=self.max_frames, realtime=self.max_frames is None,
            smoothing=self.settings.smoothing, camera_mirrors=self.settings.camera_mirrors,
            on_result=self.recorder.on_result)
        self.runtime.set_hand_side(self.settings.hand_side)
        if record_dir is not None:
            try:
                self.start_recording(record_dir)
            except Exception:
                self.runtime.source.close()
                self.runtime = None
                raise
        self.runtime.start()
        self.actions.play.setChecked(True)
        self.panel.show_source(key, source.name)
        log.info("source: %s", source.name)
        self.update_status()

    def stop_runtime(self) -> None:
        if self.runtime is not None:
            if not self.runtime.stop():
                log.warning("runtime threads did not stop in time")
            self.runtime = None

    def set_estimator(self, estimator, message: str = "") -> None:
        self.estimator, self.model_message = estimator, message
        self.apply_hand_size()
        if self.runtime is not None:
            self.runtime.set_estimator(estimator)
        self.enable_side_choice()
        self.update_status()

    def apply_hand_size(self) -> None:
        """The hand size setting (palm length, cm) scales the model's 3D keypoints; the camera's
        field of view turns those of a hand away from the image centre."""
        if self.estimator is not None:
            self.estimator.palm_length_m = self.settings.hand_size_cm / 100
            self.estimator.camera_fov_deg = self.settings.camera_fov_deg

    def enable_side_choice(self) -> None:
        """Only models that cannot tell left from right (2-class, no side head) are told the side."""
        self.panel.side_combo.setEnabled(not getattr(self.estimator, "estimates_side", True))

    # ------------------------------------------------------------------ display
    def draw_spec(self) -> DrawSpec:
        return DrawSpec(show_crop=self.settings.show_crop)

    def tick(self) -> None:
        """Show the newest result, if there is one we have not shown (repaint timer)."""
        runtime = self.runtime
        if runtime is None:
            return
        result = runtime.latest()
        if result is not None and result is not self.last_result:
            self.show_result(result)
        if self.max_frames is not None and runtime.finished and not self._finished_emitted:
            if runtime.latest() is self.last_result:
                self._finished_emitted = True
                self.update_status()
                self.finished.emit(1 if runtime.capture.error else 0)

    def show_result(self, result: Result) -> None:
        self.last_result = result
        s = self.settings
        view = draw_view(result.frame.image, result.hands, result.mask, mirror=s.mirror_view,
                         show_mask=s.show_mask, spec=self.draw_spec())
        self.last_view = view
        self.video.set_frame(view)
        now = time.monotonic()
        self.display_latency_ms = 1000.0 * (now - result.frame.t_capture)
        if self.runtime is not None and self.runtime.source.kind == "images":
            self.memory.clear()  # separate photos: no hand carries over from the last one
        shown = self.memory.update(result.hands, now)
        self.view3d.show_hands(shown, mirror=s.mirror_view)
        self.set_3d_header(shown, len(result.hands))

    def set_3d_header(self, shown, current: int = 0) -> None:
        """``current`` hands of the frame shown; the rest of ``shown`` come from earlier frames."""
        kept = len(shown) - current
        stale = sum(item.stale for item in shown)
        self.view3d_header.setText(hands_header(current, kept, stale, self.estimator is not None))

    def interrupt(self, reason: str) -> None:
        """Close the window for ``reason`` (e.g. "interrupted by SIGTERM"): a recording stops
        with status "interrupted"."""
        self.stop_reason = reason
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        for hook in self.close_hooks:
            hook()
        self.repaint_timer.stop()
        self.stats_timer.stop()
        self.reconnect_timer.stop()
        if self.recorder.recording:
            ended = self._finished_emitted or (self.runtime is not None and self.runtime.finished)
            if self.stop_reason or not ended:
                self.recorder.stop("interrupted", self.stop_reason or "window closed")
            else:  # --max-frames reached or the whole file recorded ("incomplete" if frames were lost)
                self.stop_recording()
        self.stop_runtime()
        for window in list(self.replay_windows):
            window.close()
        self.store.setValue("geometry", self.saveGeometry())
        self.store.setValue("window_state", self.saveState())
        self.settings.save(self.store)
        super().closeEvent(event)
