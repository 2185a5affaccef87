"""Smoke runs of every stage, export to a model folder the estimator loads, and an over-fit test.
Rendering needs the hand mesh in ../shared/data (skipped without it)."""
import json

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from conftest import SHARED_DATA
from handpose_live.model_config import preset
from handpose_live.pipeline import HandPoseEstimator
from training import checkpoints, evaluate, export, stages, train
from training.data_mix import CONTRACT_KEYS

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (SHARED_DATA / "hand_mesh" / "right.glb").exists(),
                                reason="needs ../shared/data/hand_mesh")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(out), "--log-every", "2", "--ckpt-every", "3"]
    for stage in ("handseg", "posenet", "lifting"):
        assert train.main(["--stage", stage, "--iters", "4", *common]) == 0
    return out


def test_every_stage_writes_checkpoint_curves_and_plot(trained):
    for stage in ("handseg", "posenet", "lifting"):
        d = trained / stage
        state = checkpoints.load(d / "last.pt")
        assert state["iteration"] == 4 and state["stage"] == stage
        assert state["config"]["posenet"]["input_size"] == 64  # the full config travels along
        assert "--stage" in state["argv"] and state["args"]["seed"] == 0
        rows = (d / "curves.csv").read_text().splitlines()
        assert rows[0].startswith("iteration,lr,seconds,loss") and len(rows) == 3
        assert (d / "curves.png").stat().st_size > 1000


def test_stages_fit_together(trained, tmp_path):
    """PoseNet fine-tuned on HandSegNet's crops; lifting on PoseNet's predicted maps."""
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(tmp_path), "--iters", "2"]
    assert train.main(["--stage", "posenet", "--handseg", str(trained / "handseg/last.pt"), *common]) == 0
    # images and keypoint-only poses in one mixture: PoseNet's maps for the one, ground truth for the other
    assert train.main(["--stage", "lifting", "--posenet", str(trained / "posenet/last.pt"), *common,
                       "--data", "render:1,render_poses:1"]) == 0
    assert checkpoints.load(tmp_path / "lifting" / "last.pt")["args"]["posenet"].endswith("last.pt")


def test_init_with_a_side_head_and_fewer_stages(trained, tmp_path, capsys):
    """--init from a paper-shaped PoseNet into one with a side head and one refinement stage:
    shared layers keep the checkpoint's weights, the head is new, the dropped stage is reported."""
    args = ["--stage", "posenet", "--init", str(trained / "posenet/last.pt"), "--side-head", "--refine-stages", "1",
            "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128", "--out", str(tmp_path),
            "--iters", "2", "--log-every", "1", "--lr", "1e-12"]
    assert train.main(args) == 0
    assert "new ['side." in capsys.readouterr().out
    state = checkpoints.load(tmp_path / "posenet" / "last.pt")
    assert state["config"]["posenet"]["side_head"] is True and state["config"]["posenet"]["refine_stages"] == 1
    before = checkpoints.load(trained / "posenet" / "last.pt")["networks"]["posenet"]
    after = state["networks"]["posenet"]
    assert not any(k.startswith("stages.1.") for k in after)
    key = "encoder.0.0.weight"
    assert torch.allclose(after[key], before[key], atol=1e-6)  # lr ~0: still the checkpoint's
    header = (tmp_path / "posenet" / "curves.csv").read_text().splitlines()[0]
    assert "loss_side" in header and "loss_maps" in header
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(tmp_path / "posenet/last.pt"),
                        "--lifting", str(trained / "lifting/last.pt"), "--out", str(model), "--name", "side"]) == 0
    assert HandPoseEstimator.from_pretrained(model, device="cpu").config.posenet.side_head
    assert evaluate.main(["--model", str(model), "--data", "render", "--n", "2", "--image-size", "128",
                          "--out", str(tmp_path / "eval"), "--device", "cpu"]) == 0
    summary = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert 0 <= summary["gt_crop"]["side_head_accuracy"] <= 1


def test_lifting_reading_image_features_continues_from_plain_lifting_and_exports(trained, tmp_path, capsys):
    """--image-features with --init from lifting nets without them: widened, trained on PoseNet's
    maps and features, exported into a model the estimator and the evaluation run."""
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(tmp_path), "--iters", "2"]
    with pytest.raises(SystemExit, match="--posenet"):
        train.main(["--stage", "lifting", "--image-features", *common])
    assert train.main(["--stage", "lifting", "--posenet", str(trained / "posenet/last.pt"), "--init",
                       str(trained / "lifting/last.pt"), "--image-features", *common]) == 0
    assert "widened with zero weights ['fc.0']" in capsys.readouterr().out
    state = checkpoints.load(tmp_path / "lifting" / "last.pt")
    assert state["config"]["viewpoint"]["image_channels"] > 0
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(tmp_path / "lifting/last.pt"), "--out", str(model), "--name", "feat"]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu")
    assert est.config.poseprior.image_channels == est.nets["posenet"].feature_channels
    assert evaluate.main(["--model", str(model), "--data", "render", "--n", "2", "--image-size", "128",
                          "--out", str(tmp_path / "eval"), "--device", "cpu"]) == 0
    assert "auc_3d_20_50mm" in json.loads((tmp_path / "eval" / "metrics.json").read_text())["gt_crop"]


def test_handseg_crops_follow_the_regions():
    from fakes import RedIsHandSegNet
    from training.render.dataset import RenderedHands

    ds = RenderedHands(2, seed=1, size=128)
    batch = default_collate([{k: ds[i][k] for k in CONTRACT_KEYS} for i in range(2)])
    batch["image_rgb"][:] = 90
    kp = batch["keypoints_2d"][0]
    x0, y0 = [int(v) for v in kp.min(0).values]
    x1, y1 = [int(v) + 1 for v in kp.max(0).values]
    batch["image_rgb"][0, y0:y1, x0:x1] = torch.tensor([255, 0, 0], dtype=torch.uint8)  # red = a hand
    fallback = torch.full((2, 3), -1.0)
    boxes = stages.handseg_crop_boxes(RedIsHandSegNet(), batch, preset("tiny"), "cpu", fallback)
    assert boxes[1].tolist() == [-1.0, -1.0, -1.0]  # nothing found: the fallback
    assert boxes[0, :2].tolist() == pytest.approx([(x0 + x1) / 2, (y0 + y1) / 2], abs=3)


def test_resume_continues_from_the_checkpoint(trained, capsys):
    args = ["--stage", "posenet", "--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0",
            "--image-size", "128", "--out", str(trained), "--iters", "6", "--log-every", "2", "--resume"]
    before = checkpoints.load(trained / "posenet" / "last.pt")
    assert train.main(args) == 0
    after = checkpoints.load(trained / "posenet" / "last.pt")
    assert after["iteration"] == 6
    assert after["optimizer"]["state"][0]["step"] == before["optimizer"]["state"][0]["step"] + 2
    assert (trained / "posenet" / "curves.csv").read_text().splitlines()[-1].startswith("6,")


def test_resume_with_a_longer_cosine_schedule_replays_it(tmp_path):
    common = ["--stage", "lifting", "--preset", "tiny", "--data", "render_poses", "--batch", "2", "--workers", "0",
              "--image-size", "128", "--out", str(tmp_path), "--schedule", "cosine", "--lr", "1e-3"]
    assert train.main([*common, "--iters", "4"]) == 0
    assert train.main([*common, "--iters", "8", "--resume"]) == 0
    rows = (tmp_path / "lifting" / "curves.csv").read_text().splitlines()
    lr_at_8 = float(rows[-1].split(",")[1])
    assert lr_at_8 == pytest.approx(1e-5, rel=1e-3)  # the end of the 8-iteration cosine: eta_min
    state = checkpoints.load(tmp_path / "lifting" / "last.pt")
    assert state["iteration"] == 8 and state["args"]["iters"] == 8


def test_export_gives_a_model_the_estimator_runs_and_evaluate_writes_json(trained, tmp_path):
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(trained / "lifting/last.pt"), "--out", str(model), "--name", "smoke",
                        "--fp16"]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu")
    assert est.model_name == "smoke"
    # the folder holds the checkpoints' weights (fp16-rounded) and the HandSegNet's detection options
    # (read from the folder: an estimator holds its autocast networks' weights at its precision)
    from handpose_live.checkpoint import load_model

    _, folder_nets, _ = load_model(model)
    for stage, net in (("posenet", "posenet"), ("handseg", "handsegnet"), ("lifting", "viewpoint")):
        trained_state = checkpoints.load(trained / stage / "last.pt")["networks"][net]
        exported = folder_nets[net].state_dict()
        assert trained_state.keys() == exported.keys()
        for key, value in trained_state.items():
            assert torch.allclose(exported[key].float(), value.float().half().float(), atol=1e-6), (net, key)
    handseg_config = checkpoints.load(trained / "handseg" / "last.pt")["config"]["detection"]
    assert est.config.detection.min_score == handseg_config["min_score"]
    assert len(est.process([np.zeros((120, 160, 3), np.uint8)])) == 1  # one (empty or not) list per frame
    out = tmp_path / "eval"
    assert evaluate.main(["--model", str(model), "--data", "render", "--n", "3", "--image-size", "128",
                          "--out", str(out), "--device", "cpu"]) == 0
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["samples"] == 3
    assert 0 <= summary["gt_crop"]["auc_2d_0_30px"] <= 1 and "auc_3d_20_50mm" in summary["gt_crop"]
    assert 0 <= summary["full"]["hand_found_rate"] <= 1
    assert (out / "pck_2d.png").exists() and (out / "pck_3d.png").exists()


def test_training_loads_checkpoints_without_unpickling_objects(trained, tmp_path):
    import os

    bad = tmp_path / "object.pt"
    torch.save({"x": os.getcwd}, bad)  # a reference to arbitrary code: refused by weights_only
    with pytest.raises(ValueError, match="cannot be read"):
        checkpoints.load(bad)
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        checkpoints.load(tmp_path / "garbage.pt")


@pytest.mark.parametrize("stage, lr, factor", [("lifting", 1e-3, 5.0), ("handseg", 3e-3, 2.5), ("posenet", 3e-3, 1.3)])
def test_overfit_a_fixed_batch(stage, lr, factor):
    """80 Adam steps on 4 fixed rendered samples: the loss falls by at least ``factor``."""
    from training.render.dataset import RenderedHands

    torch.manual_seed(0)
    ds = RenderedHands(4, seed=5, size=128)
    batch = default_collate([{k: ds[i][k] for k in CONTRACT_KEYS} for i in range(4)])
    config = preset("tiny")
    nets = stages.build(stage, config)
    opt = torch.optim.Adam([p for m in nets.values() for p in m.parameters()], lr=lr)
    step = {"handseg": stages.handseg_step, "posenet": stages.posenet_step, "lifting": stages.lifting_step}[stage]
    kwargs = {} if stage == "handseg" else {"noise": None}
    losses = []
    for _ in range(80):
        loss = step(nets, batch, config, np.random.default_rng(0), "cpu", **kwargs)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] / losses[-1] > factor, losses[::10]


def test_lifting_on_maps_drawn_from_keypoints_trains_and_exports(trained, tmp_path):
    """--lifting-maps keypoints: the nets train on maps drawn from the labels beside PoseNet's
    image features, the choice travels in the config, and the exported model runs and evaluates."""
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(tmp_path), "--iters", "2"]
    assert train.main(["--stage", "lifting", "--posenet", str(trained / "posenet/last.pt"), "--image-features",
                       "--lifting-maps", "keypoints", *common]) == 0
    state = checkpoints.load(tmp_path / "lifting" / "last.pt")
    assert state["config"]["poseprior"]["maps"] == state["config"]["viewpoint"]["maps"] == "keypoints"
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(tmp_path / "lifting/last.pt"), "--out", str(model), "--name", "drawn"]) == 0
    assert HandPoseEstimator.from_pretrained(model, device="cpu").config.poseprior.maps == "keypoints"
    assert evaluate.main(["--model", str(model), "--data", "render", "--n", "2", "--image-size", "128",
                          "--out", str(tmp_path / "eval"), "--device", "cpu"]) == 0


def test_lifting_in_the_ray_frame_trains_and_exports(trained, tmp_path):
    """--lifting-frame ray: continuing camera-frame nets, the choice travels in the checkpoint's and
    the exported model's config, and the exported model turns its 3D with the camera's field of view."""
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(tmp_path), "--iters", "2"]
    assert train.main(["--stage", "lifting", "--init", str(trained / "lifting/last.pt"), "--lifting-frame", "ray",
                       *common]) == 0
    state = checkpoints.load(tmp_path / "lifting" / "last.pt")
    assert state["config"]["poseprior"]["frame"] == state["config"]["viewpoint"]["frame"] == "ray"
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(tmp_path / "lifting/last.pt"), "--out", str(model), "--name", "ray"]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu", precision="fp32")
    assert est.config.viewpoint.frame == "ray"
    frame = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    box = [np.array([[100, 20, 40]], np.float32)]
    (_, _, narrow), = est.keypoints_in_boxes([frame], box, [["left"]])
    est.camera_fov_deg = 120
    (_, _, wide), = est.keypoints_in_boxes([frame], box, [["left"]])
    assert np.isfinite(wide).all() and not np.allclose(narrow, wide, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(narrow, axis=1), np.linalg.norm(wide, axis=1), rtol=1e-4, atol=1e-6)


def test_drawn_lifting_maps_sit_in_the_crops_posenet_reads():
    """In ``lifting_step`` with drawn maps, each map's peak lies where the labelled keypoint falls
    in the crop PoseNet's image features come from (one set of boxes for both)."""
    config = preset("tiny")
    config.poseprior.maps = config.viewpoint.maps = "keypoints"
    gen = torch.Generator().manual_seed(0)
    kp = torch.tensor([[[30.0 + 2 * k, 40.0 + k] for k in range(21)]])
    batch = {"keypoints_2d": kp, "visible": torch.ones(1, 21, dtype=torch.bool)}
    boxes = torch.tensor([[60.0, 55.0, 80.0]])
    maps = stages.ground_truth_maps(batch, config, stages.CropNoise(), None, gen, boxes=boxes)
    size, m = config.posenet.input_size, config.posenet.map_size
    peak = maps[0].flatten(1).argmax(1)
    cells = torch.stack([peak % m, peak // m], 1).float()
    expected = ((kp[0] - boxes[0, :2]) * size / boxes[0, 2] + size / 2) * m / size
    assert (cells - expected).abs().max() <= 1.0


def test_keypoint_refiner_stage_trains_and_exports(trained, tmp_path):
    """--stage landmark trains the refiner (here from scratch, two steps) on upright crops; its
    checkpoint carries the refiner's config and goes into a model folder with --landmark."""
    common = ["--preset", "tiny", "--data", "render:1,handfree:0.5", "--batch", "2", "--workers", "0",
              "--image-size", "128", "--out", str(tmp_path), "--iters", "2", "--log-every", "1"]
    assert train.main(["--stage", "landmark", *common]) == 0
    state = checkpoints.load(tmp_path / "landmark" / "last.pt")
    assert state["config"]["landmark"]["crop_scale"] == 1.3 and "landmark" in state["networks"]
    header = (tmp_path / "landmark" / "curves.csv").read_text().splitlines()[0]
    assert "loss_keypoints" in header and "loss_presence" in header
    with pytest.raises(SystemExit, match="has no landmark network"):
        train.main(["--stage", "landmark", "--init", str(trained / "posenet/last.pt"), *common])
    model = tmp_path / "model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(trained / "lifting/last.pt"), "--landmark", str(tmp_path / "landmark/last.pt"),
                        "--out", str(model), "--name", "refined"]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu")
    assert "landmark" in est.nets and est.config.landmark.crop_scale == 1.3


def test_refiner_crops_are_upright_and_carry_the_keypoints():
    """``landmark_crops`` without noise: the label's wrist lies straight below its middle-finger
    base in the crop, and a bright dot drawn at a keypoint in the image is where the crop's
    keypoint says."""
    config = preset("tiny")
    config.landmark = None
    stages.build("landmark", config)  # gives the config its refiner section
    rng = np.random.default_rng(3)
    kp = rng.uniform(60, 140, (21, 2)).astype(np.float32)
    kp[0] = (100, 150)  # RHD wrist
    kp[12] = (150, 110)  # RHD middle MCP: the hand points up and to the right
    image = np.zeros((256, 256, 3), np.uint8)
    import cv2

    from handpose_live.skeleton import rhd_to_user

    dot = kp[4]  # one keypoint (RHD index 4)
    cv2.circle(image, (int(round(dot[0])), int(round(dot[1]))), 3, (255, 255, 255), -1)
    batch = {"keypoints_2d": torch.from_numpy(kp)[None], "visible": torch.ones(1, 21, dtype=torch.bool),
             "image_rgb": torch.from_numpy(image)[None]}
    crops, kp_crop = stages.landmark_crops(batch, config, None)
    assert crops.shape == (1, 3, 224, 224)
    wrist, mcp = kp_crop[0, 0], kp_crop[0, 9]  # user order
    assert abs(float(wrist[0] - mcp[0])) < 1e-3 and float(wrist[1] - mcp[1]) > 10
    gray = crops[0, 0].numpy()
    ys, xs = np.nonzero(gray > gray.max() * 0.5)
    j = list(rhd_to_user(np.arange(21).reshape(21, 1))[:, 0]).index(4)  # where RHD 4 sits in user order
    at = kp_crop[0, j].numpy()
    assert np.hypot(xs.mean() - at[0], ys.mean() - at[1]) < 2.0


def _world_refiner_folder(path):
    """A model folder whose (random) keypoint refiner has the world-landmark head."""
    from handpose_live.checkpoint import build_networks, save_model
    from handpose_live.models import LandmarkConfig

    config = preset("tiny")
    config.landmark = LandmarkConfig(world="3d")
    return save_model(path, config, build_networks(config))


def test_lifting_reading_world_landmarks_continues_trains_and_exports(trained, tmp_path, capsys):
    """--lifting-world FOLDER: lifting nets without the input continue (their first layer widened
    with zeros), train on the folder's refiner's world landmarks, and the exported model carries
    that refiner with world "lifting" and runs; without a refiner the flag fails in one line."""
    refiner = _world_refiner_folder(tmp_path / "refiner")
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--out", str(tmp_path), "--iters", "2"]
    assert train.main(["--stage", "lifting", "--init", str(trained / "lifting/last.pt"), "--lifting-world",
                       str(refiner), *common]) == 0
    assert "widened with zero weights ['fc.0']" in capsys.readouterr().out
    state = checkpoints.load(tmp_path / "lifting" / "last.pt")
    assert state["config"]["poseprior"]["world"] and state["config"]["landmark"]["world"] == "lifting"
    model = tmp_path / "model"
    base = ["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
            "--lifting", str(tmp_path / "lifting/last.pt"), "--out", str(model), "--name", "world"]
    assert export.main(base) == 2  # the lifting nets need the refiner
    assert export.main([*base, "--landmark", str(refiner)]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu")
    assert est.config.landmark.world == "lifting" and est.config.poseprior.world
    frame = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    (kp, _, xyz), = est.keypoints_in_boxes([frame], [np.array([[64, 48, 60]], np.float32)], [["left"]])
    assert xyz.shape == (21, 3) and np.isfinite(xyz).all()
    with pytest.raises(SystemExit, match="lifting-world"):
        train.main(["--stage", "lifting", "--lifting-world", str(trained / "lifting/last.pt"), *common])


def test_handseg_from_a_folder_whose_lifting_reads_world_landmarks_exports(trained, tmp_path):
    """A HandSegNet continued from a model folder with a world-reading refiner and lifting nets
    leaves the refiner out of its checkpoint, and so also the lifting nets' world input: the
    checkpoint's configuration loads, and export puts the new HandSegNet beside the folder's
    other networks (before, export stopped on that configuration with a ValueError)."""
    refiner = _world_refiner_folder(tmp_path / "refiner")
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0", "--image-size", "128",
              "--iters", "2"]
    assert train.main(["--stage", "lifting", "--init", str(trained / "lifting/last.pt"), "--lifting-world",
                       str(refiner), "--out", str(tmp_path / "l"), *common]) == 0
    folder = tmp_path / "world_model"
    assert export.main(["--handseg", str(trained / "handseg/last.pt"), "--posenet", str(trained / "posenet/last.pt"),
                        "--lifting", str(tmp_path / "l/lifting/last.pt"), "--landmark", str(refiner),
                        "--out", str(folder), "--name", "world"]) == 0
    assert train.main(["--stage", "handseg", "--init", str(folder), "--out", str(tmp_path / "h"), *common]) == 0
    state = checkpoints.load(tmp_path / "h" / "handseg" / "last.pt")
    assert state["config"]["landmark"] is None and not state["config"]["poseprior"]["world"]
    model = tmp_path / "model"
    assert export.main(["--handseg", str(tmp_path / "h/handseg/last.pt"), "--posenet", str(folder),
                        "--lifting", str(folder), "--landmark", str(folder), "--out", str(model),
                        "--name", "new-handseg"]) == 0
    est = HandPoseEstimator.from_pretrained(model, device="cpu")
    assert est.config.poseprior.world and est.config.landmark.world == "lifting"
    # a checkpoint written before the fix (the refiner dropped, the world input kept) exports too
    state["config"]["poseprior"]["world"] = state["config"]["viewpoint"]["world"] = True
    torch.save(state, tmp_path / "old.pt")
    assert export.main(["--handseg", str(tmp_path / "old.pt"), "--posenet", str(folder), "--lifting", str(folder),
                        "--landmark", str(folder), "--out", str(tmp_path / "model_old"), "--name", "old"]) == 0


def _fixed_refiner(config, landmarks_crop: np.ndarray, world: np.ndarray):
    """A refiner whose answer is fixed: ``landmarks_crop`` ``[21, 2]`` (crop px, user order), its
    world landmarks ``world`` ``[21, 3]``, a hand always present."""
    from handpose_live.models import LandmarkNet

    net = LandmarkNet(config.landmark).eval()
    lm = np.concatenate([landmarks_crop, np.zeros((21, 1))], 1).astype(np.float32)
    with torch.no_grad():
        for layer, bias in ((net.landmarks, lm), (net.world, world.astype(np.float32))):
            layer.weight.zero_()
            layer.bias.copy_(torch.from_numpy(bias.reshape(-1)))
        net.presence.weight.zero_()
        net.presence.bias.fill_(10.0)
    return net


def _upright_hand_batch(n: int, seed: int = 5) -> dict:
    kp = np.random.default_rng(seed).uniform(60, 140, (n, 21, 2)).astype(np.float32)
    kp[:, 0] = (100, 150)  # RHD wrist
    kp[:, 12] = (150, 110)  # RHD middle MCP
    return {"keypoints_2d": torch.from_numpy(kp), "visible": torch.ones(n, 21, dtype=torch.bool),
            "image_rgb": torch.zeros(n, 256, 256, 3, dtype=torch.uint8), "weight": torch.ones(n)}


def test_training_world_input_turns_like_the_run_time():
    """``refiner_world`` (training) turns the refiner's world landmarks from the upright crop's
    axes to the frame's as the estimator does: for a refiner with fixed world landmarks and the
    run time's crop of the label keypoints (no noise), the input is ``world_input`` of the world
    landmarks turned by the crop's angle; dropped samples and hand-free ones read zeros."""
    from handpose_live import crop as cropping
    from handpose_live.models import LandmarkConfig
    from handpose_live.models.lifting import world_input
    from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_WRIST, user_to_rhd

    config = preset("tiny")
    config.landmark = LandmarkConfig(world="lifting")
    k = np.arange(21, dtype=np.float32)[:, None]
    world = np.concatenate([0.004 * k, -0.006 * k + 0.001 * k ** 1.5, 0.002 * np.sin(k)], 1).astype(np.float32)
    net = _fixed_refiner(config, np.zeros((21, 2)), world)
    batch = _upright_hand_batch(2)
    batch["visible"][1] = False  # a hand-free sample
    kp = batch["keypoints_2d"].numpy()
    got = stages.refiner_world(net, batch, config, torch.device("cpu"), noise=None, drop=0.0)
    to_frame = cropping.rotation_2d(cropping.upright_angle(kp[0, RHD_WRIST], kp[0, RHD_MIDDLE_MCP]))
    turned = np.concatenate([world[:, :2] @ to_frame.T, world[:, 2:]], 1)
    expected = world_input(torch.from_numpy(user_to_rhd(turned))[None].float())
    assert torch.allclose(got[:1], expected, atol=1e-2)  # the refiner runs in bf16 where the CPU has it
    assert torch.equal(got[1], torch.zeros(21, 3))
    dropped = stages.refiner_world(net, batch, config, torch.device("cpu"), noise=None, drop=1.0)
    assert torch.equal(dropped, torch.zeros(2, 21, 3))


def test_refiner_keypoints_for_lifting_map_back_to_the_frame():
    """``refiner_world(..., return_keypoints=True)``: a refiner that answers exactly the label's
    keypoints in its upright crop gives the labels back in frame px (RHD order) — the keypoints
    ``--lifting-refined`` draws maps from are where the refiner put them in the image."""
    from handpose_live.models import LandmarkConfig

    config = preset("tiny")
    config.landmark = LandmarkConfig(world="lifting")
    batch = _upright_hand_batch(1)
    _, kp_crop = stages.landmark_crops(batch, config, None)
    net = _fixed_refiner(config, kp_crop[0].numpy(), np.zeros((21, 3)))
    _, kp, seen = stages.refiner_world(net, batch, config, torch.device("cpu"), noise=None, drop=0.0,
                                       return_keypoints=True)
    assert bool(seen[0])
    # bf16 where the CPU has it: the fixed answer (~100-200 crop px) is rounded to ~1 px
    assert (kp[0] - batch["keypoints_2d"][0]).abs().max() < 2.0
    batch["visible"][0] = False  # a hand-free sample has no refined keypoints
    assert not bool(stages.refiner_world(net, batch, config, torch.device("cpu"), noise=None,
                                         return_keypoints=True)[2][0])


def test_teacher_replaces_pseudo_labels_and_holds_world_landmarks():
    """``landmark_step`` with a teacher: a pseudo-labelled sample learns the teacher's keypoints on
    its crop (a student equal to the teacher has no keypoint or world loss there, whatever its
    label says), while an exactly labelled sample keeps its label (the same loss as without one);
    a teacher that sees no hand leaves the pseudo-label in place."""
    from handpose_live.models import LandmarkConfig

    config = preset("tiny")
    config.landmark = LandmarkConfig(world="lifting")
    answer = np.random.default_rng(1).uniform(80, 140, (21, 2))
    world = np.random.default_rng(2).normal(0, 0.03, (21, 3))
    student = _fixed_refiner(config, answer, world)
    teacher = _fixed_refiner(config, answer, world)
    batch = _upright_hand_batch(2)
    batch["is_pseudo_label"] = torch.tensor([True, False])
    cpu = torch.device("cpu")
    plain = [stages.landmark_step({"landmark": student}, {k: v[i:i + 1] for k, v in batch.items()}, config,
                                  None, cpu, noise=None) for i in range(2)]
    taught = [stages.landmark_step({"landmark": student}, {k: v[i:i + 1] for k, v in batch.items()}, config,
                                   None, cpu, noise=None, teacher=teacher) for i in range(2)]
    assert float(plain[0]["loss_keypoints"].detach()) > 1e-3  # the label differs from the answer
    assert float(taught[0]["loss_keypoints"].detach()) < 1e-8 and float(taught[0]["loss_world"].detach()) < 1e-8
    assert torch.isclose(taught[1]["loss_keypoints"], plain[1]["loss_keypoints"])
    with torch.no_grad():
        teacher.world.bias.add_(0.01)  # a teacher whose world landmarks differ: the student is pulled
    assert float(stages.landmark_step({"landmark": student}, batch, config, None, cpu, noise=None,
                                      teacher=teacher)["loss_world"].detach()) > 1e-4
    with torch.no_grad():
        teacher.presence.bias.fill_(-10.0)  # sees no hand: the label stands
    blind = stages.landmark_step({"landmark": student}, {k: v[:1] for k, v in batch.items()}, config, None, cpu,
                                 noise=None, teacher=teacher)
    assert torch.isclose(blind["loss_keypoints"], plain[0]["loss_keypoints"])


def test_teacher_and_refined_share_flags(trained, tmp_path):
    """--landmark-teacher trains the refiner (from scratch here) with a frozen folder's refiner as
    teacher; --lifting-refined trains lifting nets that read drawn maps and world landmarks; each flag is
    refused in one line where it does not apply."""
    refiner = _world_refiner_folder(tmp_path / "refiner")
    common = ["--preset", "tiny", "--data", "render", "--batch", "2", "--workers", "0",
              "--image-size", "128", "--iters", "2", "--log-every", "1"]
    out = tmp_path / "taught"
    assert train.main(["--stage", "landmark", "--landmark-teacher", str(refiner), "--out", str(out), *common]) == 0
    assert "loss_keypoints" in (out / "landmark" / "curves.csv").read_text().splitlines()[0]
    lifted = tmp_path / "refined"
    assert train.main(["--stage", "lifting", "--init", str(trained / "lifting/last.pt"), "--lifting-world",
                       str(refiner), "--lifting-maps", "keypoints", "--lifting-refined", "0.5",
                       "--out", str(lifted), *common]) == 0
    assert (lifted / "lifting" / "last.pt").exists()
    with pytest.raises(SystemExit, match="--landmark-teacher applies"):
        train.main(["--stage", "lifting", "--landmark-teacher", str(refiner), "--out", str(tmp_path / "x"), *common])
    with pytest.raises(SystemExit, match="--lifting-refined applies"):
        train.main(["--stage", "landmark", "--lifting-refined", "0.5", "--out", str(tmp_path / "y"), *common])
    with pytest.raises(SystemExit, match="between 0 and 1"):
        train.main(["--stage", "lifting", "--lifting-refined", "2", "--out", str(tmp_path / "z"), *common])
    with pytest.raises(SystemExit, match="landmark-teacher"):
        train.main(["--stage", "landmark", "--landmark-teacher", str(tmp_path / "missing"), "--out",
                    str(tmp_path / "w"), *common])
