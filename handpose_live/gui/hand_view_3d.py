"""The rotatable 3D hand panel (pyqtgraph GLViewWidget): joints, bones, a ground grid.

Camera axes (x right, y down, z forward) are shown with z up: display = (x, z, -y), so an
upright hand in the image stands upright on the grid. Mouse: drag to rotate, wheel to zoom,
middle-drag (or ctrl-drag) to pan.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph.opengl as gl
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QGuiApplication, QOpenGLContext, QVector3D
from PyQt5.QtWidgets import QLabel

from ..drawing import STALE_COLOR_BGR, track_color_bgr
from ..skeleton import BONES, bone_color_bgr
from .hand_memory import ShownHand

MAX_HANDS = 4
BONE_INDEX = np.array(BONES, np.int64).reshape(-1)  # vertex pairs for mode='lines'
OFFSET_RANGE_M = 0.3  # hands are spread left-right by where their wrist is in the frame
GRID_Z_M = -0.04


def gl_available() -> bool:
    """True when an OpenGL context can be created (not on the offscreen/minimal platforms)."""
    if QGuiApplication.instance() is None:
        return False
    if QGuiApplication.platformName() in ("offscreen", "minimal", "vnc"):
        return False
    ctx = QOpenGLContext()
    return bool(ctx.create())


def _rgba(bgr, alpha: float = 1.0) -> tuple[float, float, float, float]:
    return bgr[2] / 255.0, bgr[1] / 255.0, bgr[0] / 255.0, alpha


BONE_COLORS = np.array([_rgba(bone_color_bgr(c)) for _, c in BONES for _ in (0, 1)], np.float32)


def display_points(xyz_m: np.ndarray, offset_x_m: float = 0.0) -> np.ndarray:
    """Camera-axes points ``[N, 3]`` (m) to display axes (x right, y away, z up)."""
    xyz = np.asarray(xyz_m, np.float32)
    return np.stack([xyz[:, 0] + offset_x_m, xyz[:, 2], -xyz[:, 1]], axis=1)


class NoGLView(QLabel):
    """Stand-in for the 3D panel where OpenGL is not available."""

    def __init__(self, parent=None):
        super().__init__("3D view unavailable: no OpenGL context\n(the 2D tracking still works)",
                         parent)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("background:#15171a; color:#aaa;")
        self.setMinimumSize(200, 200)

    def show_hands(self, shown, frame_width_px, mirror=False) -> None:
        pass

    def reset_view(self) -> None:
        pass


def make_hand_view(parent=None):
    """A ``HandView3D`` when OpenGL works, else a ``NoGLView``."""
    return HandView3D(parent) if gl_available() else NoGLView(parent)


class HandView3D(gl.GLViewWidget):
    """Up to ``MAX_HANDS`` hands as joints (scatter) and bones (line segments)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setBackgroundColor((21, 23, 26))
        grid = gl.GLGridItem()
        grid.setSize(0.6, 0.4)
        grid.setSpacing(0.05, 0.05)
        grid.setColor((110, 115, 125, 160))
        grid.translate(0, 0.05, GRID_Z_M)
        self.addItem(grid)
        self.bones, self.joints = [], []
        for _ in range(MAX_HANDS):
            line = gl.GLLinePlotItem(pos=np.zeros((2, 3)), mode="lines", width=4.0,
                                     antialias=True)
            dots = gl.GLScatterPlotItem(pos=np.zeros((1, 3)), size=10.0, pxMode=True)
            for item in (line, dots):
                item.setVisible(False)
                self.addItem(item)
            self.bones.append(line)
            self.joints.append(dots)
        self.hands_shown = 0
        self.reset_view()

    def reset_view(self) -> None:
        self.setCameraPosition(pos=QVector3D(0.0, 0.0, 0.07), distance=0.5, elevation=12,
                               azimuth=-90)

    def show_hands(self, shown: list[ShownHand], frame_width_px: int, mirror: bool = False):
        """Draw up to ``MAX_HANDS`` hands; ``frame_width_px`` places them left-right."""
        shown = shown[:MAX_HANDS]
        for i, item in enumerate(shown):
            hand = item.hand
            wrist_u = float(hand.keypoints_2d[0, 0]) / max(frame_width_px, 1) - 0.5
            offset = (-wrist_u if mirror else wrist_u) * OFFSET_RANGE_M
            xyz = np.array(hand.keypoints_3d, np.float32)
            if mirror:
                xyz[:, 0] = -xyz[:, 0]
            pts = display_points(xyz, offset)
            if item.stale:
                grey = _rgba(STALE_COLOR_BGR, 0.55)
                bone_colors = np.tile(np.array(grey, np.float32), (len(BONE_INDEX), 1))
                joint_colors = np.tile(np.array(grey, np.float32), (len(pts), 1))
            else:
                bone_colors = BONE_COLORS
                joint_colors = np.tile(np.array(_rgba(track_color_bgr(hand.track_id)),
                                                np.float32), (len(pts), 1))
            sizes = 6.0 + 8.0 * np.clip(np.asarray(hand.keypoint_scores, np.float32), 0, 1)
            self.bones[i].setData(pos=pts[BONE_INDEX], color=bone_colors, mode="lines",
                                  width=2.0 if item.stale else 4.0)
            self.joints[i].setData(pos=pts, color=joint_colors, size=sizes)
            for it in (self.bones[i], self.joints[i]):
                it.setVisible(True)
        for i in range(len(shown), MAX_HANDS):
            for it in (self.bones[i], self.joints[i]):
                it.setVisible(False)
        self.hands_shown = len(shown)

