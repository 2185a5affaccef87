"""The rotatable 3D hand panel (pyqtgraph GLViewWidget): joints, bones, a ground grid, a label
per hand.

Camera axes (x right, y down, z forward) are shown with z up: display = (x, z, -y), so an
upright hand in the image stands upright on the grid. Each hand is centred on its own slot, the
slots side by side in the order the hands appear left to right in the video (``layout_hands``),
and the camera distance follows the number of hands, so every hand is drawn large enough to see
its fingers. Each hand carries a label ("Right 0.91") in its track's colour, the colour of its
joints here and in the 2D overlay. Mouse: drag to rotate, wheel to zoom, middle-drag (or
ctrl-drag) to pan; R resets the framing.
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
SLOT_M = 0.22  # distance between the centres of hands side by side (an open hand is ~0.19 m)
GRID_Z_M = -0.11  # the grid lies under a hand centred at the origin
# camera distance for one hand, and per extra slot: a hand fills about half the panel's height
DISTANCE_ONE_M, DISTANCE_PER_SLOT_M = 0.3, 0.16


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


def layout_hands(shown: list[ShownHand], mirror: bool = False) -> list[np.ndarray]:
    """Display points ``[21, 3]`` per hand: each hand's joints centred on its bounding box's
    centre, then moved to its slot; slots ``SLOT_M`` apart, centred on x = 0, in the order of the
    hands' wrists left to right in the picture shown (mirrored when ``mirror``)."""
    def wrist_x(item: ShownHand) -> float:
        x = float(item.hand.keypoints_2d[0, 0])
        return -x if mirror else x

    order = sorted(range(len(shown)), key=lambda i: wrist_x(shown[i]))
    out: list[np.ndarray] = [np.zeros((0, 3), np.float32)] * len(shown)
    for slot, i in enumerate(order):
        xyz = np.array(shown[i].hand.keypoints_3d, np.float32)
        if mirror:
            xyz[:, 0] = -xyz[:, 0]
        pts = display_points(xyz)
        pts -= (pts.min(0) + pts.max(0)) / 2
        pts[:, 0] += (slot - (len(shown) - 1) / 2) * SLOT_M
        out[i] = pts
    return out


def camera_distance(n_hands: int) -> float:
    """Distance that frames ``n_hands`` slots (one hand when none are shown)."""
    return DISTANCE_ONE_M + DISTANCE_PER_SLOT_M * max(n_hands - 1, 0)


def hand_label(hand) -> str:
    return f"{hand.side.capitalize()} {hand.score:.2f}"


class NoGLView(QLabel):
    """Stand-in for the 3D panel where OpenGL is not available."""

    def __init__(self, parent=None):
        super().__init__("3D view unavailable: no OpenGL context\n(the 2D tracking still works)",
                         parent)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("background:#15171a; color:#aaa;")
        self.setMinimumSize(200, 200)

    def show_hands(self, shown, mirror=False) -> None:
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
        grid.setSize(SLOT_M * MAX_HANDS, 0.3)
        grid.setSpacing(0.05, 0.05)
        grid.setColor((110, 115, 125, 160))
        grid.translate(0, 0.0, GRID_Z_M)
        self.addItem(grid)
        self.labels: list[QLabel] = []
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
            # labels in Qt over the GL widget (GLTextItem does not render on every GL stack)
            label = QLabel(self)
            label.setAttribute(Qt.WA_TransparentForMouseEvents)
            label.setVisible(False)
            self.labels.append(label)
        self.hands_shown = 0
        self._label_anchors: list[np.ndarray] = []
        self._slots = 1
        self.reset_view()

    def reset_view(self) -> None:
        """Frame the hands shown (R): looking at the slots' centre from the front, slightly above."""
        self.setCameraPosition(pos=QVector3D(0.0, 0.0, 0.0), distance=camera_distance(self._slots),
                               elevation=12, azimuth=-90)
        self._place_labels()

    def show_hands(self, shown: list[ShownHand], mirror: bool = False):
        """Draw up to ``MAX_HANDS`` hands side by side (``layout_hands``), each with its label;
        the framing follows when the number of hands changes."""
        shown = shown[:MAX_HANDS]
        points = layout_hands(shown, mirror)
        self._label_anchors = []
        for i, (item, pts) in enumerate(zip(shown, points)):
            hand = item.hand
            color = STALE_COLOR_BGR if item.stale else track_color_bgr(hand.track_id)
            self.labels[i].setText(hand_label(hand))
            self.labels[i].setStyleSheet(
                f"color: rgb({color[2]},{color[1]},{color[0]}); background: rgba(21,23,26,170);"
                " font-weight: bold; padding: 1px 4px;")
            self.labels[i].adjustSize()
            self._label_anchors.append(np.array([pts[:, 0].mean(), 0.0, pts[:, 2].max() + 0.015], np.float32))
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
            self.labels[i].setVisible(False)
        self.hands_shown = len(shown)
        if shown and len(shown) != self._slots:
            self._slots = len(shown)
            self.reset_view()
        self._place_labels()

    def _place_labels(self) -> None:
        """Put each hand's label just above its highest joint, as the camera sees it now."""
        if not hasattr(self, "labels"):
            return
        w, h = max(self.width(), 1), max(self.height(), 1)
        viewport = (0, 0, w, h)
        mvp = self.projectionMatrix(viewport, viewport) * self.viewMatrix()
        for i, anchor in enumerate(self._label_anchors):
            ndc = mvp.map(QVector3D(*map(float, anchor)))
            x = (ndc.x() + 1) / 2 * w - self.labels[i].width() / 2
            y = (1 - ndc.y()) / 2 * h - self.labels[i].height()
            self.labels[i].move(int(np.clip(x, 0, w - self.labels[i].width())),
                                int(np.clip(y, 0, h - self.labels[i].height())))
            self.labels[i].setVisible(True)

    def paintGL(self, *args, **kwargs):  # noqa: N802 (Qt name): labels follow rotation and zoom
        super().paintGL(*args, **kwargs)
        self._place_labels()

