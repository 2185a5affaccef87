"""Backgrounds: random crops of photos (``backgrounds/``) mixed with procedural ones. RGB uint8."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

_MAX_SIDE_PX = 640  # large photos are decoded once, shrunk to this and kept in memory


class BackgroundBank:
    """Samples HxWx3 RGB uint8 backgrounds. ``root`` may be None or absent: procedural only."""

    def __init__(self, root: Path | None, photo_fraction: float = 0.65):
        self.files = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) \
            if root is not None and Path(root).is_dir() else []
        held_out = _dev_scenes(Path(root).parent) if self.files else set()
        self.files = [p for p in self.files if _scene_of(p) not in held_out]
        self.photo_fraction = photo_fraction if self.files else 0.0
        self._cache: dict[Path, np.ndarray] = {}

    def _photo(self, path: Path) -> np.ndarray:
        if path in self._cache:
            return self._cache[path]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"cannot read background image {path}")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if max(rgb.shape[:2]) > _MAX_SIDE_PX:
            f = _MAX_SIDE_PX / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            self._cache[path] = rgb
        return rgb

    def sample(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        if rng.random() < self.photo_fraction:
            img = self._crop(rng, self._photo(self.files[int(rng.integers(len(self.files)))]), height, width)
        else:
            img = procedural(rng, height, width)
        return colour_jitter(rng, img)

    @staticmethod
    def _crop(rng, img, height, width) -> np.ndarray:
        h, w = img.shape[:2]
        aspect = width / height
        side = rng.uniform(0.35, 1.0) * min(h, w * height / width)
        ch, cw = int(max(8, side)), int(max(8, side * aspect))
        ch, cw = min(ch, h), min(cw, w)
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out = cv2.resize(img[y0:y0 + ch, x0:x0 + cw], (width, height), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            out = out[:, ::-1]
        if rng.random() < 0.1:
            out = out[::-1]
        return np.ascontiguousarray(out)


def _scene_of(path: Path) -> str | None:
    """The real_hands group a hand-free crop was cut from (``subhih_handfree/<prefix>pic...``)."""
    if path.parent.name != "subhih_handfree" or "pic" not in path.name:
        return None
    return f"subhih/{path.name.split('pic')[0]}"


def _dev_scenes(data_root: Path) -> set[str]:
    """Groups of the real_hands dev split: their hand-free crops are left out, so no dev scene is
    trained on (val's were never cut). Empty when real_hands is not beside the backgrounds."""
    if not (data_root / "real_hands" / "split.json").is_file():
        return set()
    from training.data.real_hands import group_of, split_files

    return {group_of(f) for f in split_files(data_root)["dev"]}


def colour_jitter(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Brightness, contrast, per-channel gain and saturation jitter on an RGB uint8 image."""
    img = np.ascontiguousarray(img)
    sat = rng.uniform(0.5, 1.4)
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    img = cv2.addWeighted(img, sat, grey, 1.0 - sat, 0.0)           # saturation
    mean = np.array(cv2.mean(img)[:3])
    levels = np.arange(256, dtype=np.float64)[:, None]
    lut = (levels - mean) * rng.uniform(0.6, 1.3) + mean            # contrast
    lut = lut * rng.uniform(0.6, 1.3) * rng.uniform(0.88, 1.12, 3)  # brightness, colour cast
    return cv2.LUT(img, np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3))


def procedural(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Gradients, smooth noise, stripes and random shapes, RGB uint8."""
    kind = rng.integers(4)
    base = rng.uniform(0, 255, 3)
    if kind == 0:  # linear gradient between two colours
        angle = rng.uniform(0, 2 * np.pi)
        t = (np.cos(angle) * np.arange(width, dtype=np.float32)[None]
             + np.sin(angle) * np.arange(height, dtype=np.float32)[:, None])
        t = ((t - t.min()) / (np.ptp(t) + 1e-6))[..., None]
        img = base.astype(np.float32) * (1 - t) + rng.uniform(0, 255, 3).astype(np.float32) * t
    elif kind == 1:  # smooth colour noise
        cells = int(rng.integers(2, 12))
        small = rng.uniform(0, 255, (cells, cells, 3)).astype(np.float32)
        img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    elif kind == 2:  # stripes or checker
        period = rng.uniform(6, 60)
        xx = np.arange(width, dtype=np.float32)[None]
        yy = np.arange(height, dtype=np.float32)[:, None]
        a = rng.uniform(0, np.pi)
        s = np.sin((np.cos(a) * xx + np.sin(a) * yy) * 2 * np.pi / period)
        if rng.random() < 0.4:
            s = s * np.sin((-np.sin(a) * xx + np.cos(a) * yy) * 2 * np.pi / period)
        t = (s > 0).astype(np.float32)[..., None]
        img = base[None, None] * t + rng.uniform(0, 255, 3)[None, None] * (1 - t)
    else:
        img = np.empty((height, width, 3), np.float32)
        img[:] = base
    img = np.ascontiguousarray(np.clip(img, 0, 255).astype(np.uint8))
    for _ in range(int(rng.integers(0, 8))):  # random shapes on top
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        p = rng.integers(0, [width, height], size=(2, 2))
        if rng.random() < 0.5:
            cv2.rectangle(img, tuple(map(int, p[0])), tuple(map(int, p[1])), colour, -1)
        else:
            cv2.line(img, tuple(map(int, p[0])), tuple(map(int, p[1])), colour, int(rng.integers(1, 12)))
    return img
