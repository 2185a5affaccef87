import json

import numpy as np
import pytest
import torch

from handpose_live.checkpoint import (CorruptModelError, ModelNotFoundError, build_networks, load_model,
                                      resolve_model_dir, save_model)
from handpose_live.model_config import ModelConfig, preset
from handpose_live.pipeline import HandPoseEstimator


def test_save_then_load_gives_identical_outputs(tmp_path):
    torch.manual_seed(3)
    config = preset("tiny")
    nets = build_networks(config)
    save_model(tmp_path / "m", config, nets)
    config2, nets2, digests = load_model(tmp_path / "m")
    assert config2.to_dict() == config.to_dict()
    x = torch.rand(1, 3, 64, 80)
    for k in ("handsegnet",):
        nets[k].eval()
        assert torch.equal(nets[k](x), nets2[k](x))
    crop = torch.rand(2, 3, 64, 64)
    assert torch.equal(nets["posenet"].eval()(crop)[-1], nets2["posenet"](crop)[-1])
    assert set(digests) == {"config.json", "handsegnet.safetensors", "posenet.safetensors",
                            "poseprior.safetensors", "viewpoint.safetensors"}
    assert all(len(d) == 64 for d in digests.values())


def test_estimators_from_the_same_folder_agree(tiny_model_dir):
    frame = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    a = HandPoseEstimator.from_pretrained(tiny_model_dir, device="cpu", precision="fp32")
    b = HandPoseEstimator.from_pretrained(str(tiny_model_dir), device="cpu", precision="fp32")
    ha, hb = a.process([frame])[0], b.process([frame])[0]
    assert len(ha) == len(hb)
    for x, y in zip(ha, hb):
        assert np.array_equal(x.keypoints_2d, y.keypoints_2d)
        assert np.array_equal(x.keypoints_3d, y.keypoints_3d)


def test_missing_model_names_the_folder_and_how_to_get_weights(tmp_path):
    with pytest.raises(ModelNotFoundError, match="training/README.md"):
        resolve_model_dir(tmp_path / "nope")
    save_model(tmp_path / "m", preset("tiny"), build_networks(preset("tiny")))
    (tmp_path / "m" / "posenet.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match="posenet.safetensors"):
        load_model(tmp_path / "m")


def test_corrupt_weights_file_is_a_clear_error(tmp_path):
    save_model(tmp_path / "m", preset("tiny"), build_networks(preset("tiny")))
    (tmp_path / "m" / "viewpoint.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CorruptModelError, match="viewpoint.safetensors"):
        load_model(tmp_path / "m")


def test_weights_of_another_size_are_rejected(tmp_path):
    save_model(tmp_path / "m", preset("tiny"), build_networks(preset("tiny")))
    light = preset("light")
    save_model(tmp_path / "other", light, build_networks(light))
    (tmp_path / "m" / "posenet.safetensors").write_bytes((tmp_path / "other" / "posenet.safetensors").read_bytes())
    with pytest.raises(CorruptModelError, match="does not match"):
        load_model(tmp_path / "m")


def test_config_rejects_unknown_keys_and_bad_json(tmp_path):
    d = preset("tiny").to_dict()
    d["posenet"]["widht"] = 2
    with pytest.raises(ValueError, match="widht"):
        ModelConfig.from_dict(d)
    save_model(tmp_path / "m", preset("tiny"), build_networks(preset("tiny")))
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(CorruptModelError, match="config.json"):
        load_model(tmp_path / "m")


def test_fp16_storage_loads_into_fp32_networks(tmp_path):
    config = preset("tiny")
    nets = build_networks(config)
    save_model(tmp_path / "m", config, nets, dtype=torch.float16)
    _, nets2, _ = load_model(tmp_path / "m")
    w = next(nets2["posenet"].parameters())
    assert w.dtype == torch.float32
    assert torch.allclose(w, next(nets["posenet"].parameters()), atol=1e-3)
    assert json.loads((tmp_path / "m" / "config.json").read_text())["format_version"] == 1
