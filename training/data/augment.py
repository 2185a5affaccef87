"""Augmentations that must move labels with the pixels. Horizontal flip swaps the hand side."""
from __future__ import annotations

import numpy as np

_SWAP_LABELS = np.array([0, 2, 1], np.uint8)  # mask 1 (left) <-> 2 (right)


def hflip(sample: dict) -> dict:
    """Mirror a sample left-right: a left hand becomes a right hand.

    Image and mask columns reverse, mask labels 1 <-> 2, ``side`` flips, x -> W-1-x, 3D x is
    negated and K's principal point moves to W-1-cx (so K @ xyz still lands on the keypoints).
    """
    w = sample["image_rgb"].shape[1]
    out = dict(sample)
    out["image_rgb"] = np.ascontiguousarray(sample["image_rgb"][:, ::-1])
    mask = sample["mask"]
    if mask.max(initial=0) > 2:
        raise ValueError(f"hflip expects mask labels 0/1/2, found {int(mask.max())}")
    out["mask"] = np.ascontiguousarray(_SWAP_LABELS[mask[:, ::-1]])
    out["side"] = np.int64(1 - int(sample["side"]))
    if "side_other" in sample and int(sample["side_other"]) >= 0:
        out["side_other"] = np.int64(1 - int(sample["side_other"]))
    for key in ("keypoints_2d", "keypoints_2d_other"):
        if key in sample:
            kp = sample[key].copy()
            kp[:, 0] = (w - 1) - kp[:, 0]
            out[key] = kp
    for key in ("keypoints_3d", "keypoints_3d_other"):
        if key in sample:
            xyz = sample[key].copy()
            xyz[:, 0] = -xyz[:, 0]
            out[key] = xyz
    K = np.asarray(sample["K"], np.float32).copy()
    if bool(sample.get("has_3d_camera", True)):
        K[0, 2] = (w - 1) - K[0, 2]
        K[0, 1] = -K[0, 1]
    out["K"] = K
    return out


def random_hflip(sample: dict, rng: np.random.Generator, p: float = 0.5) -> dict:
    return hflip(sample) if rng.random() < p else sample
