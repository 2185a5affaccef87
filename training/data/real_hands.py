"""The real photos in ``shared/data/real_hands`` with MediaPipe pseudo-labels (no masks, no K).

Filtering (see the data README): hands with ``score < 0.8`` are dropped; the 15 ``sld`` images
with two detections of one hand are dropped; images left without a hand are skipped.
``handedness_mirrored`` assumes a selfie image, so it is swapped for these unmirrored photos.
The mask is drawn from the keypoints (``mask_coarse`` True). 3D = MediaPipe world coordinates,
metres, hand-centred (``has_3d_camera`` False). Split: ``real_hands/split.json``.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from handpose_live.skeleton import user_to_rhd
from training.data.coarse_mask import draw_coarse_mask
from training.data.paths import data_root
from training.data.resize import maybe_letterbox
from training.data.sample import LEFT, MASK_LABEL, PLACEHOLDER_K, RIGHT, no_other_hand

MIN_SCORE = 0.8
PSEUDO_LABEL_WEIGHT = 0.5  # MediaPipe labels carry ~5-7 px of noise at 256 px
SPLITS = ("train", "val")
_SIDE_OF_MIRRORED = {"Left": RIGHT, "Right": LEFT}  # swapped: the photos are not mirrored


def load_records(root: Path, split: str, min_score: float = MIN_SCORE) -> list[dict]:
    """Label records of ``split`` that keep at least one hand, each with ``hands`` filtered."""
    if split not in SPLITS:
        raise ValueError(f"real_hands split must be one of {SPLITS}, got {split!r}")
    labels = root / "real_hands" / "labels_mediapipe.jsonl"
    split_file = root / "real_hands" / "split.json"
    for p in (labels, split_file):
        if not p.is_file():
            raise ValueError(f"{p} not found; pass the shared data folder (holding real_hands/) as root")
    wanted = set(json.loads(split_file.read_text())[split])
    records = []
    for line in labels.read_text().splitlines():
        rec = json.loads(line)
        if rec["file"] not in wanted:
            continue
        if "/sld/" in rec["file"] and len(rec["hands"]) > 1:
            continue  # one hand per photo in sld: two detections are one hand seen twice
        hands = [h for h in rec["hands"] if h["score"] >= min_score]
        if hands:
            records.append(dict(rec, hands=hands))
    return records


class RealHandsDataset(Dataset):
    """One sample per image (primary = the largest hand), or per hand with ``every_hand``."""

    def __init__(self, root: str | Path | None = None, split: str = "train", size: int | None = None,
                 min_score: float = MIN_SCORE, every_hand: bool = False):
        self.root = Path(root) if root is not None else data_root()
        self.size = size
        self.records = load_records(self.root, split, min_score)
        self.items = [(r, k) for r in self.records for k in (range(len(r["hands"])) if every_hand else [None])]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        rec, hand_index = self.items[index]
        path = self.root / rec["file"]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"cannot read image {path}")
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        hands = rec["hands"]
        kps = [np.asarray(h["kp"], np.float32)[:, :2] for h in hands]
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
            "mask_valid": np.bool_(True), "mask_coarse": np.bool_(True),
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
