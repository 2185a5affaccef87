"""Copy-paste augmentation: real hands cut out of ``real_hands`` photos with their precomputed masks
(``hand_masks``) and pasted, one or two per image, onto other photos — the hand-free crops of
``backgrounds/subhih_handfree`` (faces, arms, desks: skin that is not a hand, now next to one),
``debian/`` and ``skimage/`` (through ``render.background.BackgroundBank``, photos only, which leaves
out the crops of real_hands dev scenes).

Only hands whose outline came from the person mask, that it saw whole and that stand against the
room (``outline``, ``seen >= MIN_SEEN``, ``ring <= MAX_RING``) are cut: the hand's pixels are its
label in the cached mask within its ``HAND_RADIUS`` region, eroded by a pixel (the selfie mask's
edge carries a rim of the wall behind). Each is scaled (keypoint-box diagonal ``SIZE_RANGE`` x the output size),
rotated in the image plane (``MAX_ROTATION_DEG``; MediaPipe's world coordinates, x right and y
down like the image, rotate about z alike), given a little brightness change, placed at random
(partly out of frame allowed; a second hand where its keypoint box, enlarged, does not meet the
first's), with a softened edge. The mask is exact for the pasted pixels (0
elsewhere: the background photos hold no hand); keypoints move with the hand (visible = inside
the frame and not covered by the other pasted hand), so the PoseNet and lifting stages could use
the samples as well. Pseudo-labelled keypoints: ``weight`` as real_hands'.

Deterministic per index: sample ``i`` draws from ``numpy.random.default_rng([seed, i])``.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from handpose_live.skeleton import user_to_rhd
from training.data import hand_masks
from training.data.image_file import read_bgr
from training.data.paths import data_root
from training.data.real_hands import PSEUDO_LABEL_WEIGHT, label_side, load_records
from training.data.sample import LEFT, MASK_LABEL, PLACEHOLDER_K, RIGHT, no_other_hand

MIN_SEEN = 0.9  # the selfie model saw (nearly) all of the hand's bones
MAX_RING = 0.35  # and little person around it but the forearm (no shirt or face cut out with it)
MIN_HAND_PX = 300  # smaller cut-outs would be upscaled into blur
SIZE_RANGE = (0.2, 0.6)  # pasted hand's keypoint-box diagonal / output size
MAX_UPSCALE = 2.5
MAX_ROTATION_DEG = 30.0
TWO_HANDS = 0.35  # probability of a second hand
TRAIN_LENGTH = 1 << 20
EVAL_LENGTH = 2000
EVAL_SEED = 2_000_003


def paste_hands(root: Path, split: str, cache: Path) -> list[tuple[dict, int]]:
    """(record, hand index) of every hand of ``split`` fit to cut out (module doc)."""
    index = {}
    for line in (cache / hand_masks.INDEX).read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            index[r["file"]] = r["hands"]
    out = []
    for rec in load_records(root, split):
        stats = index.get(rec["file"])
        if stats is None or len(stats) != len(rec["hands"]):
            continue
        out += [(rec, k) for k, st in enumerate(stats)
                if st["outline"] and st["seen"] >= MIN_SEEN and st["ring"] <= MAX_RING and st["hand"] >= MIN_HAND_PX]
    return out


def cut_out(root: Path, cache: Path, rec: dict, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hand ``k`` of ``rec``: RGB crop, its alpha (bool) and its 21 keypoints (user order) in
    crop px."""
    bgr = read_bgr(root / rec["file"])
    mask = hand_masks.read_mask(cache, rec["file"], bgr.shape[:2])
    kps = [np.asarray(h["kp"], np.float64)[:, :2] for h in rec["hands"]]
    label = MASK_LABEL[RIGHT if label_side(rec["hands"][k]) == "right" else LEFT]
    d = hand_masks.hull_distance(kps[k], mask.shape)
    alpha = (mask == label) & (d <= hand_masks.HAND_RADIUS * max(hand_masks.MIN_DIAGONAL_PX,
                                                                   hand_masks.keypoint_diagonal(kps[k])))
    for j, kp in enumerate(kps):
        if j != k:
            alpha &= d <= hand_masks.hull_distance(kp, mask.shape)
    alpha = cv2.erode(alpha.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ys, xs = np.nonzero(alpha)
    if len(xs) == 0:
        raise ValueError(f"hand {k} of {rec['file']} has no pixels in the cached mask")
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    rgb = cv2.cvtColor(bgr[y0:y1, x0:x1], cv2.COLOR_BGR2RGB)
    return rgb, alpha[y0:y1, x0:x1], kps[k] - (x0, y0)


class RealPaste(Dataset):
    """Real hands pasted onto hand-free photos, ``size`` x ``size`` (module doc)."""

    def __init__(self, root: str | Path | None = None, split: str = "train", size: int | None = 256,
                 seed: int = 0, length: int | None = None, mask_cache: str | Path | None = None):
        from training.render.background import BackgroundBank

        self.root = Path(root) if root is not None else data_root()
        self.cache = Path(mask_cache) if mask_cache is not None else hand_masks.default_cache()
        if not hand_masks.cache_ready(self.cache):
            raise ValueError(f"real_paste needs the precomputed hand masks in {self.cache}: run "
                             f"python -m training.data.hand_masks (or set {hand_masks.CACHE_ENV})")
        self.size = size or 256
        self.hands = paste_hands(self.root, split, self.cache)
        if not self.hands:
            raise ValueError(f"no real_hands {split!r} hand fit to paste")
        self.backgrounds = BackgroundBank(self.root / "backgrounds", photo_fraction=1.0)
        self.seed = seed if split == "train" else EVAL_SEED
        self.length = length or (TRAIN_LENGTH if split == "train" else EVAL_LENGTH)

    def __len__(self) -> int:
        return self.length

    def _place(self, rng, kp: np.ndarray) -> np.ndarray:
        """A 2x3 affine map from cut-out px to output px (scale, rotation about the hand's centre,
        random position of the centre)."""
        s = self.size
        diag = max(hand_masks.keypoint_diagonal(kp), 1.0)
        scale = min(rng.uniform(*SIZE_RANGE) * s / diag, MAX_UPSCALE)
        centre = (kp.min(0) + kp.max(0)) / 2
        m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), rng.uniform(-1, 1) * MAX_ROTATION_DEG, scale)
        m[:, 2] += rng.uniform(0.15, 0.85, 2) * s - centre
        return m

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, int(index)])
        s = self.size
        image = self.backgrounds.sample(rng, s, s).astype(np.float32)
        mask = np.zeros((s, s), np.uint8)
        n = 2 if rng.random() < TWO_HANDS else 1
        pasted = []  # (keypoints px user order, covered-by-later alpha, record, k)
        for _ in range(n):
            rec, k = self.hands[int(rng.integers(len(self.hands)))]
            rgb, alpha, kp = cut_out(self.root, self.cache, rec, k)
            for _try in range(10):
                m = self._place(rng, kp)
                kp_out = kp @ m[:, :2].T + m[:, 2]
                if not pasted or not _boxes_meet(kp_out, pasted[0][0]):
                    break
            else:
                continue
            warped = cv2.warpAffine(rgb, m, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            a = cv2.warpAffine(alpha.astype(np.float32), m, (s, s), flags=cv2.INTER_LINEAR)
            hard = a > 0.5
            soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), 0.7)[..., None]
            gain = rng.uniform(0.85, 1.15)
            image = image * (1 - soft) + np.clip(warped.astype(np.float32) * gain, 0, 255) * soft
            mask[hard] = MASK_LABEL[RIGHT if label_side(rec["hands"][k]) == "right" else LEFT]
            for p in pasted:
                p[1] |= hard
            rot = m[:, :2] / np.sqrt(abs(np.linalg.det(m[:, :2])))
            pasted.append([kp_out, np.zeros((s, s), bool), rec, k, rot])
        if not pasted:  # no placement fitted: cannot happen for the first hand
            raise RuntimeError("no hand pasted")
        image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        hands = []
        for kp_out, covered, rec, k, rot in pasted:
            inside = (kp_out[:, 0] >= 0) & (kp_out[:, 0] <= s - 1) & (kp_out[:, 1] >= 0) & (kp_out[:, 1] <= s - 1)
            uv = np.clip(np.round(kp_out).astype(int), 0, s - 1)
            visible = inside & ~covered[uv[:, 1], uv[:, 0]]
            xyz = np.asarray(rec["hands"][k]["world_m"], np.float64).copy()
            xyz[:, :2] = xyz[:, :2] @ rot.T
            side = RIGHT if label_side(rec["hands"][k]) == "right" else LEFT
            hands.append((user_to_rhd(kp_out).astype(np.float32), user_to_rhd(visible[:, None], axis=0)[:, 0],
                          user_to_rhd(xyz).astype(np.float32), side, np.ptp(kp_out, 0).prod()))
        hands.sort(key=lambda h: -h[4])  # primary = the larger hand
        kp2d, vis, xyz, side, _ = hands[0]
        sample = {
            "image_rgb": image, "mask": mask, "mask_valid": np.bool_(True), "mask_coarse": np.bool_(False),
            "keypoints_2d": kp2d, "visible": vis, "keypoints_3d": xyz,
            "has_3d": np.bool_(True), "has_3d_camera": np.bool_(False), "K": PLACEHOLDER_K.copy(),
            "side": np.int64(side), "weight": np.float32(PSEUDO_LABEL_WEIGHT), "source": "real_paste",
        }
        sample.update(no_other_hand())
        sample["num_hands"] = np.int64(len(hands))
        if len(hands) > 1:
            kp2d, vis, xyz, side, _ = hands[1]
            sample.update(keypoints_2d_other=kp2d, visible_other=vis, keypoints_3d_other=xyz,
                          side_other=np.int64(side), has_other=np.bool_(True))
        return sample


def _boxes_meet(a: np.ndarray, b: np.ndarray, margin: float = 0.15) -> bool:
    """Whether the keypoint boxes of ``a`` and ``b`` (N,2), each enlarged by ``margin`` x its
    diagonal on every side, overlap."""
    def box(p):
        m = margin * float(np.linalg.norm(np.ptp(p, 0)))
        return p.min(0) - m, p.max(0) + m

    (alo, ahi), (blo, bhi) = box(a), box(b)
    return bool((np.minimum(ahi, bhi) > np.maximum(alo, blo)).all())
