"""Building blocks shared by the four networks: conv + leaky ReLU (slope 0.01)."""
from __future__ import annotations

from torch import nn

LEAKY_SLOPE = 0.01


def conv(in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1, act: bool = True) -> nn.Sequential:
    """A 'same'-padded conv followed (unless ``act`` is False) by leaky ReLU 0.01.

    He initialisation for leaky ReLU, zero bias: from scratch (the paper started from a
    person-pose model we do not have), torch's default init left PoseNet on the all-zero-maps
    plateau longer (300-step A/B on rendered data: val median error 27.7 px vs 31.4 px)."""
    layer = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2)
    nn.init.kaiming_normal_(layer.weight, a=LEAKY_SLOPE, nonlinearity="leaky_relu")
    nn.init.zeros_(layer.bias)
    layers: list[nn.Module] = [layer]
    if act:
        layers.append(nn.LeakyReLU(LEAKY_SLOPE, inplace=True))
    return nn.Sequential(*layers)


class GridPool(nn.AdaptiveAvgPool2d):
    """``nn.AdaptiveAvgPool2d`` (same outputs, no weights) that passes an input already of its output
    size through untouched: the ONNX exporter cannot export adaptive pooling where it loses track
    of the input's size, which happens inside PoseNet's side head (a 4x4 grid pooled to 4x4)."""

    def forward(self, x):
        size = self.output_size if isinstance(self.output_size, tuple) else (self.output_size,) * 2
        if tuple(x.shape[-2:]) == tuple(size):
            return x
        return super().forward(x)


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
