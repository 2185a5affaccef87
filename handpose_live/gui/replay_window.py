"""The replay window: a recorded session's annotated video with the 3D view in sync.

Frame ``k`` shows video frame ``k`` (``SessionReader.video_frame``) and the hands of line ``k``
of ``keypoints.jsonl`` in the 3D view. Where the video is missing (the segment open when a
recorder was killed) the overlay is redrawn from the keypoints on the raw video, or on grey.
Timing is ``playback.Playback``; a QTimer on the GUI thread shows its current frame.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QStatusBar, QVBoxLayout, QWidget

from ..drawing import draw_view
from ..session import SessionFormatError, SessionReader
from .hand_memory import ShownHand
from .playback import Playback
from .replay_controls import TransportBar, make_replay_actions
from .panes import initial_size, make_panes

log = logging.getLogger(__name__)
TICK_MS = 15  # the playback clock is checked this often; frames change at the session's pace
GREY_BGR = 70
OPEN_ERRORS = (FileNotFoundError, SessionFormatError, OSError)  # what opening a session raises


def open_session(folder: str | Path) -> SessionReader:
    """A reader for ``folder``; ``FileNotFoundError`` / ``SessionFormatError`` (not a session) /
    ``OSError`` with a one-line message otherwise."""
    return SessionReader(folder)


def ask_and_open_session(parent, start_dir: str = "") -> "ReplayWindow | None":
    """File → Open session: pick a folder, open it in a new replay window (or say why not)."""
    path = QFileDialog.getExistingDirectory(parent, "Open session", start_dir)
    if not path:
        return None
    try:
        reader = open_session(path)
    except OPEN_ERRORS as exc:
        QMessageBox.warning(parent, "Cannot open session", str(exc))
        return None
    window = ReplayWindow(reader)
    window.setAttribute(Qt.WA_DeleteOnClose)
    window.show()
    return window


def session_summary(reader: SessionReader) -> str:
    info = reader.info
    source = info.get("source") or {}
    model = (info.get("model") or {}).get("name") or "?"
    return (f"{reader.folder.name} · {len(reader)} frames at {reader.fps:g} fps · model {model} · "
            f"{source.get('kind', '?')} {source.get('description', '')} · {info.get('status')}")


class ReplayWindow(QMainWindow):
    """Replays one session (``load`` another). ``finished(0)`` is emitted once when
    ``max_frames`` frames have been shown or playback reached the end with ``max_frames`` set."""

    finished = pyqtSignal(int)

    def __init__(self, reader: SessionReader, *, max_frames: int | None = None, parent=None):
        super().__init__(parent)
        self.max_frames = max_frames
        self.reader: SessionReader | None = None
        self.current = -1  # the frame shown
        self.hands_3d: list = []  # the hands given to the 3D view for the frame shown
        self._finished_emitted = False
        self._resume_after_drag = False
        self.close_hooks: list = []  # called first thing in closeEvent (e.g. --screenshot)

        self.actions = make_replay_actions(self)
        panes = make_panes()
        self.video, self.view3d, self.view3d_header = panes.video, panes.view3d, panes.view3d_header
        splitter = panes.splitter
        self.bar = TransportBar(self.actions)
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(splitter, 1)
        column.addWidget(self.bar)
        self.setCentralWidget(central)
        self.info_label = QLabel()
        status = QStatusBar()
        status.addWidget(self.info_label, 1)
        self.setStatusBar(status)
        self._build_menus()
        self._connect()
        self.resize(*initial_size())
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.load(reader)
        self.timer.start()

    def _build_menus(self) -> None:
        a = self.actions
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(a.open_session)
        file_menu.addSeparator()
        file_menu.addAction(a.close)
        play_menu = self.menuBar().addMenu("&Playback")
        for item in (a.play, None, a.step_back, a.step_forward, a.first, a.last, None,
                     a.slower, a.faster):
            play_menu.addSeparator() if item is None else play_menu.addAction(item)
        self.menuBar().addMenu("&View").addAction(a.reset_view)

    def _connect(self) -> None:
        a, bar = self.actions, self.bar
        a.play.toggled.connect(self.set_playing)
        a.step_back.triggered.connect(lambda: self.step(-1))
        a.step_forward.triggered.connect(lambda: self.step(1))
        a.first.triggered.connect(lambda: self.seek(0))
        a.last.triggered.connect(lambda: self.seek(len(self.reader) - 1))
        a.slower.triggered.connect(lambda: bar.change_speed(-1))
        a.faster.triggered.connect(lambda: bar.change_speed(1))
        a.reset_view.triggered.connect(lambda: self.view3d.reset_view())
        a.close.triggered.connect(self.close)
        a.open_session.triggered.connect(self._open_other)
        bar.speed_combo.currentIndexChanged.connect(lambda _: self.playback.set_speed(bar.speed()))
        bar.slider.valueChanged.connect(self.seek)
        bar.slider.sliderPressed.connect(self._drag_started)
        bar.slider.sliderReleased.connect(self._drag_ended)

    # ------------------------------------------------------------------ session
    def load(self, reader: SessionReader) -> None:
        """Show ``reader``'s session from its first frame and start playing."""
        if self.reader is not None:
            self.reader.close()
        self.reader = reader
        times = reader.info.get("time_base") != "none"
        self.playback = Playback(len(reader), reader.fps,
                                 lambda k: reader[k].t if times else None)
        self.playback.set_speed(self.bar.speed())
        self.current = -1
        self.setWindowTitle(f"handpose-live — replay {reader.folder.name}")
        self.info_label.setText(session_summary(reader))
        self.info_label.setToolTip(str(reader.folder))
        self.bar.set_count(len(reader))
        empty = len(reader) == 0
        for action in (self.actions.play, self.actions.step_back, self.actions.step_forward,
                       self.actions.first, self.actions.last):
            action.setEnabled(not empty)
        if empty:
            self.video.set_banner("This session has no frames.", "warning")
            self.bar.position_label.setText("No frames")
            self._set_header([])
            return
        self.show_frame(0)
        self.set_playing(True)

    def _open_other(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open session", str(self.reader.folder.parent))
        if not path:
            return
        try:
            reader = open_session(path)
        except OPEN_ERRORS as exc:
            QMessageBox.warning(self, "Cannot open session", str(exc))
            return
        self.load(reader)

    # ------------------------------------------------------------------ display
    def frame_image(self, k: int) -> tuple[np.ndarray, str]:
        """Frame ``k`` as recorded (BGR), or redrawn from the keypoints, and a note saying so."""
        reader, record = self.reader, self.reader[k]
        image = reader.video_frame(k)
        if image is not None:
            return image, ""
        raw = reader.video_frame(k, "raw") if reader.has_video("raw") else None
        if raw is None or raw.shape[:2] != (record.height, record.width):
            raw = np.full((record.height, record.width, 3), GREY_BGR, np.uint8)
            note = "No video for this frame: the overlay is redrawn from the keypoints."
        else:
            note = "No annotated video for this frame: the overlay is redrawn on the raw video."
        return draw_view(raw, record.hands, mirror=reader.mirrored), note

    def show_frame(self, k: int) -> None:
        """Show frame ``k``: its video frame, its hands in 3D, the slider and read-out."""
        record = self.reader[k]
        image, note = self.frame_image(k)
        self.video.set_frame(image)
        self.video.set_banner(record.damaged or note or self._session_note(), "warning")
        shown = [ShownHand(h, False, h.track_id if h.track_id >= 0 else -1 - i)
                 for i, h in enumerate(record.hands)]
        self.view3d.show_hands(shown, mirror=self.reader.mirrored)
        self.hands_3d = list(record.hands)
        self._set_header(shown)
        self.current = k
        self.bar.show_position(k, len(self.reader), record.frame, record.t)
        self._update_caption()

    def _update_caption(self) -> None:
        state = "" if self.playback.playing else "Paused — "
        self.video.set_caption(f"{state}replay · {self.reader.folder.name}")

    def _session_note(self) -> str:
        status = self.reader.info.get("status")
        if status == "recording":
            return "This recording was cut off (the app was killed): the end may be missing."
        if status == "failed":
            return f"Recording failed: {self.reader.info.get('status_message') or 'unknown error'}"
        if status == "incomplete":
            return f"The source video was damaged: {self.reader.info.get('status_message') or 'frames lost'}"
        return ""

    def _set_header(self, shown) -> None:
        n = len(shown)
        what = f"{n} hand{'s' * (n != 1)}" if n else "no hand in this frame"
        self.view3d_header.setText(f"3D pose (m, from the wrist) · {what}")

    # ------------------------------------------------------------------ transport
    def set_playing(self, on: bool) -> None:
        if on:
            self.playback.play(time.monotonic())
            if self.playback.position != self.current:  # restarted from the first frame
                self.show_frame(self.playback.position)
        else:
            self.playback.pause()
        self._sync_play_action()

    def _sync_play_action(self) -> None:
        a = self.actions.play
        a.blockSignals(True)
        a.setChecked(self.playback.playing)
        a.blockSignals(False)
        a.setText("Pause" if self.playback.playing else "Play")
        if self.reader is not None and len(self.reader):
            self._update_caption()

    def seek(self, k: int) -> None:
        """Show frame ``k`` (clamped); playing continues from there."""
        if self.reader is None or len(self.reader) == 0:
            return
        k = self.playback.seek(k)
        if k != self.current:
            self.show_frame(k)

    def step(self, delta: int) -> None:
        self.actions.play.setChecked(False)
        self.seek(self.current + delta)

    def _drag_started(self) -> None:
        self._resume_after_drag = self.playback.playing
        self.playback.pause()

    def _drag_ended(self) -> None:
        if self._resume_after_drag:
            self.playback.play(time.monotonic())
        self._sync_play_action()

    def tick(self) -> None:
        """Show the frame the playback clock has reached (timer)."""
        if self.reader is None or len(self.reader) == 0:
            self._maybe_finish(True)
            return
        was_playing = self.playback.playing
        k = self.playback.advance(time.monotonic())
        if k != self.current:
            self.show_frame(k)
        if was_playing and not self.playback.playing:  # reached the end
            self._sync_play_action()
        if self.max_frames is not None:
            self._maybe_finish(self.current >= self.max_frames - 1 or not self.playback.playing)

    def _maybe_finish(self, done: bool) -> None:
        if done and self.max_frames is not None and not self._finished_emitted:
            self._finished_emitted = True
            self.playback.pause()
            self._sync_play_action()
            self.finished.emit(0)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        for hook in self.close_hooks:
            hook()
        self.timer.stop()
        if self.reader is not None:
            self.reader.close()
        super().closeEvent(event)
