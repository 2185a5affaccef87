"""Square hand crops: boxes from keypoints or a region, batched crop-and-resize, and back-projection.

A crop box is ``(cx, cy, side)`` in frame pixels (pixel centres at integer coordinates). Crop
pixel ``u`` of an ``S``-pixel crop maps to frame ``x = cx + (u - S / 2) * side / S`` — the paper's
``p_frame = (p_crop - 128) / scale + centre`` with ``scale = S / side``.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# The paper: size x 1.25, scale = clip(256 / size, 0.25, 5) -> window side in [51.2, 1024] px.
# One clamp for every box (run time and training): ``box_from_bbox`` applies it.
CROP_ENLARGE = 1.25
MIN_SIDE_PX = 256 / 5.0
MAX_SIDE_PX = 256 / 0.25

# Boxes from a HandSegNet region. PoseNet is trained on keypoint boxes (``keypoint_box``: the
# labelled joints' bbox, longer side x CROP_ENLARGE), but a mask region is wider than the joint
# centres (palm and finger width, some wrist) and sits lower. Two numbers make a region's
# box match, in expectation, the box training makes from the keypoints of the same hand:
# side = region bbox longer side x REGION_ENLARGE, centre = region bbox centre + REGION_SHIFT x
# region bbox longer side (frame x right, y down). They depend on the HandSegNet that draws the
# regions, so each model folder stores its own (``DetectionConfig.region_enlarge`` /
# ``region_shift``; ``scripts/calibrate_region_box.py --write`` measures and stores them); the
# values below are the defaults, measured with that script for the shipped model
# (light-cpu-run3, whose HandSegNet learnt real hand outlines; bf16 CPU) on real_hands *train*
# (dev groups excluded): every labelled hand (score >= 0.8) matched to the region whose bbox has
# the highest IoU with its keypoint bbox, IoU >= 0.3 (2724 of 2746 hands); exp(median over hands
# of log(1.25 x keypoint side / region side)) = 1.064 and the median of (keypoint-box centre -
# region centre) / region side = (-0.017, -0.035). Per source: sld (1421 hands) 1.055,
# (-0.020, -0.030); subhih (1303 hands) 1.076, (-0.009, -0.040); IQR of the log ratio 0.10.
# (light-cpu-run2's coarser masks measured 1.103, (-0.012, -0.044).)
# tests/test_crop_parity.py checks the agreement on real_hands val.
REGION_ENLARGE = 1.064
REGION_SHIFT = (-0.017, -0.035)


def box_from_bbox(bbox_xyxy: np.ndarray, enlarge: float = CROP_ENLARGE, shift: tuple[float, float] = (0.0, 0.0),
                  min_side: float = MIN_SIDE_PX, max_side: float = MAX_SIDE_PX) -> np.ndarray:
    """The one crop-box function (run time and training; ``keypoint_box`` and ``region_box`` are
    its two uses). ``[N, 4]`` boxes (x0, y0, x1, y1) -> ``[N, 3]`` crop boxes: centre of the box
    plus ``shift`` x its longer side, side = longer box side x ``enlarge``, clamped to
    ``[min_side, max_side]``."""
    b = np.asarray(bbox_xyxy, dtype=np.float32).reshape(-1, 4)
    longer = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    centre = (b[:, :2] + b[:, 2:]) / 2 + np.asarray(shift, np.float32) * longer[:, None]
    side = np.clip(longer * enlarge, min_side, max_side)
    return np.concatenate([centre, side[:, None]], axis=1).astype(np.float32)


def keypoint_box(points: np.ndarray) -> np.ndarray:
    """Crop boxes from keypoints, as training makes them (and video mode from a hand's last
    keypoints): ``[N, K, 2]`` (or ``[K, 2]``) frame px -> ``[N, 3]``; the bbox of all K points
    (invisible ones too: a hand's extent includes its occluded fingers), x ``CROP_ENLARGE``."""
    p = np.asarray(points, dtype=np.float32)
    p = p.reshape(-1, p.shape[-2], 2)
    return box_from_bbox(np.concatenate([p.min(1), p.max(1)], axis=1))


def region_box(bbox_xyxy: np.ndarray, enlarge: float = REGION_ENLARGE,
               shift: tuple[float, float] = REGION_SHIFT) -> np.ndarray:
    """Crop boxes from HandSegNet region bboxes ``[N, 4]`` (frame px) -> ``[N, 3]``, calibrated to
    match the keypoint box of the same hand (a model's ``DetectionConfig.region_enlarge`` /
    ``region_shift``; default ``REGION_ENLARGE``, ``REGION_SHIFT``)."""
    return box_from_bbox(bbox_xyxy, enlarge, tuple(shift))


def crop_and_resize(image: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear crops of one image.

    ``image`` ``[C, H, W]`` (normalised, so zero padding = mid-grey outside the frame),
    ``boxes`` ``[N, 3]`` crop boxes in frame pixels -> ``[N, C, size, size]``.
    """
    if boxes.numel() == 0:
        return image.new_zeros((0, image.shape[0], size, size))
    _, h, w = image.shape
    boxes = boxes.to(device=image.device, dtype=torch.float32)
    u = torch.arange(size, device=image.device, dtype=torch.float32) - size / 2
    step = boxes[:, 2:3] / size
    xs = boxes[:, 0:1] + u[None] * step  # [N, S] frame x of each crop column
    ys = boxes[:, 1:2] + u[None] * step
    gx = (2 * xs + 1) / w - 1  # grid_sample, align_corners=False
    gy = (2 * ys + 1) / h - 1
    n = boxes.shape[0]
    grid = torch.stack([gx[:, None, :].expand(n, size, size), gy[:, :, None].expand(n, size, size)], -1)
    src = image[None].expand(n, -1, -1, -1)
    return F.grid_sample(src, grid.to(image.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)


def crop_frame(frame_bgr: np.ndarray, boxes: np.ndarray, size: int, fill: int = 128) -> np.ndarray:
    """The run time's crops: ``HxWx3`` uint8 BGR frame, ``[N, 3]`` crop boxes -> ``[N, size,
    size, 3]`` uint8 **RGB**, bilinear, ``fill`` outside the frame. Same geometry as
    ``crop_and_resize`` (which training uses on float batches), but on uint8 and only ``size``^2
    pixels per hand: converting the frame region to float first cost more than PoseNet's
    first layers at 640x480."""
    b = np.asarray(boxes, np.float32).reshape(-1, 3)
    out = np.empty((len(b), size, size, 3), np.uint8)
    for i, (cx, cy, side) in enumerate(b):
        step = side / size
        # crop pixel u -> frame x = cx + (u - size/2) * step  (pixel centres at integers)
        m = np.array([[step, 0, cx - size / 2 * step], [0, step, cy - size / 2 * step]], np.float64)
        crop = cv2.warpAffine(frame_bgr, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(fill, fill, fill))
        out[i] = crop[:, :, ::-1]
    return out


def crop_to_frame(points_crop: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """``[N, K, 2]`` crop pixels -> frame pixels for ``[N, 3]`` crop boxes."""
    boxes = boxes.to(points_crop)
    return (points_crop - size / 2) * (boxes[:, None, 2:3] / size) + boxes[:, None, :2]


def frame_to_crop(points_frame: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Inverse of ``crop_to_frame``."""
    boxes = boxes.to(points_frame)
    return (points_frame - boxes[:, None, :2]) * (size / boxes[:, None, 2:3]) + size / 2


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """``[N, 3]`` crop boxes -> ``[N, 4]`` (x0, y0, x1, y1) frame pixels of the window."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 3)
    half = b[:, 2:3] / 2
    return np.concatenate([b[:, :2] - half, b[:, :2] + half], axis=1)


# ------------------------------------------------------------------ upright (rotated) crops
# A rotated crop is ``(centre [2], side, to_frame [2, 2])``: ``to_frame``'s columns are the
# crop's x and y axes in the frame (a rotation), so crop pixel ``u`` of an ``S``-pixel crop maps
# to frame ``centre + to_frame @ (u - S / 2) * side / S`` — ``crop_frame``'s geometry, turned.


def upright_angle(wrist: np.ndarray, middle_mcp: np.ndarray) -> float:
    """Radians to turn a crop by so that the wrist -> middle-finger-base direction points up
    (0 when it already does; frame y down)."""
    d = np.asarray(middle_mcp, np.float64) - np.asarray(wrist, np.float64)
    return float(np.arctan2(d[0], -d[1]))


def rotation_2d(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def rotated_keypoint_box(points: np.ndarray, angle: float, scale: float = 1.0) -> tuple[np.ndarray, float, np.ndarray]:
    """The box training makes from keypoints ``[K, 2]`` (``keypoint_box``), taken in the frame
    turned by ``angle`` and scaled by ``scale``: ``(centre [2], side, to_frame [2, 2])``."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    to_frame = rotation_2d(angle)
    mid = (p.min(0) + p.max(0)) / 2
    local = (p - mid) @ to_frame  # the points in the turned frame (row vectors)
    box = keypoint_box(local[None])[0].astype(np.float64)
    return mid + to_frame @ box[:2], float(box[2] * scale), to_frame


def rotated_crop_map(centre: np.ndarray, side: float, to_frame: np.ndarray, size: int) -> np.ndarray:
    """``2x3`` affine map from crop pixels to frame pixels."""
    a = np.asarray(to_frame, np.float64) * (side / size)
    t = np.asarray(centre, np.float64) - a @ np.array([size / 2, size / 2])
    return np.hstack([a, t[:, None]])


def crop_rotated(frame_bgr: np.ndarray, centre: np.ndarray, side: float, to_frame: np.ndarray, size: int,
                 fill: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """A rotated crop ``[size, size, 3]`` uint8 **RGB** (bilinear, ``fill`` outside the frame) and
    its ``2x3`` map from crop pixels to frame pixels (``points @ m[:, :2].T + m[:, 2]``)."""
    m = rotated_crop_map(centre, side, to_frame, size)
    crop = cv2.warpAffine(frame_bgr, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(fill, fill, fill))
    return crop[:, :, ::-1].copy(), m


def rotated_crop_to_frame(points, maps):
    """Points ``[N, K, 2]`` in rotated crops' pixels -> frame pixels, by the crops' ``2x3`` maps
    ``[N, 2, 3]`` (``rotated_crop_map``). numpy or torch (the run time and training share it)."""
    if isinstance(points, np.ndarray):
        return np.einsum("nkj,nij->nki", points, maps[:, :, :2]) + maps[:, None, :, 2]
    return torch.einsum("nkj,nij->nki", points, maps[:, :, :2]) + maps[:, None, :, 2]


def world_to_frame(world: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """3D points ``[N, K, 3]`` in rotated crops' axes (x right, y down in the crop; the keypoint
    refiner's world landmarks) -> the frame's axes: x, y turned as the crops' ``2x3`` maps
    ``[N, 2, 3]`` (crop px -> frame px, ``rotated_crop_map``) turn crop directions, without
    their scale; z as is. numpy or torch (the run time and training share it)."""
    a = maps[..., :2]
    if isinstance(world, np.ndarray):
        rot = a / np.sqrt(np.abs(np.linalg.det(a)))[..., None, None]
        return np.concatenate([np.einsum("nkj,nij->nki", world[..., :2], rot), world[..., 2:]], -1)
    rot = a / a.det().abs().sqrt()[..., None, None]
    return torch.cat([torch.einsum("nkj,nij->nki", world[..., :2], rot), world[..., 2:]], -1)
