import math

import numpy as np
import pytest
import torch

from handpose_live import crop
from handpose_live.canonical import (from_canonical, rodrigues, rotation_from_6d, rotation_to_6d,
                                    rotation_to_axis_angle, side_flip, to_canonical)
from handpose_live.detection import find_regions
from handpose_live.heatmaps import decode, encode
from handpose_live.preprocess import letterbox, unletterbox_mask


def random_hands(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 21, 3, generator=g) * 0.05 + torch.tensor([0.0, 0.0, 0.5])


def test_canonical_then_inverse_is_identity():
    xyz = random_hands()
    is_right = torch.arange(16) % 2 == 1
    canonical, rot, scale = to_canonical(xyz, is_right)
    back = from_canonical(canonical, rot, is_right, scale)
    assert torch.allclose(back, xyz - xyz[:, :1], atol=1e-5)


def test_canonical_frame_axes():
    canonical, rot, _ = to_canonical(random_hands(), torch.zeros(16, dtype=torch.bool))
    kp12 = canonical[:, 12]
    assert torch.allclose(kp12[:, [0, 2]], torch.zeros(16, 2), atol=1e-5)  # on the y axis
    assert (kp12[:, 1] < 0).all()  # the +pi of the paper: the negative y axis
    assert torch.allclose((canonical[:, 12] - canonical[:, 11]).norm(dim=-1), torch.ones(16), atol=1e-5)
    assert torch.allclose(canonical[:, 20, 2], torch.zeros(16), atol=1e-5)  # kp 20 at z = 0
    assert torch.allclose(canonical[:, 0], torch.zeros(16, 3), atol=1e-6)  # rooted at the wrist
    assert torch.allclose(torch.det(rot), torch.ones(16), atol=1e-5)


def test_right_hand_is_the_mirror_of_the_left():
    xyz = random_hands(4)
    mirrored = xyz * torch.tensor([-1.0, 1.0, 1.0])  # a right hand is a mirrored left hand
    c_left, _, _ = to_canonical(xyz, torch.zeros(4, dtype=torch.bool))
    c_right, _, _ = to_canonical(mirrored, torch.ones(4, dtype=torch.bool))
    assert torch.allclose(c_left, c_right, atol=1e-5)
    assert side_flip(torch.tensor([False, True]))[:, 0, 2].tolist() == [1.0, -1.0]


def palm_on_left_hand():
    """A left hand held up, palm to the camera (camera axes: x right, y down, z forward), RHD
    order: thumb on the viewer's right (+x), little finger on the left, the thumb tip curled
    towards the camera (smaller z)."""
    xyz = torch.zeros(21, 3)
    xyz[0] = torch.tensor([0.0, 0.08, 0.50])  # wrist
    for finger, x in zip(range(4), (0.03, 0.01, -0.01, -0.03)):  # index, middle, ring, little
        for j in range(4):  # RHD: tip (j=0) ... base (j=3)
            xyz[5 + 4 * finger + j] = torch.tensor([x, -0.025 * (3 - j), 0.50])
    for j in range(4):  # thumb: base out to the right, tip towards the camera
        xyz[1 + j] = torch.tensor([0.045 + 0.005 * (3 - j), 0.04 - 0.012 * (3 - j), 0.50 - 0.012 * (3 - j)])
    return xyz[None]


def test_thumb_sits_on_one_canonical_side_for_both_hands():
    """Chirality: the same pose as a left hand and as its mirror image, a right hand, gives one
    canonical hand whose thumb tip is on the +z side (the palm's side) for both."""
    left = palm_on_left_hand()
    right = left * torch.tensor([-1.0, 1.0, 1.0])
    c_left, _, _ = to_canonical(left, torch.tensor([False]))
    c_right, _, _ = to_canonical(right, torch.tensor([True]))
    thumb_tip = 1
    assert c_left[0, thumb_tip, 2] > 0.3 and c_right[0, thumb_tip, 2] > 0.3
    assert torch.allclose(c_left, c_right, atol=1e-5)
    # without the flip the right hand's thumb would land on the other side
    c_unflipped, _, _ = to_canonical(right, torch.tensor([False]))
    assert c_unflipped[0, thumb_tip, 2] < -0.3


def test_6d_rotation_round_trip():
    r = rodrigues(torch.tensor([[0.3, -0.2, 0.1], [0.0, 0.0, math.pi / 2], [1.0, 2.0, -0.5]]))
    assert torch.allclose(rotation_from_6d(rotation_to_6d(r)), r, atol=1e-6)
    # any non-degenerate 6 numbers give a proper rotation
    g = torch.Generator().manual_seed(0)
    m = rotation_from_6d(torch.randn(8, 6, generator=g) * 3)
    assert torch.allclose(m @ m.transpose(1, 2), torch.eye(3).expand(8, 3, 3), atol=1e-5)
    assert torch.allclose(torch.det(m), torch.ones(8), atol=1e-5)


def test_rodrigues_is_a_rotation_per_sample():
    u = torch.tensor([[0.0, 0.0, 0.0], [0.3, -0.2, 0.1], [0.0, 0.0, math.pi / 2], [1.0, 2.0, -0.5]])
    r = rodrigues(u)
    assert torch.allclose(r @ r.transpose(1, 2), torch.eye(3).expand(4, 3, 3), atol=1e-5)
    assert torch.allclose(torch.det(r), torch.ones(4), atol=1e-5)
    assert torch.allclose(r[0], torch.eye(3), atol=1e-4)
    quarter = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert torch.allclose(r[2], quarter, atol=1e-5)
    # per sample: the batch does not change a sample's rotation
    assert torch.allclose(rodrigues(u[1:2])[0], r[1], atol=1e-6)
    assert torch.allclose(rotation_to_axis_angle(r[1:3]), u[1:3], atol=1e-4)


def test_crop_round_trip_and_sampling():
    image = torch.zeros(3, 90, 120)
    image[:, 30, 70] = 1.0
    boxes = torch.tensor([[70.0, 30.0, 40.0], [60.0, 40.0, 80.0]])
    crops = crop.crop_and_resize(image, boxes, 40)
    point = torch.tensor([[[70.0, 30.0]]]).expand(2, 1, 2)
    in_crop = crop.frame_to_crop(point, boxes, 40)
    for i in range(2):
        peak = (crops[i, 0] == crops[i, 0].max()).nonzero()[0].flip(0).float()
        assert torch.allclose(peak, in_crop[i, 0], atol=0.51)
    assert torch.allclose(crop.crop_to_frame(in_crop, boxes, 40), point, atol=1e-4)


def test_crop_outside_the_image_is_padded_grey():
    image = torch.full((3, 20, 20), 0.4)
    out = crop.crop_and_resize(image, torch.tensor([[0.0, 0.0, 40.0]]), 16)
    assert out[0, :, 0, 0].abs().max() == 0  # outside: zero = mid-grey after normalisation
    assert torch.allclose(out[0, :, -1, -1], torch.full((3,), 0.4))


def test_box_from_bbox_follows_the_paper():
    boxes = crop.box_from_bbox(np.array([[10, 20, 50, 100], [0, 0, 2, 2], [0, 0, 5000, 10]]))
    assert boxes[0].tolist() == pytest.approx([30, 60, 100])  # longer side 80 x 1.25
    assert boxes[1, 2] == pytest.approx(256 / 5)  # scale clamp 5
    assert boxes[2, 2] == pytest.approx(256 / 0.25)  # scale clamp 0.25


@pytest.mark.parametrize("crop_size", [256, 128])
def test_score_map_codec_round_trip(crop_size):
    g = torch.Generator().manual_seed(1)
    kp = torch.rand(3, 21, 2, generator=g) * (crop_size - 20) + 10
    maps = encode(kp, torch.ones(3, 21, dtype=torch.bool), crop_size, crop_size // 8)
    decoded, conf = decode(maps, crop_size)
    assert (decoded - kp).abs().max() < 0.05 * crop_size / 256 + 1e-3  # sub-pixel
    assert conf.min() > 0.95
    invisible = encode(kp, torch.zeros(3, 21, dtype=torch.bool), crop_size, crop_size // 8)
    assert invisible.abs().max() == 0 and decode(invisible, crop_size)[1].max() == 0


def test_score_map_target_width_matches_the_paper():
    maps = encode(torch.tensor([[[128.0, 128.0]]]), torch.ones(1, 1, dtype=torch.bool), 256, 256)
    assert maps[0, 0, 128, 128 + 25].item() == pytest.approx(math.exp(-1), rel=1e-4)


def test_regions_bridge_small_gaps_and_vote_on_side():
    probs = np.zeros((3, 60, 80), np.float32)
    probs[0] = 1
    for sl, cls in [((slice(10, 20), slice(10, 20)), 1), ((slice(10, 20), slice(26, 30)), 1),
                    ((slice(40, 50), slice(50, 70)), 2)]:
        probs[0][sl], probs[cls][sl] = 0.05, 0.95
    probs[1, 45, 60], probs[2, 45, 60] = 0.9, 0.05  # one stray left pixel inside the right hand
    regions, mask = find_regions(probs, bridge_px=5, min_area=5)
    assert [r.side for r in regions] == ["left", "right"] or [r.side for r in regions] == ["right", "left"]
    left = next(r for r in regions if r.side == "left")
    assert left.bbox.tolist() == [10, 10, 30, 20]  # the 6 px gap is bridged: one region
    assert left.area == 140
    no_bridge, _ = find_regions(probs, bridge_px=0, min_area=5)
    assert len(no_bridge) == 2 and sum(r.area for r in no_bridge) < 300  # max_hands = 2 keeps two
    assert set(np.unique(mask)) == {0, 1, 2}


def test_regions_leave_excluded_boxes_out_but_the_mask_keeps_them():
    probs = np.zeros((3, 60, 80), np.float32)
    probs[0] = 1
    probs[0, 10:30, 10:30], probs[2, 10:30, 10:30] = 0.05, 0.95  # a right hand...
    probs[0, 12:28, 30:45], probs[1, 12:28, 30:45] = 0.05, 0.95  # ...touching a left one
    merged, _ = find_regions(probs, bridge_px=3, min_area=5)
    assert len(merged) == 1 and merged[0].bbox.tolist() == [10, 10, 45, 30]
    regions, mask = find_regions(probs, bridge_px=3, min_area=5, exclude=np.array([[8.5, 8.5, 31.2, 31.0]]))
    assert len(regions) == 1 and regions[0].bbox.tolist() == [32, 12, 45, 28] and regions[0].side == "left"
    assert (mask[10:30, 10:30] == 2).all()  # the mask still shows the excluded hand
    assert find_regions(probs, bridge_px=3, min_area=5, exclude=np.array([[0, 0, 80, 60]]))[0] == []


def test_regions_join_fragments_through_a_lower_bridge_threshold():
    # fingertips and wrist above 0.5, the palm between them at 0.3: two fragments 20 px apart
    probs = np.zeros((2, 80, 60), np.float32)
    probs[1, 5:15, 20:40] = 0.9   # fingertips
    probs[1, 15:35, 22:38] = 0.3  # palm, under the mask threshold
    probs[1, 35:50, 24:36] = 0.8  # wrist
    probs[1, 60:70, 5:10] = 0.9   # another object, away from the hand
    probs[1, 50:60, 5:10] = 0.1   # joined to the hand only through pixels at 0.1
    probs[0] = 1 - probs[1]
    apart, _ = find_regions(probs, bridge_px=3, min_area=5, max_hands=3)
    assert len(apart) == 3
    joined, mask = find_regions(probs, bridge_px=3, min_area=5, max_hands=3, bridge_threshold=0.2)
    hand = max(joined, key=lambda r: r.area)
    assert len(joined) == 2 and hand.bbox.tolist() == [20, 5, 40, 50]
    assert hand.area == 200 + 180  # the palm joins the pieces but adds no pixels
    assert mask[25, 30] == 0  # nor does it enter the label mask
    # the excluded box cuts the low bridge as well
    cut, _ = find_regions(probs, bridge_px=3, min_area=5, max_hands=3, bridge_threshold=0.2,
                          exclude=np.array([[0, 20, 60, 30]]))
    assert len(cut) == 3
    # the setting lives in the model's config, checked, and a config without it has it off
    from handpose_live.model_config import DetectionConfig, ModelConfig
    back = ModelConfig.from_dict(ModelConfig(detection=DetectionConfig(bridge_threshold=0.2)).to_dict())
    assert back.detection.bridge_threshold == 0.2
    d = ModelConfig().to_dict()
    del d["detection"]["bridge_threshold"]
    assert ModelConfig.from_dict(d).detection.bridge_threshold is None
    with pytest.raises(ValueError, match="bridge_threshold"):
        DetectionConfig(bridge_threshold=1.5)


def test_regions_ordered_by_peak_and_filtered_by_area():
    probs = np.zeros((2, 50, 50), np.float32)
    probs[0] = 1
    probs[0, 5:10, 5:10], probs[1, 5:10, 5:10] = 0.4, 0.6
    probs[0, 30:45, 30:45], probs[1, 30:45, 30:45] = 0.02, 0.98
    probs[0, 1, 48], probs[1, 1, 48] = 0.0, 1.0  # a single most-confident pixel: too small
    regions, _ = find_regions(probs, bridge_px=0, min_area=10)
    assert [r.confidence for r in regions] == pytest.approx([0.98, 0.6])
    assert all(r.side is None for r in regions)
    assert find_regions(np.stack([np.ones((8, 8)), np.zeros((8, 8))]), bridge_px=2)[0] == []


def test_letterbox_maps_back_to_the_frame():
    frame = np.zeros((100, 200, 3), np.uint8)
    canvas, box = letterbox(frame, (64, 80))
    assert canvas.shape == (64, 80, 3)
    assert box.to_frame(np.array([box.pad_x, box.pad_y])) == pytest.approx([0, 0])
    assert box.to_frame(np.array([box.pad_x + 80, box.pad_y + 40])) == pytest.approx([200, 100], abs=1.5)
    xy = np.array([[12.5, 7.0], [199.0, 99.0]])
    assert box.to_frame(box.to_canvas(xy)) == pytest.approx(xy, abs=1e-4)  # inverses
    mask = np.zeros((64, 80), np.uint8)
    mask[int(box.pad_y):, :40] = 2
    full = unletterbox_mask(mask, box, (100, 200))
    assert full.shape == (100, 200) and full[50, 10] == 2 and full[50, 190] == 0


def test_regions_split_a_left_and_a_right_hand_held_together():
    probs = np.zeros((3, 60, 80), np.float32)
    probs[0] = 1
    probs[0, 10:30, 10:30], probs[2, 10:30, 10:30] = 0.05, 0.95  # a right hand (400 px)...
    probs[0, 12:28, 30:45], probs[1, 12:28, 30:45] = 0.1, 0.9    # ...touching a left one (240 px)
    merged, _ = find_regions(probs, bridge_px=3, min_area=5)
    assert len(merged) == 1 and merged[0].side == "right"
    assert merged[0].minority == pytest.approx(240 / 640)  # the share voting for the other side
    split, _ = find_regions(probs, bridge_px=3, min_area=5, split_sides_frac=0.3)
    assert sorted((r.side, r.bbox.tolist(), r.area) for r in split) == [
        ("left", [30, 12, 45, 28], 240), ("right", [10, 10, 30, 30], 400)]
    assert split[0].side == "right" and split[0].confidence == pytest.approx(0.95)  # best peak first
    assert split[1].confidence == pytest.approx(0.9)
    # a minority under the fraction is one hand with a few pixels read the other way: no split
    assert len(find_regions(probs, bridge_px=3, min_area=5, split_sides_frac=0.4)[0]) == 1
    # a part under min_area is not a hand of its own
    assert len(find_regions(probs, bridge_px=3, min_area=300, split_sides_frac=0.3)[0]) == 1
    # a 2-class model has no sides to split by
    two = np.stack([probs[0], probs[1] + probs[2]])
    assert len(find_regions(two, bridge_px=3, min_area=5, split_sides_frac=0.3)[0]) == 1


def test_duplicate_hands_are_dropped_by_keypoint_box_overlap():
    from handpose_live.model_config import DetectionConfig, ModelConfig
    from handpose_live.pipeline import drop_duplicates
    from handpose_live.tracking import overlap_of_smaller

    def hand(x0, y0, x1, y1):
        kp = np.zeros((21, 2), np.float32)
        kp[0], kp[1] = (x0, y0), (x1, y1)
        kp[2:] = ((x0 + x1) / 2, (y0 + y1) / 2)
        return kp

    keypoints = np.stack([hand(0, 0, 100, 100), hand(20, 40, 70, 100), hand(200, 0, 300, 100),
                          hand(60, 0, 160, 100)])
    # 1 lies inside 0 (IoU 0.3, but all of the smaller box): the same hand seen twice;
    # 3 overlaps 0 by 40 % of either box; 2 is elsewhere
    assert overlap_of_smaller(np.array([0, 0, 100, 100]), np.array([20, 40, 70, 100])) == pytest.approx(1.0)
    assert overlap_of_smaller(np.array([0, 0, 100, 100]), np.array([60, 0, 160, 100])) == pytest.approx(0.4)
    assert drop_duplicates([0, 1, 2, 3], keypoints, 0.7) == [0, 2, 3]
    assert drop_duplicates([1, 0, 2, 3], keypoints, 0.7) == [1, 2, 3]  # the better-ranked one stays
    assert drop_duplicates([0, 1, 2, 3], keypoints, 0.4) == [0, 2]
    assert drop_duplicates([0, 1, 2, 3], keypoints, None) == [0, 1, 2, 3]
    assert drop_duplicates([], None, 0.7) == []
    d = ModelConfig().to_dict()
    assert d["detection"]["duplicate_overlap"] is None and d["detection"]["split_sides_frac"] is None  # off
    del d["detection"]["duplicate_overlap"], d["detection"]["split_sides_frac"]
    assert ModelConfig.from_dict(d).detection.duplicate_overlap is None  # an older config: off
    with pytest.raises(ValueError, match="duplicate_overlap"):
        DetectionConfig(duplicate_overlap=1.5)
    with pytest.raises(ValueError, match="split_sides_frac"):
        DetectionConfig(split_sides_frac=0.7)


def test_regions_of_two_input_sizes_combined():
    from handpose_live.detection import Region, combine_scales
    from handpose_live.model_config import DetectionConfig, ModelConfig

    def region(x0, y0, x1, y1, conf):
        return Region(bbox=np.array([x0, y0, x1, y1], np.float32), confidence=conf, area=1, side=None)

    joined = region(100, 100, 300, 200, 0.9)  # the fine pass joins two touching hands...
    a, b = region(100, 100, 190, 200, 0.8), region(210, 100, 300, 200, 0.7)  # ...the coarse one does not
    face = region(400, 0, 480, 80, 0.95)  # seen at both sizes: the fine region stands
    face_coarse = region(405, 5, 475, 75, 0.6)
    far = region(0, 300, 50, 350, 0.5)  # seen only at the coarse size: added
    touching = region(290, 190, 340, 240, 0.55)  # overlaps the fine region by 0.04 of its box: added
    biting = region(280, 150, 330, 200, 0.55)  # by 0.4 of its box: the fine region covers it
    out = combine_scales([joined, face], [a, b, face_coarse, far, touching], limit=10)
    assert [r.confidence for r in out] == [0.95, 0.8, 0.7, 0.55, 0.5]  # best first
    assert out[1] is a and out[2] is b
    assert [r.confidence for r in combine_scales([joined, face], [a, biting], limit=10)] == [0.95, 0.9]
    # one coarse region inside a fine one is the same hand: the fine outline stands
    assert combine_scales([joined], [a], limit=10) == [joined]
    assert combine_scales([joined, face], [a, b, far], limit=2) == [face, a]  # the candidate cap
    assert combine_scales([], [far], limit=4) == [far] and combine_scales([face], [], limit=4) == [face]
    assert ModelConfig().to_dict()["detection"]["fine_input_size"] is None  # off
    assert DetectionConfig(fine_input_size=[192, 256]).fine_input_size == (192, 256)
    with pytest.raises(ValueError, match="fine_input_size"):
        DetectionConfig(fine_input_size=(190, 256))
    assert ModelConfig().to_dict()["detection"]["coarse_minority"] is None  # both sizes on every frame
    with pytest.raises(ValueError, match="coarse_minority"):
        DetectionConfig(coarse_minority=0.7)



def test_keypoints_bunched_on_a_small_shape_are_no_hand():
    from handpose_live.checkpoint import build_networks
    from handpose_live.model_config import DetectionConfig, preset
    from handpose_live.pipeline import HandPoseEstimator, keypoint_spread, spread_enough

    from fakes import CentrePoseNet, RedIsHandSegNet

    hand = np.array([[0, 0], [60, 80]] + [[30, 40]] * 19, np.float32)  # a 100 px diagonal
    assert keypoint_spread(hand, (30, 40, 125)) == pytest.approx(0.8)
    assert spread_enough(hand, (30, 40, 125), 0.5) and not spread_enough(hand, (30, 40, 400), 0.5)
    assert spread_enough(hand, (30, 40, 400), None)  # off
    with pytest.raises(ValueError, match="min_spread"):
        DetectionConfig(min_spread=0)
    from handpose_live.model_config import ModelConfig
    assert ModelConfig().to_dict()["detection"]["min_spread"] is None  # off unless a model sets it
    config = preset("tiny")
    size = config.posenet.input_size
    frame = np.full((120, 160, 3), 90, np.uint8)
    frame[30:90, 40:100] = (0, 0, 255)  # a red square: the fake's hand region
    found = {}
    for mode in ("image", "video"):
        for min_spread in (None, 0.5):
            config.detection.min_spread = min_spread
            nets = build_networks(config)
            # every keypoint at the crop's centre: bunched on one point, spread 0
            nets["handsegnet"], nets["posenet"] = RedIsHandSegNet(), CentrePoseNet(torch.full((21, 2), size / 2.0), size)
            est = HandPoseEstimator(config, nets, device="cpu", mode=mode, backend="torch")
            found[mode, min_spread] = len(est.process([frame])[0])
    assert found == {("image", None): 1, ("image", 0.5): 0, ("video", None): 1, ("video", 0.5): 0}
