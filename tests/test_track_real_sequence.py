"""scripts/track_real_sequence.py: with --clip, frames of an unlabelled video counted by hands
reported, and the stretches with fewer than two; with --group, a sequence's labelled frames from
any split, dev (carved out of train) included."""
import importlib.util
import json
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


def _real_hands_root(tmp_path: Path) -> Path:
    """A real_hands folder of 12 subhih train sequences and one val sequence, 3 frames each."""
    folder = tmp_path / "real_hands"
    folder.mkdir()
    hand = {"score": 0.95, "handedness_mirrored": "Left", "kp": [[1.0, 2.0, 0.0]] * 21}
    train = [f"real_hands/subhih/{g}_pic{i:05d}.jpg" for g in range(1, 13) for i in (3, 1, 2)]
    val = [f"real_hands/subhih/90_pic{i:05d}.jpg" for i in (2, 1)]
    (folder / "split.json").write_text(json.dumps({"train": train, "val": val}))
    (folder / "labels_mediapipe.jsonl").write_text(
        "".join(json.dumps({"file": f, "hands": [hand]}) + "\n" for f in train + val))
    return tmp_path


def test_sequence_records_reads_the_carved_dev_split(tmp_path):
    from training.data.real_hands import split_files

    root = _real_hands_root(tmp_path)
    dev = split_files(root)["dev"]
    dev_groups = sorted({f.split("/")[-1].split("pic")[0] for f in dev})
    assert dev_groups, "the fixture should carve at least one dev sequence"
    group = dev_groups[0]
    recs = track.sequence_records(root, "dev", group)
    assert [r["file"] for r in recs] == sorted(f for f in dev if f.split("/")[-1].startswith(f"{group}pic"))
    assert len(recs) == 3
    assert track.sequence_records(root, "train", group) == []  # dev's sequences are out of train
    assert [r["file"] for r in track.sequence_records(root, "val", "90_")] == [
        "real_hands/subhih/90_pic00001.jpg", "real_hands/subhih/90_pic00002.jpg"]


def test_sequence_records_refuses_a_folder_without_real_hands(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        track.sequence_records(tmp_path, "dev", "3_")
