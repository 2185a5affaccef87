"""Renderer: labels agree with pixels, meshes have the right chirality, a seed fixes a sample."""
import numpy as np
import pytest

from training.data.paths import data_root
from training.data.sample import check_sample, project

MESH_DIR = data_root() / "hand_mesh"
pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not (MESH_DIR / "right.glb").is_file(), reason="shared data (hand_mesh) not present"),
]
SIZE = 160


@pytest.fixture(scope="module")
def renderer():
    from training.render.scene import HandRenderer, RenderConfig

    return HandRenderer(MESH_DIR, data_root() / "backgrounds", RenderConfig(height=SIZE, width=SIZE))


@pytest.fixture(scope="module")
def clean_renderer():
    """No occluders, distractors or camera effects: only the hand decides what is visible."""
    from training.render.scene import HandRenderer, RenderConfig

    return HandRenderer(MESH_DIR, None, RenderConfig(height=SIZE, width=SIZE, occluder_prob=0.0,
                                                     distractor_prob=0.0, effects=False))


@pytest.fixture(scope="module")
def samples(renderer):
    return [renderer.render(seed) for seed in range(24)]


def test_samples_follow_the_contract(samples):
    for s in samples:
        check_sample(s)
        assert s["image_rgb"].shape == (SIZE, SIZE, 3)


def test_K_projects_xyz_onto_keypoints(samples):
    for s in samples:
        assert s["has_3d_camera"]
        err = np.abs(project(s["K"], s["keypoints_3d"]) - s["keypoints_2d"]).max()
        assert err < 1.0, f"K @ xyz is {err:.2f} px off the 2D keypoints"
        if s["has_other"]:
            assert np.abs(project(s["K"], s["keypoints_3d_other"]) - s["keypoints_2d_other"]).max() < 1.0


def test_mask_holds_visible_keypoints_with_the_hand_side(samples):
    seen_visible = 0
    for s in samples:
        uv = np.round(s["keypoints_2d"][s["visible"]]).astype(int)
        labels = s["mask"][uv[:, 1], uv[:, 0]]
        assert (labels == int(s["side"]) + 1).all(), "a visible keypoint lies outside its hand's mask"
        seen_visible += len(uv)
    assert seen_visible > 10 * len(samples)  # most keypoints are visible in most samples


def test_primary_hand_has_most_mask_pixels(samples):
    for s in samples:
        own = (s["mask"] == int(s["side"]) + 1).sum()
        other = (s["mask"] == 2 - int(s["side"])).sum()
        assert own >= other


def test_same_seed_same_sample_and_other_seed_differs(renderer):
    a, b, c = renderer.render(7), renderer.render(7), renderer.render(8)
    for key, value in a.items():
        np.testing.assert_array_equal(value, b[key], err_msg=key)
    assert not np.array_equal(a["image_rgb"], c["image_rgb"])


def test_dataset_items_do_not_depend_on_access_order():
    from training.render.dataset import RenderedHands

    d = RenderedHands(length=10, seed=3, size=64)
    late = d[5]["keypoints_2d"]
    d2 = RenderedHands(length=10, seed=3, size=64)
    d2[0], d2[9]
    np.testing.assert_array_equal(late, d2[5]["keypoints_2d"])


def test_right_mesh_is_a_right_hand_and_fingers_flex_toward_the_palm(clean_renderer):
    """Palm to the camera, fingers up: a right thumb is on the image right, a left on the left;
    flexing (negative rotation about local X) moves the fingertip toward the camera (the palm)."""
    from training.render.placement import PALM_TO_CAMERA
    from training.render.scene import HandParams
    from handpose_live.skeleton import RHD_WRIST

    K = np.array([[200.0, 0, 79.5], [0, 200.0, 79.5], [0, 0, 1]])
    for side, sign in (("right", 1), ("left", -1)):
        rest = HandParams(side, np.zeros((25, 3)), PALM_TO_CAMERA[side], np.array([0.0, 0.0, 0.5]))
        s = clean_renderer.render_hands(np.random.default_rng(0), [rest], K)
        kp = s["keypoints_2d"]
        assert kp[12, 1] < kp[RHD_WRIST, 1], "fingers should point up"
        assert sign * (kp[1, 0] - kp[20, 0]) > 0, f"{side} thumb tip on the wrong side of the little finger"
        assert s["visible"].all(), "an open hand facing the camera shows every keypoint"
        bent = rest.angles_deg.copy()
        from training.render.mesh import JOINT_INDEX
        for name in ("index-finger-phalanx-proximal", "index-finger-phalanx-intermediate"):
            bent[JOINT_INDEX[name], 0] = -60.0
        s2 = clean_renderer.render_hands(np.random.default_rng(0), [HandParams(side, bent, rest.rotation, rest.translation_m)], K)
        tip_before = s["keypoints_3d"][5] - s["keypoints_3d"].mean(0)
        tip_after = s2["keypoints_3d"][5] - s2["keypoints_3d"].mean(0)
        assert tip_after[2] < tip_before[2] - 0.02, "index flexion should bring its tip toward the camera"


def test_folded_fingers_are_hidden_behind_the_back_of_the_hand(clean_renderer):
    from training.render.placement import PALM_TO_CAMERA
    from training.render.pose import sample_pose_deg
    from training.render.scene import HandParams
    from training.render.skinning import rotation_xyz

    K = np.array([[200.0, 0, 79.5], [0, 200.0, 79.5], [0, 0, 1]])
    fist, _ = sample_pose_deg(np.random.default_rng(0), "fist")
    back = rotation_xyz(np.radians([0.0, 180.0, 0.0])) @ PALM_TO_CAMERA["right"]
    s = clean_renderer.render_hands(np.random.default_rng(0), [HandParams("right", fist, back, np.array([0, 0, 0.5]))], K)
    tips = [5, 9, 13, 17]  # index..little tips (RHD order), curled under the palm
    assert not s["visible"][tips].any()


def test_streamed_hands_match_indexed_samples_in_one_process():
    from training.render.dataset import RenderedHands, StreamedHands

    stream = iter(StreamedHands(seed=5, size=48))
    first, second = next(stream), next(stream)
    indexed = RenderedHands(length=2, seed=5, size=48)
    np.testing.assert_array_equal(first["image_rgb"], indexed[0]["image_rgb"])
    np.testing.assert_array_equal(second["keypoints_2d"], indexed[1]["keypoints_2d"])


def test_nails_sit_on_the_back_of_each_fingertip(renderer):
    """Fingernails (what tells a left palm from a right back, whose silhouettes mirror each
    other): on every finger, only on the last phalanx, facing its back (the joint's +Y)."""
    from training.render.mesh import FINGER_JOINTS, JOINT_INDEX, dominant_joints

    for side, mesh in renderer.meshes.items():
        nail = renderer._nail[side]
        assert nail.min() >= 0 and nail.max() <= 1
        dominant = dominant_joints(mesh.joint_ids, mesh.weights)
        tip_joints = [JOINT_INDEX[c[j]] for c in FINGER_JOINTS.values() for j in (-2, -1)]
        assert (nail[~np.isin(dominant, tip_joints)] == 0).all()
        for chain in FINGER_JOINTS.values():
            on_finger = np.isin(dominant, (JOINT_INDEX[chain[-2]], JOINT_INDEX[chain[-1]]))
            nailed = on_finger & (nail > 0.5)
            assert nailed.sum() >= 5, (side, chain[-1])
            back = mesh.bind_globals[JOINT_INDEX[chain[-2]], :3, 1]
            assert (mesh.normals[nailed] @ back > 0.3).all(), (side, chain[-1])
