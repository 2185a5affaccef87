"""The replay window's actions (menus, shortcuts) and its transport bar: play/pause, frame
slider, frame/time read-out and speed."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from .playback import SPEEDS


@dataclass
class ReplayActions:
    open_session: QAction
    close: QAction
    play: QAction  # checked = playing
    step_back: QAction
    step_forward: QAction
    first: QAction
    last: QAction
    slower: QAction
    faster: QAction
    reset_view: QAction


def make_replay_actions(parent) -> ReplayActions:
    def act(text, shortcut, checkable=False, tip=""):
        a = QAction(text, parent)
        a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        shown = a.shortcut().toString(QKeySequence.NativeText)
        a.setToolTip(f"{tip or text.replace('…', '')} ({shown})")
        a.setShortcutContext(Qt.WindowShortcut)
        return a

    return ReplayActions(
        open_session=act("Open session…", "Ctrl+Shift+R", tip="Replay another session"),
        close=act("Close", "Ctrl+W"),
        play=act("Play", "Space", True, "Play / pause"),
        step_back=act("Previous frame", "Left"),
        step_forward=act("Next frame", "Right"),
        first=act("First frame", "Home"),
        last=act("Last frame", "End"),
        slower=act("Slower", "["),
        faster=act("Faster", "]"),
        reset_view=act("Reset 3D view", "R"),
    )


def _button(action: QAction, text: str | None = None) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    if text is not None:
        b.setText(text)
    b.setToolButtonStyle(Qt.ToolButtonTextOnly)
    return b


class TransportBar(QWidget):
    """``slider`` (frame index), ``speed_combo`` (data: the factor) and ``position_label``;
    the buttons are the actions' (the window connects everything)."""

    def __init__(self, actions: ReplayActions, parent=None):
        super().__init__(parent)
        self.play_button = _button(actions.play)
        self.play_button.setMinimumWidth(64)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setToolTip("Drag to scrub through the session")
        self.slider.setFocusPolicy(Qt.NoFocus)  # keep ←/→/Space for the window's shortcuts
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(230)
        self.speed_combo = QComboBox()
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Playback speed ([ slower, ] faster)")
        self.speed_combo.setFocusPolicy(Qt.NoFocus)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(_button(actions.first, "|◀"))
        row.addWidget(_button(actions.step_back, "◀"))
        row.addWidget(self.play_button)
        row.addWidget(_button(actions.step_forward, "▶"))
        row.addWidget(_button(actions.last, "▶|"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.position_label)
        row.addWidget(QLabel("Speed"))
        row.addWidget(self.speed_combo)

    def set_count(self, count: int) -> None:
        self.slider.setMaximum(max(0, count - 1))
        self.slider.setEnabled(count > 1)

    def show_position(self, index: int, count: int, frame: int, t_s: float | None) -> None:
        """Move the slider to ``index`` (without emitting) and update the read-out."""
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        when = f" · {t_s:.2f} s" if t_s is not None else ""
        self.position_label.setText(f"Frame {index + 1} / {count} (source {frame}){when}")

    def speed(self) -> float:
        return float(self.speed_combo.currentData())

    def change_speed(self, steps: int) -> None:
        index = min(max(self.speed_combo.currentIndex() + steps, 0), self.speed_combo.count() - 1)
        self.speed_combo.setCurrentIndex(index)
