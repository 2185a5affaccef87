"""Pure OpenCV drawing of the 2D overlay: skeletons, labels, crop boxes, segmentation masks.

Every function takes a BGR ``uint8`` frame ``[H, W, 3]`` and returns a new frame; inputs are
never modified. The GUI and the session recorder draw with the same functions.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from .hand import Hand
from .skeleton import BONES, NUM_KEYPOINTS, bone_color_bgr

# Distinct BGR colours for track ids (joints, boxes, labels); id i uses TRACK_COLORS_BGR[i % 8].
TRACK_COLORS_BGR = (
    (255, 200, 0),    # sky blue
    (0, 140, 255),    # orange
    (180, 105, 255),  # pink
    (0, 215, 160),    # lime
    (255, 90, 160),   # violet
    (230, 230, 60),   # teal
    (90, 190, 255),   # light orange
    (200, 200, 200),  # light grey
)
STALE_COLOR_BGR = (150, 150, 150)
MASK_COLORS_BGR = {1: (255, 140, 40), 2: (40, 120, 255)}  # left: blue, right: orange


def track_color_bgr(track_id: int) -> tuple[int, int, int]:
    """The colour of track ``track_id`` (hands without a track, id < 0, use the first)."""
    return TRACK_COLORS_BGR[max(int(track_id), 0) % len(TRACK_COLORS_BGR)]


@dataclass(frozen=True)
class DrawSpec:
    """How to draw hands. Sizes in pixels; ``None`` scales with the frame (about 1 px per 240 px)."""

    bone_thickness: int | None = None
    joint_radius_min: float | None = None  # radius of a joint with score 0
    joint_radius_max: float | None = None  # radius of a joint with score 1
    show_skeleton: bool = True
    show_labels: bool = True
    show_crop: bool = True
    show_bbox: bool = False
    min_keypoint_score: float = 0.0  # joints and bones below it are not drawn
    stale: bool = False  # draw everything grey (a pose kept after the hand was lost)


def _check_frame(frame_bgr: np.ndarray) -> None:
    if not isinstance(frame_bgr, np.ndarray) or frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 \
            or frame_bgr.shape[2] != 3:
        shape = getattr(frame_bgr, "shape", None)
        dtype = getattr(frame_bgr, "dtype", type(frame_bgr).__name__)
        raise ValueError(f"expected a BGR uint8 frame [H, W, 3], got shape {shape} dtype {dtype}")


def _sizes(frame_bgr: np.ndarray, spec: DrawSpec) -> tuple[int, float, float]:
    unit = max(1.0, min(frame_bgr.shape[:2]) / 240.0)
    thickness = spec.bone_thickness or max(1, round(unit * 1.5))
    r_min = spec.joint_radius_min if spec.joint_radius_min is not None else 1.0 * unit
    r_max = spec.joint_radius_max if spec.joint_radius_max is not None else 3.0 * unit
    return thickness, r_min, r_max


def _pt(xy) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def _corner_box(img, box, color, thickness) -> None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    leg = max(4, int(0.2 * min(x1 - x0, y1 - y0)))
    for cx, cy, dx, dy in ((x0, y0, 1, 1), (x1, y0, -1, 1), (x0, y1, 1, -1), (x1, y1, -1, -1)):
        cv2.line(img, (cx, cy), (cx + dx * leg, cy), color, thickness, cv2.LINE_AA)
        cv2.line(img, (cx, cy), (cx, cy + dy * leg), color, thickness, cv2.LINE_AA)


def _label(img, text, anchor, color, unit) -> None:
    scale = 0.45 * unit
    thick = max(1, round(unit))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    x, y = anchor
    x = min(max(x, 0), max(0, img.shape[1] - tw - 6))
    y = max(y, th + base + 6)
    cv2.rectangle(img, (x, y - th - base - 6), (x + tw + 6, y), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 128 else (255, 255, 255)
    cv2.putText(img, text, (x + 3, y - base - 3), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, thick,
                cv2.LINE_AA)


def draw_hands(frame_bgr: np.ndarray, hands: list[Hand], spec: DrawSpec = DrawSpec()) -> np.ndarray:
    """All ``hands`` drawn on a copy of ``frame_bgr``: bones coloured per finger, joints in the
    track colour with a radius that grows with the keypoint score, the crop box and a side/score
    label. Keypoints in frame px."""
    _check_frame(frame_bgr)
    img = frame_bgr.copy()
    thickness, r_min, r_max = _sizes(img, spec)
    unit = max(1.0, min(img.shape[:2]) / 240.0)
    for hand in hands:
        kp = np.asarray(hand.keypoints_2d, np.float64)
        scores = np.asarray(hand.keypoint_scores, np.float64)
        if kp.shape != (NUM_KEYPOINTS, 2) or scores.shape != (NUM_KEYPOINTS,):
            raise ValueError(f"hand keypoints must be [21, 2] with scores [21], got {kp.shape}, "
                             f"{scores.shape}")
        color = STALE_COLOR_BGR if spec.stale else track_color_bgr(hand.track_id)
        if spec.show_crop and hand.crop_box[2] > hand.crop_box[0]:
            _corner_box(img, hand.crop_box, color, max(1, thickness // 2 + 1))
        if spec.show_bbox:
            x0, y0, x1, y1 = (int(round(v)) for v in hand.bbox)
            cv2.rectangle(img, (x0, y0), (x1, y1), color, 1, cv2.LINE_AA)
        if spec.show_skeleton:
            visible = scores >= spec.min_keypoint_score
            for parent, child in BONES:
                if visible[parent] and visible[child]:
                    bone = STALE_COLOR_BGR if spec.stale else bone_color_bgr(child)
                    cv2.line(img, _pt(kp[parent]), _pt(kp[child]), bone, thickness, cv2.LINE_AA)
            for i in np.flatnonzero(visible):
                radius = max(1, int(round(r_min + (r_max - r_min) * float(np.clip(scores[i], 0, 1)))))
                cv2.circle(img, _pt(kp[i]), radius, color, cv2.FILLED, cv2.LINE_AA)
                cv2.circle(img, _pt(kp[i]), radius, (30, 30, 30), 1, cv2.LINE_AA)
        if spec.show_labels:
            x0, y0 = hand.crop_box[:2] if hand.crop_box[2] > hand.crop_box[0] else hand.bbox[:2]
            text = f"{hand.side.capitalize()} {hand.score:.2f}"
            _label(img, text, (int(x0), int(y0) - 2), color, unit)
    return img


def draw_mask(frame_bgr: np.ndarray, mask: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """``frame_bgr`` with the hand mask tinted in (``mask`` [H, W] uint8: 0 bg, 1 left, 2 right)."""
    _check_frame(frame_bgr)
    if mask.shape != frame_bgr.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match frame {frame_bgr.shape[:2]}")
    img = frame_bgr.copy()
    for value, color in MASK_COLORS_BGR.items():
        region = mask == value
        if region.any():
            tint = np.asarray(color, np.float32)
            img[region] = (img[region] * (1 - alpha) + tint * alpha).astype(np.uint8)
    return img


def mirror_hands(hands: list[Hand], width_px: int) -> list[Hand]:
    """Hands as seen in the horizontally flipped frame (``cv2.flip(frame, 1)``), keeping each
    hand's side (the person's own hand). 3D keypoints get x negated to match."""
    out = []
    w = float(width_px) - 1.0
    for h in hands:
        kp2 = np.asarray(h.keypoints_2d, np.float32).copy()
        kp2[:, 0] = w - kp2[:, 0]
        kp3 = np.asarray(h.keypoints_3d, np.float32).copy()
        kp3[:, 0] = -kp3[:, 0]
        x0, y0, x1, y1 = h.bbox
        c0, cy0, c1, cy1 = h.crop_box
        out.append(dataclasses.replace(
            h, keypoints_2d=kp2, keypoints_3d=kp3, bbox=(w - x1, y0, w - x0, y1),
            crop_box=(w - c1, cy0, w - c0, cy1) if c1 > c0 else h.crop_box))
    return out


def draw_view(frame_bgr: np.ndarray, hands: list[Hand], mask: np.ndarray | None = None, *,
              mirror: bool = False, show_mask: bool = False, spec: DrawSpec = DrawSpec()) -> np.ndarray:
    """The annotated frame as the app shows it: optional mask tint, optional selfie mirroring
    (sides stay the person's own), then the hands. ``hands`` are in raw-frame pixels."""
    _check_frame(frame_bgr)
    img = draw_mask(frame_bgr, mask) if show_mask and mask is not None else frame_bgr
    if mirror:
        img = cv2.flip(img, 1)
        hands = mirror_hands(hands, frame_bgr.shape[1])
    return draw_hands(img, hands, spec)
