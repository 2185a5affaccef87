"""The result type of the estimator: one detected hand."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .skeleton import KEYPOINT_NAMES


@dataclass
class Hand:
    """One hand found in one frame. Keypoints are in user order (``skeleton.KEYPOINT_NAMES``).

    Attributes:
        side: ``"left"`` or ``"right"``: the person's own hand, as seen in the raw frame.
        score: confidence 0-1 that this is a hand with well-located keypoints.
        bbox: ``(x0, y0, x1, y1)`` in frame pixels, around the hand's region / keypoints.
        keypoints_2d: ``[21, 2]`` float32, frame pixels ``(x, y)``.
        keypoint_scores: ``[21]`` float32, 0-1 per keypoint.
        keypoints_3d: ``[21, 3]`` float32, metres, relative to the wrist, camera axes
            (x right, y down, z forward).
        track_id: identity stable across frames in video mode (new ids in image mode).
        crop_box: ``(x0, y0, x1, y1)`` frame pixels of the square window PoseNet saw.
    """

    side: str
    score: float
    bbox: tuple[float, float, float, float]
    keypoints_2d: np.ndarray
    keypoint_scores: np.ndarray
    keypoints_3d: np.ndarray
    track_id: int = -1
    crop_box: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0))

    def rescaled(self, sx: float, sy: float) -> "Hand":
        """The same hand with its pixel coordinates (keypoints, bbox, crop box) scaled by
        ``sx``, ``sy``: from a resized copy of a frame back to the frame. 3D is unchanged."""
        x0, y0, x1, y1 = self.bbox
        c0, d0, c1, d1 = self.crop_box
        return dataclasses.replace(
            self, bbox=(x0 * sx, y0 * sy, x1 * sx, y1 * sy),
            keypoints_2d=(np.asarray(self.keypoints_2d, np.float32) * np.float32([sx, sy])).astype(np.float32),
            crop_box=(c0 * sx, d0 * sy, c1 * sx, d1 * sy))

    def to_dict(self) -> dict:
        """JSON-ready dict (lists of floats), the per-hand record of a session file."""
        return {
            "track_id": int(self.track_id),
            "side": self.side,
            "score": round(float(self.score), 4),
            "bbox": [round(float(v), 2) for v in self.bbox],
            "crop_box": [round(float(v), 2) for v in self.crop_box],
            "keypoints_2d": np.round(self.keypoints_2d.astype(float), 2).tolist(),
            "keypoint_scores": np.round(self.keypoint_scores.astype(float), 4).tolist(),
            "keypoints_3d": np.round(self.keypoints_3d.astype(float), 5).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Hand":
        return cls(
            side=d["side"],
            score=float(d["score"]),
            bbox=tuple(float(v) for v in d["bbox"]),
            keypoints_2d=np.asarray(d["keypoints_2d"], np.float32).reshape(len(KEYPOINT_NAMES), 2),
            keypoint_scores=np.asarray(d["keypoint_scores"], np.float32).reshape(len(KEYPOINT_NAMES)),
            keypoints_3d=np.asarray(d["keypoints_3d"], np.float32).reshape(len(KEYPOINT_NAMES), 3),
            track_id=int(d.get("track_id", -1)),
            crop_box=tuple(float(v) for v in d.get("crop_box", (0.0, 0.0, 0.0, 0.0))),  # version 1: none
        )
