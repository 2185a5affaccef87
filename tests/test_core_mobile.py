"""PoseNet on a mobile encoder: stride-4 maps, every stage supervised, side head; the codec at
stride 4."""
import pytest
import torch

from handpose_live.heatmaps import decode, encode
from handpose_live.models import PoseNet, PoseNetConfig


@pytest.mark.parametrize("refine", [0, 1, 2])
def test_mobile_posenet_shapes(refine):
    cfg = PoseNetConfig(width=0.25, input_size=128, refine_stages=refine, side_head=True, encoder="lite0")
    assert (cfg.map_stride, cfg.map_size) == (4, 32)
    net = PoseNet(cfg).eval()
    with torch.no_grad():
        maps, side = net(torch.zeros(2, 3, 128, 128), side=True)
    assert len(maps) == 1 + refine
    assert all(m.shape == (2, 21, 32, 32) for m in maps)
    assert side.shape == (2,)


def test_mobile_input_size_must_divide_by_16():
    with pytest.raises(ValueError, match="multiple of 16"):
        PoseNetConfig(input_size=120, encoder="lite0")
    with pytest.raises(ValueError, match="encoder"):
        PoseNetConfig(encoder="resnet")


def test_every_stage_gets_gradient():
    net = PoseNet(PoseNetConfig(width=0.25, input_size=64, refine_stages=1, side_head=True, encoder="lite0"))
    maps, side = net(torch.randn(1, 3, 64, 64), side=True)
    (sum(m.square().mean() for m in maps) + side.sum()).backward()
    for name in ("encoder.stem.weight", "decoder.lateral.0.weight", "stage1.2.weight", "stages.0.0.weight",
                 "side.3.weight"):
        assert net.get_parameter(name).grad.abs().sum() > 0, name


@pytest.mark.parametrize("crop,maps", [(128, 32), (160, 40), (128, 16)])
def test_codec_round_trip(crop, maps):
    """Keypoints whose peak is not in an edge cell (sub-cell positions included) come back within
    0.05 px. (In an edge cell the parabola lacks a neighbour: the decode there is the cell's
    clamped estimate.)"""
    g = torch.Generator().manual_seed(0)
    step = crop / maps
    kp = torch.rand(3, 21, 2, generator=g) * (crop - 3 * step) + 1.5 * step
    target = encode(kp, torch.ones(3, 21, dtype=torch.bool), crop, maps)
    back, conf = decode(target, crop)
    assert (back - kp).abs().max() < 0.05
    assert conf.min() > 0.95


def test_mobile_handsegnet_logits_at_input_size():
    from handpose_live.models import HandSegNet, HandSegNetConfig

    cfg = HandSegNetConfig(width=0.25, input_size=(128, 160), num_classes=3, encoder="mediapipe")
    net = HandSegNet(cfg).eval()
    with torch.no_grad():
        logits = net(torch.zeros(2, 3, 128, 160))
    assert logits.shape == (2, 3, 128, 160)
    with pytest.raises(ValueError, match="multiples of 16"):
        HandSegNetConfig(input_size=(120, 160), encoder="lite0")


def test_pretrained_start_reaches_handsegnet(monkeypatch):
    """--pretrained loads the start into whichever network the stage trains."""
    from handpose_live.models import HandSegNet, HandSegNetConfig
    from handpose_live.models.mobile import LAYOUTS, MobileEncoder
    from training import train

    source = MobileEncoder(LAYOUTS["lite0"]).state_dict()
    fake = type("M", (), {"encoder_state_dict": staticmethod(lambda *a: source)})
    monkeypatch.setitem(__import__("sys").modules, "training.pretrained.lite0", fake)
    net = HandSegNet(HandSegNetConfig(width=0.25, input_size=(64, 80), encoder="lite0"))
    train.load_pretrained_encoder(net, "lite0")
    assert all(torch.equal(net.encoder.state_dict()[k], v) for k, v in source.items())


def test_deeper_encoder_starts_as_the_checkpoint_it_extends(monkeypatch):
    """``mediapipe32`` adds MediaPipe's stride-32 blocks to a ``mediapipe`` PoseNet: with ``--init``
    the checkpoint's layers load, the added blocks come from the start, and the decoder's stride-32
    lateral starts at zero, so the extended PoseNet computes what the checkpoint did; training then
    moves the new lateral."""
    from handpose_live.models.mobile import LAYOUTS, MobileEncoder
    from training import train

    small = PoseNet(PoseNetConfig(width=0.25, input_size=64, refine_stages=1, side_head=True,
                                  encoder="mediapipe")).eval()
    deep = PoseNet(PoseNetConfig(width=0.25, input_size=64, refine_stages=1, side_head=True,
                                 encoder="mediapipe32")).eval()
    assert deep.encoder.channels == [24, 40, 112, 192] and deep.feature_channels == small.feature_channels == 112
    train.load_matching(deep, small.state_dict(), "posenet")
    start = MobileEncoder(LAYOUTS["mediapipe32"]).state_dict()
    start = {k: torch.randn_like(v) for k, v in start.items()}  # unlike anything the checkpoint holds
    fake = type("M", (), {"encoder_state_dict": staticmethod(lambda *a: start),
                          "fetch_tflite": staticmethod(lambda: None)})
    monkeypatch.setitem(__import__("sys").modules, "training.pretrained.mediapipe_landmark", fake)
    train.load_pretrained_encoder(deep, "mediapipe32", small.state_dict())
    enc = deep.encoder.state_dict()
    assert torch.equal(enc["blocks.14.expand.weight"], start["blocks.14.expand.weight"])  # added: the start's
    assert torch.equal(enc["blocks.3.expand.weight"], small.encoder.state_dict()["blocks.3.expand.weight"])

    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        (m_small, s_small), (m_deep, s_deep) = small(x, side=True), deep(x, side=True)
    assert torch.equal(m_small[-1], m_deep[-1]) and torch.equal(s_small, s_deep)
    deep.train()
    sum(m.square().mean() for m in deep(x)).backward()
    assert deep.decoder.deep.weight.grad.abs().sum() > 0


def test_deeper_encoder_input_size_must_divide_by_32():
    with pytest.raises(ValueError, match="multiple of 32"):
        PoseNetConfig(input_size=144, encoder="mediapipe32")
    assert PoseNetConfig(input_size=128, encoder="mediapipe32").map_size == 32
