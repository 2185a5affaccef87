"""Mined hard negatives for PoseNet: regions a model took for a hand where there is none, written by
``python -m training.mine_negatives`` to a JSON file and read back as samples without a hand.

    --data ...,negatives=runs/negatives/run10.json:0.25

Each region is a crop box ``(cx, cy, side)`` in its photo's pixels (the box the estimator cropped);
the sample is the whole photo (letterboxed to ``size``) with no visible keypoint and the region in
its invisible keypoints (``handfree.region_keypoints``), so PoseNet is shown that crop and taught
empty score maps (``training.stages.posenet_step``). Photos of real_hands hold labelled hands
elsewhere, so their samples carry no mask (``mask_valid`` False: HandSegNet learns nothing from
them); the hand-free crops' samples keep their all-background mask. Paths in the file are relative
to the shared data folder (``$HANDPOSE_DATA`` unless ``root`` is given).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from training.data.handfree import empty_sample
from training.data.image_file import read_rgb
from training.data.paths import data_root
from training.data.resize import maybe_letterbox

FORMAT = "handpose-live mined negatives"


def read_regions(path: str | Path) -> list[dict]:
    """The regions of a mined-negatives file, each ``{"file", "box", "hand_free", ...}``; a clear
    ValueError for a missing or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"mined negatives file {path} not found; write it with python -m training.mine_negatives")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not a mined-negatives file (not JSON: {e})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("regions"), list):
        raise ValueError(f"{path} is not a mined-negatives file (format {FORMAT!r} expected)")
    return data["regions"]


class MinedNegatives(Dataset):
    """One sample per mined region (module doc)."""

    def __init__(self, file: str | Path, root: str | Path | None = None, size: int | None = None):
        self.root = Path(root) if root is not None else data_root()
        self.size = size
        self.regions = read_regions(file)
        if not self.regions:
            raise ValueError(f"{file} holds no region")

    def __len__(self) -> int:
        return len(self.regions)

    def __getitem__(self, index: int) -> dict:
        r = self.regions[index]
        sample = empty_sample(read_rgb(self.root / r["file"]), "negatives", region=np.float32(r["box"]))
        sample["mask_valid"] = np.bool_(bool(r.get("hand_free", False)))
        return maybe_letterbox(sample, self.size)
