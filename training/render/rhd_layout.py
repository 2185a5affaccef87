"""Write rendered samples in RHD's exact layout — only to build fixtures for the RHD reader's tests.

``<out>/<split>/color/%05d.png``, ``mask/%05d.png`` (0 bg, 1 person, 2-17 left, 18-33 right) and
``anno_<split>.pickle``: {index: {'uv_vis': (42,3), 'xyz': (42,3), 'K': (3,3)}}, left hand first.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np


def rhd_annotation(sample: dict) -> dict:
    """RHD's per-image record from a rendered sample (a missing hand gets zeros, invisible)."""
    uv_vis = np.zeros((42, 3), np.float32)
    xyz = np.zeros((42, 3), np.float32)
    hands = [(int(sample["side"]), "")]
    if bool(sample.get("has_other", False)):
        hands.append((int(sample["side_other"]), "_other"))
    for side, suffix in hands:
        sl = slice(21 * side, 21 * side + 21)
        uv_vis[sl, :2] = sample[f"keypoints_2d{suffix}"]
        uv_vis[sl, 2] = sample[f"visible{suffix}"]
        xyz[sl] = sample[f"keypoints_3d{suffix}"]
    return {"uv_vis": uv_vis, "xyz": xyz, "K": np.asarray(sample["K"], np.float32)}


def write_rhd_layout(out: Path, samples, split: str = "training") -> int:
    """Write ``samples`` (an iterable of rendered sample dicts holding ``rhd_mask``); returns the count."""
    d = Path(out) / split
    (d / "color").mkdir(parents=True, exist_ok=True)
    (d / "mask").mkdir(parents=True, exist_ok=True)
    anno = {}
    for i, s in enumerate(samples):
        if "rhd_mask" not in s:
            raise ValueError("samples for the RHD layout must be rendered with with_rhd_mask=True")
        cv2.imwrite(str(d / "color" / f"{i:05d}.png"), cv2.cvtColor(s["image_rgb"], cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(d / "mask" / f"{i:05d}.png"), s["rhd_mask"])
        anno[i] = rhd_annotation(s)
    with open(d / f"anno_{split}.pickle", "wb") as f:
        pickle.dump(anno, f, protocol=4)  # protocol 2 would need _codecs, which the reader refuses
    return len(anno)
