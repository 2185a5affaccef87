"""The onnxruntime backend: the same outputs as PyTorch, stand-ins left to PyTorch, clear errors."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from handpose_live import onnx_backend, pipeline
from handpose_live.checkpoint import build_networks
from handpose_live.model_config import preset
from handpose_live.models.layers import GridPool
from handpose_live.pipeline import HandPoseEstimator, resolve_backend

from fakes import CentrePoseNet, RedIsHandSegNet

pytestmark = pytest.mark.skipif(not onnx_backend.available(), reason="onnxruntime/onnx not installed")

DEMO = Path(__file__).resolve().parents[1] / "assets" / "demo" / "demo.mp4"


def demo_frame(index: int = 30) -> np.ndarray:
    cap = cv2.VideoCapture(str(DEMO))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok, f"cannot read frame {index} of {DEMO}"
    return frame


def test_the_shipped_model_gives_pytorchs_hands_in_both_modes():
    """Every output a user sees, from the shipped model on the demo clip (two hands), agrees
    between ONNX Runtime and PyTorch fp32, in image mode and over a tracked stretch of video."""
    frames = [demo_frame(i) for i in range(30, 36)]
    # image mode: float rounding only; video mode: each frame's crop comes from the last frame's
    # keypoints, so the rounding is carried on (here after six frames: 0.16 px, keypoint scores 0.012;
    # the bounds leave room for another CPU's rounding)
    tolerance = {"image": (0.01, 1e-4, 1e-4), "video": (1.0, 5e-3, 0.05)}  # px, m, score
    for mode in ("image", "video"):
        px, metres, score = tolerance[mode]
        ort = HandPoseEstimator.from_pretrained(None, device="cpu", mode=mode, backend="onnxruntime")
        ref = HandPoseEstimator.from_pretrained(None, device="cpu", precision="fp32", mode=mode, backend="torch")
        assert (ort.backend, ort.precision, ref.backend) == ("onnxruntime", "fp32", "torch")
        # HandSegNet at both its input sizes (detection.fine_input_size)
        assert set(ort._onnx) == {"handsegnet", "handsegnet_fine", "posenet", "landmark", "poseprior", "viewpoint"}
        batches = [frames[:2]] if mode == "image" else [[f] for f in frames]
        for batch in batches:
            got, want = ort.process(batch), ref.process(batch)
            assert [len(h) for h in got] == [len(h) for h in want]
            assert sum(len(h) for h in got) >= 2, "the demo clip's frames show two hands"
            for a, b in zip(sum(got, []), sum(want, [])):
                assert a.side == b.side and a.track_id - b.track_id == got[0][0].track_id - want[0][0].track_id
                assert a.score == pytest.approx(b.score, abs=score)
                assert np.abs(a.keypoints_2d - b.keypoints_2d).max() < px
                assert np.abs(a.keypoints_3d - b.keypoints_3d).max() < metres
                assert np.abs(a.keypoint_scores - b.keypoint_scores).max() < score
        if mode == "image":  # the label masks: a pixel at the threshold may round either way
            assert (ort.last_masks[0] != ref.last_masks[0]).mean() < 1e-3


def test_a_batch_of_any_size_matches_and_other_sizes_go_to_pytorch():
    torch.manual_seed(0)
    config = preset("light")
    net = build_networks(config)["posenet"].eval()
    s = config.posenet.input_size
    kwargs = {"side": True, "features": True}
    exported = onnx_backend.OnnxNet(net, torch.zeros(1, 3, s, s), **kwargs)
    x = torch.rand(3, 3, s, s) - 0.5
    with torch.inference_mode():
        maps, side, features = net(x, **kwargs)
    got_maps, got_side, got_features = exported(x, **kwargs)
    assert isinstance(got_maps, list) and len(got_maps) == len(maps)  # the module's own nesting
    for a, b in zip(got_maps + [got_side, got_features], maps + [side, features]):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-4)
    empty_maps, empty_side, _ = exported(x[:0], **kwargs)
    assert empty_maps[-1].shape == (0, *maps[-1].shape[1:]) and empty_side.shape == (0,)
    bigger = torch.rand(1, 3, s + 32, s + 32) - 0.5  # not the exported size: the module runs it
    with torch.inference_mode():
        assert torch.equal(exported(bigger, **kwargs)[0][-1], net(bigger, **kwargs)[0][-1])
    with pytest.raises(ValueError, match="exported for"):
        exported(x, side=True)  # other outputs than the exported graph's


def test_stand_ins_are_never_exported_and_still_run():
    config = preset("tiny")
    nets = build_networks(config)
    size = config.posenet.input_size
    nets["handsegnet"], nets["posenet"] = RedIsHandSegNet(), CentrePoseNet(torch.full((21, 2), size / 2.0), size)
    est = HandPoseEstimator(config, nets, device="cpu", mode="image", backend="onnxruntime")
    assert est.backend == "onnxruntime" and "handsegnet" not in est._onnx and "posenet" not in est._onnx
    frame = np.full((120, 160, 3), 90, np.uint8)
    frame[30:90, 40:100] = (0, 0, 255)
    assert len(est.process([frame])[0]) == 1 and nets["handsegnet"].calls == 1


def test_a_network_swapped_in_after_loading_runs_in_pytorch():
    torch.manual_seed(0)
    config = preset("tiny")
    est = HandPoseEstimator(config, build_networks(config), device="cpu", mode="image", backend="onnxruntime")
    assert est._net("handsegnet") is est._onnx["handsegnet"][1]
    est.nets["handsegnet"] = RedIsHandSegNet()
    assert est._net("handsegnet") is est.nets["handsegnet"]


def test_backend_choice_and_its_errors(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_backend("auto", cpu, "auto") == "onnxruntime"
    assert resolve_backend("auto", cpu, "fp32") == "onnxruntime"
    assert resolve_backend("auto", cpu, "bf16") == "torch"  # reduced precision runs PyTorch
    assert resolve_backend("auto", cuda, "auto") == "torch"
    assert resolve_backend("torch", cpu, "fp32") == "torch"
    with pytest.raises(ValueError, match="fp32 on the CPU"):
        resolve_backend("onnxruntime", cpu, "bf16")
    with pytest.raises(ValueError, match="fp32 on the CPU"):
        resolve_backend("onnxruntime", cuda, "auto")
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("tensorrt", cpu, "auto")
    monkeypatch.setattr(onnx_backend, "available", lambda: False)
    assert resolve_backend("auto", cpu, "auto") == "torch"
    with pytest.raises(ValueError, match="pip install onnxruntime onnx"):
        resolve_backend("onnxruntime", cpu, "auto")


def test_an_export_that_fails_falls_back_to_pytorch_unless_onnxruntime_was_asked_for(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(onnx_backend, "OnnxNet", broken)
    config = preset("tiny")
    est = HandPoseEstimator(config, build_networks(config), device="cpu", precision="fp32")
    assert est.backend == "torch" and est.precision == "fp32" and not est._onnx
    assert "exporter broke" in caplog.text
    with pytest.raises(RuntimeError, match="onnxruntime backend failed.*exporter broke"):
        HandPoseEstimator(config, build_networks(config), device="cpu", backend="onnxruntime")


def test_pytorch_runs_single_threaded_inside_a_frame_and_its_setting_comes_back(monkeypatch):
    config = preset("tiny")
    est = HandPoseEstimator(config, build_networks(config), device="cpu", mode="image", backend="onnxruntime")
    seen = []
    work_copy = pipeline._work_copy

    def spy(frame):  # called inside process() for every frame
        seen.append(torch.get_num_threads())
        return work_copy(frame)

    monkeypatch.setattr(pipeline, "_work_copy", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        est.process([np.zeros((120, 160, 3), np.uint8)])
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen == [1]


@pytest.mark.parametrize("size", [(4, 4), (8, 8), (6, 10)])
def test_grid_pool_is_adaptive_average_pooling(size):
    x = torch.rand(2, 5, *size)
    assert torch.equal(GridPool(4)(x), torch.nn.AdaptiveAvgPool2d(4)(x))


def test_handsegnet_runs_at_its_second_size_and_at_its_own_only_where_two_hands_may_be_joined():
    """``detection.fine_input_size``: HandSegNet exported at both sizes; the model's own size runs
    on a frame only where a fine region's pixels vote for both sides (``coarse_minority``)."""
    est = HandPoseEstimator.from_pretrained(None, device="cpu", mode="image", backend="onnxruntime")
    det = est.config.detection
    assert det.fine_input_size is not None and det.coarse_minority is not None
    assert est._onnx["handsegnet_fine"][1].input_shapes == [(3, *det.fine_input_size)]
    assert est._onnx["handsegnet"][1].input_shapes == [(3, *est.config.handsegnet.input_size)]
    assert est._net("handsegnet_fine") is est._onnx["handsegnet_fine"][1]
    calls = []
    for name in ("handsegnet", "handsegnet_fine"):
        session = est._onnx[name][1]
        est._onnx[name] = (est._onnx[name][0], lambda x, _s=session, _n=name: calls.append(_n) or _s(x))
    joined, apart = demo_frame(120), demo_frame(30)  # the demo clip's two hands touching / apart
    hands = est.process([joined])[0]
    assert calls == ["handsegnet_fine", "handsegnet"] and len(hands) == 2  # taken apart again
    assert {h.side for h in hands} == {"left", "right"}
    calls.clear()
    assert len(est.process([apart])[0]) == 2 and calls == ["handsegnet_fine"]
    calls.clear()
    est.process([joined, apart])  # a batch: the model's own size on the frame that needs it alone
    assert calls == ["handsegnet_fine", "handsegnet"]
