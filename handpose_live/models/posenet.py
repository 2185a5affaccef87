"""PoseNet: 21 keypoint score maps from a hand crop, several supervised stages (section 3.2).

Two encoders: the paper's VGG-like one (maps at stride 8), or a pretrained mobile encoder
(``models/mobile.py``) with a top-down decoder (maps at stride 4: 32x32 from a 128 px crop)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..skeleton import NUM_KEYPOINTS
from .layers import GridPool, conv, conv_stack, scaled
from .mobile import LAYOUTS, MobileEncoder, StrideFourDecoder, layout_stride, refine_stage



@dataclass
class PoseNetConfig:
    """``width`` scales every hidden layer (1.0 = paper); ``input_size`` = side of the square crop
    (256 in the paper). ``encoder``: ``vgg`` (the paper's; maps at ``input_size / 8``) or a
    mobile layout of ``mobile.LAYOUTS`` (``lite0``, ``mediapipe``, ``mediapipe32``; maps at
    ``input_size / 4``).
    ``refine_stages``: refinement stages after the first (2 in the paper). ``side_head``: also
    classify the crop as a left or right hand (ours, not the paper's)."""

    width: float = 1.0
    input_size: int = 256
    refine_stages: int = 2
    side_head: bool = False
    encoder: str = "vgg"

    def __post_init__(self):
        self.input_size = int(self.input_size)
        if self.encoder != "vgg" and self.encoder not in LAYOUTS:
            raise ValueError(f"PoseNet encoder must be vgg or one of {sorted(LAYOUTS)}, got {self.encoder!r}")
        multiple = 8 if self.encoder == "vgg" else layout_stride(LAYOUTS[self.encoder])
        if self.input_size % multiple:
            raise ValueError(f"PoseNet input_size must be a multiple of {multiple} for the {self.encoder} "
                             f"encoder, got {self.input_size}")
        if not 0 <= int(self.refine_stages) <= 4:
            raise ValueError(f"PoseNet refine_stages must be 0-4, got {self.refine_stages}")

    @property
    def map_stride(self) -> int:
        return 8 if self.encoder == "vgg" else 4

    @property
    def map_size(self) -> int:
        return self.input_size // self.map_stride


class PoseNet(nn.Module):
    """Input ``[B, 3, S, S]`` normalised RGB crops; output a list of ``1 + refine_stages``
    score-map tensors ``[B, 21, m, m]`` (``m = config.map_size``) in RHD keypoint order.
    Inference uses the last. ``forward(x, side=True)`` also returns a ``[B]`` logit of "right
    hand" (needs ``side_head``); ``features=True`` also returns the encoder's stride-16 features
    ``[B, feature_channels, h, w]`` (what the side head reads; the lifting nets may read them too).
    Output order: maps, then the side logit if asked, then the features if asked."""

    def __init__(self, config: PoseNetConfig):
        super().__init__()
        self.config = config
        if config.encoder != "vgg":
            self._build_mobile(config)
            return
        c = lambda n: scaled(n, config.width)  # noqa: E731
        pool = lambda: nn.MaxPool2d(2, 2)  # noqa: E731
        b1, ch = conv_stack(3, [c(64), c(64)])
        b2, ch = conv_stack(ch, [c(128), c(128)])
        b3, ch = conv_stack(ch, [c(256)] * 4)
        b4, enc = conv_stack(ch, [c(512), c(512), c(256), c(256), c(256), c(256), c(128)])
        self.encoder = nn.Sequential(*b1, pool(), *b2, pool(), *b3, pool(), *b4)
        self.stage1 = nn.Sequential(conv(enc, c(512), 1), conv(c(512), NUM_KEYPOINTS, 1, act=False))
        self.stages = nn.ModuleList([self._refine(enc, c(128)) for _ in range(config.refine_stages)])
        if config.side_head:
            # Handedness is a layout cue (where the thumb lies relative to palm or back), so the
            # head keeps a coarse spatial grid instead of pooling it away.
            grid = 4
            self.side = nn.Sequential(conv(enc, c(128), 3, stride=2), conv(c(128), c(128), 3, stride=2),
                                      GridPool(grid), nn.Flatten(),
                                      nn.Linear(c(128) * grid * grid, 1))

    def _build_mobile(self, config: PoseNetConfig) -> None:
        width = scaled(128, config.width)
        self.encoder = MobileEncoder(LAYOUTS[config.encoder])
        self.decoder = StrideFourDecoder(self.encoder.channels, width)
        self.stage1 = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True),
                                    nn.Conv2d(width, NUM_KEYPOINTS, 1))
        self.stages = nn.ModuleList([refine_stage(width, NUM_KEYPOINTS) for _ in range(config.refine_stages)])
        if config.side_head:  # on the stride-16 features: a 4x4 grid from a 128 px crop
            grid, deep = 4, self.encoder.channels[2]
            self.side = nn.Sequential(conv(deep, width, 3, stride=2), GridPool(grid), nn.Flatten(),
                                      nn.Linear(width * grid * grid, 1))

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features the map stages read, features the side head reads)."""
        if self.config.encoder == "vgg":
            encoding = self.encoder(x)
            return encoding, encoding
        feats = self.encoder(x)
        return self.decoder(feats), feats[2]  # stride 16, whether or not the encoder goes on to 32

    @staticmethod
    def _refine(enc: int, hidden: int) -> nn.Sequential:
        layers, ch = conv_stack(enc + NUM_KEYPOINTS, [hidden] * 5, kernel=7)
        return nn.Sequential(*layers, conv(ch, hidden, 1), conv(hidden, NUM_KEYPOINTS, 1, act=False))

    @property
    def feature_channels(self) -> int:
        """Channels of the features ``forward(..., features=True)`` returns."""
        if self.config.encoder == "vgg":
            return self.stage1[0][0].in_channels
        return self.encoder.channels[2]

    def forward(self, x: torch.Tensor, side: bool = False, features: bool = False):
        encoding, deep = self._encode(x)
        maps = [self.stage1(encoding)]
        for stage in self.stages:
            maps.append(stage(torch.cat([maps[-1], encoding], dim=1)))
        if side and not self.config.side_head:
            raise ValueError("this PoseNet has no side head (PoseNetConfig.side_head=False)")
        out = [maps] + ([self.side(deep)[:, 0]] if side else []) + ([deep] if features else [])
        return out[0] if len(out) == 1 else tuple(out)
