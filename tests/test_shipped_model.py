"""The shipped default model: it loads with no argument and finds the hands of the demo clip."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from handpose_live.pipeline import HandPoseEstimator

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo" / "demo.mp4"
pytestmark = pytest.mark.skipif(not (ROOT / "assets" / "models" / "default" / "config.json").exists(),
                                reason="no shipped model")


def demo_frames(indices):
    cap = cv2.VideoCapture(str(DEMO))
    frames, i = [], 0
    while len(frames) < len(indices):
        ok, frame = cap.read()
        assert ok, f"demo clip ended before frame {max(indices)}"
        if i in indices:
            frames.append(frame)
        i += 1
    cap.release()
    return frames


def test_default_model_finds_the_demo_clips_hands_and_their_sides():
    """The demo clip (``training/render/demo_clip.py``) holds a right hand on the image's left
    and a left hand on its right. The shipped weights must find both in most frames, with
    skeletons inside the frame and the sides mostly right (chance would be half)."""
    est = HandPoseEstimator.from_pretrained(device="cpu")
    assert est.config.posenet.side_head and est.estimates_side
    found = sides_right = 0
    frames = demo_frames([0, 60, 120, 180])
    for frame in frames:
        hands = [x for x in est.process([frame])[0] if x.score > 0.3][:2]
        h, w = frame.shape[:2]
        for hand in hands:
            assert np.isfinite(hand.keypoints_3d).all()
            x0, y0, x1, y1 = hand.bbox
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            expected = "right" if (x0 + x1) / 2 < w / 2 else "left"
            sides_right += hand.side == expected
        found += len(hands)
    assert found >= 7, f"found {found} of the {2 * len(frames)} hands"
    assert sides_right >= 6, f"{sides_right} of {found} sides right"
