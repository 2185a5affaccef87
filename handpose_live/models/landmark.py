"""The keypoint refiner: MediaPipe Hands' landmark network (``hand_landmark_full.tflite``,
Apache-2.0, Google), converted to torch, as a second 2D pass on each hand PoseNet found.

Not part of the paper. PoseNet's keypoints place an upright crop (wrist -> middle-finger base
pointing up, the keypoint box x ``crop_scale``); this network reads that crop and regresses the
21 keypoints (global pooling and a fully connected layer: one guess per keypoint, drawn from the
whole hand), which replace PoseNet's 2D keypoints. PoseNet's score maps still feed PosePrior and
ViewPoint and its confidences still score the hand; the refiner changes only where the 2D
keypoints land (and only where it sees a hand: ``min_presence``). Measured in ``assets/MODEL_CARD.md``.

Layout: ``MobileEncoder(LAYOUTS["mediapipe32"])`` (our input ``rgb / 255 - 0.5``; the network's
own ``rgb / 255`` is folded into the stem when converted), a 1x1 conv to 1152 channels, a 3x3
depthwise conv (both ReLU6), global average pooling, and three linear heads: 21 x (x, y, z)
landmarks in crop pixels (MediaPipe's joint order = our user order), hand presence and
handedness (logits here; the network's sigmoid is applied by the caller).
``training/pretrained/mediapipe_landmark.py: landmark_state_dict`` converts the weights.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .mobile import LAYOUTS, MobileEncoder, SameConv

INPUT_SIZE = 224  # the crop side the network was trained on; it regresses coordinates in it
HEAD_CHANNELS = 1152
NUM_LANDMARKS = 21
WORLD_USES = ("off", "3d", "lifting")


@dataclass
class LandmarkConfig:
    """``crop_scale``: the crop's side over the side of the keypoint box training makes from PoseNet's
    keypoints (``crop.keypoint_box``); ``upright``: turn the crop so the wrist -> middle-finger
    base points up, as the network expects; ``min_presence``: the refiner's hand presence below
    which a hand keeps PoseNet's keypoints."""

    crop_scale: float = 1.3
    upright: bool = True
    # below this presence (the network's own "is there a hand in this crop", 0-1) a hand keeps
    # PoseNet's keypoints: the refiner's answer for a crop without a hand is a bunched guess
    min_presence: float = 0.5
    # the network's world-landmark head (metric 3D in the upright crop's axes, turned back by the
    # crop's angle): "off" (left out), "3d" (the 3D keypoints of hands it sees, instead of
    # PosePrior + ViewPoint), "lifting" (an input of PosePrior and ViewPoint, LiftingConfig.world)
    world: str = "off"

    def __post_init__(self):
        if not 0.5 <= float(self.crop_scale) <= 3.0:
            raise ValueError(f"landmark crop_scale must be 0.5-3, got {self.crop_scale!r}")
        if not 0.0 <= float(self.min_presence) <= 1.0:
            raise ValueError(f"landmark min_presence must be 0-1, got {self.min_presence!r}")
        if self.world not in WORLD_USES:
            raise ValueError(f"landmark world must be one of {WORLD_USES}, got {self.world!r}")


class LandmarkNet(nn.Module):
    """``[B, 3, 224, 224]`` crops (ours: ``rgb / 255 - 0.5``) -> dict: ``landmarks`` ``[B, 21, 3]``
    (x, y in crop px, z relative; user order), ``presence`` and
    ``handedness`` ``[B]`` logits; with ``config.world`` on also ``world`` ``[B, 21, 3]`` (metres,
    the crop's axes: x right, y down, z away from the camera; user order)."""

    def __init__(self, config: LandmarkConfig | None = None):
        super().__init__()
        self.config = config or LandmarkConfig()
        self.encoder = MobileEncoder(LAYOUTS["mediapipe32"])
        ch = self.encoder.channels[-1]
        self.head = SameConv(ch, HEAD_CHANNELS, 1)
        self.head_depthwise = SameConv(HEAD_CHANNELS, HEAD_CHANNELS, 3, groups=HEAD_CHANNELS)
        self.landmarks = nn.Linear(HEAD_CHANNELS, NUM_LANDMARKS * 3)
        self.presence = nn.Linear(HEAD_CHANNELS, 1)
        self.handedness = nn.Linear(HEAD_CHANNELS, 1)
        if self.config.world != "off":
            self.world = nn.Linear(HEAD_CHANNELS, NUM_LANDMARKS * 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.encoder(x)[-1]
        y = F.relu6(self.head_depthwise(F.relu6(self.head(y), inplace=True)), inplace=True)
        y = y.mean(dim=(2, 3))
        lm = self.landmarks(y).reshape(-1, NUM_LANDMARKS, 3)
        out = {"landmarks": lm, "presence": self.presence(y)[:, 0], "handedness": self.handedness(y)[:, 0]}
        if self.config.world != "off":
            out["world"] = self.world(y).reshape(-1, NUM_LANDMARKS, 3)
        return out
