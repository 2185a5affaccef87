"""HandSegNet: full-frame hand segmentation (Zimmermann & Brox 2017, section 3.1)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import conv, conv_stack, scaled
from .mobile import LAYOUTS, MobileEncoder, StrideFourDecoder, layout_stride


@dataclass
class HandSegNetConfig:
    """``width`` scales every hidden layer (1.0 = paper). ``input_size`` = (height, width) of the
    letterboxed frame the network sees. ``num_classes``: 2 = the paper (background, hand);
    3 = our extension (background, left hand, right hand) that estimates the hand side.
    ``encoder``: ``vgg`` (the paper's) or a pretrained mobile layout of ``mobile.LAYOUTS``
    (logits at stride 4 through the same top-down decoder as PoseNet's)."""

    width: float = 1.0
    input_size: tuple[int, int] = (240, 320)
    num_classes: int = 3
    encoder: str = "vgg"

    def __post_init__(self):
        self.input_size = tuple(int(v) for v in self.input_size)
        if self.num_classes not in (2, 3):
            raise ValueError(f"HandSegNet num_classes must be 2 or 3, got {self.num_classes}")
        if self.encoder != "vgg" and self.encoder not in LAYOUTS:
            raise ValueError(f"HandSegNet encoder must be vgg or one of {sorted(LAYOUTS)}, got {self.encoder!r}")
        multiple = 8 if self.encoder == "vgg" else layout_stride(LAYOUTS[self.encoder])
        if any(v % multiple for v in self.input_size):
            raise ValueError(f"HandSegNet input_size must be multiples of {multiple} for the {self.encoder} "
                             f"encoder, got {self.input_size}")


class HandSegNet(nn.Module):
    """Input ``[B, 3, H, W]`` normalised RGB (``rgb / 255 - 0.5``); output logits
    ``[B, num_classes, H, W]`` (computed at 1/8 resolution — 1/4 with a mobile encoder —
    bilinearly upsampled)."""

    def __init__(self, config: HandSegNetConfig):
        super().__init__()
        self.config = config
        c = lambda n: scaled(n, config.width)  # noqa: E731
        if config.encoder != "vgg":
            self.encoder = MobileEncoder(LAYOUTS[config.encoder])
            self.decoder = StrideFourDecoder(self.encoder.channels, c(128))
            self.head = nn.Sequential(nn.Conv2d(c(128), c(128), 3, padding=1), nn.ReLU(inplace=True),
                                      nn.Conv2d(c(128), config.num_classes, 1))
            return
        pool = lambda: nn.MaxPool2d(2, 2)  # noqa: E731
        b1, ch = conv_stack(3, [c(64), c(64)])
        b2, ch = conv_stack(ch, [c(128), c(128)])
        b3, ch = conv_stack(ch, [c(256)] * 4)
        b4, ch = conv_stack(ch, [c(512)] * 4)
        b5, ch = conv_stack(ch, [c(512), c(128)])
        self.features = nn.Sequential(*b1, pool(), *b2, pool(), *b3, pool(), *b4, *b5)
        self.head = nn.Sequential(conv(ch, c(512), 1), conv(c(512), config.num_classes, 1, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.encoder != "vgg":
            logits = self.head(self.decoder(self.encoder(x)))
        else:
            logits = self.head(self.features(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
