"""The two panes both windows show: the video on the left, the 3D hand under a header on the right."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from .hand_view_3d import make_hand_view
from .video_view import VideoView


def make_panes(owner) -> QSplitter:
    """Build the panes and set ``owner.video``, ``owner.view3d`` and ``owner.view3d_header``."""
    owner.video = VideoView()
    owner.view3d = make_hand_view()
    owner.view3d_header = QLabel()
    owner.view3d_header.setMinimumWidth(1)
    owner.view3d_header.setStyleSheet("background:#15171a; color:#c8ccd2; padding:4px 8px;")
    owner.view3d_header.setToolTip("Drag: rotate · wheel: zoom · Ctrl+drag or middle-drag: pan · R: reset view")
    pane3d = QWidget()
    box = QVBoxLayout(pane3d)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(0)
    box.addWidget(owner.view3d_header)
    box.addWidget(owner.view3d, 1)
    splitter = QSplitter(Qt.Horizontal)
    splitter.addWidget(owner.video)
    splitter.addWidget(pane3d)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setSizes([760, 500])
    return splitter
