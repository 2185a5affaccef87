"""Hard negatives for HandSegNet: the hand-free crops of ``backgrounds/subhih_handfree`` (walls,
desks, monitors, faces, arms; 256x256, cut from real_hands' subhih train sequences away from every
labelled hand) as samples without a hand.

Each sample has an all-background mask (``mask_valid`` True, ``mask_coarse`` False) and no hand:
zero keypoints, ``visible`` all False, ``has_3d`` False, ``side`` 0 (a placeholder: PoseNet's side
loss gives samples without a visible keypoint weight 0, its map loss needs visible keypoints, and
the lifting stage needs ``has_3d``), ``num_hands`` 0.

Splits: ``train`` = crops of every scene but real_hands' dev groups (``render.background``'s
``_dev_scenes``/``_scene_of``: the renderer leaves the same crops out); ``dev`` = the crops of dev
scenes (false positives on unseen scenes); ``val`` has none (no crop was cut from val scenes).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from training.data.image_file import read_rgb
from training.data.paths import data_root
from training.data.resize import maybe_letterbox
from training.data.sample import NUM_KEYPOINTS, PLACEHOLDER_K, no_other_hand

FOLDER = Path("backgrounds") / "subhih_handfree"
HANDFREE_WEIGHT = 1.0  # the labels are exact (no hand was cut in), unlike real_hands' pseudo-labels
SPLITS = ("train", "dev")


def handfree_files(root: Path, split: str = "train") -> list[Path]:
    """The crops of ``split`` under ``root`` (the shared data folder), sorted."""
    from training.render.background import _dev_scenes, _scene_of

    if split not in SPLITS:
        raise ValueError(f"handfree split must be one of {SPLITS} (no crop was cut from val scenes), got {split!r}")
    folder = Path(root) / FOLDER
    if not folder.is_dir():
        raise ValueError(f"{folder} not found; pass the shared data folder (holding backgrounds/) as root")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    dev = _dev_scenes(Path(root))
    return [p for p in files if (_scene_of(p) in dev) == (split == "dev")]


def empty_sample(image_rgb: np.ndarray, source: str, weight: float = HANDFREE_WEIGHT) -> dict:
    """The sample contract for an image without a hand: all-background mask, no keypoints."""
    h, w = image_rgb.shape[:2]
    sample = {
        "image_rgb": image_rgb, "mask": np.zeros((h, w), np.uint8),
        "mask_valid": np.bool_(True), "mask_coarse": np.bool_(False),
        "keypoints_2d": np.zeros((NUM_KEYPOINTS, 2), np.float32), "visible": np.zeros(NUM_KEYPOINTS, bool),
        "keypoints_3d": np.zeros((NUM_KEYPOINTS, 3), np.float32),
        "has_3d": np.bool_(False), "has_3d_camera": np.bool_(False), "K": PLACEHOLDER_K.copy(),
        "side": np.int64(0), "weight": np.float32(weight), "source": source,
    }
    sample.update(no_other_hand())
    sample["num_hands"] = np.int64(0)
    return sample


class HandFreeCrops(Dataset):
    """One sample per hand-free crop (``handfree_files``), letterboxed to ``size`` when given."""

    def __init__(self, root: str | Path | None = None, split: str = "train", size: int | None = None):
        self.root = Path(root) if root is not None else data_root()
        self.size = size
        self.files = handfree_files(self.root, split)
        if not self.files:
            raise ValueError(f"no hand-free crops for split {split!r} under {self.root / FOLDER}")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        path = self.files[index]
        return maybe_letterbox(empty_sample(read_rgb(path), "handfree"), self.size)
