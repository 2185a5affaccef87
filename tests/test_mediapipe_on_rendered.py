"""scripts/mediapipe_on_rendered.py and the worker's landmark answer, without MediaPipe: how the
peer's hands are read (order, handedness, crop window) and scored by evaluate's own code."""
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from handpose_live.crop import box_corners, keypoint_box
from handpose_live.skeleton import rhd_to_user

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


peer = _load("mediapipe_on_rendered")
worker = _load("mediapipe_worker")


def _hand_rhd(seed=0, centre=(160.0, 150.0)):
    """A plausible spread of 21 RHD-order keypoints (px) and 3D points (m)."""
    rng = np.random.default_rng(seed)
    kp2 = np.asarray(centre, np.float32) + rng.uniform(-40, 40, (21, 2)).astype(np.float32)
    kp3 = rng.uniform(-0.08, 0.08, (21, 3)).astype(np.float32) + np.float32([0, 0, 0.5])
    return kp2, kp3


def test_worker_detail_scales_landmarks_to_pixels_and_keeps_the_label():
    lm = [SimpleNamespace(x=i / 40, y=i / 80, z=-i / 100) for i in range(21)]
    world = [SimpleNamespace(x=i * 0.001, y=-i * 0.002, z=0.003) for i in range(21)]
    result = SimpleNamespace(
        multi_hand_landmarks=[SimpleNamespace(landmark=lm)],
        multi_hand_world_landmarks=[SimpleNamespace(landmark=world)],
        multi_handedness=[SimpleNamespace(classification=[SimpleNamespace(label="Left", score=0.93)])])
    (d,) = worker._detail(result, w=640, h=480)
    assert d["handedness_mirrored"] == "Left" and d["score"] == pytest.approx(0.93)
    assert d["kp"][20] == pytest.approx([20 / 40 * 640, 20 / 80 * 480, -0.2])
    assert d["world"][3] == pytest.approx([0.003, -0.006, 0.003])
    empty = SimpleNamespace(multi_hand_landmarks=None, multi_hand_world_landmarks=None, multi_handedness=None)
    assert worker._detail(empty, 640, 480) == []


def test_peer_hands_swap_the_selfie_label_and_take_our_keypoint_window():
    kp2, kp3 = _hand_rhd()
    user = rhd_to_user(kp2)
    detail = [{"kp": np.c_[user, np.zeros(21)].tolist(), "world": rhd_to_user(kp3).tolist(),
               "handedness_mirrored": "Left", "score": 0.9}]
    (h,) = peer.peer_hands(detail)
    assert h.side == "right"  # MediaPipe's "Left" on an unmirrored image is a right hand
    assert peer.peer_hands([dict(detail[0], handedness_mirrored="Right")])[0].side == "left"
    np.testing.assert_allclose(h.keypoints_2d, user, atol=1e-4)  # user order kept, z dropped
    expected = box_corners(keypoint_box(kp2))[0]
    np.testing.assert_allclose(h.crop_box, expected, rtol=1e-5)
    x0, y0, x1, y1 = h.crop_box
    assert x0 < kp2[:, 0].min() and x1 > kp2[:, 0].max() and y0 < kp2[:, 1].min() and y1 > kp2[:, 1].max()


class _FakeWorker:
    """Answers each frame with the hands queued for it."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def process(self, frame, landmarks=False):
        self.calls.append((frame.shape, landmarks))
        return {"hands": 0, "detail": self.answers.pop(0)}


def test_collect_and_summarise_score_the_peer_like_our_full_mode():
    kp_a, xyz_a = _hand_rhd(1)
    kp_b, xyz_b = _hand_rhd(2)
    samples = []
    for kp, xyz, side in ((kp_a, xyz_a, 1), (kp_b, xyz_b, 0)):
        samples.append({"image_rgb": np.zeros((320, 320, 3), np.uint8), "keypoints_2d": kp,
                        "visible": np.ones(21, bool), "keypoints_3d": xyz, "has_3d": True, "side": side})
    exact = {"kp": np.c_[rhd_to_user(kp_a), np.zeros(21)].tolist(), "world": rhd_to_user(xyz_a).tolist(),
             "handedness_mirrored": "Left", "score": 0.95}
    elsewhere = dict(exact, kp=(np.asarray(exact["kp"]) + [200.0, 0.0, 0.0]).tolist())  # off the label
    fake = _FakeWorker([[exact], [elsewhere]])
    rows = peer.collect_peer(fake, samples, n=5)
    assert fake.calls == [((320, 320, 3), True)] * 2  # BGR frames, landmarks asked for
    assert rows["found"].tolist() == [True, False]
    assert rows["side_ok"].tolist() == [True, False]
    np.testing.assert_allclose(rows["full2d"][0], kp_a, atol=1e-4)
    summary = peer.summarise(rows, modes=("full",))
    assert "gt_crop" not in summary and summary["samples"] == 2
    full = summary["full"]
    assert full["hand_found_rate"] == 0.5
    assert full["auc_2d_0_30px"] == pytest.approx(0.5, abs=0.02)  # exact on one hand, missed on the other
    assert full["epe_2d_px"]["median"] == pytest.approx(0.0, abs=1e-3)
    assert full["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-3)
    assert full["rotation_error_deg"]["median"] == pytest.approx(0.0, abs=0.1)
    assert full["side_accuracy_of_found"] == 1.0
