"""The camera model of the 3D output: field-of-view intrinsics, the rotation of a crop's ray, the
ray-frame training labels and the estimator turning ray-frame 3D into the camera's frame."""
import math

import numpy as np
import pytest
import torch

from handpose_live.camera import DEFAULT_FOV_DEG, check_fov, intrinsics, ray_rotation
from handpose_live.cli import build_parser
from handpose_live.model_config import ModelConfig
from handpose_live.pipeline import HandPoseEstimator
from training.targets import to_ray_frame


def test_fov_range_and_intrinsics():
    assert check_fov(75) == 75.0
    for bad in (5, 179, float("nan")):
        with pytest.raises(ValueError, match="field of view"):
            check_fov(bad)
    K = intrinsics(480, 640, 90.0)
    assert K[0, 0] == pytest.approx(320.0) and K[1, 1] == pytest.approx(320.0)  # tan(45 deg) = 1
    assert (K[0, 2], K[1, 2]) == (pytest.approx(319.5), pytest.approx(239.5))
    assert intrinsics(480, 640)[0, 0] == pytest.approx(320 / math.tan(math.radians(DEFAULT_FOV_DEG / 2)))


def test_ray_rotation_takes_the_optical_axis_onto_the_ray():
    K = torch.from_numpy(intrinsics(480, 640, 60.0))
    centres = torch.tensor([[319.5, 239.5], [600.0, 30.0], [10.0, 470.0], [400.0, 239.5]], dtype=torch.float64)
    R = ray_rotation(K, centres)
    assert torch.allclose(R[0], torch.eye(3, dtype=torch.float64))  # exactly: no turn at the principal point
    eye = torch.eye(3, dtype=torch.float64).expand(4, 3, 3)
    assert torch.allclose(R @ R.transpose(1, 2), eye, atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(4, dtype=torch.float64))
    rays = torch.linalg.solve(K.expand(4, 3, 3), torch.cat([centres, torch.ones(4, 1, dtype=torch.float64)], 1)[..., None])[..., 0]
    rays = rays / rays.norm(dim=1, keepdim=True)
    assert torch.allclose(R[:, :, 2], rays, atol=1e-12)  # z -> the ray
    # the least turn: by the angle between the axis and the ray, about an axis in the image plane
    angle = torch.rad2deg(torch.arccos(((R.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1)))
    assert torch.allclose(angle, torch.rad2deg(torch.arccos(rays[:, 2])), atol=1e-6)
    # a horizontal offset turns about the y axis only: y stays put
    assert torch.allclose(R[3] @ torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64),
                          torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    # one K for all, or one per crop: the same
    assert torch.allclose(ray_rotation(K.expand(4, 3, 3).clone(), centres), R)


def test_to_ray_frame_turns_camera_labels_only():
    K = torch.from_numpy(intrinsics(240, 320, 70.0)).float().expand(2, 3, 3)
    xyz = torch.randn(2, 21, 3) * 0.03
    xyz[:, :, 2] += 0.5
    centres = torch.tensor([[300.0, 20.0], [300.0, 20.0]])
    out = to_ray_frame(xyz, K, centres, torch.tensor([True, False]))
    assert torch.equal(out[1], xyz[1])  # a pseudo-label (e.g. MediaPipe's world landmarks) stays as it is
    no_camera = K.clone()
    no_camera[1] = 0.0  # a source without a camera: its K is never read
    assert torch.equal(to_ray_frame(xyz, no_camera, centres, torch.tensor([True, False])), out)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # bf16 training: the labels stay exact fp32
        assert torch.equal(to_ray_frame(xyz, K, centres, torch.tensor([True, False])), out)
    R = ray_rotation(K[:1].double(), centres[:1].double())[0].float()
    assert torch.allclose(out[0] @ R.T, xyz[0], atol=1e-6)  # the run time's turn undoes it
    # a point on the ray through the crop's centre lies on the ray frame's optical axis
    d = torch.linalg.solve(K[0].double(), torch.tensor([300.0, 20.0, 1.0], dtype=torch.float64)).float()
    on_ray = to_ray_frame((d * 0.7).view(1, 1, 3), K[:1], centres[:1], torch.tensor([True]))[0, 0]
    assert torch.allclose(on_ray[:2], torch.zeros(2), atol=1e-6) and on_ray[2] > 0


def test_lifting_nets_must_agree_on_the_frame():
    d = ModelConfig().to_dict()
    d["poseprior"]["frame"] = "ray"
    with pytest.raises(ValueError, match="same frame"):
        ModelConfig.from_dict(d)
    d["viewpoint"]["frame"] = "ray"
    assert ModelConfig.from_dict(d).viewpoint.frame == "ray"
    d["poseprior"]["frame"] = d["viewpoint"]["frame"] = "crop"
    with pytest.raises(ValueError, match="lifting frame"):
        ModelConfig.from_dict(d)


def test_estimator_turns_ray_frame_output_into_the_camera_frame(tiny_model_dir):
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = [np.array([[120.0, 30.0, 60.0], [79.5, 59.5, 60.0]], np.float32)]  # off centre; at the centre
    est = HandPoseEstimator.from_pretrained(tiny_model_dir, device="cpu", precision="fp32")
    assert est.camera_fov_deg == DEFAULT_FOV_DEG
    as_camera = [xyz for _, _, xyz in est.keypoints_in_boxes([frame], boxes, [["right", "left"]])]
    est.camera_fov_deg = 40.0  # a camera-frame model ignores the field of view
    assert all(np.array_equal(a, xyz) for a, (_, _, xyz) in
               zip(as_camera, est.keypoints_in_boxes([frame], boxes, [["right", "left"]])))
    est.config.poseprior.frame = est.config.viewpoint.frame = "ray"  # the same nets, read as ray-frame 3D
    for fov in (40.0, 90.0):
        est.camera_fov_deg = fov
        out = [xyz for _, _, xyz in est.keypoints_in_boxes([frame], boxes, [["right", "left"]])]
        R = ray_rotation(torch.from_numpy(intrinsics(120, 160, fov)), torch.from_numpy(boxes[0][:, :2]).double())
        for a, b, r in zip(as_camera, out, R.numpy()):
            np.testing.assert_allclose(b, a @ r.T, atol=1e-6)
        assert not np.allclose(out[0], as_camera[0], atol=1e-4)  # the off-centre hand is turned
        np.testing.assert_allclose(out[1], as_camera[1], atol=1e-6)  # the centred one is not
    with pytest.raises(ValueError):
        est.camera_fov_deg = 0.5
    est = HandPoseEstimator.from_pretrained(tiny_model_dir, device="cpu", camera_fov_deg=70)
    assert est.camera_fov_deg == 70.0


def test_command_line_camera_fov():
    assert build_parser().parse_args(["--camera-fov", "72"]).camera_fov == 72.0
    assert build_parser().parse_args([]).camera_fov is None
    for bad in ("5", "wide"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["--camera-fov", bad])


def test_the_command_line_checks_the_setting_without_loading_torch():
    """``__main__`` imports the command line first, to choose window or batch before anything heavy
    loads; the field-of-view check it uses must not pull in numpy or torch."""
    import subprocess
    import sys

    code = ("import sys, handpose_live.cli; bad = [m for m in ('torch', 'numpy') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
