"""Score-map codec: keypoints <-> Gaussian score maps (encode for training, decode at run time).

Maps of side ``m`` cover a crop of side ``S`` pixels: map cell ``i`` is centred on crop pixel
``(i + 0.5) * S / m - 0.5``. The paper's target is ``exp(-d^2 / 25^2)`` with ``d`` in pixels of a
256-pixel crop; other crop sizes scale ``d`` so a map looks the same at every input size.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PAPER_CROP = 256
PAPER_SIGMA_PX = 25.0  # exp(-d^2 / sigma^2): a Gaussian of standard deviation 25 / sqrt(2) px


def encode(keypoints_px: torch.Tensor, visible: torch.Tensor, crop_size: int, map_size: int) -> torch.Tensor:
    """Target maps ``[B, K, m, m]`` for ``keypoints_px`` ``[B, K, 2]`` (crop pixels, x, y);
    maps of invisible keypoints (``visible`` ``[B, K]`` False) are zero."""
    step = crop_size / map_size
    centres = (torch.arange(map_size, dtype=torch.float32, device=keypoints_px.device) + 0.5) * step - 0.5
    dx = centres.view(1, 1, 1, -1) - keypoints_px[..., 0, None, None]
    dy = centres.view(1, 1, -1, 1) - keypoints_px[..., 1, None, None]
    d2 = (dx * dx + dy * dy) * (PAPER_CROP / crop_size) ** 2
    return torch.exp(-d2 / PAPER_SIGMA_PX**2) * visible[..., None, None].to(d2.dtype)


def decode(score_maps: torch.Tensor, crop_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sub-pixel keypoints from score maps ``[B, K, m, m]``.

    Returns ``(keypoints_px [B, K, 2] in crop pixels, confidence [B, K] in 0-1)``. The position is
    the argmax refined by a parabola through the log scores of its neighbours along x and along y
    (exact for a Gaussian peak); the confidence is that parabola's peak score clamped to [0, 1]
    (targets peak at 1).
    """
    b, k, h, w = score_maps.shape
    maps = score_maps.float()
    peak, idx = maps.view(b, k, -1).max(-1)
    py, px = idx // w, idx % w
    log_maps = F.pad(maps.clamp_min(1e-6).log(), (1, 1, 1, 1), value=math.log(1e-6)).view(b, k, -1)

    def at(dy: int, dx: int) -> torch.Tensor:
        return log_maps.gather(-1, ((py + 1 + dy) * (w + 2) + px + 1 + dx)[..., None])[..., 0]

    def vertex(left, centre, right):
        """Offset (-0.5..0.5) and log-height gain of the parabola through three log scores."""
        slope, curvature = (right - left) / 2, (left - 2 * centre + right) / 2
        peaked = curvature < -1e-6
        safe = torch.where(peaked, curvature, torch.full_like(curvature, -1.0))
        off = torch.where(peaked, -slope / (2 * safe), torch.zeros_like(slope)).clamp(-0.5, 0.5)
        return off, torch.where(peaked, slope * off + curvature * off * off, torch.zeros_like(slope))

    c = at(0, 0)
    off_x, gain_x = vertex(at(0, -1), c, at(0, 1))
    off_y, gain_y = vertex(at(-1, 0), c, at(1, 0))
    x = px.to(maps.dtype) + off_x
    y = py.to(maps.dtype) + off_y
    confidence = torch.where(peak > 1e-6, (c + gain_x + gain_y).exp(), peak)
    step = crop_size / w
    keypoints = torch.stack([(x + 0.5) * step - 0.5, (y + 0.5) * step - 0.5], -1)
    return keypoints, confidence.clamp(0, 1)
