import numpy as np
import torch

from handpose_live import skeleton as sk


def test_names_and_wrist_first():
    assert len(sk.KEYPOINT_NAMES) == 21
    assert sk.KEYPOINT_NAMES[0] == "wrist"
    assert sk.KEYPOINT_NAMES[1:5] == ("thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip")
    assert sk.KEYPOINT_NAMES[9] == "middle_mcp" and sk.KEYPOINT_NAMES[20] == "little_tip"
    assert sk.Keypoint.INDEX_TIP == 8


def test_rhd_order_is_tip_to_base():
    # RHD: 1 = thumb tip, 4 = thumb base; 12 = middle MCP, 11 = middle PIP, 20 = little MCP
    rhd = np.arange(21)[:, None].repeat(2, 1)
    user = sk.rhd_to_user(rhd)
    assert user[sk.Keypoint.THUMB_TIP, 0] == 1 and user[sk.Keypoint.THUMB_CMC, 0] == 4
    assert user[sk.Keypoint.MIDDLE_MCP, 0] == sk.RHD_MIDDLE_MCP == 12
    assert user[sk.Keypoint.MIDDLE_PIP, 0] == sk.RHD_MIDDLE_PIP == 11
    assert user[sk.Keypoint.LITTLE_MCP, 0] == sk.RHD_LITTLE_MCP == 20
    assert user[0, 0] == 0


def test_converters_round_trip_numpy_and_torch():
    x = np.random.default_rng(0).normal(size=(4, 21, 3))
    assert np.array_equal(sk.user_to_rhd(sk.rhd_to_user(x)), x)
    t = torch.from_numpy(x)
    assert torch.equal(sk.rhd_to_user(sk.user_to_rhd(t)), t)
    assert np.array_equal(sk.rhd_to_user(t).numpy(), sk.rhd_to_user(x))
    scores = np.arange(21.0)
    assert np.array_equal(sk.user_to_rhd(sk.rhd_to_user(scores, axis=0), axis=0), scores)


def test_converter_rejects_wrong_count():
    import pytest

    with pytest.raises(ValueError, match="21 keypoints"):
        sk.rhd_to_user(np.zeros((20, 2)))


def test_bones_form_a_tree_rooted_at_wrist():
    assert len(sk.BONES) == 20
    children = [c for _, c in sk.BONES]
    assert sorted(children) == list(range(1, 21))
    assert all(p < c for p, c in sk.BONES)  # base before tip in user order
    assert {p for p, _ in sk.BONES if p == 0} == {0}
    assert sum(1 for p, _ in sk.BONES if p == 0) == 5
    assert sk.bone_color_bgr(4) == sk.FINGER_COLORS_BGR[0]
    assert sk.bone_color_bgr(20) == sk.FINGER_COLORS_BGR[4]
