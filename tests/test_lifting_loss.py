import pytest
"""The lifting stage's loss and inputs: robust loss for pseudo-3D, noisy ground-truth maps."""
import torch

from handpose_live.model_config import preset
from training.losses import ROBUST_CANONICAL, lifting_loss
from training.stages import MapNoise, ground_truth_maps


def _pair(offset: float):
    canonical_gt = torch.zeros(2, 21, 3)
    canonical = canonical_gt.clone()
    canonical[:, 4, 0] = offset  # one keypoint off by ``offset`` canonical units
    eye = torch.eye(3).expand(2, 3, 3)
    return canonical, eye.clone(), canonical_gt, eye.clone(), torch.ones(2)


def test_robust_loss_equals_mse_for_small_errors_and_grows_slower_for_large():
    small = _pair(0.01 * ROBUST_CANONICAL)
    plain = lifting_loss(*small)[0]
    robust = lifting_loss(*small, robust=torch.tensor([True, True]))[0]
    torch.testing.assert_close(robust, plain, rtol=1e-2, atol=0)  # float32: sqrt(1 + x) - 1 loses digits
    large = _pair(10 * ROBUST_CANONICAL)
    plain, robust = lifting_loss(*large)[0], lifting_loss(*large, robust=torch.tensor([True, True]))[0]
    assert robust < 0.25 * plain
    mixed = lifting_loss(*large, robust=torch.tensor([True, False]))[0]  # only flagged samples are robust
    torch.testing.assert_close(mixed, (plain + robust) / 2)


def test_robust_loss_has_finite_gradients_at_zero_error():
    canonical, rotation, canonical_gt, rotation_gt, weight = _pair(0.0)
    canonical.requires_grad_(True)
    rotation.requires_grad_(True)
    loss_c, loss_r = lifting_loss(canonical, rotation, canonical_gt, rotation_gt, weight, torch.tensor([True, True]))
    (loss_c + loss_r).backward()
    assert torch.isfinite(canonical.grad).all() and torch.isfinite(rotation.grad).all()
    assert canonical.grad.abs().max() == 0


def _batch():
    g = torch.Generator().manual_seed(0)
    kp = torch.rand(4, 21, 2, generator=g) * 60 + 40
    return {"keypoints_2d": kp, "visible": torch.ones(4, 21, dtype=torch.bool)}


def test_ground_truth_maps_without_noise_are_the_codec_maps():
    config = preset("light")
    batch = _batch()
    clean = ground_truth_maps(batch, config, None, None)
    assert clean.shape == (4, 21, config.posenet.map_size, config.posenet.map_size)
    torch.testing.assert_close(clean.amax((2, 3)), torch.ones(4, 21), atol=0.2, rtol=0)
    same = ground_truth_maps(batch, config, None, MapNoise(jitter_px=0.0, drop=0.0))
    torch.testing.assert_close(same, clean)


def test_map_noise_moves_peaks_and_drops_maps():
    config = preset("light")
    batch = _batch()
    clean = ground_truth_maps(batch, config, None, None)
    g = torch.Generator().manual_seed(1)
    noisy = ground_truth_maps(batch, config, None, MapNoise(jitter_px=8.0, drop=0.0), generator=g)
    assert (noisy - clean).abs().max() > 0.3
    dropped = ground_truth_maps(batch, config, None, MapNoise(jitter_px=0.0, drop=1.0))
    assert dropped.abs().max() == 0
    half = ground_truth_maps(batch, config, None, MapNoise(jitter_px=0.0, drop=0.5), generator=g)
    empty = (half.amax((2, 3)) == 0).float().mean()
    assert 0.3 < empty < 0.7


class _Recorder(torch.nn.Module):
    """Wraps a lifting net and keeps the maps it was given."""

    def __init__(self, net):
        super().__init__()
        self.net, self.seen = net, None

    def forward(self, maps, one_hot, image=None, world=None):
        self.seen = maps.detach().clone()
        self.seen_image = None if image is None else image.detach().clone()
        return self.net(maps, one_hot, image, world)

    def to_matrix(self, x):
        return self.net.to_matrix(x)


class _FlatPoseNet(torch.nn.Module):
    """A PoseNet stand-in whose maps are all 0.5 (unlike any ground-truth map)."""

    def __init__(self, map_size):
        super().__init__()
        self.map_size = map_size

    def forward(self, crops):
        return [torch.full((crops.shape[0], 21, self.map_size, self.map_size), 0.5)]


def test_keypoint_only_samples_keep_ground_truth_maps_beside_predicted_ones():
    from training import stages

    config = preset("tiny")
    m = config.posenet.map_size
    batch = _batch()
    batch.update(image_rgb=torch.zeros(4, 128, 128, 3, dtype=torch.uint8), keypoints_3d=torch.randn(4, 21, 3),
                 side=torch.tensor([0, 1, 0, 1]), has_3d=torch.ones(4, dtype=torch.bool), weight=torch.ones(4),
                 keypoints_only=torch.tensor([True, False, True, False]),
                 is_pseudo_label=torch.tensor([False, True, False, False]))
    nets = {k: _Recorder(v) for k, v in stages.build("lifting", config).items()}
    out = stages.lifting_step(nets, batch, config, None, "cpu", posenet=_FlatPoseNet(m), noise=None, map_noise=None)
    assert torch.isfinite(out["loss"])
    seen = nets["poseprior"].seen
    clean = ground_truth_maps(batch, config, None, None)
    torch.testing.assert_close(seen[[0, 2]], clean[[0, 2]])            # keypoint-only: ground truth
    assert torch.all(seen[[1, 3]] == 0.5)                              # with an image: PoseNet's maps


class _FeaturePoseNet(_FlatPoseNet):
    """Flat maps and, asked for features, all-ones features of ``channels`` channels."""

    feature_channels = 8

    def forward(self, crops, features=False):
        maps = super().forward(crops)
        return (maps, torch.ones(crops.shape[0], self.feature_channels, 4, 4)) if features else maps


def test_lifting_nets_reading_image_features_get_posenets_features_and_zeros_without_an_image():
    from training import stages

    config = preset("tiny")
    config.poseprior.image_channels = config.viewpoint.image_channels = _FeaturePoseNet.feature_channels
    batch = _batch()
    batch.update(image_rgb=torch.zeros(4, 128, 128, 3, dtype=torch.uint8), keypoints_3d=torch.randn(4, 21, 3),
                 side=torch.tensor([0, 1, 0, 1]), has_3d=torch.ones(4, dtype=torch.bool), weight=torch.ones(4),
                 keypoints_only=torch.tensor([True, False, True, False]))
    nets = {k: _Recorder(v) for k, v in stages.build("lifting", config).items()}
    posenet = _FeaturePoseNet(config.posenet.map_size)
    out = stages.lifting_step(nets, batch, config, None, "cpu", posenet=posenet, noise=None, map_noise=None)
    assert torch.isfinite(out["loss"])
    for name in ("poseprior", "viewpoint"):
        image = nets[name].seen_image
        assert image.shape == (4, 8, 4, 4)
        assert torch.all(image[[1, 3]] == 1) and torch.all(image[[0, 2]] == 0)
    with pytest.raises(ValueError, match="image features"):  # never silently without them
        nets["viewpoint"].net(torch.zeros(1, 21, 16, 16), torch.tensor([[0.0, 1.0]]))


def test_init_widens_the_lifting_nets_for_image_features_without_changing_their_output(capsys):
    """--init from lifting nets without image features into ones with them: the first fully
    connected layer keeps its weights and gets zero columns, so the output is the checkpoint's."""
    from handpose_live.models import PosePrior, ViewPoint
    from training.train import load_matching

    config = preset("tiny")
    torch.manual_seed(0)
    maps, side, image = torch.rand(3, 21, 16, 16), torch.eye(2)[[0, 1, 1]], torch.rand(3, 8, 4, 4) * 3
    for kind, section in ((PosePrior, config.poseprior), (ViewPoint, config.viewpoint)):
        old = kind(section).eval()
        wide_config = type(section)(**{**section.__dict__, "image_channels": 8})
        wide = kind(wide_config).eval()
        load_matching(wide, old.state_dict(), kind.__name__)
        torch.testing.assert_close(wide(maps, side, image), old(maps, side))
        assert "widened with zero weights ['fc.0']" in capsys.readouterr().out
