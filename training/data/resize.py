"""Letterboxing a sample to a fixed square size so batches collate (labels and K follow)."""
from __future__ import annotations

import cv2
import numpy as np

PAD_GREY = 128


def letterbox_sample(sample: dict, size: int) -> dict:
    """Scale the image to fit ``size`` x ``size`` (aspect kept), pad with grey; return a new sample.

    Pixel centres sit at integers, so x' = (x + 0.5) * s - 0.5 + pad_x; K is adjusted alike.
    """
    if size <= 0:
        raise ValueError(f"letterbox size must be positive, got {size}")
    h, w = sample["image_rgb"].shape[:2]
    s = min(size / h, size / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    sy, sx = nh / h, nw / w
    dy, dx = (size - nh) // 2, (size - nw) // 2
    out = dict(sample)
    image = np.full((size, size, 3), PAD_GREY, np.uint8)
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    image[dy:dy + nh, dx:dx + nw] = cv2.resize(sample["image_rgb"], (nw, nh), interpolation=interp)
    mask = np.zeros((size, size), np.uint8)
    mask[dy:dy + nh, dx:dx + nw] = cv2.resize(sample["mask"], (nw, nh), interpolation=cv2.INTER_NEAREST)
    out["image_rgb"], out["mask"] = image, mask
    scale = np.array([sx, sy], np.float32)
    offset = np.array([dx + 0.5 * sx - 0.5, dy + 0.5 * sy - 0.5], np.float32)
    for key in ("keypoints_2d", "keypoints_2d_other"):
        if key in sample:
            out[key] = (sample[key] * scale + offset).astype(np.float32)
    if bool(sample.get("has_3d_camera", True)):  # a placeholder K stays a placeholder
        K = np.asarray(sample["K"], np.float64).copy()
        K[0] = K[0] * sx + offset[0] * K[2]
        K[1] = K[1] * sy + offset[1] * K[2]
        out["K"] = K.astype(np.float32)
    return out


def maybe_letterbox(sample: dict, size: int | None) -> dict:
    return sample if size is None else letterbox_sample(sample, size)
