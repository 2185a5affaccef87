"""The sample dict every reader returns (RHD keypoint order), and helpers to build and check it.

Fields (numpy, fixed shapes per dataset for a fixed image size, torch ``default_collate``-able):

- ``image_rgb`` (H,W,3) uint8 RGB; ``mask`` (H,W) uint8: 0 background, 1 left hand, 2 right hand,
  ``IGNORE_LABEL`` (255) a pixel without a label (no loss; real_hands' precomputed masks).
- ``mask_valid`` bool: False when the data set has no mask; ``mask_coarse`` bool: derived from keypoints.
- Primary hand, RHD order: ``keypoints_2d`` (21,2) float32 px (x, y; pixel centres at integers);
  ``visible`` (21,) bool; ``keypoints_3d`` (21,3) float32 metres, camera frame (x right, y down,
  z forward) when ``has_3d_camera``, else as the source gives them (e.g. MediaPipe world coords);
  ``has_3d`` bool; ``has_3d_camera`` bool (K @ xyz projects onto keypoints_2d);
  ``K`` (3,3) float32 (``PLACEHOLDER_K`` when unknown); ``side`` int64 0 left / 1 right;
  ``weight`` float32 loss weight; ``source`` str.
- Optional: ``keypoints_2d_other``, ``visible_other``, ``keypoints_3d_other``, ``side_other``
  (-1 when absent), ``has_other``, ``num_hands`` — the second hand, if any.
"""
from __future__ import annotations

import numpy as np

from handpose_live.skeleton import NUM_KEYPOINTS  # noqa: F401  (re-exported)

PLACEHOLDER_K = np.eye(3, dtype=np.float32)
LEFT, RIGHT = 0, 1
MASK_LABEL = {LEFT: 1, RIGHT: 2}
IGNORE_LABEL = 255  # mask value of a pixel the segmentation loss skips

# key -> (dtype, shape); "HW" stands for the image size.
FIELDS = {
    "keypoints_2d": (np.float32, (21, 2)), "visible": (np.bool_, (21,)), "keypoints_3d": (np.float32, (21, 3)),
    "K": (np.float32, (3, 3)), "side": (np.int64, ()), "weight": (np.float32, ()),
    "mask_valid": (np.bool_, ()), "mask_coarse": (np.bool_, ()), "has_3d": (np.bool_, ()),
    "has_3d_camera": (np.bool_, ()),
}
OTHER_FIELDS = {
    "keypoints_2d_other": (np.float32, (21, 2)), "visible_other": (np.bool_, (21,)),
    "keypoints_3d_other": (np.float32, (21, 3)), "side_other": (np.int64, ()), "has_other": (np.bool_, ()),
    "num_hands": (np.int64, ()),
}


def project(K: np.ndarray, xyz_m: np.ndarray) -> np.ndarray:
    """Pinhole projection of camera-frame points (N,3) -> pixels (N,2)."""
    q = np.asarray(xyz_m, np.float64) @ np.asarray(K, np.float64).T
    return (q[:, :2] / q[:, 2:3]).astype(np.float32)


def no_other_hand() -> dict:
    """The optional second-hand fields for a sample with one hand."""
    return {"keypoints_2d_other": np.zeros((21, 2), np.float32), "visible_other": np.zeros(21, bool),
            "keypoints_3d_other": np.zeros((21, 3), np.float32), "side_other": np.int64(-1),
            "has_other": np.bool_(False), "num_hands": np.int64(1)}


def check_sample(sample: dict) -> None:
    """Raise ValueError naming the first field that breaks the contract above."""
    image = sample.get("image_rgb")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image_rgb must be an HxWx3 uint8 array, got "
                         f"{getattr(image, 'shape', None)} {getattr(image, 'dtype', type(image))}")
    mask = sample.get("mask")
    if not isinstance(mask, np.ndarray) or mask.shape != image.shape[:2] or mask.dtype != np.uint8:
        raise ValueError(f"mask must be a {image.shape[:2]} uint8 array, got "
                         f"{getattr(mask, 'shape', None)} {getattr(mask, 'dtype', type(mask))}")
    bad = (mask > 2) & (mask != IGNORE_LABEL)
    if bad.any():
        raise ValueError(f"mask labels must be 0 (background), 1 (left), 2 (right) or {IGNORE_LABEL} (ignore); "
                         f"found {int(mask[bad].max())}")
    fields = dict(FIELDS, **(OTHER_FIELDS if "has_other" in sample else {}))
    for key, (dtype, shape) in fields.items():
        value = sample.get(key)
        if not isinstance(value, (np.ndarray, np.generic)):
            raise ValueError(f"{key} must be a numpy value of shape {shape}, got {type(value).__name__}")
        if value.shape != shape or value.dtype != np.dtype(dtype):
            raise ValueError(f"{key} must have shape {shape} and dtype {np.dtype(dtype)}, "
                             f"got {value.shape} {value.dtype}")
    if int(sample["side"]) not in (LEFT, RIGHT):
        raise ValueError(f"side must be 0 (left) or 1 (right), got {int(sample['side'])}")
    if not isinstance(sample.get("source"), str):
        raise ValueError("source must be a str naming the data set")
