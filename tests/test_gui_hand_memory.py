"""Lost hands are kept briefly in the 3D view, greyed when stale, then dropped (no Qt)."""
from __future__ import annotations

import numpy as np
import pytest

from handpose_live.gui.hand_memory import HandMemory, ShownHand
from handpose_live.gui.hand_view_3d import SLOT_M, camera_distance, display_points, layout_hands
from test_runtime_fake_estimator import fake_hand


def test_lost_hand_is_kept_then_stale_then_dropped():
    memory = HandMemory(grace_s=0.2, keep_s=1.0)
    hand = fake_hand(0, track_id=4)
    assert [(s.key, s.stale) for s in memory.update([hand], 0.0)] == [(4, False)]
    assert [(s.key, s.stale) for s in memory.update([], 0.1)] == [(4, False)]  # grace period
    shown = memory.update([], 0.5)
    assert [(s.key, s.stale) for s in shown] == [(4, True)] and shown[0].hand is hand
    assert memory.update([], 1.2) == []


def test_current_hands_first_and_untracked_not_remembered():
    memory = HandMemory()
    memory.update([fake_hand(0, track_id=1)], 0.0)
    untracked = fake_hand(0, track_id=-1)
    shown = memory.update([untracked], 0.5)
    assert [s.key for s in shown] == [-1, 1] and [s.stale for s in shown] == [False, True]
    assert [s.key for s in memory.update([], 0.6)] == [1]
    with pytest.raises(ValueError):
        HandMemory(grace_s=2, keep_s=1)


def test_display_axes_put_an_upright_hand_upright():
    hand = fake_hand(0)  # fingertips above the wrist in the image (y down)
    pts = display_points(hand.keypoints_3d, offset_x_m=0.1)
    assert pts[12, 2] > pts[0, 2] + 0.05  # middle fingertip is up (display z)
    assert np.allclose(pts[:, 0], hand.keypoints_3d[:, 0] + 0.1)  # x stays right
    assert np.allclose(pts[:, 1], hand.keypoints_3d[:, 2])  # depth goes away from the viewer


def test_hands_are_framed_side_by_side_in_picture_order():
    right_of_picture, left_of_picture = fake_hand(0, track_id=0), fake_hand(0, track_id=1)
    left_of_picture.keypoints_2d[:, 0] -= 300  # its wrist lies further left in the frame
    # both hands at the same camera position: drawn where they are, they would overlap
    pts = layout_hands([ShownHand(right_of_picture, False, 0), ShownHand(left_of_picture, False, 1)])
    centres = [(p.min(0) + p.max(0)) / 2 for p in pts]
    assert np.allclose(centres[1], [-SLOT_M / 2, 0, 0], atol=1e-6)  # the picture's left hand on the left
    assert np.allclose(centres[0], [SLOT_M / 2, 0, 0], atol=1e-6)
    span = pts[0][:, 0].max() - pts[0][:, 0].min()
    assert span < SLOT_M  # neighbours never overlap
    # the shape is kept: only a translation per hand
    own = display_points(right_of_picture.keypoints_3d)
    assert np.allclose(pts[0] - pts[0][0], own - own[0], atol=1e-6)
    mirrored = layout_hands([ShownHand(right_of_picture, False, 0), ShownHand(left_of_picture, False, 1)],
                            mirror=True)
    assert ((mirrored[1].min(0) + mirrored[1].max(0)) / 2)[0] > 0  # mirrored picture: sides swap
    assert camera_distance(2) > camera_distance(1) == camera_distance(0)
