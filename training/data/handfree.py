"""Hard negatives: the hand-free crops of ``backgrounds/subhih_handfree`` (walls, desks, monitors,
faces, arms; 256x256, cut from real_hands' subhih train sequences away from every labelled hand) as
samples without a hand — for HandSegNet (an all-background mask) and for PoseNet (a crop that
should give empty score maps, ``training.stages.posenet_step``).

Each sample has an all-background mask (``mask_valid`` True, ``mask_coarse`` False) and no hand:
``visible`` all False, ``has_3d`` False, ``side`` 0 (a placeholder: PoseNet's side loss gives
samples without a visible keypoint weight 0 and the lifting stage needs ``has_3d``),
``num_hands`` 0. Its invisible ``keypoints_2d`` mark the region PoseNet is shown
(``region_keypoints``: the crop box training makes from them is that region's), so flips and
letterboxing move the region with the pixels: here a random square per crop (``random_region``,
deterministic per index), for mined negatives (``training.data.negatives``) a region the model
took for a hand.

Splits: ``train`` = crops of every scene but real_hands' dev groups (``render.background``'s
``_dev_scenes``/``_scene_of``: the renderer leaves the same crops out); ``dev`` = the crops of dev
scenes (false positives on unseen scenes); ``val`` has none (no crop was cut from val scenes).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from handpose_live.crop import CROP_ENLARGE
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


REGION_SIDE = (0.15, 0.6)  # random_region's side / the image's shorter side


def region_keypoints(box) -> np.ndarray:
    """21 points whose crop box (``crop.keypoint_box``) is the crop box ``box`` ``(cx, cy, side)``:
    the corners of a square of side ``side / CROP_ENLARGE`` about the centre, the rest at the
    centre. Exact for sides within the crop-box clamp (``crop.MIN_SIDE_PX``-``MAX_SIDE_PX``)."""
    cx, cy, side = (float(v) for v in box)
    half = side / CROP_ENLARGE / 2
    kp = np.tile(np.float32([cx, cy]), (NUM_KEYPOINTS, 1))
    kp[:4] = [[cx - half, cy - half], [cx + half, cy - half], [cx - half, cy + half], [cx + half, cy + half]]
    return kp.astype(np.float32)


def random_region(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop box ``(cx, cy, side)`` inside a ``height x width`` image: side
    ``REGION_SIDE`` x the shorter image side, centre uniform where the box fits."""
    side = rng.uniform(*REGION_SIDE) * min(height, width)
    cx, cy = rng.uniform(side / 2, width - side / 2), rng.uniform(side / 2, height - side / 2)
    return np.float32([cx, cy, side])


def empty_sample(image_rgb: np.ndarray, source: str, weight: float = HANDFREE_WEIGHT, region=None) -> dict:
    """The sample contract for an image without a hand: all-background mask, no visible keypoint;
    ``region`` (a crop box) sets the invisible keypoints to ``region_keypoints(region)``."""
    h, w = image_rgb.shape[:2]
    keypoints = region_keypoints(region) if region is not None else np.zeros((NUM_KEYPOINTS, 2), np.float32)
    sample = {
        "image_rgb": image_rgb, "mask": np.zeros((h, w), np.uint8),
        "mask_valid": np.bool_(True), "mask_coarse": np.bool_(False),
        "keypoints_2d": keypoints, "visible": np.zeros(NUM_KEYPOINTS, bool),
        "keypoints_3d": np.zeros((NUM_KEYPOINTS, 3), np.float32),
        "has_3d": np.bool_(False), "has_3d_camera": np.bool_(False), "K": PLACEHOLDER_K.copy(),
        "side": np.int64(0), "weight": np.float32(weight), "source": source,
    }
    sample.update(no_other_hand())
    sample["num_hands"] = np.int64(0)
    return sample


class HandFreeCrops(Dataset):
    """One sample per hand-free crop (``handfree_files``), letterboxed to ``size`` when given; its
    region (``random_region``) drawn from ``numpy.random.default_rng([seed, index])``."""

    def __init__(self, root: str | Path | None = None, split: str = "train", size: int | None = None,
                 seed: int = 0):
        self.root = Path(root) if root is not None else data_root()
        self.size, self.seed = size, seed
        self.files = handfree_files(self.root, split)
        if not self.files:
            raise ValueError(f"no hand-free crops for split {split!r} under {self.root / FOLDER}")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict:
        image = read_rgb(self.files[index])
        region = random_region(*image.shape[:2], np.random.default_rng([self.seed, index]))
        return maybe_letterbox(empty_sample(image, "handfree", region=region), self.size)
