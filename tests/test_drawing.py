"""Pure OpenCV drawing of the overlay: pixels, purity, mirroring, masks."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from handpose_live.drawing import (DrawSpec, draw_hands, draw_mask, draw_view, mirror_hands,
                                   track_color_bgr)
from handpose_live.skeleton import FINGER_COLORS_BGR
from test_runtime_fake_estimator import fake_hand


def _frame():
    return np.full((480, 640, 3), 40, np.uint8)


def test_draw_hands_returns_new_frame_and_keeps_input():
    frame = _frame()
    out = draw_hands(frame, [fake_hand(0)])
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert (frame == 40).all() and (out != 40).any()


def test_bones_have_finger_colours_and_joints_the_track_colour():
    hand = fake_hand(0, track_id=1)
    out = draw_hands(_frame(), [hand], DrawSpec(show_labels=False, show_crop=False,
                                                 joint_radius_min=0, joint_radius_max=0.1))
    kp = hand.keypoints_2d
    mid = np.round((kp[10] + kp[11]) / 2).astype(int)  # middle finger, pip -> dip
    assert tuple(out[mid[1], mid[0]]) == FINGER_COLORS_BGR[2]
    big = draw_hands(_frame(), [hand], DrawSpec(show_labels=False, show_crop=False,
                                                 joint_radius_min=6, joint_radius_max=6))
    x, y = np.round(kp[12]).astype(int)
    assert tuple(big[y, x]) == track_color_bgr(1)


def test_joint_size_grows_with_confidence():
    hand = fake_hand(0)
    spec = DrawSpec(show_labels=False, show_crop=False, joint_radius_min=1, joint_radius_max=9)
    low = dataclasses.replace(hand, keypoint_scores=np.zeros(21, np.float32))
    high = dataclasses.replace(hand, keypoint_scores=np.ones(21, np.float32))
    painted = [(draw_hands(_frame(), [h], spec) != 40).any(2).sum() for h in (low, high)]
    assert painted[1] > painted[0] * 1.3


def test_crop_box_and_label_toggle():
    hand = fake_hand(0)
    base = DrawSpec(show_skeleton=False, show_labels=False, show_crop=False)
    assert (draw_hands(_frame(), [hand], base) == 40).all()
    with_crop = draw_hands(_frame(), [hand], dataclasses.replace(base, show_crop=True))
    x0, y0 = (int(round(v)) for v in hand.crop_box[:2])
    assert tuple(with_crop[y0, x0]) == track_color_bgr(hand.track_id)
    assert (draw_hands(_frame(), [hand], dataclasses.replace(base, show_labels=True)) != 40).any()


def test_stale_hands_are_grey():
    out = draw_hands(_frame(), [fake_hand(0)], DrawSpec(stale=True))
    changed = out[(out != 40).any(2)].astype(int)
    assert (np.abs(changed - changed.mean(1, keepdims=True)) <= 45).all()  # no saturated colour


def test_mirror_hands_is_an_involution_and_keeps_sides():
    hand = fake_hand(0)
    once = mirror_hands([hand], 640)[0]
    assert once.side == hand.side
    assert once.keypoints_2d[0, 0] == pytest.approx(639 - hand.keypoints_2d[0, 0])
    assert once.bbox[0] <= once.bbox[2] and once.crop_box[0] <= once.crop_box[2]
    twice = mirror_hands([once], 640)[0]
    assert np.allclose(twice.keypoints_2d, hand.keypoints_2d)
    assert np.allclose(twice.keypoints_3d, hand.keypoints_3d)


def test_draw_view_mirrors_frame_and_overlay_together():
    frame = _frame()
    frame[:, :10] = (0, 0, 255)  # red stripe on the left edge
    hand = fake_hand(0)
    out = draw_view(frame, [hand], mirror=True, spec=DrawSpec(show_labels=False, show_crop=False))
    assert tuple(out[240, -1]) == (0, 0, 255)
    x, y = np.round(639 - hand.keypoints_2d[12, 0]).astype(int), int(round(hand.keypoints_2d[12, 1]))
    assert (out[y, x] != 40).any()


def test_draw_mask_tints_left_and_right():
    frame = _frame()
    mask = np.zeros(frame.shape[:2], np.uint8)
    mask[:10, :10], mask[-10:, -10:] = 1, 2
    out = draw_mask(frame, mask)
    assert (out[0, 0] != 40).any() and (out[-1, -1] != 40).any() and (out[240, 320] == 40).all()
    assert not np.array_equal(out[0, 0], out[-1, -1])
    with pytest.raises(ValueError, match="does not match"):
        draw_mask(frame, mask[:5])


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.float32)])
def test_bad_frames_raise_value_error(bad):
    with pytest.raises(ValueError, match="BGR uint8"):
        draw_hands(bad, [])
