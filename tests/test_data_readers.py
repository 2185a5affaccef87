"""Readers on tiny fixtures: RHD (written by our --rhd-layout writer), FreiHAND, our layout; letterbox."""
import json

import cv2
import numpy as np
import pytest

from handpose_live.skeleton import rhd_to_user
from training.data.freihand import FreiHANDDataset
from training.data.paths import data_root
from training.data.resize import letterbox_sample
from training.data.sample import check_sample, project

MESH_DIR = data_root() / "hand_mesh"
HAS_MESH = (MESH_DIR / "right.glb").is_file()


@pytest.fixture(scope="module")
def rendered():
    from training.render.write import render_many

    return list(render_many(6, seed=11, size=96, with_rhd_mask=True))


@pytest.mark.data
@pytest.mark.skipif(not HAS_MESH, reason="shared data (hand_mesh) not present")
def test_rhd_reader_reads_the_rhd_layout_back(tmp_path, rendered):
    from training.data.rhd import RHDDataset
    from training.render.write import main

    main(["--out", str(tmp_path / "RHD_published_v2"), "--n", "6", "--seed", "11", "--size", "96", "--rhd-layout"])
    assert (tmp_path / "RHD_published_v2" / "training" / "anno_training.pickle").is_file()
    raw = cv2.imread(str(tmp_path / "RHD_published_v2" / "training" / "mask" / "00000.png"), cv2.IMREAD_UNCHANGED)
    assert raw.max() <= 33
    data = RHDDataset(tmp_path)  # the parent of RHD_published_v2 works too
    assert len(data) == 6
    for s, ref in zip(data, rendered):
        check_sample(s)
        assert int(s["side"]) == int(ref["side"]) or (ref["mask"] > 0).sum() == 0
        if int(s["side"]) == int(ref["side"]):
            np.testing.assert_allclose(s["keypoints_2d"], ref["keypoints_2d"], atol=1e-4)
            np.testing.assert_array_equal(s["visible"], ref["visible"])
            np.testing.assert_allclose(s["keypoints_3d"], ref["keypoints_3d"], atol=1e-6)
        np.testing.assert_array_equal(s["mask"], ref["mask"])
        np.testing.assert_array_equal(s["image_rgb"], ref["image_rgb"])

    from training.contact_sheet import main as sheet

    sheet(["--source", "rhd", "--root", str(tmp_path), "--n", "4", "--size", "64", "--out", str(tmp_path / "s.png")])
    assert cv2.imread(str(tmp_path / "s.png")).shape == (128, 128, 3)


@pytest.mark.data
@pytest.mark.skipif(not HAS_MESH, reason="shared data (hand_mesh) not present")
def test_written_layout_round_trips(tmp_path, rendered):
    from training.data.written import WrittenHands, make_layout, write_sample

    make_layout(tmp_path, {"n": len(rendered)})
    for i, s in enumerate(rendered):
        write_sample(tmp_path, i, s, "png")
    assert not list(tmp_path.rglob("*.pickle"))
    data = WrittenHands(tmp_path)
    assert len(data) == len(rendered)
    for s, ref in zip(data, rendered):
        check_sample(s)
        for key in ("image_rgb", "mask", "keypoints_2d", "visible", "keypoints_3d", "K", "side", "has_other",
                    "keypoints_2d_other", "side_other"):
            np.testing.assert_array_equal(s[key], ref[key], err_msg=key)


def _write_freihand(root, n_labels=3, n_images=5, size=64):
    rng = np.random.default_rng(0)
    # user order (base -> tip); z encodes the user index so the order conversion is visible
    xyz = [[[rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03), 0.5 + 0.001 * k] for k in range(21)]
           for _ in range(n_labels)]
    K = [[[150.0, 0, 31.5], [0, 150.0, 31.5], [0, 0, 1]] for _ in range(n_labels)]
    (root / "training_xyz.json").write_text(json.dumps(xyz))
    (root / "training_K.json").write_text(json.dumps(K))
    (root / "training" / "rgb").mkdir(parents=True)
    for i in range(n_images):
        cv2.imwrite(str(root / "training" / "rgb" / f"{i:08d}.jpg"), np.full((size, size, 3), 40 * i, np.uint8))
    return np.asarray(xyz)


def test_freihand_reader_converts_order_and_repeats_labels(tmp_path):
    xyz = _write_freihand(tmp_path)
    data = FreiHANDDataset(tmp_path)
    assert len(data) == 5
    s = data[4]  # label 4 % 3 = 1
    check_sample(s)
    assert int(s["side"]) == 1 and not s["mask_valid"]
    np.testing.assert_allclose(rhd_to_user(s["keypoints_3d"]), xyz[1], atol=1e-6)
    assert s["keypoints_3d"][1, 2] == pytest.approx(0.5 + 0.001 * 4)  # RHD 1 = thumb tip = user 4
    np.testing.assert_allclose(project(s["K"], s["keypoints_3d"]), s["keypoints_2d"], atol=1e-3)


def test_freihand_reader_says_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="training_xyz.json"):
        FreiHANDDataset(tmp_path)


def test_letterbox_keeps_labels_on_the_pixels():
    h, w = 60, 100
    K = np.array([[80.0, 0, 49.5], [0, 80.0, 29.5], [0, 0, 1]], np.float32)
    xyz = np.random.default_rng(2).uniform([-0.1, -0.05, 0.5], [0.1, 0.05, 0.6], (21, 3)).astype(np.float32)
    kp = project(K, xyz)
    image = np.zeros((h, w, 3), np.uint8)
    mask = np.zeros((h, w), np.uint8)
    for x, y in np.round(kp).astype(int):
        cv2.circle(image, (x, y), 3, (255, 255, 255), -1)
        cv2.circle(mask, (x, y), 3, 2, -1)
    s = {"image_rgb": image, "mask": mask, "keypoints_2d": kp, "K": K, "has_3d_camera": np.bool_(True)}
    out = letterbox_sample(s, 128)
    assert out["image_rgb"].shape == (128, 128, 3)
    np.testing.assert_allclose(project(out["K"], xyz), out["keypoints_2d"], atol=1e-3)
    uv = np.round(out["keypoints_2d"]).astype(int)
    assert (out["mask"][uv[:, 1], uv[:, 0]] == 2).all()
    assert (out["image_rgb"][uv[:, 1], uv[:, 0]] > 200).all()


def test_a_wrong_data_spec_fails_before_any_model_is_built(tmp_path, monkeypatch, capsys):
    from training import stages, train
    from training.data_mix import check_spec

    check_spec(f"render:1,written={tmp_path}:0.5")  # known names, an existing root: passes
    built = []
    monkeypatch.setattr(stages, "build", lambda *a, **k: built.append(a) or {})
    for spec, says in (("rendr:1", "unknown data source 'rendr'"),
                       (f"written={tmp_path / 'nowhere'}:1", "nowhere not found"),
                       ("render:0", "must be positive")):
        with pytest.raises((ValueError, FileNotFoundError), match=says.replace("(", r"\(")):
            check_spec(spec)
        assert train.main(["--stage", "posenet", "--preset", "tiny", "--data", spec,
                           "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --data {spec}: ") and says in err and "Traceback" not in err
    assert built == []  # every failure came before the networks


def test_crop_size_sets_posenet_crop_and_the_lifting_map_size():
    from handpose_live.model_config import preset
    from training.train import apply_overrides, parse_args

    config = preset("light")
    apply_overrides(config, parse_args(["--stage", "posenet", "--encoder", "mediapipe", "--crop-size", "160"]))
    assert config.posenet.input_size == 160 and config.posenet.map_size == 40
    assert config.poseprior.input_size == config.viewpoint.input_size == 40
    with pytest.raises(ValueError, match="multiple of 16"):
        apply_overrides(preset("light"), parse_args(["--stage", "posenet", "--encoder", "mediapipe", "--crop-size", "150"]))
