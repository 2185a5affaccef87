"""The real photos in ``shared/data/real_hands`` with MediaPipe pseudo-labels (no masks, no K).

Filtering (see the data README): hands with ``score < 0.8`` are dropped; the 15 ``sld`` images
with two detections of one hand are dropped; images left without a hand are skipped.
``handedness_mirrored`` assumes a selfie image, so it is swapped for these unmirrored photos.
The mask: the precomputed one of ``training/data/hand_masks.py`` (``mask_coarse`` False; 255 =
ignore) when its cache is there (``$HANDPOSE_MASK_CACHE``, else ``data_cache/hand_masks``), else
drawn from the keypoints (``mask_coarse`` True). 3D = MediaPipe world coordinates,
metres, hand-centred (``has_3d_camera`` False).

Splits: ``val`` and ``train`` from ``real_hands/split.json``, with ``dev`` carved out of train for
choosing checkpoints (``train`` then excludes it). Every split is grouped by split.json's rule
(``group_of``) so near-duplicate frames never straddle two splits; ``dev_files`` documents the
choice of dev groups. ``python -m training.data.real_hands [ROOT]`` prints the splits' sizes and
checks that no group straddles two of them.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from handpose_live.skeleton import user_to_rhd
from training.data import hand_masks
from training.data.coarse_mask import draw_coarse_mask
from training.data.image_file import read_rgb
from training.data.paths import data_root
from training.data.resize import maybe_letterbox
from training.data.sample import LEFT, MASK_LABEL, PLACEHOLDER_K, RIGHT, no_other_hand

MIN_SCORE = 0.8
PSEUDO_LABEL_WEIGHT = 0.5  # MediaPipe labels carry ~5-7 px of noise at 256 px
SPLITS = ("train", "dev", "val")
DEV_FRACTION = 0.12  # of each source's labelled train images, in whole groups
BLOCK = 50  # files numbered without a recording sequence are grouped in blocks of 50 numbers
_SIDE_OF_MIRRORED = {"Left": RIGHT, "Right": LEFT}  # swapped: the photos are not mirrored


def source_of(file: str) -> str:
    """``"sld"`` or ``"subhih"`` for ``real_hands/<source>/...``."""
    return file.split("/")[1]


def group_of(file: str) -> str:
    """split.json's grouping ("subhih by recording sequence (file-name prefix before 'pic'), sld by
    blocks of 50 consecutive IMG numbers"): ``subhih/<prefix>`` for ``subhih/<prefix>pic<n>.jpg``;
    any other file (every sld photo, and subhih's few ``Hand_<n>.jpg`` stills, all in val) falls in a
    block of 50 consecutive numbers, ``<source>/<stem without the number><n // 50>`` (sld's IMG
    numbers run across its digit folders, so a block may hold several digits)."""
    source, name = source_of(file), file.rsplit("/", 1)[-1]
    if source == "subhih" and "pic" in name:
        return f"subhih/{name.split('pic')[0]}"
    m = re.fullmatch(r"(.*?)(\d+)\.\w+", name)
    if not m:
        raise ValueError(f"cannot group {file!r}: no number in its name")
    return f"{source}/{m[1]}{int(m[2]) // BLOCK}"


def kept_hands(rec: dict, min_score: float = MIN_SCORE) -> list[dict]:
    """The hands of a label record that count: score >= ``min_score``; none for the ``sld`` photos
    with two detections (one hand per photo there: two detections are one hand seen twice)."""
    if source_of(rec["file"]) == "sld" and len(rec["hands"]) > 1:
        return []
    return [h for h in rec["hands"] if h["score"] >= min_score]


def finger_straightness(world_m) -> float:
    """How straight a hand's four fingers are: per finger (index to little) the MCP->tip distance
    over the length of its MCP-PIP-DIP-tip chain, averaged (1 = all straight, ~0.3 = a tight fist).
    ``world_m``: the label's 21 3D points in the user order (wrist, then each finger base->tip)."""
    w = np.asarray(world_m, np.float64)
    ratios = []
    for base in (5, 9, 13, 17):
        chain = w[base:base + 4]
        length = float(np.linalg.norm(np.diff(chain, axis=0), axis=1).sum())
        ratios.append(float(np.linalg.norm(chain[3] - chain[0])) / max(length, 1e-9))
    return float(np.mean(ratios))


CURLED_BELOW = 0.8  # finger_straightness under this: curled fingers (fists, pinches, half-closed hands)


def label_side(hand: dict) -> str:
    """``"left"`` or ``"right"``: the person's hand, from ``handedness_mirrored`` swapped."""
    return "right" if _SIDE_OF_MIRRORED[hand["handedness_mirrored"]] == RIGHT else "left"


def _rank(group: str) -> str:
    return hashlib.sha1(group.encode()).hexdigest()  # stable across runs (unlike hash())


def dev_files(label_rows: list[dict], train_files) -> set[str]:
    """The files of split.json's train that form ``dev``: whole groups (``group_of``), chosen per
    source and deterministically. Within a source the groups are split into two strata — groups
    holding an image with two labelled hands, and the others — so dev keeps two-hand frames
    (subhih's val has ~30 % of them, and they are where false and second hands show). In each
    stratum the groups are walked in order of the SHA-1 of their name, and a group is taken while
    at least half of it fits under ``DEV_FRACTION`` of the stratum's labelled images (images with a
    hand in ``kept_hands``); the rest stays in train. Unlabelled images follow their group."""
    train_files = set(train_files)
    hands = {r["file"]: len(kept_hands(r)) for r in label_rows if r["file"] in train_files}
    members = defaultdict(list)
    for f in train_files:
        members[group_of(f)].append(f)
    strata = defaultdict(list)
    for g, files in members.items():
        strata[g.split("/")[0], max(hands.get(f, 0) for f in files) >= 2].append(g)
    dev = set()
    for groups in strata.values():
        size = {g: sum(hands.get(f, 0) > 0 for f in members[g]) for g in groups}
        target, taken = DEV_FRACTION * sum(size.values()), 0
        for g in sorted(groups, key=_rank):
            if taken + size[g] / 2 < target:
                taken += size[g]
                dev.update(members[g])
    return dev


def _read(root: Path) -> tuple[list[dict], dict]:
    """The label records (every image) and split.json."""
    labels = root / "real_hands" / "labels_mediapipe.jsonl"
    split_file = root / "real_hands" / "split.json"
    for p in (labels, split_file):
        if not p.is_file():
            raise ValueError(f"{p} not found; pass the shared data folder (holding real_hands/) as root")
    rows = [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]
    return rows, json.loads(split_file.read_text())


def _splits(rows: list[dict], fixed: dict) -> dict[str, set[str]]:
    dev = dev_files(rows, fixed["train"])
    splits = {"train": set(fixed["train"]) - dev, "dev": dev, "val": set(fixed["val"])}
    groups = {k: {group_of(f) for f in v} for k, v in splits.items()}
    assert not groups["train"] & groups["dev"], "a group straddles train and dev"
    return splits


def split_files(root: Path) -> dict[str, set[str]]:
    """Every split's files (labelled or not), ``{"train", "dev", "val"}``; train excludes dev."""
    return _splits(*_read(root))


def load_records(root: Path, split: str, min_score: float = MIN_SCORE) -> list[dict]:
    """Label records of ``split`` that keep at least one hand, each with ``hands`` filtered
    (``kept_hands``), in the labels file's order."""
    if split not in SPLITS:
        raise ValueError(f"real_hands split must be one of {SPLITS}, got {split!r}")
    rows, fixed = _read(root)
    wanted = _splits(rows, fixed)[split]
    return [dict(rec, hands=kept_hands(rec, min_score)) for rec in rows
            if rec["file"] in wanted and kept_hands(rec, min_score)]


def split_summary(root: Path) -> dict:
    """Per split and source: groups, files, labelled images and hands (as ``load_records``
    counts them); raises when a group straddles two splits."""
    rows, fixed = _read(root)
    splits = _splits(rows, fixed)
    groups = {k: {group_of(f) for f in v} for k, v in splits.items()}
    for a, b in (("train", "dev"), ("train", "val"), ("dev", "val")):
        shared = groups[a] & groups[b]
        if shared:
            raise AssertionError(f"groups in both {a} and {b}: {sorted(shared)[:5]}")
    hands = {r["file"]: len(kept_hands(r)) for r in rows}
    out = {}
    for split in SPLITS:
        out[split] = {}
        for src in ("sld", "subhih"):
            files = [f for f in splits[split] if source_of(f) == src]
            out[split][src] = {"groups": sum(g.startswith(src + "/") for g in groups[split]), "files": len(files),
                               "images": sum(hands.get(f, 0) > 0 for f in files),
                               "hands": sum(hands.get(f, 0) for f in files)}
    return out


class RealHandsDataset(Dataset):
    """One sample per image (primary = the largest hand), or per hand with ``every_hand``.

    ``mask_cache``: folder of precomputed masks (``hand_masks``); None = the default
    (``hand_masks.default_cache()``), False = always the coarse keypoint mask. The precomputed
    masks are used when that folder holds a finished run (its ``meta.json``).
    ``curled_only`` (with ``every_hand``): only the hands whose ``finger_straightness`` is under
    ``CURLED_BELOW`` — the ``real_curled`` source, which oversamples curled fingers (a third of
    train's hands, over half of dev's and val's subhih hands, and most of PoseNet's errors there)."""

    def __init__(self, root: str | Path | None = None, split: str = "train", size: int | None = None,
                 min_score: float = MIN_SCORE, every_hand: bool = False,
                 mask_cache: str | Path | None | bool = None, curled_only: bool = False):
        self.root = Path(root) if root is not None else data_root()
        self.size = size
        cache = hand_masks.default_cache() if mask_cache is None else mask_cache
        self.mask_cache = Path(cache) if cache is not False and hand_masks.cache_ready(cache, self.root) else None
        self.records = load_records(self.root, split, min_score)
        self.items = [(r, k) for r in self.records for k in (range(len(r["hands"])) if every_hand else [None])]
        if curled_only:
            if not every_hand:
                raise ValueError("curled_only picks hands: use it with every_hand")
            self.items = [(r, k) for r, k in self.items
                          if finger_straightness(r["hands"][k]["world_m"]) < CURLED_BELOW]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        rec, hand_index = self.items[index]
        path = self.root / rec["file"]
        image = read_rgb(path)
        hands = rec["hands"]
        kps = [np.asarray(h["kp"], np.float32)[:, :2] for h in hands]
        if self.mask_cache is not None:
            mask = hand_masks.read_mask(self.mask_cache, rec["file"], image.shape[:2])
        else:
            mask = np.zeros(image.shape[:2], np.uint8)
            for h, kp in zip(hands, kps):
                draw_coarse_mask(mask, kp, MASK_LABEL[_SIDE_OF_MIRRORED[h["handedness_mirrored"]]])
        if hand_index is None:
            hand_index = int(np.argmax([np.prod(kp.max(0) - kp.min(0)) for kp in kps]))
        hand = hands[hand_index]
        h, w = image.shape[:2]
        kp2d = user_to_rhd(kps[hand_index])
        visible = (kp2d[:, 0] >= 0) & (kp2d[:, 0] <= w - 1) & (kp2d[:, 1] >= 0) & (kp2d[:, 1] <= h - 1)
        sample = {
            "image_rgb": image, "mask": mask,
            "mask_valid": np.bool_(True), "mask_coarse": np.bool_(self.mask_cache is None),
            "keypoints_2d": kp2d.astype(np.float32), "visible": visible,
            "keypoints_3d": user_to_rhd(np.asarray(hand["world_m"], np.float32)),
            "has_3d": np.bool_(True), "has_3d_camera": np.bool_(False), "K": PLACEHOLDER_K.copy(),
            "side": np.int64(_SIDE_OF_MIRRORED[hand["handedness_mirrored"]]),
            "weight": np.float32(PSEUDO_LABEL_WEIGHT), "source": "real_hands",
        }
        sample.update(no_other_hand())
        sample["num_hands"] = np.int64(len(hands))
        others = [k for k in range(len(hands)) if k != hand_index]
        if others:  # the next largest hand
            k = max(others, key=lambda j: np.prod(kps[j].max(0) - kps[j].min(0)))
            kp_o = user_to_rhd(kps[k])
            sample.update(
                keypoints_2d_other=kp_o.astype(np.float32),
                visible_other=(kp_o[:, 0] >= 0) & (kp_o[:, 0] <= w - 1) & (kp_o[:, 1] >= 0) & (kp_o[:, 1] <= h - 1),
                keypoints_3d_other=user_to_rhd(np.asarray(hands[k]["world_m"], np.float32)),
                side_other=np.int64(_SIDE_OF_MIRRORED[hands[k]["handedness_mirrored"]]), has_other=np.bool_(True))
        return maybe_letterbox(sample, self.size)


if __name__ == "__main__":
    summary = split_summary(Path(sys.argv[1]) if len(sys.argv) > 1 else data_root())
    for split, per in summary.items():
        print(split, "  ".join(f"{src}: {n['groups']} groups, {n['files']} files, {n['images']} labelled images, "
                               f"{n['hands']} hands" for src, n in per.items()))
    print("no group straddles two splits")
