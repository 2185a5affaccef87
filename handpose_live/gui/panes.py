"""The two panes both windows show: the video on the left, the 3D hand under a header on the right."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from .hand_view_3d import make_hand_view
from .video_view import VideoView


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
