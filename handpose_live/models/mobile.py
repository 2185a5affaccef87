"""A mobile encoder (inverted residual blocks, ReLU6, TF "SAME" padding) and the stride-4 decoder
PoseNet builds on it.

The encoder's layout is data: a stem and a list of ``Block`` specs. Two layouts are known, each
matching a pretrained start whose weights training converts (``training/pretrained/``):
``lite0`` = EfficientNet-Lite0 (ImageNet) up to stride 16, ``mediapipe`` = MediaPipe Hands'
landmark network up to stride 16, ``mediapipe32`` = the same network up to its last stride-32 block
(four blocks more: more of the start's capacity and context for the same maps). Batch norm is folded into the convolutions when a start is
converted, so every conv here has a bias and no norm layer follows it.

Inputs are our normalisation (``rgb / 255 - 0.5``); each start's own input convention is folded
into the stem's weights when converted, and the stem pads with the value that is zero in that
convention, so a converted encoder reproduces its source exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Block:
    """Inverted residual: 1x1 expand to ``expand`` channels (none when 0) -> ReLU6 ->
    ``kernel``x``kernel`` depthwise, ``stride`` -> ReLU6 -> 1x1 project to ``out`` (linear); a
    residual connection when the shape is kept."""

    expand: int
    kernel: int
    stride: int
    out: int


@dataclass(frozen=True)
class EncoderLayout:
    stem: int  # channels of the 3x3 stride-2 stem conv
    blocks: tuple[Block, ...]
    stem_pad: float  # padding value of the stem, in our normalisation (= the start's zero)


def _lite0_blocks() -> tuple[Block, ...]:
    # (repeats, kernel, first stride, expand ratio, out) of EfficientNet-Lite0 up to stride 16
    spec = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112)]
    blocks, ch = [], 32
    for repeats, k, s, e, out in spec:
        for r in range(repeats):
            blocks.append(Block(expand=ch * e if e != 1 else 0, kernel=k, stride=s if r == 0 else 1, out=out))
            ch = out
    return tuple(blocks)


def _mediapipe_blocks(max_stride: int = 16) -> tuple[Block, ...]:
    # MediaPipe Hands' landmark network (hand_landmark_full.tflite) up to its last block at
    # ``max_stride``; training/pretrained/mediapipe_landmark.py reads the same layout out of the
    # graph and checks it. (expand channels, kernel, stride, out); repeats written out
    spec = [(0, 3, 1, 16), (64, 3, 2, 24), (144, 3, 1, 24), (144, 5, 2, 40), (240, 5, 1, 40),
            (240, 3, 2, 80), (480, 3, 1, 80), (480, 3, 1, 80), (480, 5, 1, 112), (672, 5, 1, 112),
            (672, 5, 1, 112)]
    if max_stride == 32:
        spec += [(672, 5, 2, 192), (1152, 5, 1, 192), (1152, 5, 1, 192), (1152, 5, 1, 192)]
    return tuple(Block(expand=e, kernel=k, stride=s, out=o) for e, k, s, o in spec)


LAYOUTS = {
    # (rgb - 127) / 128: zero = rgb 127 = -0.002 in ours
    "lite0": EncoderLayout(stem=32, blocks=_lite0_blocks(), stem_pad=127 / 255 - 0.5),
    # rgb / 255 in [0, 1]: zero = -0.5 in ours
    "mediapipe": EncoderLayout(stem=24, blocks=_mediapipe_blocks(), stem_pad=-0.5),
    "mediapipe32": EncoderLayout(stem=24, blocks=_mediapipe_blocks(32), stem_pad=-0.5),
}


def layout_stride(layout: EncoderLayout) -> int:
    """The stride of a layout's last block (16 or 32)."""
    stride = 2
    for b in layout.blocks:
        stride *= b.stride
    return stride


def same_pad(kernel: int, stride: int) -> tuple[int, int, int, int]:
    """TF "SAME" padding (left, right, top, bottom) for even input sizes: stride 2 pads more on
    the right and bottom, which torch's symmetric padding does not reproduce."""
    total = max(kernel - stride, 0)
    lo = total // 2
    return (lo, total - lo, lo, total - lo)


class SameConv(nn.Conv2d):
    """Conv2d with TF "SAME" padding (exact for even input sizes) and a bias. Zero padding that is
    the same on every side (1x1 convs, stride-1 kxk) is the convolution's own; only the rest
    (stride 2, the stem's non-zero pad value) is a separate ``F.pad``, a copy of the input — once
    before nearly every conv, ~10 % of the refiner's time on this CPU (BENCHMARKS.md)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
                 pad_value: float = 0.0):
        pad = same_pad(kernel, stride)
        own = pad_value == 0.0 and len(set(pad)) == 1
        super().__init__(in_ch, out_ch, kernel, stride, padding=pad[0] if own else 0, groups=groups, bias=True)
        self.pad = None if own else pad
        self.pad_value = pad_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x if self.pad is None else F.pad(x, self.pad, value=self.pad_value))


class InvertedResidual(nn.Module):
    def __init__(self, in_ch: int, block: Block):
        super().__init__()
        mid = block.expand or in_ch
        self.expand = SameConv(in_ch, mid, 1) if block.expand else None
        self.depthwise = SameConv(mid, mid, block.kernel, block.stride, groups=mid)
        self.project = SameConv(mid, block.out, 1)
        self.residual = block.stride == 1 and in_ch == block.out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self.expand(x), inplace=True) if self.expand is not None else x
        y = self.project(F.relu6(self.depthwise(y), inplace=True))
        return x + y if self.residual else y


class MobileEncoder(nn.Module):
    """``[B, 3, S, S]`` (ours: ``rgb / 255 - 0.5``) -> features at strides 4, 8, 16 and, for a
    layout that goes on, 32 (the last block of each stride); ``channels`` gives their widths."""

    def __init__(self, layout: EncoderLayout):
        super().__init__()
        self.stem = SameConv(3, layout.stem, 3, 2, pad_value=layout.stem_pad)
        self.blocks = nn.ModuleList()
        ch, stride, self.taps, self.channels = layout.stem, 2, [], []
        for i, b in enumerate(layout.blocks):
            self.blocks.append(InvertedResidual(ch, b))
            ch, stride = b.out, stride * b.stride
            last_of_stride = i + 1 == len(layout.blocks) or layout.blocks[i + 1].stride != 1
            if stride >= 4 and last_of_stride:
                self.taps.append(i)
                self.channels.append(ch)
        if stride not in (16, 32) or len(self.taps) != {16: 3, 32: 4}[stride]:
            raise ValueError(f"encoder layout must end at stride 16 or 32 with a tap at each stride from 4 "
                             f"(got stride {stride}, {len(self.taps)} taps)")

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self.stem(x), inplace=True)
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                feats.append(x)
        return feats


def _dw_sep(in_ch: int, out_ch: int, kernel: int) -> nn.Sequential:
    """Depthwise ``kernel``x``kernel`` + pointwise conv, each followed by ReLU."""
    return nn.Sequential(nn.Conv2d(in_ch, in_ch, kernel, padding=kernel // 2, groups=in_ch), nn.ReLU(inplace=True),
                         nn.Conv2d(in_ch, out_ch, 1), nn.ReLU(inplace=True))


class StrideFourDecoder(nn.Module):
    """Top-down merge of stride 16, 8 and 4 features (1x1 laterals, upsample x2, add, 3x3
    depthwise-separable smoothing) -> ``width`` channels at stride 4. Stride-32 features (a
    fourth entry of ``channels``) join the stride-16 lateral through their own 1x1 conv
    (``deep``), upsampled and added; it starts at zero, so a decoder trained without them
    computes the same until training moves it."""

    def __init__(self, channels: list[int], width: int):
        super().__init__()
        channels = list(channels)
        self.deep = None
        if len(channels) == 4:
            self.deep = nn.Conv2d(channels.pop(), width, 1)
            nn.init.zeros_(self.deep.weight)
            nn.init.zeros_(self.deep.bias)
        self.lateral = nn.ModuleList([nn.Conv2d(c, width, 1) for c in channels])
        self.smooth = nn.ModuleList([_dw_sep(width, width, 3) for _ in channels[:-1]])

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        feats = list(feats)
        deep = feats.pop() if self.deep is not None else None
        x = self.lateral[-1](feats[-1])
        if deep is not None:
            x = x + F.interpolate(self.deep(deep), scale_factor=2.0, mode="nearest")
        for i in range(len(feats) - 2, -1, -1):
            x = F.interpolate(x, scale_factor=2.0, mode="nearest") + self.lateral[i](feats[i])
            x = self.smooth[i](x)
        return x


def refine_stage(width: int, num_maps: int, kernel: int = 7, depth: int = 3) -> nn.Sequential:
    """The paper's refinement stage at stride 4: previous maps + features -> maps, with its 7x7
    receptive field kept through depthwise-separable convolutions (full 7x7 convs at 32x32 cost
    more than the whole encoder)."""
    layers: list[nn.Module] = [nn.Conv2d(width + num_maps, width, 1), nn.ReLU(inplace=True)]
    for _ in range(depth):
        layers.append(_dw_sep(width, width, kernel))
    layers.append(nn.Conv2d(width, num_maps, 1))
    return nn.Sequential(*layers)
