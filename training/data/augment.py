"""Augmentations that must move labels with the pixels. Horizontal flip swaps the hand side."""
from __future__ import annotations

import numpy as np

from .sample import IGNORE_LABEL

_SWAP_LABELS = np.arange(256, dtype=np.uint8)  # mask 1 (left) <-> 2 (right); 0 and 255 (ignore) stay
_SWAP_LABELS[[1, 2]] = [2, 1]


def hflip(sample: dict) -> dict:
    """Mirror a sample left-right: a left hand becomes a right hand.

    Image and mask columns reverse, mask labels 1 <-> 2 (0 and the ignore label 255 stay),
    ``side`` flips, x -> W-1-x, 3D x is negated and K's principal point moves to W-1-cx (so
    K @ xyz still lands on the keypoints).
    """
    w = sample["image_rgb"].shape[1]
    out = dict(sample)
    out["image_rgb"] = np.ascontiguousarray(sample["image_rgb"][:, ::-1])
    mask = sample["mask"]
    bad = (mask > 2) & (mask != IGNORE_LABEL)
    if bad.any():
        raise ValueError(f"hflip expects mask labels 0/1/2/{IGNORE_LABEL}, found {int(mask[bad].max())}")
    out["mask"] = np.ascontiguousarray(_SWAP_LABELS[mask[:, ::-1]])
    out["side"] = np.int64(1 - int(sample["side"]))
    if "side_other" in sample and int(sample["side_other"]) >= 0:
        out["side_other"] = np.int64(1 - int(sample["side_other"]))
    for key in ("keypoints_2d", "keypoints_2d_other"):
        if key in sample:
            kp = sample[key].copy()
            kp[:, 0] = (w - 1) - kp[:, 0]
            out[key] = kp
    for key in ("keypoints_3d", "keypoints_3d_other"):
        if key in sample:
            xyz = sample[key].copy()
            xyz[:, 0] = -xyz[:, 0]
            out[key] = xyz
    K = np.asarray(sample["K"], np.float32).copy()
    if bool(sample.get("has_3d_camera", True)):
        K[0, 2] = (w - 1) - K[0, 2]
        K[0, 1] = -K[0, 1]
    out["K"] = K
    return out


def random_hflip(sample: dict, rng: np.random.Generator, p: float = 0.5) -> dict:
    return hflip(sample) if rng.random() < p else sample


def photometric(image_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour and blur jitter that moves no label: hue shift, saturation, brightness, contrast,
    sometimes a Gaussian blur. ``image_rgb`` HxWx3 uint8 -> a new array."""
    import cv2

    hsv = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + rng.integers(-8, 9)) % 180  # OpenCV hue: 0-179
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.7, 1.3), 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    out = (out - 128) * rng.uniform(0.75, 1.25) + 128 + rng.uniform(-25, 25)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.5))
    return out


# Probability that a sample also gets ``lighting`` (webcam exposure and colour cast).
LIGHTING_P = 0.5


def lighting(image_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Webcam lighting that moves no label: a gamma curve (under- or over-exposed skin), per-channel
    gains (white balance), and a smooth brightness ramp across the frame in a random direction
    (a window beside the hand, a lamp behind it), clipped like a sensor. ``image_rgb`` HxWx3
    uint8 -> a new array."""
    h, w = image_rgb.shape[:2]
    out = image_rgb.astype(np.float32) / 255.0
    out = out ** rng.uniform(0.55, 1.6)  # < 1 brightens the mid-tones, > 1 darkens them
    out = out * rng.uniform(0.85, 1.15, 3).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = ((xs / max(w - 1, 1) - 0.5) * np.cos(angle) + (ys / max(h - 1, 1) - 0.5) * np.sin(angle))
    out = out + (rng.uniform(-0.35, 0.35) * ramp)[..., None]
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


# Probability that a sample's hands are lit apart from their scene (``relight_hands``).
RELIGHT_P = 0.3


def relight_hands(image_rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hands lit unlike the scene around them, which moves no label: the pixels labelled hand in
    ``mask`` (1 or 2; a softened edge) get their own exposure and colour — washed out and pale
    (a hand in front of a window, a lamp on it: gamma 0.4-0.8, saturation down to 30 %) or dark
    (backlit: gamma 1.3-2.0) — and a white-balance gain. ``image_rgb`` HxWx3 uint8 -> a new array
    (the same pixels where the mask holds no hand)."""
    import cv2

    hand = ((mask == 1) | (mask == 2)).astype(np.float32)
    if hand.sum() < 16:
        return image_rgb.copy()
    h, w = mask.shape
    soft = cv2.GaussianBlur(hand, (0, 0), max(1.0, 0.006 * max(h, w)))[..., None]
    img = image_rgb.astype(np.float32) / 255.0
    luma = (img @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    if rng.random() < 0.6:  # washed out
        gamma, saturation = rng.uniform(0.4, 0.8), rng.uniform(0.3, 0.9)
    else:  # backlit
        gamma, saturation = rng.uniform(1.3, 2.0), rng.uniform(0.6, 1.1)
    relit = np.clip(luma + (img - luma) * saturation, 0, 1) ** gamma
    relit = relit * rng.uniform(0.9, 1.1, 3).astype(np.float32)
    out = img * (1 - soft) + relit * soft
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def augment(sample: dict, rng: np.random.Generator) -> dict:
    """Training augmentation of one sample: a random horizontal flip (sides swapped), photometric
    jitter, sometimes (``RELIGHT_P``) hands lit apart from their scene, and, half the time,
    ``lighting``. Crop noise is added later, where the crop is made (training/stages.py)."""
    out = random_hflip(sample, rng)
    out = dict(out)
    out["image_rgb"] = photometric(out["image_rgb"], rng)
    if "mask" in out and rng.random() < RELIGHT_P:
        out["image_rgb"] = relight_hands(out["image_rgb"], out["mask"], rng)
    if rng.random() < LIGHTING_P:
        out["image_rgb"] = lighting(out["image_rgb"], rng)
    return out
