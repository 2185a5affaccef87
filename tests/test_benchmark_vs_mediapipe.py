"""scripts/benchmark_vs_mediapipe.py without MediaPipe: frame preparation, photo candidates and
the summary statistics."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark_vs_mediapipe.py"
spec = importlib.util.spec_from_file_location("benchmark_vs_mediapipe", SCRIPT)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_letterbox_keeps_aspect_and_centres():
    square = np.full((100, 100, 3), 200, np.uint8)
    out = bench.letterbox(square)
    assert out.shape == (480, 640, 3) and out.dtype == np.uint8
    # 100x100 -> 480x480 in the middle, black bars of 80 px left and right
    assert (out[:, 80:560] == 200).all()
    assert (out[:, :80] == 0).all() and (out[:, 560:] == 0).all()
    # a 4:3 photo (subhih frames are 512x384) fills the frame with no bar
    photo = np.full((384, 512, 3), 7, np.uint8)
    assert (bench.letterbox(photo) == 7).all()


def test_shifted_sequence_moves_content_on_a_closed_circle():
    offsets = bench.shift_offsets(8, 6.0)
    assert len(offsets) == 8
    assert np.allclose([np.hypot(dx, dy) for dx, dy in offsets], 6.0)
    assert offsets[0] == pytest.approx((6.0, 0.0))  # loops back next to where it started
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[240, 320] = 255
    seq = bench.shifted_sequence(frame, 4, 6.0)
    assert len(seq) == 4 and all(f.shape == frame.shape for f in seq)
    # offsets (6, 0), (0, 6), (-6, 0), (0, -6): the bright pixel follows them
    for f, (y, x) in zip(seq, [(240, 326), (246, 320), (240, 314), (234, 320)]):
        assert tuple(np.unravel_index(f[..., 0].argmax(), f.shape[:2])) == (y, x)


def test_one_hand_candidates_reads_val_subhih_single_hands(tmp_path):
    root = tmp_path / "real_hands"
    root.mkdir()
    val = ["real_hands/subhih/a.jpg", "real_hands/subhih/b.jpg", "real_hands/subhih/c.jpg",
           "real_hands/subhih/d.jpg", "real_hands/sld/0/e.jpg"]
    (root / "split.json").write_text(json.dumps({"rule": "", "train": ["real_hands/subhih/t.jpg"], "val": val}))
    hand = {"score": 0.95}
    labels = [
        {"file": "real_hands/subhih/b.jpg", "hands": [hand]},  # kept
        {"file": "real_hands/subhih/a.jpg", "hands": [hand]},  # kept (sorted first)
        {"file": "real_hands/subhih/c.jpg", "hands": [hand, hand]},  # two hands
        {"file": "real_hands/subhih/d.jpg", "hands": [{"score": 0.5}]},  # unsure label
        {"file": "real_hands/sld/0/e.jpg", "hands": [hand]},  # not subhih
        {"file": "real_hands/subhih/t.jpg", "hands": [hand]},  # train split
    ]
    (root / "labels_mediapipe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labels))
    assert bench.one_hand_candidates(tmp_path) == ["real_hands/subhih/a.jpg", "real_hands/subhih/b.jpg"]


def test_summary_ratio_and_table():
    ours = bench.summarize([10.0, 30.0, 20.0, 40.0])
    assert ours == {"n": 4, "median_ms": 25.0, "mean_ms": 25.0}
    theirs = bench.summarize([5.0, 5.0, 20.0])
    assert theirs["median_ms"] == 5.0 and theirs["mean_ms"] == 10.0
    assert bench.ratio(ours, theirs) == {"median": 5.0, "mean": 2.5}
    with pytest.raises(ValueError):
        bench.summarize([])
    hist = bench.count_hist([1, 1, 2, 0, 1])
    assert hist == {"0": 1, "1": 3, "2": 1} and list(hist) == ["0", "1", "2"]
    assert bench.format_counts({"1": 3, "2": 1}) == "1 hand x3, 2 hands x1"
    table = bench.summary_table({"tracking": {"ours": ours, "mediapipe": theirs, "ratio": bench.ratio(ours, theirs),
                                              "ours_cpu": ours, "mediapipe_cpu": theirs}})
    row = table.splitlines()[2]
    assert row == "| tracking | 25.0 | 25.0 | 5.0 | 10.0 | 5.00 | 2.50 | 25.0 | 5.0 |"
