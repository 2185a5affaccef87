import math

import numpy as np
import pytest
import torch

from training import metrics as M
from training.losses import keypoint_map_loss, lifting_loss, segmentation_loss, side_loss


def test_epe_and_pck_by_hand():
    pred = np.array([[[0, 0], [3, 4], [10, 0]]], float)
    gt = np.zeros((1, 3, 2))
    err = M.end_point_errors(pred, gt)
    assert err.tolist() == [[0, 5, 10]]
    vis = np.array([[True, True, False]])
    curve = M.pck_curve(err, vis, np.array([0, 5, 7]))
    assert curve.tolist() == [0.5, 1.0, 1.0]  # per keypoint then averaged: kp0 [1,1,1], kp1 [0,1,1]
    assert M.epe_stats(err, vis) == {"mean": 2.5, "median": 2.5, "count": 2}


def test_auc_is_normalised_area():
    t = np.array([0.0, 10.0])
    assert M.auc(np.array([0.0, 1.0]), t) == pytest.approx(0.5)
    assert M.auc(np.array([1.0, 1.0]), np.linspace(20, 50, 4)) == pytest.approx(1.0)


def test_pa_mpjpe_removes_similarity_transform():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(1, 21, 3))
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    pred = 2.5 * gt @ rot.T + np.array([1.0, -2.0, 3.0])
    assert M.pa_mpjpe(pred, gt)[0] == pytest.approx(0, abs=1e-9)
    noisy = gt + np.array([0.1, 0, 0])  # a pure translation is also removed
    assert M.pa_mpjpe(noisy, gt)[0] == pytest.approx(0, abs=1e-9)


def test_segmentation_loss_by_hand():
    logits = torch.zeros(1, 2, 1, 2)
    logits[0, 1, 0, 0] = 1.0
    mask = torch.tensor([[[1, 0]]])
    expected = (np.log(1 + np.exp(-1.0)) + np.log(2)) / 2
    assert segmentation_loss(logits, mask, torch.ones(1)).item() == pytest.approx(expected, rel=1e-5)
    # a 3-class label 2 (right hand) is 'hand' for a 2-class model
    assert segmentation_loss(logits, mask * 2, torch.ones(1)).item() == pytest.approx(expected, rel=1e-5)
    assert segmentation_loss(logits, mask, torch.zeros(1)).item() == 0.0


def test_keypoint_map_loss_is_rms_over_visible_keypoints_summed_over_stages():
    target = torch.zeros(1, 21, 4, 4)
    pred = torch.zeros(1, 21, 4, 4)
    pred[0, 0] = 0.5  # kp 0 off by 0.5 everywhere: RMS 0.5
    pred[0, 1] = 3.0  # kp 1 invisible: ignored
    vis = torch.zeros(1, 21, dtype=torch.bool)
    vis[0, 0] = vis[0, 2] = True
    one = keypoint_map_loss([pred], target, vis, torch.ones(1)).item()
    assert one == pytest.approx(0.25, abs=1e-5)  # (0.5 + 0) / 2 visible
    assert keypoint_map_loss([pred, pred, pred], target, vis, torch.ones(1)).item() == pytest.approx(0.75, abs=1e-5)


def test_lifting_loss_is_two_mses():
    c = torch.zeros(2, 21, 3)
    r = torch.eye(3).expand(2, 3, 3)
    c_gt = torch.ones(2, 21, 3)
    lc, lr = lifting_loss(c, r, c_gt, r.clone(), torch.ones(2))
    assert lc.item() == pytest.approx(1.0) and lr.item() == pytest.approx(0.0)


def test_side_loss_by_hand():
    logit = torch.tensor([2.0, -1.0, 0.0])
    side = torch.tensor([1, 1, 0])
    weight = torch.tensor([1.0, 3.0, 0.0])
    by_hand = (1 * math.log(1 + math.exp(-2.0)) + 3 * math.log(1 + math.exp(1.0))) / 4
    assert side_loss(logit, side, weight).item() == pytest.approx(by_hand, rel=1e-5)


def test_augment_flips_sides_with_the_pixels_and_keeps_labels():
    from training.data.augment import augment, photometric

    rng = np.random.default_rng(0)
    image = np.zeros((20, 30, 3), np.uint8)
    image[5:10, 2:8] = (200, 120, 90)
    mask = np.zeros((20, 30), np.uint8)
    mask[5:10, 2:8] = 2  # a right hand on the left of the image
    kp = np.full((21, 2), [4.0, 7.0], np.float32)
    sample = {"image_rgb": image, "mask": mask, "side": np.int64(1), "keypoints_2d": kp,
              "keypoints_3d": np.ones((21, 3), np.float32), "K": np.eye(3, dtype=np.float32),
              "has_3d_camera": np.bool_(False)}
    sides = set()
    for _ in range(20):
        out = augment(sample, rng)
        flipped = int(out["side"]) == 0
        sides.add(flipped)
        x = out["keypoints_2d"][0, 0]
        assert x == (25.0 if flipped else 4.0)
        assert out["mask"][7, int(x)] == (1 if flipped else 2)  # the label moved with the hand
        assert out["image_rgb"].shape == image.shape
    assert sides == {True, False}
    assert not np.array_equal(photometric(image, rng), image)


def test_evaluation_counts_a_hand_found_elsewhere_as_a_miss():
    from handpose_live.hand import Hand
    from handpose_live.skeleton import rhd_to_user
    from training.evaluate import _match

    gt = np.array([[100.0 + i, 100.0 + i] for i in range(21)], np.float32)  # RHD order
    def hand(offset, window):
        return Hand(side="left", score=1.0, bbox=(0, 0, 1, 1), keypoints_2d=rhd_to_user(gt + offset),
                    keypoint_scores=np.ones(21, np.float32), keypoints_3d=np.zeros((21, 3), np.float32),
                    crop_box=window)
    far = hand(300.0, (350, 350, 450, 450))
    near = hand(2.0, (60, 60, 160, 160))
    assert _match([far], gt) is None
    assert _match([far, near], gt) is near


def test_summary_counts_misses_in_pck_but_not_in_epe():
    from training.evaluate import MISSED, summarise

    gt = np.zeros((2, 21, 2), np.float32)
    gt[:, :, 0] = np.arange(21) * 5.0  # a 100 px wide hand
    found2d = gt.copy()
    found2d[0] += [3.0, 4.0]  # sample 0 found, 5 px off everywhere
    found2d[1] = MISSED  # sample 1 missed
    r = {"gt2d": gt, "vis": np.ones((2, 21), bool), "gt3d": np.zeros((2, 21, 3)), "has3d": np.zeros(2, bool),
         "side": np.array(["left", "left"]), "diag": np.array([100.0, 100.0]),
         "crop2d": gt + [3.0, 4.0], "crop3d": np.zeros((2, 21, 3)), "full2d": found2d,
         "full3d": np.zeros((2, 21, 3)), "found": np.array([True, False]), "side_ok": np.array([True, False])}
    s = summarise(r)
    assert s["full"]["epe_2d_px"]["median"] == pytest.approx(5.0) and s["full"]["epe_2d_px"]["count"] == 21
    assert s["full"]["median_2d_over_bbox_diag"] == pytest.approx(0.05)
    assert s["full"]["pck_2d"][-1] == pytest.approx(0.5)  # the missed hand never counts as within 30 px
    assert s["gt_crop"]["pck_2d"][-1] == pytest.approx(1.0)
    assert s["full"]["hand_found_rate"] == 0.5 and s["full"]["side_accuracy_of_found"] == 1.0


def test_balanced_side_accuracy_is_not_fooled_by_always_right():
    from training.evaluate import _balanced

    sides = np.array(["right"] * 9 + ["left"])
    always_right = sides == "right"  # 90 % plain accuracy
    assert _balanced(always_right, sides) == pytest.approx(0.5)
    assert _balanced(np.ones(10, bool), sides) == pytest.approx(1.0)
    assert _balanced(np.ones(3, bool), np.array(["right"] * 3)) is None  # one side only: undefined


def test_rotation_error_is_the_angle_between_two_views_of_one_hand():
    import torch

    from handpose_live.canonical import rodrigues

    rng = np.random.default_rng(0)
    hand = rng.normal(size=(1, 21, 3))
    turned = hand @ rodrigues(torch.tensor([[0.0, 0.0, np.radians(30.0)]], dtype=torch.float64))[0].numpy()
    scaled = hand * 2.5 + 1.0  # shape kept: scale and position do not count
    errors = M.rotation_errors_deg(np.concatenate([turned, scaled]), np.concatenate([hand, hand]),
                                   np.array([True, False]))
    assert errors[0] == pytest.approx(30.0, abs=1e-6) and errors[1] == pytest.approx(0.0, abs=1e-6)


def test_lighting_changes_exposure_and_adds_a_ramp_but_keeps_the_frame():
    from training.data.augment import lighting

    image = np.full((40, 60, 3), 128, np.uint8)
    means, spreads = [], []
    for seed in range(40):
        out = lighting(image, np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == np.uint8
        grey = out.astype(np.float32).mean(2)
        means.append(grey.mean())
        corners = [grey[0, 0], grey[0, -1], grey[-1, 0], grey[-1, -1]]
        spreads.append(max(corners) - min(corners))
    means = np.array(means)
    assert means.min() < 110 and means.max() > 150  # both under- and over-exposed frames
    assert np.median(spreads) > 10  # a brightness ramp across the frame, not a uniform shift


def test_relight_hands_changes_only_the_hand_both_ways():
    from training.data.augment import relight_hands

    image = np.full((60, 80, 3), (60, 140, 200), np.uint8)
    image[20:40, 30:50] = (190, 130, 100)  # a skin-coloured hand
    mask = np.zeros((60, 80), np.uint8)
    mask[20:40, 30:50] = 2
    brighter = darker = 0
    for seed in range(30):
        out = relight_hands(image, mask, np.random.default_rng(seed))
        assert out.shape == image.shape and out.dtype == np.uint8
        assert np.abs(out[:8, :8].astype(int) - image[:8, :8]).max() <= 1  # the scene far away stays
        change = out[25:35, 35:45].astype(float).mean() - image[25:35, 35:45].astype(float).mean()
        brighter += change > 5
        darker += change < -5
    assert brighter > 0 and darker > 0  # washed-out and backlit hands both occur
    untouched = relight_hands(image, np.zeros_like(mask), np.random.default_rng(0))
    assert np.array_equal(untouched, image)  # no hand in the mask: nothing relit
