import pytest
import torch

from handpose_live.model_config import preset
from handpose_live.models import (HandSegNet, HandSegNetConfig, LiftingConfig, PoseNet, PoseNetConfig,
                                  PosePrior, ViewPoint)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_paper_size_parameter_counts():
    assert n_params(HandSegNet(HandSegNetConfig(num_classes=2))) == pytest.approx(13.6e6, rel=0.02)
    assert n_params(PoseNet(PoseNetConfig())) == pytest.approx(17.5e6, rel=0.02)
    assert n_params(PosePrior(LiftingConfig())) == pytest.approx(1.6e6, rel=0.05)
    assert n_params(ViewPoint(LiftingConfig())) == pytest.approx(2.2e6, rel=0.05)


def test_leaky_relu_everywhere():
    acts = [m for m in PoseNet(PoseNetConfig(width=0.125, input_size=64)).modules()
            if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))]
    assert acts and all(isinstance(a, torch.nn.LeakyReLU) and a.negative_slope == 0.01 for a in acts)


@pytest.mark.parametrize("classes", [2, 3])
def test_handsegnet_shapes(classes):
    net = HandSegNet(HandSegNetConfig(width=0.125, input_size=(64, 80), num_classes=classes))
    assert net(torch.zeros(2, 3, 64, 80)).shape == (2, classes, 64, 80)


def test_posenet_returns_three_stages():
    out = PoseNet(PoseNetConfig(width=0.125, input_size=64))(torch.zeros(2, 3, 64, 64))
    assert len(out) == 3 and all(o.shape == (2, 21, 8, 8) for o in out)


def test_lifting_resizes_small_maps():
    maps = torch.rand(3, 21, 16, 16)  # a 128 px PoseNet gives 16x16 maps
    side = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert PosePrior(LiftingConfig(width=0.25)).eval()(maps, side).shape == (3, 21, 3)
    assert ViewPoint(LiftingConfig(width=0.25)).eval()(maps, side).shape == (3, 3)


def test_hand_side_changes_the_prior_output():
    net = PosePrior(LiftingConfig(width=0.25)).eval()
    maps = torch.rand(1, 21, 32, 32)
    left = net(maps, torch.tensor([[1.0, 0.0]]))
    right = net(maps, torch.tensor([[0.0, 1.0]]))
    assert not torch.allclose(left, right)


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError):
        HandSegNetConfig(num_classes=4)
    with pytest.raises(ValueError):
        PoseNetConfig(input_size=100)
    with pytest.raises(ValueError):
        preset("huge")


def test_light_preset_is_much_cheaper_than_paper():
    paper, light = preset("paper"), preset("light")
    ratio = n_params(PoseNet(paper.posenet)) / n_params(PoseNet(light.posenet))
    assert ratio > 3.5


def test_posenet_refine_stages_and_side_head():
    net = PoseNet(PoseNetConfig(width=0.125, input_size=64, refine_stages=1, side_head=True)).eval()
    maps, side = net(torch.zeros(2, 3, 64, 64), side=True)
    assert len(maps) == 2 and all(m.shape == (2, 21, 8, 8) for m in maps)
    assert side.shape == (2,)
    assert len(net(torch.zeros(1, 3, 64, 64))) == 2  # without side=True: the maps only
    with pytest.raises(ValueError, match="side head"):
        PoseNet(PoseNetConfig(width=0.125, input_size=64))(torch.zeros(1, 3, 64, 64), side=True)
    with pytest.raises(ValueError):
        PoseNetConfig(refine_stages=7)


def test_viewpoint_6d_output_is_a_rotation_and_survives_the_config():
    from handpose_live.model_config import ModelConfig

    config = preset("tiny")
    config.viewpoint.rotation = "6d"
    net = ViewPoint(ModelConfig.from_dict(config.to_dict()).viewpoint).eval()
    out = net(torch.rand(3, 21, 32, 32), torch.eye(2)[[0, 1, 1]])
    assert out.shape == (3, 6)
    r = net.to_matrix(out)
    assert torch.allclose(torch.det(r), torch.ones(3), atol=1e-5)
    assert ViewPoint(LiftingConfig()).to_matrix(torch.zeros(1, 3)).allclose(torch.eye(3)[None], atol=1e-4)
    with pytest.raises(ValueError, match="rotation"):
        LiftingConfig(rotation="quaternion")


@pytest.mark.parametrize("encoder, size", [("vgg", 64), ("mediapipe", 64)])
def test_posenet_features_have_the_channels_it_states(encoder, size):
    net = PoseNet(PoseNetConfig(width=0.125, input_size=size, refine_stages=1, side_head=True,
                                encoder=encoder)).eval()
    maps, side, feats = net(torch.zeros(2, 3, size, size), side=True, features=True)
    assert feats.shape[:2] == (2, net.feature_channels) and side.shape == (2,)
    maps_only, feats_only = net(torch.zeros(2, 3, size, size), features=True)
    torch.testing.assert_close(feats_only, feats)
    torch.testing.assert_close(maps_only[-1], maps[-1])


def test_lifting_with_image_features_reads_them_and_survives_the_config():
    from handpose_live.model_config import ModelConfig

    config = preset("tiny")
    config.viewpoint.image_channels = config.poseprior.image_channels = 16
    restored = ModelConfig.from_dict(config.to_dict())
    assert restored.viewpoint.image_channels == 16 and restored.poseprior.image_channels == 16
    torch.manual_seed(0)
    net = PosePrior(restored.poseprior).eval()
    maps, side = torch.rand(2, 21, 16, 16), torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    a = net(maps, side, torch.zeros(2, 16, 4, 4))
    b = net(maps, side, torch.rand(2, 16, 4, 4) * 5)
    assert a.shape == (2, 21, 3) and not torch.allclose(a, b)
    with pytest.raises(ValueError):
        LiftingConfig(image_channels=-1)
