"""PoseNet's flip test: the estimator run on a mirrored frame gives the mirrored answer."""
import numpy as np
import pytest
import torch

from handpose_live.checkpoint import build_networks
from handpose_live.model_config import preset
from handpose_live.pipeline import HandPoseEstimator


@pytest.fixture(scope="module")
def light_parts():
    torch.manual_seed(3)
    config = preset("light")
    return config, build_networks(config)


def _run(config, nets, frame, box, flip_test):
    est = HandPoseEstimator(config, nets, device="cpu", precision="fp32", flip_test=flip_test)
    (kp, conf, _xyz, side, p_right), = est.keypoints_in_boxes([frame], [box[None]], [[None]], return_sides=True)
    return kp, conf, side, p_right


def test_flip_test_is_mirror_equivariant(light_parts):
    config, nets = light_parts
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    frame[30:90, 40:100] = (60, 120, 200)  # something that is not symmetric about the crop's centre
    mirrored = np.ascontiguousarray(frame[:, ::-1])
    w = frame.shape[1]
    box = np.array([70.0, 60.0, 64.0], np.float32)
    # crop pixel u sits at cx + (u - size/2) * step, so the mirror image's crop is the crop's mirror
    # (pixel for pixel) one crop pixel to the right of the mirrored centre
    box_m = np.array([w - 1 - 70.0 + 64.0 / config.posenet.input_size, 60.0, 64.0], np.float32)

    kp, conf, side, p = _run(config, nets, frame, box, True)
    kp_m, conf_m, side_m, p_m = _run(config, nets, mirrored, box_m, True)
    kp_m_back = np.stack([w - 1 - kp_m[:, 0], kp_m[:, 1]], 1)
    np.testing.assert_allclose(kp_m_back, kp, atol=0.05)  # px
    np.testing.assert_allclose(conf_m, conf, atol=1e-4)
    assert p + p_m == pytest.approx(1.0, abs=1e-4)
    assert {side, side_m} == {"left", "right"} or abs(p - 0.5) < 1e-4

    # without it, the same random network is not equivariant: the test above can fail
    kp0, _, _, p0 = _run(config, nets, frame, box, False)
    kp0_m, _, _, p0_m = _run(config, nets, mirrored, box_m, False)
    assert np.abs(np.stack([w - 1 - kp0_m[:, 0], kp0_m[:, 1]], 1) - kp0).max() > 0.5 or abs(p0 + p0_m - 1) > 1e-3
