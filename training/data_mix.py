"""Training and evaluation data by name, and a weighted mixture of sources for training.

A source spec is ``name`` or ``name=ROOT``, optionally ``:weight`` in a mixture:
``render:1,real_hands:0.3,rhd=/data/RHD_published_v2:1``. Every source yields the sample
contract of ``training/data`` (RHD order; fixed ``image_size`` so batches collate).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

from .data.augment import augment

# Keys every source provides; the mixture keeps only these so samples of any source collate.
CONTRACT_KEYS = ("image_rgb", "mask", "mask_valid", "mask_coarse", "keypoints_2d", "visible",
                 "keypoints_3d", "has_3d", "has_3d_camera", "K", "side", "weight")
PSEUDO_LABEL_SOURCES = {"real_hands", "real_paste"}  # labels from another model: trained with a robust loss
NEGATIVE_SOURCES = {"handfree", "negatives"}  # no hand: PoseNet learns empty maps on their regions
RENDER_VAL_SEED = 1_000_003  # rendered validation samples use seeds training never draws
RENDER_DEV_SEED = 2_000_003  # rendered dev (choosing thresholds): neither training's nor val's seeds
RENDER_TRAIN_LENGTH = 1 << 30
# Rendered sources: images or keypoints only (render_poses*), hand-set poses or, *_realpose, poses
# and orientations fitted to real_hands train (training/render/pose_fit.py; ``=ROOT``: its data folder).
RENDER_KINDS = ("render", "render_poses", "render_realpose", "render_poses_realpose")
KEYPOINT_ONLY_SOURCES = {"render_poses"}  # no image: the lifting stage draws their maps from the keypoints


def parse_spec(spec: str) -> list[tuple[str, str | None, float]]:
    """``"render:1,rhd=/x:0.5"`` -> ``[("render", None, 1.0), ("rhd", "/x", 0.5)]``."""
    out = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        m = re.fullmatch(r"(.+?):([0-9]*\.?[0-9]+)", part)
        name, weight = (m.group(1), float(m.group(2))) if m else (part, 1.0)
        kind, _, root = name.partition("=")
        out.append((kind.strip(), root.strip() or None, weight))
    if not out:
        raise ValueError(f"empty data spec {spec!r}")
    return out


def check_spec(spec: str) -> None:
    """What can be told of a mixture ``spec`` without opening it, raised as ``ValueError`` /
    ``FileNotFoundError``: each name is a known source, each weight positive, each ``=ROOT`` given
    exists. ``training.train`` calls it first, so a typo fails at once, not after the models load."""
    from .data.readers import READERS

    for kind, root, weight in parse_spec(spec):
        if kind not in RENDER_KINDS and kind not in READERS:
            raise ValueError(f"unknown data source {kind!r}; expected one of {RENDER_KINDS + READERS}")
        if weight <= 0:
            raise ValueError(f"{kind}: weight {weight:g} must be positive")
        if root is not None and not Path(root).expanduser().exists():
            hint = "; write it with python -m training.mine_negatives" if kind == "negatives" else ""
            raise FileNotFoundError(f"{kind}: {root} not found{hint}")


def open_dataset(spec: str, split: str, image_size: int, seed: int = 0) -> Dataset:
    """One map-style dataset (``spec`` without weight): render, render_poses (keypoints only, for
    the lifting stage), render_realpose and render_poses_realpose (the same with real poses; train
    only), real_hands, real_curled (its train hands with curled fingers, to oversample them),
    handfree (hand-free crops: hard negatives for HandSegNet and PoseNet), negatives=FILE (mined
    regions a model took for hands: PoseNet's hard negatives; training.mine_negatives),
    real_paste (real hands pasted onto hand-free photos; needs the hand_masks cache), written=DIR,
    rhd=DIR, freihand=DIR. ``render:1,real_hands:1,handfree:0.3`` mixes them."""
    (kind, root, _), = parse_spec(spec)
    if kind in RENDER_KINDS:
        from .render.dataset import RenderedHands
        from .render.poses import RenderedPoses

        bank = None
        if kind.endswith("_realpose"):
            if split != "train":
                raise ValueError(f"{kind} draws real_hands train poses: train only (evaluate on render or real_hands)")
            from .render.pose_fit import load_or_fit_bank

            bank = load_or_fit_bank(Path(root) if root else None)
        base = {"train": seed, "dev": RENDER_DEV_SEED}.get(split, RENDER_VAL_SEED)
        kind_class = RenderedPoses if kind.startswith("render_poses") else RenderedHands
        return kind_class(length=RENDER_TRAIN_LENGTH if split == "train" else 2000, seed=base, size=image_size,
                          pose_bank=bank)
    from .data import readers

    return readers.open_reader(kind, root, split=split, image_size=image_size, seed=seed)


class Mixture(IterableDataset):
    """Endless stream drawing each sample from a source chosen with probability ~ weight."""

    def __init__(self, sources: list[Dataset], weights: list[float], seed: int, augment: bool = True):
        self.sources, self.seed, self.augment = sources, seed, augment
        w = np.asarray(weights, np.float64)
        self.p = w / w.sum()

    def __iter__(self):
        info = get_worker_info()
        worker = info.id if info is not None else 0
        rng = np.random.default_rng([self.seed, worker])
        while True:
            source = self.sources[rng.choice(len(self.sources), p=self.p)]
            sample = source[int(rng.integers(len(source)))]
            if self.augment:
                sample = augment(sample, rng)
            out = {k: sample[k] for k in CONTRACT_KEYS}
            out["is_pseudo_label"] = np.bool_(sample.get("source") in PSEUDO_LABEL_SOURCES)
            out["keypoints_only"] = np.bool_(sample.get("source") in KEYPOINT_ONLY_SOURCES)
            out["is_negative"] = np.bool_(sample.get("source") in NEGATIVE_SOURCES)
            yield out


def _worker_init(_):
    import cv2

    cv2.setNumThreads(0)
    torch.set_num_threads(1)


def make_loader(spec: str, split: str, image_size: int, batch_size: int, workers: int, seed: int) -> DataLoader:
    parts = parse_spec(spec)
    sources = [open_dataset(f"{k}={r}" if r else k, split, image_size, seed) for k, r, _ in parts]
    mixture = Mixture(sources, [w for _, _, w in parts], seed, augment=split == "train")
    return DataLoader(mixture, batch_size=batch_size, num_workers=workers, worker_init_fn=_worker_init,
                      persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None)
