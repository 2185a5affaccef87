"""Hand tracks between frames of one video stream (video mode of the estimator)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Track:
    track_id: int
    side: str
    box: np.ndarray  # [3] crop box (cx, cy, side) for the next frame, frame pixels
    bbox: np.ndarray  # [4] last keypoint bbox, frame pixels
    region_confidence: float  # segmentation confidence when the track was (re)found
    p_right: float | None = None  # running P(right hand) from PoseNet's side head, if it has one


# the pixels a tracked hand covers, for the search for new hands: its keypoints' bbox grown on
# every side by this fraction of its longer side (a hand's outline reaches past its keypoints)
TRACKED_HAND_MARGIN = 0.1


def tracked_hand_box(bbox: np.ndarray, margin: float | None = None) -> np.ndarray:
    """The box ``[4]`` (x0, y0, x1, y1) a tracked hand with keypoint bbox ``bbox`` is taken to cover."""
    margin = TRACKED_HAND_MARGIN if margin is None else margin
    x0, y0, x1, y1 = (float(v) for v in bbox)
    pad = margin * max(x1 - x0, y1 - y0)
    return np.array([x0 - pad, y0 - pad, x1 + pad, y1 + pad], np.float32)


def intersection_and_areas(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """The intersection of two (x0, y0, x1, y1) boxes and their areas."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy, (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    inter, area_a, area_b = intersection_and_areas(a, b)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def overlap_of_smaller(a: np.ndarray, b: np.ndarray) -> float:
    """The intersection of two (x0, y0, x1, y1) boxes over the smaller one's area: 1 for a box
    inside the other, whatever their sizes."""
    inter, area_a, area_b = intersection_and_areas(a, b)
    smaller = min(area_a, area_b)
    return float(inter / smaller) if smaller > 0 else 0.0


def find_track(bbox: np.ndarray, tracks: list[Track], reach: float = 1.0, min_side: float = 0.0) -> int:
    """Index of the track that ``bbox`` (x0, y0, x1, y1) belongs to, else -1: the tracks whose
    next crop window, at least ``min_side`` wide and scaled by ``reach`` about its centre,
    contains the box centre; best IoU with their last keypoint bbox first, then the nearest
    window centre."""
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    best, best_key = -1, None
    for i, t in enumerate(tracks):
        half = reach * max(float(t.box[2]), min_side) / 2
        if abs(cx - t.box[0]) <= half and abs(cy - t.box[1]) <= half:
            key = (iou(bbox, t.bbox), -float(np.hypot(cx - t.box[0], cy - t.box[1])))
            if best_key is None or key > best_key:
                best, best_key = i, key
    return best
