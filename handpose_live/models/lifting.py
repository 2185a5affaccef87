"""PosePrior and ViewPoint: 2D score maps + hand side -> canonical 3D pose and viewpoint (section 3.3)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..canonical import rodrigues, rotation_from_6d
from ..skeleton import NUM_KEYPOINTS
from .layers import LEAKY_SLOPE, conv, scaled



ROTATIONS = ("axis_angle", "6d")


@dataclass
class LiftingConfig:
    """Shared shape of both lifting nets. ``input_size`` = side of the score maps they read
    (32 in the paper; other map sizes are resized to it). ``width`` scales the hidden layers.
    ``rotation`` (ViewPoint only): ``"axis_angle"`` (the paper's 3 numbers) or ``"6d"`` (two
    rows of the matrix, made orthonormal; continuous, Zhou et al., CVPR 2019)."""

    width: float = 1.0
    input_size: int = 32
    rotation: str = "axis_angle"

    def __post_init__(self):
        self.input_size = int(self.input_size)
        if self.input_size % 8:
            raise ValueError(f"lifting input_size must be a multiple of 8, got {self.input_size}")
        if self.rotation not in ROTATIONS:
            raise ValueError(f"lifting rotation must be one of {ROTATIONS}, got {self.rotation!r}")


class _Lifting(nn.Module):
    """Conv pairs (3x3 stride 1, 3x3 stride 2) -> flatten -> concat hand side -> FC layers."""

    conv_widths: tuple[int, ...] = ()
    fc_widths: tuple[int, ...] = ()
    dropout: float = 0.0
    out_dim: int = 0

    def __init__(self, config: LiftingConfig):
        super().__init__()
        self.config = config
        layers, ch = [], NUM_KEYPOINTS
        for w in self.conv_widths:
            w = scaled(w, config.width)
            layers += [conv(ch, w, 3, 1), conv(w, w, 3, 2)]
            ch = w
        self.convs = nn.Sequential(*layers)
        side = config.input_size // 2 ** len(self.conv_widths)
        fc, dim = [], ch * side * side + 2
        for w in self.fc_widths:
            w = scaled(w, config.width)
            fc += [nn.Linear(dim, w), nn.LeakyReLU(LEAKY_SLOPE, inplace=True), nn.Dropout(self.dropout)]
            dim = w
        self.fc = nn.Sequential(*fc)
        self.out = nn.Linear(dim, self.out_dim)

    def forward(self, score_maps: torch.Tensor, hand_side: torch.Tensor) -> torch.Tensor:
        """``score_maps`` ``[B, 21, h, w]`` (RHD order), ``hand_side`` ``[B, 2]`` one-hot
        (``[1, 0]`` left, ``[0, 1]`` right)."""
        size = self.config.input_size
        if score_maps.shape[-2:] != (size, size):
            score_maps = F.interpolate(score_maps, size=(size, size), mode="bilinear", align_corners=False)
        x = self.convs(score_maps).flatten(1)
        x = torch.cat([x, hand_side.to(x.dtype)], dim=1)
        return self.out(self.fc(x))


class PosePrior(_Lifting):
    """Output ``[B, 21, 3]``: canonical coordinates (RHD order, wrist at the origin, unit
    middle-finger MCP->PIP bone; z negated for right hands)."""

    conv_widths = (32, 64, 128)
    fc_widths = (512, 512)
    dropout = 0.2
    out_dim = NUM_KEYPOINTS * 3

    def forward(self, score_maps, hand_side):
        return super().forward(score_maps, hand_side).view(-1, NUM_KEYPOINTS, 3)


class ViewPoint(_Lifting):
    """Output ``[B, 3]``: axis-angle vector of the rotation from the canonical frame to the
    camera frame (see ``canonical.rodrigues``); with ``rotation="6d"`` ``[B, 6]``, two rows of the
    matrix (``canonical.rotation_from_6d``). ``to_matrix`` turns either into ``[B, 3, 3]``."""

    conv_widths = (64, 128, 256)
    fc_widths = (256, 128)
    dropout = 0.25

    def __init__(self, config: LiftingConfig):
        self.out_dim = 6 if config.rotation == "6d" else 3
        super().__init__(config)

    def to_matrix(self, output: torch.Tensor) -> torch.Tensor:
        """The rotation matrices ``[B, 3, 3]`` of this net's output (``xyz = canonical @ R``)."""
        return rotation_from_6d(output) if self.config.rotation == "6d" else rodrigues(output)
