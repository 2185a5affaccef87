"""Precomputed real-hand masks with an ignore label (255), hand-free hard negatives, copy-paste:
the mask rule on synthetic person masks, the ignore label through loss, flip and letterbox, the
handfree/real_paste sources and the stages fed a hand-free sample."""
import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from conftest import SHARED_DATA
from training.data import hand_masks
from training.data.sample import IGNORE_LABEL, check_sample

HAS_REAL = (SHARED_DATA / "real_hands" / "split.json").is_file()
HAS_HANDFREE = (SHARED_DATA / "backgrounds" / "subhih_handfree").is_dir()
HAS_CACHE = hand_masks.cache_ready(hand_masks.default_cache())


def open_hand(cx=100.0, cy=100.0, s=1.0):
    """21 user-order keypoints of an upright open hand, palm ~40 px (wrist at the bottom)."""
    kp = [(0, 40)]
    for f, x in enumerate((-28, -14, 0, 14, 28)):  # thumb .. little
        base = (x * 0.8, 0 if f else 25)
        kp += [(base[0] + x * 0.1 * j, base[1] - 18 * j - (0 if f else 10)) for j in range(4)]
    return np.array([(cx + s * x, cy + s * y) for x, y in kp], np.float64)


def test_mask_rule_hand_ignore_and_background():
    kp = open_hand()
    shape = (240, 320)
    d = hand_masks.hull_distance(kp, shape)
    diag = hand_masks.keypoint_diagonal(kp)
    person = d <= 0.05 * diag  # the "hand" as the selfie model sees it
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    face = (xx - 100) ** 2 + (yy - 190) ** 2 < 25 ** 2  # skin just below the hand
    far_face = (xx - 270) ** 2 + (yy - 60) ** 2 < 30 ** 2
    person = person | face | far_face
    mask, stats = hand_masks.build_mask(person, [(kp, 2)])
    assert stats[0]["outline"] and stats[0]["seen"] == 1.0
    assert (mask[d <= 0.05 * diag] == 2).all()  # the whole hand, to its outline
    near = face & (d > hand_masks.HAND_RADIUS * diag) & (d <= hand_masks.CONTEXT_RADIUS * diag)
    assert near.sum() > 200 and (mask[near] == IGNORE_LABEL).all()  # skin next to the hand: uncertain
    assert (mask[face & (d > hand_masks.CONTEXT_RADIUS * diag)] == 0).all()
    assert (mask[far_face] == 0).all() and mask[5, 5] == 0  # a face far away is background
    assert set(np.unique(mask)) <= {0, 2, IGNORE_LABEL}
    untrusted, _ = hand_masks.build_mask(person, [(kp, 2)], trusted=False)
    assert (untrusted[far_face] == IGNORE_LABEL).all() and untrusted[5, 5] == IGNORE_LABEL
    assert (untrusted[d <= 0.05 * diag] == 2).all()


def test_a_hand_without_outline_gets_its_keypoint_core():
    kp = open_hand()
    shape = (240, 320)
    d = hand_masks.hull_distance(kp, shape)
    diag = hand_masks.keypoint_diagonal(kp)
    for person in (np.zeros(shape, bool), np.ones(shape, bool)):  # missed; in front of the body
        mask, (st,) = hand_masks.build_mask(person, [(kp, 1)])
        assert not st["outline"]
        core = hand_masks.keypoint_core(kp, shape)
        assert core.sum() > 500 and (mask[core] == 1).all()
        assert (mask[(d <= hand_masks.HAND_RADIUS * diag) & ~core] == IGNORE_LABEL).all()
        assert mask[0, 0] == (IGNORE_LABEL if person.all() and d[0, 0] <= 0.4 * diag else 0)


def test_two_hands_split_at_the_nearer_hull():
    shape = (200, 400)
    a, b = open_hand(120, 100), open_hand(280, 100)
    person = (hand_masks.hull_distance(a, shape) <= 6) | (hand_masks.hull_distance(b, shape) <= 6)
    mask, stats = hand_masks.build_mask(person, [(a, 1), (b, 2)])
    assert [s["label"] for s in stats] == [1, 2] and all(s["hand"] > 1000 for s in stats)
    assert mask[100, 120] == 1 and mask[100, 280] == 2


def test_segmentation_loss_skips_ignored_pixels():
    from training.losses import segmentation_loss

    torch.manual_seed(0)
    mask = torch.randint(0, 3, (2, 8, 8))
    mask[0, :4] = IGNORE_LABEL
    logits = torch.randn(2, 3, 8, 8, requires_grad=True)
    w = torch.ones(2)
    loss = segmentation_loss(logits, mask, w)
    # = the mean over each sample's labelled pixels, averaged over samples
    ce = torch.nn.functional.cross_entropy
    expect = (ce(logits[0, :, 4:].unsqueeze(0), mask[0, 4:].unsqueeze(0)) + ce(logits[1:], mask[1:])) / 2
    assert torch.allclose(loss, expect, atol=1e-6)
    loss.backward()
    assert logits.grad[0, :, :4].abs().max() == 0 and logits.grad[0, :, 4:].abs().max() > 0
    # an all-ignored sample neither counts nor dilutes the others
    mask2 = mask.clone()
    mask2[1] = IGNORE_LABEL
    only0 = ce(logits[0, :, 4:].unsqueeze(0), mask[0, 4:].unsqueeze(0))
    assert torch.allclose(segmentation_loss(logits, mask2, w), only0, atol=1e-6)
    # a 2-class model: hands -> 1, ignore stays ignored
    two = segmentation_loss(logits[:, :2], mask, w)
    binary = torch.where(mask == IGNORE_LABEL, mask, (mask > 0).long())
    expect2 = (ce(logits[0, :2, 4:].unsqueeze(0), binary[0, 4:].unsqueeze(0)) + ce(logits[1:, :2], binary[1:])) / 2
    assert torch.allclose(two, expect2, atol=1e-6)


def test_flip_keeps_ignore_and_swaps_sides():
    from training.data.augment import hflip

    mask = np.array([[0, 1, 2, IGNORE_LABEL]], np.uint8)
    sample = {"image_rgb": np.zeros((1, 4, 3), np.uint8), "mask": mask, "side": np.int64(0),
              "K": np.eye(3, dtype=np.float32), "has_3d_camera": np.bool_(False)}
    np.testing.assert_array_equal(hflip(sample)["mask"], [[IGNORE_LABEL, 1, 2, 0]])
    with pytest.raises(ValueError, match="mask labels"):
        hflip(dict(sample, mask=np.array([[7]], np.uint8), image_rgb=np.zeros((1, 1, 3), np.uint8)))


def test_segmentation_inputs_keep_ignore_and_pad_background():
    from training.stages import segmentation_inputs

    mask = np.zeros((2, 60, 100), np.uint8)
    mask[:, 10:30, 20:50] = IGNORE_LABEL
    mask[:, 35:50, 60:90] = 2
    images = np.full((2, 60, 100, 3), 90, np.uint8)
    for augment in (False, True):
        x, m = segmentation_inputs(images, mask, (64, 64), np.random.default_rng(0), augment=augment)
        assert set(torch.unique(m).tolist()) <= {0, 2, IGNORE_LABEL} and (m == IGNORE_LABEL).any()
    _, m = segmentation_inputs(images, mask, (64, 64), np.random.default_rng(0), augment=False)
    assert (m[:, :5] == 0).all()  # letterbox padding is background


def test_segmentation_zoom_range():
    import argparse

    from training.stages import segmentation_inputs
    from training.train import _zoom_range

    rng = np.random.default_rng(1)
    images = rng.integers(0, 255, (2, 60, 100, 3), dtype=np.uint8)
    mask = np.zeros((2, 60, 100), np.uint8)
    mask[:, 20:40, 30:70] = 1
    plain_x, plain_m = segmentation_inputs(images, mask, (64, 64), rng, augment=False)
    x, m = segmentation_inputs(images, mask, (64, 64), rng, augment=True, zoom_range=(1.0, 1.0))
    assert torch.equal(x, plain_x) and torch.equal(m, plain_m)  # zoom 1: the whole image
    _, m2 = segmentation_inputs(images, mask, (64, 64), rng, augment=True, zoom_range=(2.0, 2.0))
    assert (m2 == 1).sum() > (plain_m == 1).sum()  # zoomed in: the hand covers more of the input
    assert _zoom_range("1,1.2") == (1.0, 1.2)
    for bad in ("0.8,1.2", "1.3,1.1", "1.2"):
        with pytest.raises(argparse.ArgumentTypeError):
            _zoom_range(bad)


def test_check_sample_accepts_ignore_only():
    from training.data.handfree import empty_sample

    s = empty_sample(np.zeros((16, 16, 3), np.uint8), "test")
    s["mask"][:4] = IGNORE_LABEL
    check_sample(s)
    s["mask"][0, 0] = 7
    with pytest.raises(ValueError, match="mask labels"):
        check_sample(s)


def _hand_sample(side=1):
    from training.data.handfree import empty_sample

    s = empty_sample(np.full((128, 128, 3), 120, np.uint8), "test", weight=1.0)
    kp = open_hand(64, 64, 0.9)
    from handpose_live.skeleton import user_to_rhd

    s.update(keypoints_2d=user_to_rhd(kp).astype(np.float32), visible=np.ones(21, bool),
             keypoints_3d=user_to_rhd(np.c_[kp - 64, np.zeros(21)] / 1000).astype(np.float32),
             has_3d=np.bool_(True), side=np.int64(side))
    return s


def test_stages_accept_hand_free_samples():
    """PoseNet (with a side head) and lifting on a batch with a hand-free sample: finite losses,
    and the hand-free sample adds nothing to the maps' or the side's loss."""
    from handpose_live.model_config import preset
    from training import stages
    from training.data.handfree import empty_sample
    from training.data_mix import CONTRACT_KEYS

    torch.manual_seed(0)
    config = preset("tiny")
    config.posenet.side_head = True
    hand = _hand_sample()
    free = empty_sample(np.full((128, 128, 3), 60, np.uint8), "handfree")
    pick = lambda s: {k: s[k] for k in CONTRACT_KEYS}  # noqa: E731
    both, alone = default_collate([pick(hand), pick(free)]), default_collate([pick(hand)])
    nets = stages.build("posenet", config)
    for net in nets.values():
        net.eval()
    rng = np.random.default_rng(0)
    out_both = stages.posenet_step(nets, both, config, rng, "cpu", noise=None)
    out_alone = stages.posenet_step(nets, alone, config, rng, "cpu", noise=None)
    for key in ("loss", "loss_maps", "loss_side"):
        assert torch.isfinite(out_both[key])
        assert torch.allclose(out_both[key], out_alone[key], atol=1e-5), key
    lift = stages.build("lifting", config)
    for net in lift.values():
        net.eval()
    out = stages.lifting_step(lift, both, config, rng, "cpu", noise=None, map_noise=None)
    ref = stages.lifting_step(lift, alone, config, rng, "cpu", noise=None, map_noise=None)
    assert torch.isfinite(out["loss"]) and torch.allclose(out["loss"], ref["loss"], atol=1e-6)
    seg = stages.build("handseg", config)
    assert torch.isfinite(stages.handseg_step(seg, both, config, rng, "cpu")["loss"])


@pytest.mark.data
@pytest.mark.skipif(not (HAS_REAL and HAS_HANDFREE), reason="shared data (real_hands, backgrounds) not present")
def test_handfree_samples_leave_out_dev_scenes():
    from training.data.handfree import HandFreeCrops, handfree_files
    from training.data.real_hands import group_of, split_files
    from training.render.background import _scene_of

    train, dev = handfree_files(SHARED_DATA, "train"), handfree_files(SHARED_DATA, "dev")
    assert len(train) > 500 and dev and not set(train) & set(dev)
    dev_groups = {group_of(f) for f in split_files(SHARED_DATA)["dev"]}
    assert not {_scene_of(p) for p in train} & dev_groups
    assert {_scene_of(p) for p in dev} <= dev_groups
    data = HandFreeCrops(SHARED_DATA, "train", size=128)
    s = data[0]
    check_sample(s)
    assert s["image_rgb"].shape == (128, 128, 3) and not s["mask"].any() and s["mask_valid"]
    assert not s["mask_coarse"] and not s["visible"].any() and not s["has_3d"] and s["num_hands"] == 0
    with pytest.raises(ValueError, match="val"):
        HandFreeCrops(SHARED_DATA, "val")


@pytest.mark.data
@pytest.mark.skipif(not (HAS_REAL and HAS_HANDFREE), reason="shared data (real_hands, backgrounds) not present")
def test_mixture_takes_handfree():
    from training.data_mix import CONTRACT_KEYS, Mixture, open_dataset, parse_spec

    assert parse_spec("render:1,real_hands:1,handfree:0.3")[2] == ("handfree", None, 0.3)
    mix = Mixture([open_dataset("handfree", "train", 128)], [1.0], seed=0)
    batch = default_collate([next(iter(mix)) for _ in range(2)])
    assert set(CONTRACT_KEYS) <= set(batch) and not batch["is_pseudo_label"].any()


@pytest.mark.data
@pytest.mark.skipif(not (HAS_REAL and HAS_CACHE), reason="shared data or the hand_masks cache not present")
def test_real_hands_reads_precomputed_masks():
    from training.data.real_hands import RealHandsDataset

    data = RealHandsDataset(SHARED_DATA, "val")
    coarse = RealHandsDataset(SHARED_DATA, "val", mask_cache=False)
    assert data.mask_cache is not None and coarse.mask_cache is None
    hits, ignored = [], 0
    for i in range(0, len(data), max(1, len(data) // 40)):
        s = data[i]
        check_sample(s)
        assert not s["mask_coarse"] and coarse[i]["mask_coarse"]
        uv = np.round(s["keypoints_2d"][s["visible"]]).astype(int)
        labels = s["mask"][uv[:, 1], uv[:, 0]]
        hits.append(np.isin(labels, (int(s["side"]) + 1, IGNORE_LABEL)).mean())
        ignored += (s["mask"] == IGNORE_LABEL).any()
    assert np.mean(hits) > 0.97 and ignored > 0  # keypoints on their hand (or uncertain), never background


@pytest.mark.data
@pytest.mark.skipif(not (HAS_REAL and HAS_HANDFREE and HAS_CACHE),
                    reason="shared data or the hand_masks cache not present")
def test_real_paste_moves_keypoints_with_the_hand():
    from training.data.real_paste import RealPaste

    data = RealPaste(SHARED_DATA, "train", size=128, seed=0)
    assert len(data) > 1000
    for i in range(6):
        s = data[i]
        check_sample(s)
        assert s["source"] == "real_paste" and not s["mask_coarse"] and s["image_rgb"].shape == (128, 128, 3)
        uv = np.round(s["keypoints_2d"][s["visible"]]).astype(int)
        assert (s["mask"][uv[:, 1], uv[:, 0]] == int(s["side"]) + 1).mean() > 0.8
        assert (s["mask"] == int(s["side"]) + 1).sum() > 50
    np.testing.assert_array_equal(data[3]["image_rgb"], data[3]["image_rgb"])  # deterministic per index


def test_cli_writes_masks_for_a_tiny_data_set(tmp_path):
    """The CLI end to end on three photos (needs the selfie model already fetched, and real_hands)."""
    import json
    import shutil

    from training.pretrained.mediapipe_landmark import DEFAULT_CACHE, MEDIAPIPE_VERSION

    model = DEFAULT_CACHE / f"mediapipe-{MEDIAPIPE_VERSION}" / "selfie_segmentation.tflite"
    if not (HAS_REAL and model.is_file()):
        pytest.skip("needs real_hands and the fetched selfie_segmentation.tflite")
    rows = [json.loads(line) for line in (SHARED_DATA / "real_hands/labels_mediapipe.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["hands"]][:2] + [r for r in rows if not r["hands"]][:1]
    root = tmp_path / "data"
    (root / "real_hands").mkdir(parents=True)
    (root / "real_hands/labels_mediapipe.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "real_hands/split.json").write_text(json.dumps({"train": [r["file"] for r in rows], "val": []}))
    for r in rows:
        (root / r["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_DATA / r["file"], root / r["file"])
    hand_masks.main(["--data", str(root), "--out", str(tmp_path / "cache")])
    meta = json.loads((tmp_path / "cache" / "meta.json").read_text())
    assert meta["images"] == 3 and meta["hand_radius"] == hand_masks.HAND_RADIUS
    for r in rows:
        m = hand_masks.read_mask(tmp_path / "cache", r["file"], (r["h"], r["w"]))
        assert set(np.unique(m)) <= {0, 1, 2, IGNORE_LABEL}
        if not r["hands"]:
            assert (m == IGNORE_LABEL).all()  # no trusted background without a hand found
