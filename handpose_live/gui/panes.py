"""The two panes both windows show: the video on the left, the 3D hand under a header on the right."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QLabel, QSplitter, QVBoxLayout, QWidget

from .hand_view_3d import make_hand_view
from .video_view import VideoView

DEFAULT_SIZE = (1400, 820)  # the live and the replay window's size on a large screen


def initial_size() -> tuple[int, int]:
    """The default window size, shrunk to fit the screen's free area (a 1366x768 laptop too)."""
    screen = QApplication.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    free = screen.availableGeometry()
    return min(DEFAULT_SIZE[0], free.width() - 16), min(DEFAULT_SIZE[1], free.height() - 40)


@dataclass
class Panes:
    video: VideoView
    view3d: QWidget  # a HandView3D, or a NoGLView without OpenGL
    view3d_header: QLabel
    splitter: QSplitter  # holds the other three: the window's central widget


def make_panes() -> Panes:
    """Build the video pane and the 3D pane under its header, side by side in a splitter."""
    video, view3d, header = VideoView(), make_hand_view(), QLabel()
    header.setMinimumWidth(1)
    header.setStyleSheet("background:#15171a; color:#c8ccd2; padding:4px 8px;")
    header.setToolTip("Drag: rotate · wheel: zoom · Ctrl+drag or middle-drag: pan · R: reset view")
    pane3d = QWidget()
    box = QVBoxLayout(pane3d)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(0)
    box.addWidget(header)
    box.addWidget(view3d, 1)
    splitter = QSplitter(Qt.Horizontal)
    splitter.addWidget(video)
    splitter.addWidget(pane3d)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setSizes([760, 500])
    return Panes(video, view3d, header, splitter)
