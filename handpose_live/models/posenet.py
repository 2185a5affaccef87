"""PoseNet: 21 keypoint score maps from a hand crop, three supervised stages (section 3.2)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import conv, conv_stack, scaled

NUM_KEYPOINTS = 21


@dataclass
class PoseNetConfig:
    """``width`` scales every hidden layer (1.0 = paper); ``input_size`` = side of the square crop
    (256 in the paper). Score maps come out at ``input_size / 8``. ``refine_stages``: refinement
    stages after the first (2 in the paper). ``side_head``: also classify the crop as a left or
    right hand (ours, not the paper's)."""

    width: float = 1.0
    input_size: int = 256
    refine_stages: int = 2
    side_head: bool = False

    def __post_init__(self):
        self.input_size = int(self.input_size)
        if self.input_size % 8:
            raise ValueError(f"PoseNet input_size must be a multiple of 8, got {self.input_size}")
        if not 0 <= int(self.refine_stages) <= 4:
            raise ValueError(f"PoseNet refine_stages must be 0-4, got {self.refine_stages}")

    @property
    def map_size(self) -> int:
        return self.input_size // 8


class PoseNet(nn.Module):
    """Input ``[B, 3, S, S]`` normalised RGB crops; output a list of ``1 + refine_stages``
    score-map tensors ``[B, 21, S/8, S/8]`` in RHD keypoint order. Inference uses the last.
    ``forward(x, side=True)`` also returns a ``[B]`` logit of "right hand" (needs ``side_head``)."""

    def __init__(self, config: PoseNetConfig):
        super().__init__()
        self.config = config
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
                                      nn.AdaptiveAvgPool2d(grid), nn.Flatten(),
                                      nn.Linear(c(128) * grid * grid, 1))

    @staticmethod
    def _refine(enc: int, hidden: int) -> nn.Sequential:
        layers, ch = conv_stack(enc + NUM_KEYPOINTS, [hidden] * 5, kernel=7)
        return nn.Sequential(*layers, conv(ch, hidden, 1), conv(hidden, NUM_KEYPOINTS, 1, act=False))

    def forward(self, x: torch.Tensor, side: bool = False):
        encoding = self.encoder(x)
        maps = [self.stage1(encoding)]
        for stage in self.stages:
            maps.append(stage(torch.cat([maps[-1], encoding], dim=1)))
        if not side:
            return maps
        if not self.config.side_head:
            raise ValueError("this PoseNet has no side head (PoseNetConfig.side_head=False)")
        return maps, self.side(encoding)[:, 0]
