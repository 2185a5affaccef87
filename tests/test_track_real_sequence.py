"""scripts/track_real_sequence.py --clip: frames of an unlabelled video counted by hands reported,
and the stretches with fewer than two."""
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "track_real_sequence.py"
spec = importlib.util.spec_from_file_location("track_real_sequence", SCRIPT)
track = importlib.util.module_from_spec(spec)
spec.loader.exec_module(track)


class ScriptedEstimator:
    """Reports a scripted number of hands on each successive frame; counts resets."""

    def __init__(self, per_frame):
        self.per_frame, self.frame, self.resets = list(per_frame), 0, 0

    def reset(self):
        self.resets += 1

    def process(self, frames):
        assert len(frames) == 1 and frames[0].shape == (48, 64, 3)
        n = self.per_frame[self.frame]
        self.frame += 1
        return [[object()] * n]


def write_clip(path: Path, frames: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 10 * i, np.uint8))
    writer.release()
    return path


def test_count_hands_tallies_frames_and_the_stretches_short_of_two(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", 8)
    est = ScriptedEstimator([2, 1, 1, 2, 2, 0, 2, 1])
    r = track.count_hands(est, str(clip))
    assert est.resets == 1 and est.frame == 8
    assert r == {"frames": 8, "frames_by_hands": {0: 1, 1: 3, 2: 4},
                 "fewer_than_two": [[1, 2], [5, 5], [7, 7]]}


def test_count_hands_refuses_a_video_it_cannot_read(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(ValueError, match="no frames"):
        track.count_hands(ScriptedEstimator([]), str(bad))
