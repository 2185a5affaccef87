"""The paper's losses (section 4), with per-sample weights for mixed and pseudo-labelled data."""
from __future__ import annotations

import torch
import torch.nn.functional as F


IGNORE_INDEX = 255  # mask value of an unlabelled pixel (training/data/sample.py: IGNORE_LABEL)


def segmentation_loss(logits: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per-pixel softmax cross-entropy. ``mask`` ``[B, H, W]`` labels 0 bg, 1 left, 2 right,
    ``IGNORE_INDEX`` (255) no label; a 2-class model sees both hands as class 1. Each sample's
    loss is the mean over its labelled pixels; ``weight`` ``[B]`` (0 = no mask for that sample);
    a sample without a labelled pixel counts as weight 0."""
    target = mask.long()
    ignored = target == IGNORE_INDEX
    if logits.shape[1] == 2:
        target = torch.where(ignored, target, (target > 0).long())
    per_pixel = F.cross_entropy(logits.float(), target, reduction="none", ignore_index=IGNORE_INDEX)
    labelled = (~ignored).flatten(1).sum(1)
    per_sample = per_pixel.flatten(1).sum(1) / labelled.clamp_min(1)
    weight = weight * (labelled > 0)
    return (per_sample * weight).sum() / weight.sum().clamp_min(1e-6)


def keypoint_map_loss(stages: list[torch.Tensor], target: torch.Tensor, visible: torch.Tensor,
                      weight: torch.Tensor, robust: torch.Tensor | None = None) -> torch.Tensor:
    """Per keypoint RMS between the map (upsampled to the target's size) and the target,
    averaged over visible keypoints, summed over all stages. ``robust`` ``[B]`` bool: for those
    samples (pseudo-labels) the per-keypoint error is passed through sqrt(1 + e^2) - 1 scaled,
    so a wrong label pulls less than a right one."""
    total = 0.0
    vis = visible.float() * weight[:, None]
    for maps in stages:
        up = F.interpolate(maps.float(), size=target.shape[-2:], mode="bilinear", align_corners=False)
        rms = ((up - target) ** 2).flatten(2).mean(-1).clamp_min(1e-12).sqrt()  # [B, 21]
        if robust is not None and robust.any():
            c = 0.1
            pseudo = c * (torch.sqrt(1 + (rms / c) ** 2) - 1)
            rms = torch.where(robust[:, None], pseudo, rms)
        total = total + (rms * vis).sum() / vis.sum().clamp_min(1e-6)
    return total


ROBUST_CANONICAL = 0.3  # canonical units (the middle MCP->PIP bone, ~3 cm): ~1 cm
ROBUST_ROTATION = 0.5   # Frobenius norm of the rotation-matrix error: ~20 degrees


def _pseudo_huber(squared_error: torch.Tensor, c: float) -> torch.Tensor:
    """2c^2 (sqrt(1 + e^2/c^2) - 1) of a squared error e^2: about e^2 for small errors, growing only
    linearly in e for large ones (taking e^2, so its gradient stays finite at e = 0)."""
    return 2 * c * c * (torch.sqrt(1 + squared_error / (c * c)) - 1)


def lifting_loss(canonical: torch.Tensor, rotation: torch.Tensor, canonical_gt: torch.Tensor,
                 rotation_gt: torch.Tensor, weight: torch.Tensor,
                 robust: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MSE on canonical coordinates and MSE on the rotation matrix (1:1), per-sample weighted.
    ``robust`` ``[B]`` bool: for those samples (pseudo-3D, e.g. MediaPipe's world landmarks) the
    squared error of each keypoint (and of the rotation matrix) goes through a pseudo-Huber
    function, equal to it for small errors and linear for large ones, so a wrong label pulls less."""
    w = weight / weight.sum().clamp_min(1e-6)
    d_c = ((canonical.float() - canonical_gt) ** 2).sum(-1)          # [B, 21] squared keypoint errors
    d_r = ((rotation.float() - rotation_gt) ** 2).flatten(1).sum(1)  # [B]
    if robust is not None:
        d_c = torch.where(robust[:, None], _pseudo_huber(d_c, ROBUST_CANONICAL), d_c)
        d_r = torch.where(robust, _pseudo_huber(d_r, ROBUST_ROTATION), d_r)
    mse_c = d_c.mean(1) / 3
    mse_r = d_r / 9
    return (mse_c * w).sum(), (mse_r * w).sum()


def side_loss(logit: torch.Tensor, side: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of PoseNet's "right hand" logit ``[B]`` against ``side`` ``[B]``
    (1 = right), per-sample weighted."""
    per_sample = F.binary_cross_entropy_with_logits(logit.float(), side.float(), reduction="none")
    return (per_sample * weight).sum() / weight.sum().clamp_min(1e-6)
