"""PoseNet's hard negatives: a hand-free sample's region (its invisible keypoints) through the crop
box, flip and letterbox; the mined-negatives file and reader; the mining rule; PoseNet's loss on a
negative; the contact sheet's drawing of one."""
import json

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from handpose_live.crop import MIN_SIDE_PX, keypoint_box
from handpose_live.hand import Hand
from training.data.augment import hflip
from training.data.handfree import REGION_SIDE, empty_sample, random_region, region_keypoints
from training.data.negatives import FORMAT, MinedNegatives, read_regions
from training.data.resize import letterbox_sample
from training.data.sample import check_sample
from training.data_mix import CONTRACT_KEYS, Mixture
from training.mine_negatives import crop_box_of, is_negative, mine_photo


@pytest.mark.parametrize("box", [(100.0, 80.0, 60.0), (320.5, 240.0, 300.0), (30.0, 40.0, MIN_SIDE_PX)])
def test_region_keypoints_give_back_their_crop_box(box):
    assert np.allclose(keypoint_box(region_keypoints(box))[0], box, atol=1e-3)


def test_random_region_lies_inside_the_image():
    rng = np.random.default_rng(0)
    for h, w in ((256, 256), (480, 640), (100, 60)):
        for _ in range(50):
            cx, cy, side = random_region(h, w, rng)
            assert REGION_SIDE[0] * min(h, w) - 1e-3 <= side <= REGION_SIDE[1] * min(h, w) + 1e-3
            assert side / 2 - 1e-3 <= cx <= w - side / 2 + 1e-3 and side / 2 - 1e-3 <= cy <= h - side / 2 + 1e-3


def test_region_moves_with_flip_and_letterbox():
    image = np.zeros((120, 200, 3), np.uint8)
    box = np.float32([150, 50, 60])
    s = empty_sample(image, "handfree", region=box)
    check_sample(s)
    flipped = keypoint_box(hflip(s)["keypoints_2d"])[0]
    assert np.allclose(flipped, [199 - 150, 50, 60], atol=1e-3)
    boxed = letterbox_sample(s, 100)  # 200 px wide -> scale 0.5, 120 -> 60 px tall, padded to 100
    cx, cy, side = keypoint_box(boxed["keypoints_2d"])[0]
    assert side == pytest.approx(MIN_SIDE_PX)  # 30 px after scaling: the crop-box clamp applies, as at run time
    assert cx == pytest.approx(75.0, abs=1.0) and 0 < cy < 100


def _write_negatives(tmp_path, regions):
    (tmp_path / "photos").mkdir(exist_ok=True)
    image = np.full((90, 120, 3), 40, np.uint8)
    image[20:40, 30:60] = 200
    assert cv2.imwrite(str(tmp_path / "photos" / "a.png"), image)
    file = tmp_path / "neg.json"
    file.write_text(json.dumps({"format": FORMAT, "regions": regions}))
    return file


def test_mined_negatives_reader(tmp_path):
    file = _write_negatives(tmp_path, [
        {"file": "photos/a.png", "box": [45.0, 30.0, 60.0], "hand_free": False},
        {"file": "photos/a.png", "box": [60.0, 45.0, 80.0], "hand_free": True}])
    data = MinedNegatives(file, root=tmp_path)
    assert len(data) == 2
    a, b = data[0], data[1]
    check_sample(a)
    assert not a["visible"].any() and a["num_hands"] == 0 and a["source"] == "negatives"
    assert np.allclose(keypoint_box(a["keypoints_2d"])[0], [45, 30, 60], atol=1e-3)
    assert not a["mask_valid"] and b["mask_valid"] and not b["mask"].any()  # a real photo has hands elsewhere
    mix = Mixture([MinedNegatives(file, root=tmp_path, size=64)], [1.0], seed=0, augment=False)
    batch = default_collate([next(iter(mix)) for _ in range(2)])
    assert batch["is_negative"].all() and set(CONTRACT_KEYS) <= set(batch)


def test_mined_negatives_file_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        read_regions(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"regions": []}')
    with pytest.raises(ValueError, match="not a mined-negatives file"):
        read_regions(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("not json")
    with pytest.raises(ValueError, match="not JSON"):
        read_regions(tmp_path / "y.json")
    with pytest.raises(ValueError, match="no region"):
        MinedNegatives(_write_negatives(tmp_path, []), root=tmp_path)


def test_mining_rule():
    label = np.tile(np.float32([200, 200]), (21, 1)) + np.random.default_rng(0).normal(0, 20, (21, 2)).astype(np.float32)
    far = (50.0, 50.0, 60.0)
    assert is_negative(far, 0.3, False, [label])
    assert not is_negative(far, 0.3, True, [label])  # it matched a labelled hand
    assert not is_negative(far, 0.8, False, [label])  # confident: maybe a hand the labels missed
    assert not is_negative((180.0, 190.0, 60.0), 0.3, False, [label])  # its crop shows labelled keypoints
    assert is_negative((180.0, 190.0, 60.0), 0.3, False, [])  # a hand-free photo


class _FakeEstimator:
    """Reports two hands: one on the labelled hand, one far from it."""

    def __init__(self, label):
        self.label = label

    def process(self, frames):
        def hand(kp, conf, box):
            x0, y0, x1, y1 = box
            return Hand(side="right", score=0.5, bbox=(0, 0, 1, 1), keypoints_2d=kp.astype(np.float32),
                        keypoint_scores=np.full(21, conf, np.float32), keypoints_3d=np.zeros((21, 3), np.float32),
                        crop_box=box)
        on = hand(self.label + 1.0, 0.9, (150.0, 150.0, 250.0, 250.0))
        off = hand(np.tile(np.float32([40, 40]), (21, 1)), 0.3, (10.0, 10.0, 70.0, 70.0))
        return [[on, off]]


def test_mine_photo_keeps_the_unmatched_region():
    label = np.tile(np.float32([200, 200]), (21, 1)) + np.random.default_rng(1).normal(0, 20, (21, 2)).astype(np.float32)
    est = _FakeEstimator(label)
    mined = mine_photo(est, np.zeros((300, 300, 3), np.uint8), [label])
    assert len(mined) == 1 and mined[0]["box"] == [40.0, 40.0, 60.0]
    assert crop_box_of(est.process(None)[0][1]).tolist() == [40.0, 40.0, 60.0]
    assert len(mine_photo(est, np.zeros((300, 300, 3), np.uint8), [label], max_keypoint_confidence=0.2)) == 0


class _ConstantPoseNet(torch.nn.Module):
    """Score maps of one value everywhere (one stage) and a side logit."""

    def __init__(self, value, size):
        super().__init__()
        self.value, self.size = value, size

    def forward(self, x, side=False):
        maps = torch.full((x.shape[0], 21, self.size, self.size), float(self.value))
        return ([maps], torch.zeros(x.shape[0])) if side else [maps]


def test_posenet_learns_empty_maps_on_a_negative():
    """A flagged negative's loss is the RMS of its maps (0 for empty maps, > 0 otherwise); without
    the flag the same sample adds nothing."""
    from handpose_live.model_config import preset
    from training import stages

    config = preset("tiny")
    config.posenet.side_head = True
    neg = empty_sample(np.full((128, 128, 3), 90, np.uint8), "negatives", region=(64.0, 64.0, 60.0))
    neg = {k: neg[k] for k in CONTRACT_KEYS}
    flagged = default_collate([dict(neg, is_negative=np.bool_(True))])
    unflagged = default_collate([neg])
    rng = np.random.default_rng(0)
    size = config.posenet.input_size
    empty = stages.posenet_step({"posenet": _ConstantPoseNet(0.0, size)}, flagged, config, rng, "cpu", noise=None)
    busy = stages.posenet_step({"posenet": _ConstantPoseNet(0.3, size)}, flagged, config, rng, "cpu", noise=None)
    ignored = stages.posenet_step({"posenet": _ConstantPoseNet(0.3, size)}, unflagged, config, rng, "cpu", noise=None)
    assert float(empty["loss_maps"]) < 1e-5
    assert float(busy["loss_maps"]) == pytest.approx(0.3, rel=1e-4)
    assert float(ignored["loss_maps"]) == 0.0 and float(busy["loss_side"]) == 0.0


def test_contact_sheet_draws_a_negative_region():
    from training.contact_sheet import draw_sample

    s = empty_sample(np.zeros((128, 128, 3), np.uint8), "negatives", region=(64.0, 64.0, 60.0))
    tile = draw_sample(s)
    magenta = (tile[..., 0] > 200) & (tile[..., 1] < 50) & (tile[..., 2] > 200)
    ys, xs = np.nonzero(magenta)
    assert magenta.any() and abs(xs.min() - 34) <= 2 and abs(xs.max() - 94) <= 2
    plain = draw_sample(empty_sample(np.zeros((128, 128, 3), np.uint8), "handfree"))
    assert not ((plain[..., 0] > 200) & (plain[..., 1] < 50) & (plain[..., 2] > 200)).any()


def test_training_with_a_missing_negatives_file_says_so(tmp_path, capsys):
    from training.train import main

    rc = main(["--stage", "posenet", "--preset", "tiny", "--data", f"negatives={tmp_path / 'none.json'}",
               "--iters", "1", "--workers", "0", "--out", str(tmp_path / "run")])
    assert rc == 2
    assert "none.json not found" in capsys.readouterr().err


def test_mining_rejects_a_mask_threshold_outside_0_1(tmp_path, capsys):
    from training.mine_negatives import main

    rc = main(["--model", "default", "--out", str(tmp_path / "n.json"), "--mask-threshold", "1.5",
               "--root", str(tmp_path)])
    assert rc == 2 and "--mask-threshold must be between 0 and 1" in capsys.readouterr().err
    assert not (tmp_path / "n.json").exists()
