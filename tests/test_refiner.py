"""The keypoint refiner (handpose_live/models/landmark.py): upright crop geometry, the model
folder that holds it, and the estimator using its keypoints."""
import json

import cv2
import numpy as np
import pytest
import torch

from handpose_live import crop as cropping
from handpose_live.checkpoint import CorruptModelError, ModelNotFoundError, build_networks, load_model, save_model
from handpose_live.model_config import ModelConfig, preset
from handpose_live.models.landmark import INPUT_SIZE, LandmarkConfig, LandmarkNet
from handpose_live.pipeline import HandPoseEstimator
from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_WRIST


@pytest.mark.parametrize("deg", [0, 37, 90, -120, 180])
def test_upright_angle_turns_the_hand_to_point_up(deg):
    wrist = np.array([100.0, 100.0])
    a = np.radians(deg)
    mcp = wrist + 40 * np.array([np.sin(a), -np.cos(a)])  # deg clockwise from straight up (y down)
    angle = cropping.upright_angle(wrist, mcp)
    # in the turned crop's axes the wrist -> MCP direction is straight up
    local = (mcp - wrist) @ cropping.rotation_2d(angle)
    assert local[0] == pytest.approx(0, abs=1e-9) and local[1] == pytest.approx(-40)


def test_rotated_crop_maps_points_both_ways():
    frame = np.zeros((240, 320, 3), np.uint8)
    dot = np.array([200.0, 90.0])
    cv2.circle(frame, (200, 90), 2, (255, 255, 255), -1)
    centre, side, to_frame = np.array([180.0, 120.0]), 100.0, cropping.rotation_2d(np.radians(30))
    crop, m = cropping.crop_rotated(frame, centre, side, to_frame, 64)
    assert crop.shape == (64, 64, 3)
    gray = crop[:, :, 0].astype(float)
    ys, xs = np.nonzero(gray > 0.5 * gray.max())
    peak = np.array([xs.mean(), ys.mean()])
    back = m[:, :2] @ peak + m[:, 2]
    assert np.linalg.norm(back - dot) < 1.5  # frame px; one crop px is 1.6 frame px
    assert np.allclose(m[:, :2] @ np.array([32.0, 32.0]) + m[:, 2], centre)


def test_rotated_keypoint_box_unturned_is_the_training_box():
    kp = np.random.default_rng(1).uniform(50, 150, (21, 2))
    centre, side, to_frame = cropping.rotated_keypoint_box(kp, 0.0, 1.3)
    box = cropping.keypoint_box(kp)[0]
    assert np.allclose(centre, box[:2], atol=1e-4) and side == pytest.approx(1.3 * box[2], rel=1e-5)
    assert np.allclose(to_frame, np.eye(2))


def test_model_config_with_and_without_refiner_round_trips():
    config = preset("tiny")
    assert config.landmark is None and ModelConfig.from_dict(config.to_dict()).landmark is None
    config.landmark = LandmarkConfig(crop_scale=1.4, upright=False)
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again.landmark == config.landmark
    bad = config.to_dict()
    bad["landmark"]["crop_scale"] = 9
    with pytest.raises(ValueError, match="crop_scale"):
        ModelConfig.from_dict(bad)
    bad["landmark"] = {"crop": 1.3}
    with pytest.raises(ValueError, match="unknown key"):
        ModelConfig.from_dict(bad)


def _fixed_refiner(points_crop: np.ndarray, presence_logit: float = 10.0, world: np.ndarray | None = None,
                   use: str = "3d") -> LandmarkNet:
    """A refiner that answers ``points_crop`` ``[21, 2]`` (crop px, user order) and the given
    presence for any crop; with ``world`` ``[21, 3]`` (user order, the crop's axes) also those
    world landmarks (``LandmarkConfig.world = use``)."""
    net = LandmarkNet(LandmarkConfig(world=use) if world is not None else None)
    with torch.no_grad():
        if world is not None:
            net.world.weight.zero_()
            net.world.bias.copy_(torch.from_numpy(np.asarray(world, np.float32).reshape(-1)))
        net.presence.weight.zero_()
        net.presence.bias.fill_(presence_logit)
        net.landmarks.weight.zero_()
        bias = np.zeros((21, 3), np.float32)
        bias[:, :2] = points_crop
        net.landmarks.bias.copy_(torch.from_numpy(bias.reshape(-1)))
    return net.eval()


def test_refiner_folder_saves_loads_and_fails_clearly(tmp_path):
    config = preset("tiny")
    config.landmark = LandmarkConfig()
    nets = build_networks(config)
    assert isinstance(nets["landmark"], LandmarkNet)
    folder = save_model(tmp_path / "m", config, nets, dtype=torch.float16)
    config2, nets2, digests = load_model(folder)
    assert config2.landmark == config.landmark and "landmark.safetensors" in digests
    x = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE) - 0.5
    with torch.no_grad():
        a = nets["landmark"].half().float().eval()(x)["landmarks"]
        b = nets2["landmark"](x)["landmarks"]
    assert torch.allclose(a, b, atol=1e-3)
    (folder / "landmark.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match="landmark.safetensors is missing"):
        load_model(folder)
    (folder / "landmark.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CorruptModelError, match="landmark.safetensors"):
        load_model(folder)


def test_estimator_reports_the_refiners_keypoints_in_the_upright_crop(tmp_path):
    torch.manual_seed(0)
    config = preset("tiny")
    nets = build_networks(config)
    plain = HandPoseEstimator(config, nets, device="cpu", precision="fp32")
    # every keypoint 50 crop px straight above the crop's centre: along the hand, towards the fingers
    up = np.tile(np.array([[INPUT_SIZE / 2, INPUT_SIZE / 2 - 50]], np.float32), (21, 1))
    refined_config = ModelConfig.from_dict(config.to_dict())
    refined_config.landmark = LandmarkConfig(crop_scale=1.3)
    refined = HandPoseEstimator(refined_config, {**nets, "landmark": _fixed_refiner(up)}, device="cpu",
                                precision="fp32")
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = [np.array([[80, 60, 64], [50, 40, 52]], np.float32)]
    before = plain.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    after = refined.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    for (kp, conf, xyz), (kp2, conf2, xyz2) in zip(before, after):
        centre, side, _ = cropping.rotated_keypoint_box(
            kp, cropping.upright_angle(kp[RHD_WRIST], kp[RHD_MIDDLE_MCP]), 1.3)
        direction = kp[RHD_MIDDLE_MCP] - kp[RHD_WRIST]
        direction = direction / np.linalg.norm(direction)
        expected = centre + direction * 50 * side / INPUT_SIZE
        assert np.allclose(kp2, expected[None], atol=0.05)
        # the refiner moves only the 2D keypoints: confidences and 3D come from PoseNet's maps
        assert np.array_equal(conf, conf2) and np.array_equal(xyz, xyz2)


def test_a_crop_the_refiner_sees_no_hand_in_keeps_posenets_keypoints():
    torch.manual_seed(0)
    config = preset("tiny")
    nets = build_networks(config)
    plain = HandPoseEstimator(config, nets, device="cpu", precision="fp32")
    refined_config = ModelConfig.from_dict(config.to_dict())
    refined_config.landmark = LandmarkConfig(min_presence=0.5)
    centre = np.full((21, 2), INPUT_SIZE / 2, np.float32)
    frame = np.random.default_rng(1).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = [np.array([[80, 60, 64]], np.float32)]
    before = plain.keypoints_in_boxes([frame], boxes, [["right"]])[0][0]
    for logit, kept in ((-3.0, True), (3.0, False)):  # presence 0.05, 0.95
        est = HandPoseEstimator(refined_config, {**nets, "landmark": _fixed_refiner(centre, logit)},
                                device="cpu", precision="fp32")
        after = est.keypoints_in_boxes([frame], boxes, [["right"]])[0][0]
        assert np.array_equal(after, before) == kept


def test_lifting_on_drawn_maps_reads_the_reported_keypoints():
    """A model whose lifting nets read maps drawn from keypoints (``LiftingConfig.maps``) gives
    PosePrior the maps ``heatmaps.encode`` draws from the refiner's keypoints in PoseNet's crop."""
    from handpose_live.heatmaps import encode

    torch.manual_seed(0)
    config = preset("tiny")
    config.poseprior.maps = config.viewpoint.maps = "keypoints"
    config.landmark = LandmarkConfig()
    up = np.tile(np.array([[INPUT_SIZE / 2, INPUT_SIZE / 2 - 40]], np.float32), (21, 1))
    up[:, 0] += np.arange(21) * 3  # spread along x so every keypoint has its own peak
    nets = {**build_networks(config), "landmark": _fixed_refiner(up)}
    # PyTorch runs the lifting nets, so that the wrapped forward below sees their inputs (the
    # backend changes what runs them, not what they are given)
    est = HandPoseEstimator(config, nets, device="cpu", precision="fp32", backend="torch")
    seen = []
    prior = est.nets["poseprior"]
    forward = prior.forward
    prior.forward = lambda maps, *rest: seen.append(maps.clone()) or forward(maps, *rest)
    frame = np.random.default_rng(2).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    box = np.array([[80, 60, 64]], np.float32)
    kp, _, _ = est.keypoints_in_boxes([frame], [box], [["right"]])[0]
    size = config.posenet.input_size
    kp_crop = cropping.frame_to_crop(torch.from_numpy(kp)[None], torch.from_numpy(box), size)
    expected = encode(kp_crop, torch.ones(1, 21, dtype=torch.bool), size, seen[0].shape[-1])
    assert torch.allclose(seen[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="same maps"):
        bad = preset("tiny")
        bad.viewpoint.maps = "keypoints"
        ModelConfig.from_dict(bad.to_dict())


def _world_fixture() -> np.ndarray:
    """World landmarks ``[21, 3]`` (user order, metres, the crop's axes), all distinct."""
    k = np.arange(21, dtype=np.float32)[:, None]
    return np.concatenate([0.004 * k, -0.006 * k + 0.001 * k ** 1.5, 0.002 * np.sin(k)], 1).astype(np.float32)


def test_world_3d_reports_the_refiners_world_landmarks_turned_to_the_frame():
    """``LandmarkConfig(world="3d")``: a hand the refiner sees gets its world landmarks as the 3D,
    turned from the upright crop's axes to the frame's (x, y by the crop's angle, z as is),
    wrist-relative, scaled so the wrist -> middle MCP distance is the palm length; a hand it sees
    no hand in keeps the lifting nets' 3D."""
    from handpose_live.skeleton import user_to_rhd

    torch.manual_seed(0)
    config = preset("tiny")
    nets = build_networks(config)
    plain = HandPoseEstimator(config, nets, device="cpu", precision="fp32")
    world = _world_fixture()
    centre = np.full((21, 2), INPUT_SIZE / 2, np.float32)
    cfg = ModelConfig.from_dict(config.to_dict())
    cfg.landmark = LandmarkConfig(world="3d")
    frame = np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    boxes = [np.array([[80, 60, 64], [50, 40, 52]], np.float32)]
    before = plain.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    est = HandPoseEstimator(cfg, {**nets, "landmark": _fixed_refiner(centre, 10.0, world)}, device="cpu",
                            precision="fp32")
    after = est.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    for (kp, _, _), (_, _, xyz) in zip(before, after):
        to_frame = cropping.rotation_2d(cropping.upright_angle(kp[RHD_WRIST], kp[RHD_MIDDLE_MCP]))
        expected = np.concatenate([world[:, :2] @ to_frame.T, world[:, 2:]], 1)
        expected = user_to_rhd(expected - expected[0])
        expected *= cfg.palm_length_m / np.linalg.norm(expected[RHD_MIDDLE_MCP])
        assert np.allclose(xyz, expected, atol=1e-5)
        assert not np.allclose(to_frame, np.eye(2), atol=0.05)  # the crops are turned: the test can tell
    est = HandPoseEstimator(cfg, {**nets, "landmark": _fixed_refiner(centre, -10.0, world)}, device="cpu",
                            precision="fp32")
    unseen = est.keypoints_in_boxes([frame], boxes, [["right", "left"]])
    for (_, _, xyz), (_, _, xyz2) in zip(before, unseen):
        assert np.array_equal(xyz, xyz2)


def test_lifting_nets_read_the_refiners_world_landmarks():
    """Lifting nets with ``LiftingConfig.world`` get ``world_input`` of the refiner's world
    landmarks turned to the frame (zeros where the refiner sees no hand), and their answer depends
    on it; a model config that asks for them without a refiner giving them is refused."""
    from handpose_live.models.lifting import world_input
    from handpose_live.skeleton import user_to_rhd

    torch.manual_seed(0)
    config = preset("tiny")
    config.poseprior.world = config.viewpoint.world = True
    config.landmark = LandmarkConfig(world="lifting")
    nets = build_networks(config)
    world = _world_fixture()
    centre = np.full((21, 2), INPUT_SIZE / 2, np.float32)
    frame = np.random.default_rng(4).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    box = [np.array([[80, 60, 64]], np.float32)]
    results = {}
    for logit in (10.0, -10.0):
        est = HandPoseEstimator(config, {**nets, "landmark": _fixed_refiner(centre, logit, world, "lifting")},
                                device="cpu", precision="fp32", backend="torch")  # forward wrapped below
        seen, placed = [], []  # the lifting nets' world input; PoseNet's keypoints (they place the crop)
        prior = est.nets["poseprior"]
        forward = type(prior).forward.__get__(prior)  # the class's, not a wrapper left by the loop before
        prior.forward = lambda maps, side, image=None, world=None, f=forward: seen.append(world.clone()) or f(
            maps, side, image, world=world)
        refine = est._refine
        est._refine = lambda frames, kp_rhd, f=refine: placed.append(kp_rhd[0].copy()) or f(frames, kp_rhd)
        _, _, xyz = est.keypoints_in_boxes([frame], box, [["right"]])[0]
        results[logit] = xyz
        kp = placed[0]
        if logit > 0:
            to_frame = cropping.rotation_2d(cropping.upright_angle(kp[RHD_WRIST], kp[RHD_MIDDLE_MCP]))
            turned = np.concatenate([world[:, :2] @ to_frame.T, world[:, 2:]], 1)
            expected = world_input(torch.from_numpy(user_to_rhd(turned))[None].float())
            assert torch.allclose(seen[0], expected, atol=1e-5)
        else:
            assert torch.equal(seen[0], torch.zeros(1, 21, 3))
    assert not np.allclose(results[10.0], results[-10.0])
    bad = preset("tiny")
    bad.poseprior.world = bad.viewpoint.world = True
    with pytest.raises(ValueError, match="world"):
        ModelConfig.from_dict(bad.to_dict())
    with pytest.raises(ValueError, match="world"):
        LandmarkConfig(world="yes")


def test_world_input_is_wrist_relative_and_scale_free():
    from handpose_live.models.lifting import world_input

    w = torch.from_numpy(_world_fixture())[None] + torch.tensor([0.3, -0.1, 0.5])
    a, b = world_input(w), world_input(w * 2.5)
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(a[:, RHD_WRIST], torch.zeros(1, 3))
    assert a[0, RHD_MIDDLE_MCP].norm().item() == pytest.approx(1.0, abs=1e-6)
    assert torch.equal(world_input(torch.zeros(2, 21, 3)), torch.zeros(2, 21, 3))
