"""The real photos with MediaPipe pseudo-labels: filtering, handedness, coarse masks, the fixed split."""
import json

import numpy as np
import pytest

from training.data.paths import data_root
from training.data.sample import check_sample

ROOT = data_root()
pytestmark = [pytest.mark.data, pytest.mark.skipif(not (ROOT / "real_hands" / "split.json").is_file(),
                                                   reason="shared data (real_hands) not present")]


def test_split_is_disjoint_and_records_are_filtered():
    from training.data.real_hands import load_records

    split = json.loads((ROOT / "real_hands" / "split.json").read_text())
    assert not set(split["train"]) & set(split["val"])
    val = load_records(ROOT, "val")
    assert 300 < len(val) <= 435
    assert all(h["score"] >= 0.8 for r in val for h in r["hands"])
    train = load_records(ROOT, "train")
    assert not any("/sld/" in r["file"] and len(r["hands"]) > 1 for r in train)


def test_samples_swap_handedness_and_mask_holds_keypoints():
    from training.data.real_hands import RealHandsDataset

    data = RealHandsDataset(ROOT, "val", mask_cache=False)  # coarse masks; precomputed: test_hand_masks.py
    for i in range(0, len(data), max(1, len(data) // 12)):
        s = data[i]
        check_sample(s)
        assert s["mask_coarse"] and not s["has_3d_camera"] and s["weight"] < 1
        rec, _ = data.items[i]
        largest = max(rec["hands"], key=lambda h: np.prod(np.ptp(np.asarray(h["kp"])[:, :2], axis=0)))
        assert int(s["side"]) == (1 if largest["handedness_mirrored"] == "Left" else 0)
        uv = np.round(s["keypoints_2d"][s["visible"]]).astype(int)
        assert (s["mask"][uv[:, 1], uv[:, 0]] == int(s["side"]) + 1).mean() > 0.95


def test_letterboxed_samples_collate():
    from torch.utils.data import default_collate

    from training.data.real_hands import RealHandsDataset

    data = RealHandsDataset(ROOT, "val", size=128)
    batch = default_collate([data[0], data[len(data) - 1]])
    assert tuple(batch["image_rgb"].shape) == (2, 128, 128, 3)


def test_real_curled_holds_only_train_hands_with_curled_fingers():
    from training.data.readers import open_reader
    from training.data.real_hands import CURLED_BELOW, RealHandsDataset, finger_straightness

    curled = open_reader("real_curled", None, split="train", image_size=128)
    every = RealHandsDataset(ROOT, "train", every_hand=True)
    values = [finger_straightness(r["hands"][k]["world_m"]) for r, k in every.items]
    expected = {(r["file"], k) for (r, k), v in zip(every.items, values) if v < CURLED_BELOW}
    assert {(r["file"], k) for r, k in curled.items} == expected
    assert 0.1 < len(expected) / len(every.items) < 0.6  # a minority, but hundreds of hands
    check_sample(curled[0])
    with pytest.raises(ValueError, match="train only"):
        open_reader("real_curled", None, split="val")
