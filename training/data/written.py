"""Our own on-disk layout (what ``python -m training.render.write`` produces), and its reader.

``<root>/meta.json``; per sample ``rgb/%06d.jpg`` (or .png), ``mask/%06d.png`` (0/1/2) and
``anno/%06d.json`` holding every other sample field as plain JSON (RHD order, px, metres).
No pickle anywhere.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from training.data.resize import maybe_letterbox
from training.data.sample import FIELDS, OTHER_FIELDS

LAYOUT_VERSION = 1


def write_sample(root: Path, index: int, sample: dict, image_format: str = "jpg") -> None:
    """Write one sample under ``root`` (folders must exist: see ``make_layout``)."""
    if image_format not in ("jpg", "png"):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    name = f"{index:06d}"
    bgr = cv2.cvtColor(sample["image_rgb"], cv2.COLOR_RGB2BGR)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if image_format == "jpg" else []
    if not cv2.imwrite(str(root / "rgb" / f"{name}.{image_format}"), bgr, params):
        raise ValueError(f"could not write {root / 'rgb' / name}.{image_format}")
    cv2.imwrite(str(root / "mask" / f"{name}.png"), sample["mask"])
    anno = {k: np.asarray(sample[k]).tolist() for k in list(FIELDS) + list(OTHER_FIELDS) if k in sample}
    anno["source"] = str(sample["source"])
    (root / "anno" / f"{name}.json").write_text(json.dumps(anno, separators=(",", ":")))


def make_layout(root: Path, meta: dict) -> None:
    for sub in ("rgb", "mask", "anno"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps(dict(meta, layout_version=LAYOUT_VERSION), indent=1))


class WrittenHands(Dataset):
    """Reads a folder written by ``training.render.write`` (our layout)."""

    def __init__(self, root: str | Path, size: int | None = None):
        self.root = Path(root)
        if not (self.root / "meta.json").is_file():
            raise ValueError(f"{self.root} has no meta.json; write one with python -m training.render.write")
        self.names = sorted(p.stem for p in (self.root / "anno").glob("*.json"))
        self.size = size

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> dict:
        name = self.names[index]
        rgb_path = next((p for p in (self.root / "rgb" / f"{name}.{e}" for e in ("jpg", "png")) if p.is_file()), None)
        if rgb_path is None:
            raise ValueError(f"no rgb/{name}.jpg or .png under {self.root}")
        bgr = cv2.imread(str(rgb_path), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(self.root / "mask" / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        anno = json.loads((self.root / "anno" / f"{name}.json").read_text())
        sample = {"image_rgb": cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), "mask": mask, "source": anno["source"]}
        for key, (dtype, shape) in {**FIELDS, **OTHER_FIELDS}.items():
            if key in anno:
                value = np.asarray(anno[key], dtype=dtype)
                if value.shape != shape:
                    raise ValueError(f"{name}.json: {key} has shape {value.shape}, expected {shape}")
                sample[key] = value if shape else dtype(value)
        return maybe_letterbox(sample, self.size)
