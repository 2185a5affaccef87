"""Minimal hand overlay for the annotated video of headless sessions.

Stand-in until the GUI's ``handpose_live.drawing`` lands; pure function, BGR in, BGR out.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from ..hand import Hand
from ..skeleton import BONES, bone_color_bgr

SIDE_COLOR_BGR = {"left": (255, 160, 0), "right": (0, 140, 255)}


def draw_hands(frame_bgr: np.ndarray, hands: Sequence[Hand], thickness_px: int = 2) -> np.ndarray:
    """Draw each hand's bbox, side label, bones and keypoints onto ``frame_bgr`` (in place);
    returns it. Keypoints are raw-frame pixels, as the estimator gives them."""
    for hand in hands:
        pts = np.round(np.asarray(hand.keypoints_2d, np.float64)).astype(np.int32)
        color = SIDE_COLOR_BGR.get(hand.side, (200, 200, 200))
        x0, y0, x1, y1 = (int(round(v)) for v in hand.bbox)
        cv2.rectangle(frame_bgr, (x0, y0), (x1, y1), color, 1, cv2.LINE_AA)
        label = f"{hand.side} {hand.score:.2f}"
        cv2.putText(frame_bgr, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    color, 1, cv2.LINE_AA)
        for parent, child in BONES:
            cv2.line(frame_bgr, tuple(map(int, pts[parent])), tuple(map(int, pts[child])),
                     bone_color_bgr(child), thickness_px, cv2.LINE_AA)
        for k, p in enumerate(pts):
            cv2.circle(frame_bgr, tuple(map(int, p)), thickness_px + 1, bone_color_bgr(k), -1,
                       cv2.LINE_AA)
    return frame_bgr
