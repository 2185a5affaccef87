"""Deterministic stand-ins for the networks, so geometry can be checked end to end."""
from __future__ import annotations

import torch
from torch import nn

from handpose_live.heatmaps import encode


class RedIsHandSegNet(nn.Module):
    """Segments saturated red pixels as a right hand, saturated blue ones as a left hand.
    Input: normalised RGB ``rgb / 255 - 0.5``. Counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        r, g, b = x[:, 0], x[:, 1], x[:, 2]
        right = ((r > 0.3) & (g < -0.3) & (b < -0.3)).float()
        left = ((b > 0.3) & (g < -0.3) & (r < -0.3)).float()
        bg = 1 - torch.clamp(left + right, 0, 1)
        return torch.stack([bg, left, right], 1) * 20 - 10


class CentrePoseNet(nn.Module):
    """Score maps putting every keypoint at fixed crop positions (``points_px`` ``[21, 2]``)."""

    def __init__(self, points_px: torch.Tensor, crop_size: int):
        super().__init__()
        self.points_px, self.crop_size = points_px, crop_size

    def forward(self, x):
        n = x.shape[0]
        maps = encode(self.points_px.expand(n, -1, -1), torch.ones(n, 21, dtype=torch.bool),
                      self.crop_size, self.crop_size // 8)
        return [maps, maps, maps]


class FollowRedPoseNet(nn.Module):
    """Keypoints spread over the bounding box of the red pixels in each crop (so the keypoint
    box follows a moving red square, as a real PoseNet follows a hand)."""

    def __init__(self, crop_size: int):
        super().__init__()
        self.crop_size = crop_size

    @staticmethod
    def red_pixels(x):
        """``[B, h, w]`` True where a normalised crop ``x`` ``[B, 3, h, w]`` is saturated red."""
        return (x[:, 0] > 0.3) & (x[:, 1] < -0.3)

    def hand_pixels(self, x):
        """``[B, h, w]`` the pixels of the hand each crop's keypoints spread over: red ones."""
        return self.red_pixels(x)

    def forward(self, x):
        points = []
        for m in self.hand_pixels(x):
            ys, xs = torch.nonzero(m, as_tuple=True)
            if len(xs) == 0:
                points.append(torch.full((21, 2), -1000.0))
                continue
            lo = torch.stack([xs.min(), ys.min()]).float()
            hi = torch.stack([xs.max(), ys.max()]).float()
            t = torch.linspace(0, 1, 21)[:, None]
            points.append(lo + (hi - lo) * t)  # a diagonal from corner to corner
        points = torch.stack(points)
        maps = encode(points, torch.ones(x.shape[0], 21, dtype=torch.bool), self.crop_size, self.crop_size // 8)
        return [maps, maps, maps]


class GreenIsLeftPoseNet(CentrePoseNet):
    """``CentrePoseNet`` with a side head: a crop holding saturated green pixels reads as a
    left hand (logit -10), any other as a right hand (+10)."""

    def forward(self, x, side=False):
        maps = super().forward(x)
        if not side:
            return maps
        green = ((x[:, 1] > 0.3) & (x[:, 0] < -0.3) & (x[:, 2] < -0.3)).flatten(1).any(1)
        return maps, torch.where(green, -10.0, 10.0)


class YellowOutshinesRedSegNet(RedIsHandSegNet):
    """``RedIsHandSegNet`` that also segments saturated yellow pixels (a face, say) as a right
    hand, and more confidently than red ones: yellow regions rank first by segmentation peak."""

    def forward(self, x):
        logits = super().forward(x)
        r, g, b = x[:, 0], x[:, 1], x[:, 2]
        yellow = ((r > 0.3) & (g > 0.3) & (b < -0.3)).float()
        bg = logits[:, 0] * (1 - yellow) + yellow * -12.0
        right = logits[:, 2] * (1 - yellow) + yellow * 12.0
        red_hand = logits[:, 2] > 0
        right = torch.where(red_hand, torch.full_like(right, 1.0), right)  # red: hand prob ~0.98
        bg = torch.where(red_hand, torch.full_like(bg, -3.0), bg)
        return torch.stack([bg, logits[:, 1], right], 1)


class CentreColourPoseNet(FollowRedPoseNet):
    """``FollowRedPoseNet`` over the saturated colour (red or blue) at the crop's centre, else the
    colour with more pixels in the crop: a PoseNet that follows the hand it is centred on."""

    def hand_pixels(self, x):
        red = self.red_pixels(x) & (x[:, 2] < -0.3)
        blue = (x[:, 2] > 0.3) & (x[:, 1] < -0.3) & (x[:, 0] < -0.3)
        c = x.shape[-1] // 2
        return torch.stack([r if r[c, c] or (not b[c, c] and r.sum() >= b.sum()) else b
                            for r, b in zip(red, blue)])
