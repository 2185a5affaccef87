"""Camera effects on a finished RGB uint8 frame: exposure, white balance, blur, noise, JPEG."""
from __future__ import annotations

import cv2
import numpy as np


_NOISE_SIDE = 512
_noise_bank: np.ndarray | None = None


def _noise(rng: np.random.Generator, shape_hw: tuple[int, int]) -> np.ndarray:
    """Unit sensor noise (luma + weaker chroma), HxWx3 float32: a random window of a fixed bank."""
    global _noise_bank
    if _noise_bank is None:  # fixed content, so samples stay deterministic for a seed
        bank_rng = np.random.default_rng(20170101)
        luma = bank_rng.standard_normal((_NOISE_SIDE, _NOISE_SIDE, 1), dtype=np.float32)
        _noise_bank = luma + 0.4 * bank_rng.standard_normal((_NOISE_SIDE, _NOISE_SIDE, 3), dtype=np.float32)
    h, w = shape_hw
    reps = (-(-h // _NOISE_SIDE) + 1, -(-w // _NOISE_SIDE) + 1, 1)
    bank = _noise_bank if reps[:2] == (2, 2) and h <= _NOISE_SIDE and w <= _NOISE_SIDE else np.tile(_noise_bank, reps)
    bank = bank[::-1] if rng.random() < 0.5 else bank
    y = int(rng.integers(0, bank.shape[0] - h + 1))
    x = int(rng.integers(0, bank.shape[1] - w + 1))
    return bank[y:y + h, x:x + w]


def camera_effects(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Return a new RGB uint8 image as a cheap webcam might have taken it."""
    levels = np.arange(256, dtype=np.float64)[:, None]
    lut = levels * (rng.uniform(0.6, 1.4) * rng.uniform(0.9, 1.1, 3))[None]  # exposure, white balance
    if rng.random() < 0.3:
        lut = 255.0 * (np.clip(lut, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)  # tone curve
    lut = np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    out = cv2.LUT(np.ascontiguousarray(image), lut)
    r = rng.random()
    if r < 0.35:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.6))
    elif r < 0.5:  # motion blur along a random direction
        k = int(rng.integers(3, 9))
        kernel = np.zeros((k, k), np.float32)
        a = rng.uniform(0, np.pi)
        c = (k - 1) / 2
        cv2.line(kernel, (int(round(c - c * np.cos(a))), int(round(c - c * np.sin(a)))),
                 (int(round(c + c * np.cos(a))), int(round(c + c * np.sin(a)))), 1.0, 1)
        out = cv2.filter2D(out, -1, kernel / kernel.sum())
    sigma = rng.uniform(0, 9) if rng.random() < 0.7 else 0.0
    if sigma > 0:
        out = cv2.add(out, _noise(rng, out.shape[:2]) * np.float32(sigma), dtype=cv2.CV_8U)
    if rng.random() < 0.7:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(out)
