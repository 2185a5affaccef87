"""Building blocks shared by the four networks: conv + leaky ReLU (slope 0.01)."""
from __future__ import annotations

from torch import nn

LEAKY_SLOPE = 0.01


def conv(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, act: bool = True) -> nn.Sequential:
    """A 'same'-padded conv followed (unless ``act`` is False) by leaky ReLU 0.01."""
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2)]
    if act:
        layers.append(nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
    return nn.Sequential(*layers)


def conv_stack(in_ch: int, widths: list[int], kernel: int = 3) -> tuple[list[nn.Module], int]:
    """Consecutive ``conv`` layers of the given output widths; returns (layers, out_channels)."""
    layers = []
    for w in widths:
        layers.append(conv(in_ch, w, kernel))
        in_ch = w
    return layers, in_ch


def scaled(channels: int, width: float) -> int:
    """Channel count scaled by a width multiplier (at least 8)."""
    return max(8, int(round(channels * width)))
