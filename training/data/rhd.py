"""RHD (Rendered Hand Pose, ``RHD_published_v2``): ``<split>/color/%05d.png``, ``<split>/mask/%05d.png``
and ``<split>/anno_<split>.pickle``, read with a restricted unpickler.

RHD's masks: 0 background, 1 person, 2-17 left hand parts, 18-33 right hand parts. Its
annotation per index: ``uv_vis`` (42,3) px + visibility, ``xyz`` (42,3) metres, ``K`` (3,3);
the left hand's 21 keypoints first, then the right's, RHD order. The primary hand is the one
with more mask pixels; the other is returned in the ``*_other`` fields.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from training.data.resize import maybe_letterbox
from training.data.safe_pickle import safe_load
from training.data.sample import LEFT, RIGHT

SPLITS = ("training", "evaluation")


def rhd_hand_masks(raw: np.ndarray) -> np.ndarray:
    """RHD part labels -> our labels: 0 background (and person), 1 left, 2 right."""
    out = np.zeros(raw.shape, np.uint8)
    out[(raw >= 2) & (raw <= 17)] = 1
    out[(raw >= 18) & (raw <= 33)] = 2
    return out


class RHDDataset(Dataset):
    def __init__(self, root: str | Path, split: str = "training", size: int | None = None):
        if split not in SPLITS:
            raise ValueError(f"RHD split must be one of {SPLITS}, got {split!r}")
        root = Path(root)
        if (root / "RHD_published_v2").is_dir():
            root = root / "RHD_published_v2"
        self.dir = root / split
        anno_file = self.dir / f"anno_{split}.pickle"
        if not anno_file.is_file():
            raise ValueError(f"{anno_file} not found; root must be RHD_published_v2 or its parent")
        anno = safe_load(anno_file)
        if not isinstance(anno, dict):
            raise ValueError(f"{anno_file}: expected a dict of annotations, got {type(anno).__name__}")
        self.ids = sorted(anno)
        self.anno = anno
        self.size = size

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict:
        sid = self.ids[index]
        a = self.anno[sid]
        bgr = cv2.imread(str(self.dir / "color" / f"{sid:05d}.png"), cv2.IMREAD_COLOR)
        raw = cv2.imread(str(self.dir / "mask" / f"{sid:05d}.png"), cv2.IMREAD_UNCHANGED)
        if bgr is None or raw is None:
            raise ValueError(f"cannot read color/mask {sid:05d}.png under {self.dir}")
        if raw.ndim == 3:
            raw = raw[..., 0]
        mask = rhd_hand_masks(raw)
        uv_vis = np.asarray(a["uv_vis"], np.float64)
        xyz = np.asarray(a["xyz"], np.float64)
        K = np.asarray(a["K"], np.float32)
        if uv_vis.shape != (42, 3) or xyz.shape != (42, 3) or K.shape != (3, 3):
            raise ValueError(f"RHD annotation {sid}: expected uv_vis/xyz (42,3) and K (3,3), "
                             f"got {uv_vis.shape}, {xyz.shape}, {K.shape}")
        pixels = [(mask == 1).sum(), (mask == 2).sum()]
        side = RIGHT if pixels[1] > pixels[0] else LEFT
        other = 1 - side

        def hand(s):
            sl = slice(21 * s, 21 * s + 21)
            return uv_vis[sl, :2].astype(np.float32), uv_vis[sl, 2] > 0.5, xyz[sl].astype(np.float32)

        kp, vis, xyz_p = hand(side)
        kp_o, vis_o, xyz_o = hand(other)
        has_other = bool(pixels[other] > 0)
        sample = {
            "image_rgb": cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "mask": mask,
            "mask_valid": np.bool_(True), "mask_coarse": np.bool_(False),
            "keypoints_2d": kp, "visible": vis, "keypoints_3d": xyz_p,
            "has_3d": np.bool_(True), "has_3d_camera": np.bool_(True), "K": K,
            "side": np.int64(side), "weight": np.float32(1.0), "source": "rhd",
            "keypoints_2d_other": kp_o, "visible_other": vis_o & has_other, "keypoints_3d_other": xyz_o,
            "side_other": np.int64(other if has_other else -1), "has_other": np.bool_(has_other),
            "num_hands": np.int64(1 + has_other),
        }
        return maybe_letterbox(sample, self.size)
