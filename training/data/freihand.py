"""FreiHAND layout: ``<root>/<split>/rgb/%08d.jpg``, ``<root>/<split>_xyz.json`` (metres),
``<root>/<split>_K.json``; keypoints base->tip (user order), converted to RHD order here.

The real training set repeats its 32,560 labels over 130,240 images: image i uses label
i % number_of_labels. Masks are read from ``<root>/<split>/mask/%08d.jpg`` (label index) when
that folder exists. All FreiHAND hands are right hands.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from handpose_live.skeleton import user_to_rhd
from training.data.image_file import read_rgb
from training.data.resize import maybe_letterbox
from training.data.sample import MASK_LABEL, RIGHT, no_other_hand, project


class FreiHANDDataset(Dataset):
    def __init__(self, root: str | Path, split: str = "training", size: int | None = None):
        self.root = Path(root)
        self.split = split
        self.size = size
        files = {k: self.root / f"{split}_{k}.json" for k in ("xyz", "K")}
        for f in files.values():
            if not f.is_file():
                raise ValueError(f"{f} not found; root must hold {split}_xyz.json, {split}_K.json and {split}/rgb/")
        self.xyz = np.asarray(json.loads(files["xyz"].read_text()), np.float64)
        self.K = np.asarray(json.loads(files["K"].read_text()), np.float64)
        if self.xyz.shape[1:] != (21, 3) or self.K.shape[1:] != (3, 3) or len(self.xyz) != len(self.K):
            raise ValueError(f"{root}: expected N x 21 x 3 xyz and N x 3 x 3 K, got {self.xyz.shape}, {self.K.shape}")
        self.images = sorted((self.root / split / "rgb").glob("*.jpg"))
        if not self.images:
            raise ValueError(f"no images in {self.root / split / 'rgb'}")
        self.mask_dir = self.root / split / "mask"

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        path = self.images[index]
        image = read_rgb(path)
        h, w = image.shape[:2]
        label = int(path.stem) % len(self.xyz)
        xyz = user_to_rhd(self.xyz[label])
        K = self.K[label]
        uv = project(K, xyz)
        visible = (uv[:, 0] >= 0) & (uv[:, 0] <= w - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= h - 1)
        mask = np.zeros((h, w), np.uint8)
        mask_file = self.mask_dir / f"{label:08d}.jpg"
        mask_valid = mask_file.is_file()
        if mask_valid:
            raw = cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE)
            mask[cv2.resize(raw, (w, h), interpolation=cv2.INTER_NEAREST) > 127] = MASK_LABEL[RIGHT]
        sample = {
            "image_rgb": image, "mask": mask, "mask_valid": np.bool_(mask_valid), "mask_coarse": np.bool_(False),
            "keypoints_2d": uv, "visible": visible, "keypoints_3d": xyz.astype(np.float32),
            "has_3d": np.bool_(True), "has_3d_camera": np.bool_(True), "K": K.astype(np.float32),
            "side": np.int64(RIGHT), "weight": np.float32(1.0), "source": "freihand",
        }
        sample.update(no_other_hand())
        return maybe_letterbox(sample, self.size)
