"""Keypoint names, bones, colours and converters between keypoint orders.

Two orders exist in this project:

* **User order** (also MediaPipe, FreiHAND, COCO-WholeBody): wrist, then each finger
  from its base to its tip. Everything a user sees or a file stores uses it.
* **RHD order** (the networks' internal order, Zimmermann & Brox): wrist, then each
  finger from its tip to its base. It never leaves the models and the RHD reader.

Keypoint 0 is the true wrist in both orders.
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np

NUM_KEYPOINTS = 21
FINGERS = ("thumb", "index", "middle", "ring", "little")

KEYPOINT_NAMES = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "little_mcp", "little_pip", "little_dip", "little_tip",
)

Keypoint = IntEnum("Keypoint", {name.upper(): i for i, name in enumerate(KEYPOINT_NAMES)})
Keypoint.__doc__ = "Keypoint indices in user order (wrist, then each finger base to tip)."

# RHD_FROM_USER[i] = RHD index of user keypoint i. The permutation reverses each
# finger's four joints and is its own inverse.
RHD_FROM_USER = np.array(
    [0] + [1 + 4 * f + (3 - j) for f in range(5) for j in range(4)], dtype=np.int64
)
USER_FROM_RHD = np.argsort(RHD_FROM_USER)

# Parent of each keypoint in user order (-1 for the wrist): finger bases hang off the wrist.
PARENTS = tuple([-1] + [0 if j == 0 else 1 + 4 * f + j - 1 for f in range(5) for j in range(4)])
BONES = tuple((p, c) for c, p in enumerate(PARENTS) if p >= 0)  # (parent, child), user order
FINGER_OF = tuple([-1] + [f for f in range(5) for _ in range(4)])  # finger index, -1 = wrist

# BGR colours per finger (OpenCV drawing); the wrist uses WRIST_COLOR_BGR.
FINGER_COLORS_BGR = (
    (60, 60, 230),    # thumb: red
    (40, 200, 240),   # index: yellow
    (80, 200, 60),    # middle: green
    (230, 160, 40),   # ring: blue
    (200, 70, 200),   # little: magenta
)
WRIST_COLOR_BGR = (220, 220, 220)

# Keypoints used by the geometry (user order).
WRIST = int(Keypoint.WRIST)
MIDDLE_MCP = int(Keypoint.MIDDLE_MCP)
MIDDLE_PIP = int(Keypoint.MIDDLE_PIP)
LITTLE_MCP = int(Keypoint.LITTLE_MCP)

# The same keypoints in RHD order (what the canonical frame of the paper is written in).
RHD_WRIST = 0
RHD_MIDDLE_MCP = 12
RHD_MIDDLE_PIP = 11
RHD_LITTLE_MCP = 20


def bone_color_bgr(child: int) -> tuple[int, int, int]:
    """Colour of the bone that ends at keypoint ``child`` (user order)."""
    finger = FINGER_OF[child]
    return WRIST_COLOR_BGR if finger < 0 else FINGER_COLORS_BGR[finger]


def _reorder(points, index: np.ndarray, axis: int):
    if points.shape[axis] != NUM_KEYPOINTS:
        raise ValueError(
            f"expected {NUM_KEYPOINTS} keypoints on axis {axis}, got shape {tuple(points.shape)}"
        )
    if isinstance(points, np.ndarray):
        return np.take(points, index, axis=axis)
    import torch  # torch tensors are reordered without leaving the device

    return torch.index_select(points, axis, torch.as_tensor(index, device=points.device))


def rhd_to_user(points, axis: int = -2):
    """Reorder keypoints from RHD order (tip to base) to user order (base to tip).

    ``points``: a numpy array or torch tensor with 21 entries along ``axis``
    (default: the second-to-last axis, as in ``[..., 21, 2 or 3]``).
    """
    return _reorder(points, RHD_FROM_USER, axis)


def user_to_rhd(points, axis: int = -2):
    """Reorder keypoints from user order (base to tip) to RHD order (tip to base)."""
    return _reorder(points, USER_FROM_RHD, axis)
