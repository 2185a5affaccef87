"""PosePrior and ViewPoint: 2D score maps + hand side -> canonical 3D pose and viewpoint (section 3.3)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..canonical import rodrigues, rotation_from_6d
from ..skeleton import NUM_KEYPOINTS, RHD_MIDDLE_MCP, RHD_WRIST
from .layers import LEAKY_SLOPE, GridPool, conv, scaled



ROTATIONS = ("axis_angle", "6d")
MAP_SOURCES = ("posenet", "keypoints")
FRAMES = ("camera", "ray")
IMAGE_WIDTH, IMAGE_GRID = 32, 4  # image features: 1x1 conv to 32 channels, pooled to a 4x4 grid


def world_input(world: torch.Tensor) -> torch.Tensor:
    """World landmarks ``[B, 21, 3]`` (RHD order, the frame's axes, any unit) -> the lifting nets'
    input: wrist-relative, in units of the wrist -> middle MCP distance (so the refiner's own size
    guess drops out). All-zero rows (no world landmarks) stay zero."""
    rel = world - world[:, RHD_WRIST : RHD_WRIST + 1]
    palm = (rel[:, RHD_MIDDLE_MCP] - rel[:, RHD_WRIST]).norm(dim=-1).clamp_min(1e-6)
    return rel / palm[:, None, None]


@dataclass
class LiftingConfig:
    """Shared shape of both lifting nets. ``input_size`` = side of the score maps they read
    (32 in the paper; other map sizes are resized to it). ``width`` scales the hidden layers.
    ``rotation`` (ViewPoint only): ``"axis_angle"`` (the paper's 3 numbers) or ``"6d"`` (two
    rows of the matrix, made orthonormal; continuous, Zhou et al., CVPR 2019).
    ``image_channels`` (ours, not the paper's; 0 = off): the net also reads PoseNet's deepest
    image features (``PoseNet.forward(..., features=True)``, this many channels), which see what
    score maps cannot (palm or back, which fingers lie nearer), squeezed to a coarse grid.
    ``maps`` (ours): the score maps the nets read at run time — ``"posenet"``, PoseNet's own (the
    paper), or ``"keypoints"``, maps drawn (``heatmaps.encode``) from the hand's reported 2D
    keypoints (the keypoint refiner's, where the model has one) in PoseNet's crop; training draws
    them from the labels with map noise (``training.train --lifting-maps``).
    ``world`` (ours): the nets also read the keypoint refiner's world landmarks of the hand
    (``models/landmark.py``, ``LandmarkConfig.world = "lifting"``; ``world_input`` makes them
    scale-free; zeros where the refiner saw no hand).
    ``frame`` (ours): the frame of the 3D the nets give — ``"camera"`` (the paper: the camera's),
    or ``"ray"``, the frame of a camera looking along the ray through the crop's centre, which is
    what the crop shows (``camera.py``); the run time turns ``"ray"`` output into the camera's."""

    width: float = 1.0
    input_size: int = 32
    rotation: str = "axis_angle"
    image_channels: int = 0
    maps: str = "posenet"
    world: bool = False
    frame: str = "camera"

    def __post_init__(self):
        if self.frame not in FRAMES:
            raise ValueError(f"lifting frame must be one of {FRAMES}, got {self.frame!r}")
        self.input_size = int(self.input_size)
        if self.input_size % 8:
            raise ValueError(f"lifting input_size must be a multiple of 8, got {self.input_size}")
        if self.rotation not in ROTATIONS:
            raise ValueError(f"lifting rotation must be one of {ROTATIONS}, got {self.rotation!r}")
        self.image_channels = int(self.image_channels)
        if self.maps not in MAP_SOURCES:
            raise ValueError(f"lifting maps must be one of {MAP_SOURCES}, got {self.maps!r}")
        if self.image_channels < 0:
            raise ValueError(f"lifting image_channels must be >= 0, got {self.image_channels}")


class _Lifting(nn.Module):
    """Conv pairs (3x3 stride 1, 3x3 stride 2) -> flatten -> concat hand side (and, with
    ``image_channels``, the pooled image features) -> FC layers."""

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
        if config.image_channels:  # appended last, so a net without them widens by zero columns
            self.image = nn.Sequential(conv(config.image_channels, IMAGE_WIDTH, 1), GridPool(IMAGE_GRID),
                                       nn.Flatten())
            dim += IMAGE_WIDTH * IMAGE_GRID * IMAGE_GRID
        if config.world:  # after the image features: widening a net without them adds zero columns last
            dim += NUM_KEYPOINTS * 3
        for w in self.fc_widths:
            w = scaled(w, config.width)
            fc += [nn.Linear(dim, w), nn.LeakyReLU(LEAKY_SLOPE, inplace=True), nn.Dropout(self.dropout)]
            dim = w
        self.fc = nn.Sequential(*fc)
        self.out = nn.Linear(dim, self.out_dim)

    def forward(self, score_maps: torch.Tensor, hand_side: torch.Tensor,
                image: torch.Tensor | None = None, world: torch.Tensor | None = None) -> torch.Tensor:
        """``score_maps`` ``[B, 21, h, w]`` (RHD order), ``hand_side`` ``[B, 2]`` one-hot
        (``[1, 0]`` left, ``[0, 1]`` right); ``image`` ``[B, image_channels, h', w']``, PoseNet's
        features of the same crops, required when ``config.image_channels`` (and ignored otherwise);
        ``world`` ``[B, 21, 3]`` (``world_input``), required when ``config.world``."""
        size = self.config.input_size
        if score_maps.shape[-2:] != (size, size):
            score_maps = F.interpolate(score_maps, size=(size, size), mode="bilinear", align_corners=False)
        x = self.convs(score_maps).flatten(1)
        parts = [x, hand_side.to(x.dtype)]
        if self.config.image_channels:
            if image is None:
                raise ValueError(f"{type(self).__name__} reads image features (image_channels="
                                 f"{self.config.image_channels}); pass PoseNet's features of the crops")
            parts.append(self.image(image.to(x.dtype)))
        if self.config.world:
            if world is None:
                raise ValueError(f"{type(self).__name__} reads world landmarks (world=True); pass world_input(...)")
            parts.append(world.flatten(1).to(x.dtype))
        return self.out(self.fc(torch.cat(parts, dim=1)))


class PosePrior(_Lifting):
    """Output ``[B, 21, 3]``: canonical coordinates (RHD order, wrist at the origin, unit
    middle-finger MCP->PIP bone; z negated for right hands)."""

    conv_widths = (32, 64, 128)
    fc_widths = (512, 512)
    dropout = 0.2
    out_dim = NUM_KEYPOINTS * 3

    def forward(self, score_maps, hand_side, image=None, world=None):
        return super().forward(score_maps, hand_side, image, world).view(-1, NUM_KEYPOINTS, 3)


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
