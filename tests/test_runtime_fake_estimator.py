"""A fake ``HandPoseEstimator`` with the real contract, for runtime and GUI tests (no weights).

It "detects" the hand drawn by ``placeholder_demo.py`` (a drawn test clip): frame ``k`` of a stream (counted since
``reset()``) gets the clip's true keypoints of frame ``k``, so overlays can be checked by eye.
"""
from __future__ import annotations

import threading
import time

import numpy as np

from placeholder_demo import demo_keypoints_2d
from handpose_live.hand import Hand


def fake_hand(frame_index: int, track_id: int = 0, side: str = "right") -> Hand:
    kp = demo_keypoints_2d(frame_index)
    palm_px = float(np.linalg.norm(kp[5] - kp[17])) or 1.0
    xyz = np.zeros((21, 3), np.float32)
    xyz[:, :2] = (kp - kp[0]) * (0.07 / palm_px)  # ~7 cm between index and little knuckles
    xyz[:, 2] = 0.01 * np.sin(np.arange(21))
    scores = np.linspace(0.3, 1.0, 21).astype(np.float32)
    lo, hi = kp.min(0), kp.max(0)
    c, half = (lo + hi) / 2, 0.6 * float((hi - lo).max())
    return Hand(side=side, score=0.9, bbox=(*lo.tolist(), *hi.tolist()), keypoints_2d=kp,
                keypoint_scores=scores, keypoints_3d=xyz, track_id=track_id,
                crop_box=(c[0] - half, c[1] - half, c[0] + half, c[1] + half))


class FakeEstimator:
    """``process`` returns one hand per frame (the demo clip's) after ``delay_s`` per frame;
    ``fail_after`` makes every call after that many frames raise ``RuntimeError``."""

    device = "cpu"
    model_name = "fake"
    weights_sha256 = {"fake.safetensors": "0" * 64}
    num_classes = 3
    estimates_side = True

    def __init__(self, delay_s: float = 0.0, fail_after: int | None = None, hands: bool = True):
        self.delay_s, self.fail_after, self.hands = delay_s, fail_after, hands
        self.batches: list[int] = []
        self.frames_seen = 0
        self.resets = 0
        self.last_masks: list = []
        self.thread_names: set[str] = set()
        self._stream_index = 0

    def reset(self) -> None:
        self.resets += 1
        self._stream_index = 0

    def process(self, frames, hand_sides=None):
        self.thread_names.add(threading.current_thread().name)
        if self.fail_after is not None and self.frames_seen >= self.fail_after:
            raise RuntimeError("fake model exploded")
        self.batches.append(len(frames))
        time.sleep(self.delay_s * len(frames))
        out, masks = [], []
        for frame in frames:
            assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
            hand = fake_hand(self._stream_index)
            self._stream_index += 1
            self.frames_seen += 1
            out.append([hand] if self.hands else [])
            mask = np.zeros(frame.shape[:2], np.uint8)
            x0, y0, x1, y1 = (int(v) for v in hand.bbox)
            mask[max(y0, 0):y1, max(x0, 0):x1] = 2
            masks.append(mask)
        self.last_masks = masks
        return out


def test_fake_hand_follows_the_contract():
    hand = fake_hand(10)
    assert hand.keypoints_2d.shape == (21, 2) and hand.keypoints_3d.shape == (21, 3)
    assert np.allclose(hand.keypoints_3d[0], [0, 0, 0.0])
    # the drawn hand is upright: fingertips above the wrist (image y down)
    assert hand.keypoints_2d[12, 1] < hand.keypoints_2d[0, 1]


def test_fake_estimator_counts_frames_per_stream():
    est = FakeEstimator()
    frames = [np.zeros((48, 64, 3), np.uint8)] * 3
    first = est.process(frames)
    est.reset()
    again = est.process(frames[:1])
    assert len(first) == 3 and est.batches == [3, 1]
    assert np.allclose(again[0][0].keypoints_2d, first[0][0].keypoints_2d)
    assert len(est.last_masks) == 1 and est.last_masks[0].shape == (48, 64)
