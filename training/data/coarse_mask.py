"""A coarse hand mask drawn from 2D keypoints, for data sets without masks (marked ``mask_coarse``)."""
from __future__ import annotations

import cv2
import numpy as np

from handpose_live.skeleton import BONES, Keypoint

_PALM = [Keypoint.WRIST, Keypoint.THUMB_CMC, Keypoint.THUMB_MCP, Keypoint.INDEX_MCP, Keypoint.MIDDLE_MCP,
         Keypoint.RING_MCP, Keypoint.LITTLE_MCP]


def draw_coarse_mask(mask: np.ndarray, keypoints_px_user: np.ndarray, label: int) -> None:
    """Paint ``label`` into ``mask`` (H,W uint8, in place) over a hand given in *user* order (21,2) px.

    Fingers are thick polylines (width ~ 0.2 x the wrist-to-middle-MCP distance), the palm the
    convex hull of the wrist, thumb base and finger bases.
    """
    kp = np.asarray(keypoints_px_user, np.float64)
    if kp.shape != (21, 2):
        raise ValueError(f"expected 21 user-order keypoints of shape (21, 2), got {kp.shape}")
    palm_len = np.linalg.norm(kp[Keypoint.MIDDLE_MCP] - kp[Keypoint.WRIST])
    width = max(2, int(round(0.22 * max(palm_len, 1.0))))
    pts = np.round(kp * 4).astype(np.int32)  # 2 fractional bits for sub-pixel drawing
    hull = cv2.convexHull(pts[_PALM])
    cv2.fillConvexPoly(mask, hull, int(label), lineType=cv2.LINE_8, shift=2)
    for parent, child in BONES:
        cv2.line(mask, tuple(map(int, pts[parent])), tuple(map(int, pts[child])), int(label), width,
                 lineType=cv2.LINE_8, shift=2)
    for p in pts:
        cv2.circle(mask, tuple(map(int, p)), max(1, width // 2) * 4, int(label), -1, shift=2)
