"""scripts/compare_upright_crops.py's geometry: a hand pointing right, cropped upright, has its
wrist below its middle MCP in the crop, keypoints map back to the frame exactly, and the crop
shows the frame's pixels where the map says."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "compare_upright_crops.py"
spec = importlib.util.spec_from_file_location("compare_upright_crops", SCRIPT)
upright = importlib.util.module_from_spec(spec)
spec.loader.exec_module(upright)


@pytest.mark.parametrize("direction", [(1.0, 0.0), (0.0, -1.0), (-0.6, 0.8)])
def test_upright_crop_points_the_hand_up_and_maps_back(direction):
    rng = np.random.default_rng(0)
    d = np.asarray(direction) / np.linalg.norm(direction)
    kp = rng.uniform(-25, 25, (21, 2)) + (150, 150)
    kp[upright.WRIST] = (150, 150)
    kp[upright.MIDDLE_MCP] = (150, 150) + 60 * d
    angle = upright.upright_angle(kp)
    box, to_frame = upright.rotated_box(kp, angle)
    frame = np.zeros((300, 300, 3), np.uint8)
    frame[140:161, 140:161] = (0, 0, 255)  # a red square (BGR) round the wrist
    crop, m = upright.crop_rotated(frame, box, to_frame, 128)
    to_crop = lambda p: (p - m[:, 2]) @ np.linalg.inv(m[:, :2]).T  # noqa: E731
    wrist, mcp = to_crop(kp[upright.WRIST]), to_crop(kp[upright.MIDDLE_MCP])
    assert abs(wrist[0] - mcp[0]) < 1e-6 and wrist[1] > mcp[1] + 20  # straight up in the crop
    inside = to_crop(kp)
    assert ((inside >= 0) & (inside <= 127)).all()  # the keypoint box fits the turned crop
    assert np.allclose(inside @ m[:, :2].T + m[:, 2], kp)
    u, v = np.round(wrist).astype(int)
    assert tuple(crop[v, u]) == (255, 0, 0)  # RGB red where the wrist lies
