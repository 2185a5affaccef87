"""The renderer's hand fitted to 3D poses (training/render/pose_fit.py), and rendering from the fits."""
import numpy as np
import pytest
import torch

from training.data.paths import data_root

MESH_DIR = data_root() / "hand_mesh"
pytestmark = [
    pytest.mark.data,
    pytest.mark.skipif(not (MESH_DIR / "right.glb").is_file(), reason="shared data (hand_mesh) not present"),
]


@pytest.fixture(scope="module")
def meshes():
    from training.render.mesh import load_hand_mesh

    return {s: load_hand_mesh(MESH_DIR / f"{s}.glb") for s in ("left", "right")}


def _pose(seed: int) -> np.ndarray:
    """A renderer pose that the fit can represent exactly (its free angles only)."""
    from training.render import pose_fit
    from training.render.pose import sample_pose_deg

    angles = sample_pose_deg(np.random.default_rng(seed))[0]
    return pose_fit.angles_from_free(angles[pose_fit._FREE_JOINT, pose_fit._FREE_AXIS][None])[0]


def _skinned(mesh, angles_deg):
    from training.render.pose import local_angles_rad
    from training.render.skinning import posed_globals, skin

    return skin(mesh, posed_globals(mesh, local_angles_rad(angles_deg, mesh.side)))[2]


def _rotation(seed: int) -> np.ndarray:
    from training.render.placement import random_rotation

    return random_rotation(np.random.default_rng(seed))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))


def test_torch_kinematics_match_the_skinning(meshes):
    from training.render import pose_fit
    from training.render.pose import sample_pose_deg

    rng = np.random.default_rng(0)
    for side, mesh in meshes.items():
        angles = np.stack([sample_pose_deg(rng)[0] for _ in range(4)])
        expected = np.stack([_skinned(mesh, a) for a in angles])
        got = pose_fit.posed_keypoints(mesh, torch.as_tensor(angles)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-9, err_msg=side)


def test_the_fit_recovers_a_known_pose_size_and_orientation(meshes):
    """Keypoints of a renderer pose, turned, scaled and moved: the fit finds them to < 1 mm and
    the orientation to < 2 degrees."""
    from training.render import pose_fit

    mesh = meshes["right"]
    truth = [_pose(seed) for seed in range(3)]
    rotations = [_rotation(10 + k) for k in range(3)]
    targets = np.stack([1.1 * _skinned(mesh, a) @ r.T + [0.01, -0.02, 0.3] for a, r in zip(truth, rotations)])
    fit = pose_fit.fit_poses(mesh, targets, steps=300)
    assert fit.error_m.max() < 1e-3
    np.testing.assert_allclose(fit.scale, 1.1, atol=0.01)
    for r_fit, r_true in zip(fit.rotation, rotations):
        assert _angle_deg(r_fit, r_true) < 2.0
    assert (fit.angles_deg[:, pose_fit._FREE_JOINT, pose_fit._FREE_AXIS] >= pose_fit._FREE_LOW - 1e-9).all()
    assert (fit.angles_deg[:, pose_fit._FREE_JOINT, pose_fit._FREE_AXIS] <= pose_fit._FREE_HIGH + 1e-9).all()


def test_a_hand_seen_in_a_mirror_fits_the_other_side_and_not_its_own(meshes):
    """Chirality: a right hand's keypoints mirrored in x are a left hand — the left mesh fits them
    exactly, the right mesh (no rotation turns a hand into its mirror image) does not."""
    from training.render import pose_fit

    right = np.stack([_skinned(meshes["right"], _pose(seed)) @ _rotation(20 + seed).T for seed in range(2)])
    mirrored = right @ pose_fit.MIRROR_X
    assert pose_fit.fit_poses(meshes["left"], mirrored).error_m.max() < 1e-3
    assert pose_fit.fit_poses(meshes["right"], mirrored).error_m.min() > 3e-3


def test_the_bank_keeps_good_fits_of_both_sides_and_samples_inside_the_limits(meshes):
    from training.render import pose_fit

    points = np.stack([_skinned(meshes["right"], _pose(seed)) @ _rotation(30 + seed).T for seed in range(2)])
    broken = points[:1].copy()
    broken[0, 1] += 0.2  # a thumb tip 20 cm away: a failed label no hand fits
    bank, stats = pose_fit.fit_bank(meshes, np.concatenate([points, broken]), np.array([1, 1, 1]), steps=200)
    assert stats["fitted"] == 6 and stats["kept"] == 4  # own side and mirrored, the broken label dropped twice
    assert sorted(bank.side.tolist()) == [0, 0, 1, 1]
    assert stats["own_side_error_m"][:2].max() < 1e-3 and stats["own_side_error_m"][2] > pose_fit.MAX_FIT_ERROR_M
    rng = np.random.default_rng(0)
    for side in ("left", "right"):
        for _ in range(20):
            angles, rotation = bank.sample(rng, side)
            free = angles[pose_fit._FREE_JOINT, pose_fit._FREE_AXIS]
            assert (free >= pose_fit._FREE_LOW - 1e-9).all() and (free <= pose_fit._FREE_HIGH + 1e-9).all()
            np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
            assert np.linalg.det(rotation) > 0
    only_right = pose_fit.PoseBank(bank.angles_deg[bank.side == 1], bank.rotation[bank.side == 1],
                                   bank.side[bank.side == 1], bank.error_m[bank.side == 1])
    with pytest.raises(ValueError, match="no left hand"):
        only_right.sample(rng, "left")


def test_bank_files_round_trip(tmp_path, meshes):
    from training.render import pose_fit

    points = _skinned(meshes["left"], _pose(3))[None]
    bank, _ = pose_fit.fit_bank(meshes, points, np.array([0]), steps=50)
    bank.save(tmp_path / "bank.npz")
    back = pose_fit.PoseBank.load(tmp_path / "bank.npz")
    for name in ("angles_deg", "rotation", "side", "error_m"):
        np.testing.assert_array_equal(getattr(back, name), getattr(bank, name))


def test_rendered_hands_take_the_banks_pose_and_orientation(meshes):
    """With a one-pose bank, every rendered hand of that side is that pose, turned by the bank's
    rotation (plus the bank's small noise), in the camera frame."""
    from training.render import pose_fit
    from training.render.poses import RenderedPoses
    from training.render.scene import SIDE_INDEX

    angles = _pose(5)
    rot = {"right": _rotation(40), "left": _rotation(41)}
    bank = pose_fit.PoseBank(np.stack([angles, angles]), np.stack([rot["left"], rot["right"]]),
                             np.array([0, 1]), np.zeros(2))
    data = RenderedPoses(length=8, seed=0, size=160, mesh_dir=MESH_DIR, pose_bank=bank)
    errors = []
    for i in range(len(data)):
        s = data[i]
        side = "right" if int(s["side"]) == SIDE_INDEX["right"] else "left"
        model = _skinned(meshes[side], angles)
        r, _, _ = pose_fit.similarity(torch.as_tensor(model[None]), torch.as_tensor(s["keypoints_3d"][None], dtype=torch.float64))
        errors.append(_angle_deg(r[0].numpy(), rot[side]))
    assert np.median(errors) < 20.0  # the bank's rotation noise: 10 degrees (sd) about a random axis
    assert max(errors) < 60.0


def test_realpose_sources_are_train_only():
    from training.data_mix import open_dataset

    with pytest.raises(ValueError, match="train only"):
        open_dataset("render_poses_realpose", "val", 128)


def test_known_pose_stills_show_one_hand_each(tmp_path):
    """The stills for checking the 3D view by eye: one file per set pose, the hand in the middle."""
    import cv2

    from training.render import known_pose

    assert known_pose.main(["--out", str(tmp_path), "--size", "160x120"]) == 0
    for stem, *_ in known_pose.STILLS:
        image = cv2.imread(str(tmp_path / f"{stem}.png"))
        assert image.shape == (120, 160, 3)
    palm = cv2.imread(str(tmp_path / "right_open_palm.png")).astype(float)
    back = cv2.imread(str(tmp_path / "right_open_back.png")).astype(float)
    assert np.abs(palm - back).mean() > 2  # palm and back differ (nails, palm shading, mirrored thumb)
