"""Fit frames of another size into the session's video frame size (scale, centre, black borders)."""
from __future__ import annotations

import cv2
import numpy as np

from ..preprocess import letterbox as fit


def letterbox_transform(
    src_size_px: tuple[int, int], dst_size_px: tuple[int, int]
) -> tuple[float, float, float]:
    """``(scale, offset_x_px, offset_y_px)`` mapping a ``src`` frame into a ``dst`` frame.

    Sizes are ``(width, height)`` in pixels. A point ``(x, y)`` of the source lands at
    ``(x * scale + offset_x_px, y * scale + offset_y_px)`` in the letterboxed frame.
    """
    sw, sh = src_size_px
    dw, dh = dst_size_px
    if min(sw, sh, dw, dh) <= 0:
        raise ValueError(f"frame sizes must be positive, got src {src_size_px}, dst {dst_size_px}")
    scale = min(dw / sw, dh / sh)
    new_w, new_h = round(sw * scale), round(sh * scale)
    return scale, (dw - new_w) // 2, (dh - new_h) // 2


def fit_frame(frame_bgr: np.ndarray, dst_size_px: tuple[int, int]) -> np.ndarray:
    """``frame_bgr`` ([H, W, 3] uint8) fitted into ``dst_size_px`` = (width, height).

    Returned unchanged (same object) when it already has that size; grey frames ([H, W]) are
    converted to BGR.
    """
    if frame_bgr.ndim == 2:
        frame_bgr = cv2.cvtColor(frame_bgr, cv2.COLOR_GRAY2BGR)
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"expected a BGR frame [H, W, 3], got shape {frame_bgr.shape}")
    dw, dh = dst_size_px
    if frame_bgr.shape[:2] == (dh, dw):
        return frame_bgr
    return fit(frame_bgr, (dh, dw), fill=0)[0]  # the same arithmetic as letterbox_transform
