"""The hand size (palm length) that sets the metric scale of the 3D keypoints: range checks,
the per-hand conversion to the canonical bone, the estimator's output and the command line."""
import numpy as np
import pytest
import torch

from handpose_live.canonical import metric_scale
from handpose_live.cli import build_parser
from handpose_live.hand_size import DEFAULT_PALM_LENGTH_M, check_palm_length
from handpose_live.pipeline import HandPoseEstimator
from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_WRIST


def test_palm_length_range():
    assert check_palm_length(0.095) == pytest.approx(0.095)
    for bad in (0.02, 0.3, float("nan")):
        with pytest.raises(ValueError, match="palm length must be 4-16 cm"):
            check_palm_length(bad)


def test_metric_scale_makes_the_palm_the_given_length():
    canonical = torch.zeros(2, 21, 3)
    canonical[0, RHD_MIDDLE_MCP] = torch.tensor([0.0, -2.0, 0.0])  # palm = 2 bones
    canonical[1, RHD_MIDDLE_MCP] = torch.tensor([0.3, -2.4, 0.4])
    scale = metric_scale(canonical, 0.1)
    palms = (canonical[:, RHD_MIDDLE_MCP] - canonical[:, RHD_WRIST]).norm(dim=-1) * scale
    assert torch.allclose(palms, torch.tensor([0.1, 0.1]))
    assert scale[0] == pytest.approx(0.05)  # the MCP->PIP bone of a 10 cm palm that is 2 bones long


class FixedPrior(torch.nn.Module):
    """A PosePrior that answers one hand shape (random weights put the palm near zero)."""

    def forward(self, maps, one_hot):
        shape = torch.linspace(-1, 1, 63).view(1, 21, 3).repeat(len(maps), 1, 1)
        shape[:, RHD_WRIST] = 0.0
        shape[:, RHD_MIDDLE_MCP] = torch.tensor([0.2, -2.1, 0.3])
        return shape


def test_estimator_output_has_the_set_palm_length(tiny_model_dir):
    est = HandPoseEstimator.from_pretrained(tiny_model_dir, device="cpu", palm_length_m=0.085)
    assert est.palm_length_m == pytest.approx(0.085)
    est.nets["poseprior"] = FixedPrior()
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = [np.array([[80.0, 60.0, 90.0], [50.0, 50.0, 60.0]], np.float32)]
    out = est.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    for _, _, xyz in out:
        assert np.linalg.norm(xyz[RHD_MIDDLE_MCP] - xyz[RHD_WRIST]) == pytest.approx(0.085, rel=1e-3)
    est.palm_length_m = 0.11
    (_, _, xyz), _ = est.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    assert np.linalg.norm(xyz[RHD_MIDDLE_MCP] - xyz[RHD_WRIST]) == pytest.approx(0.11, rel=1e-3)
    with pytest.raises(ValueError):
        est.palm_length_m = 0.5


def test_default_and_command_line():
    assert DEFAULT_PALM_LENGTH_M == pytest.approx(0.10)
    args = build_parser().parse_args(["--hand-size", "9.5"])
    assert args.hand_size == pytest.approx(0.095)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--hand-size", "40"])
