"""Horizontal flip: a flipped left hand is labelled, and looks like, the mirrored right hand."""
import numpy as np
import pytest

from training.data.augment import hflip
from training.data.paths import data_root
from training.data.sample import check_sample, project

MESH_DIR = data_root() / "hand_mesh"
needs_mesh = pytest.mark.skipif(not (MESH_DIR / "right.glb").is_file(), reason="shared data (hand_mesh) not present")
SIZE = 160


def _toy_sample(side=0):
    K = np.array([[100.0, 0, 70.0], [0, 100.0, 40.0], [0, 0, 1]], np.float32)
    xyz = np.random.default_rng(0).uniform([-0.1, -0.1, 0.4], [0.1, 0.1, 0.6], (21, 3)).astype(np.float32)
    mask = np.zeros((80, 160), np.uint8)
    mask[10:20, 5:30] = 1
    mask[50:60, 100:120] = 2
    return {"image_rgb": np.random.default_rng(1).integers(0, 255, (80, 160, 3), dtype=np.uint8), "mask": mask,
            "keypoints_2d": project(K, xyz), "visible": np.ones(21, bool), "keypoints_3d": xyz, "K": K,
            "side": np.int64(side), "weight": np.float32(1), "mask_valid": np.bool_(True),
            "mask_coarse": np.bool_(False), "has_3d": np.bool_(True), "has_3d_camera": np.bool_(True),
            "source": "toy"}


def test_flip_swaps_side_and_mask_labels_and_keeps_projection():
    s = _toy_sample(side=0)
    f = hflip(s)
    check_sample(f)
    assert int(f["side"]) == 1
    assert (f["mask"][10:20, 160 - 30:160 - 5] == 2).all() and (f["mask"][50:60, 160 - 120:160 - 100] == 1).all()
    np.testing.assert_allclose(project(f["K"], f["keypoints_3d"]), f["keypoints_2d"], atol=1e-3)
    np.testing.assert_array_equal(f["image_rgb"][:, 0], s["image_rgb"][:, -1])
    back = hflip(f)
    for key in ("image_rgb", "mask", "keypoints_2d", "keypoints_3d", "K", "side"):
        np.testing.assert_allclose(back[key], s[key], atol=1e-4, err_msg=key)


@pytest.mark.data
@needs_mesh
def test_flipped_left_render_matches_the_mirrored_right_render():
    from training.render.placement import sample_orientation
    from training.render.pose import sample_pose_deg
    from training.render.scene import HandParams, HandRenderer, RenderConfig

    r = HandRenderer(MESH_DIR, None, RenderConfig(height=SIZE, width=SIZE, occluder_prob=0, distractor_prob=0,
                                                  arm_prob=0, effects=False))
    rng = np.random.default_rng(4)
    mirror = np.diag([-1.0, 1.0, 1.0])
    for _ in range(4):
        angles, _ = sample_pose_deg(rng)
        rot = sample_orientation(rng, "left")
        t = np.array([rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), 0.6])
        K = np.array([[220.0, 0, 75.0], [0, 220.0, 82.0], [0, 0, 1]])
        K_flip = K.copy()
        K_flip[0, 2] = SIZE - 1 - K[0, 2]
        left = r.render_hands(np.random.default_rng(0), [HandParams("left", angles, rot, t)], K)
        right = r.render_hands(np.random.default_rng(0),
                               [HandParams("right", angles, mirror @ rot @ mirror, mirror @ t)], K_flip)
        flipped = hflip(left)
        assert int(flipped["side"]) == int(right["side"]) == 1
        np.testing.assert_allclose(flipped["K"], right["K"], atol=1e-4)
        assert np.abs(flipped["keypoints_2d"] - right["keypoints_2d"]).max() < 2.5  # meshes differ by ~3 mm
        a, b = flipped["mask"] == 2, right["mask"] == 2
        assert (a & b).sum() / max(1, (a | b).sum()) > 0.9
        assert not (flipped["mask"] == 1).any()
