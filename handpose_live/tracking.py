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


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def best_match(bbox: np.ndarray, candidates: list[np.ndarray], min_iou: float = 0.3) -> int:
    """Index of the candidate box overlapping ``bbox`` most (IoU >= ``min_iou``), else -1."""
    scores = [iou(bbox, c) for c in candidates]
    if not scores or max(scores) < min_iou:
        return -1
    return int(np.argmax(scores))
