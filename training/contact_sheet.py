"""A PNG grid of samples with the hand mask tinted and keypoints + bones drawn — to check by eye
that data and labels agree.

    python -m training.contact_sheet --source render --n 16 --out sheet.png
    python -m training.contact_sheet --source rhd --root /path/to/RHD_published_v2 --out rhd.png

Sources: render (on the fly), written (our layout), rhd, freihand (need --root), real_hands, real_curled,
handfree, real_paste (--root defaults to $HANDPOSE_DATA; real_hands draws the precomputed masks of
training/data/hand_masks.py when their cache exists), negatives (--root: the mined-negatives file).
Mask tint: left hand blue, right hand red, ignored pixels (255) yellow. Bones in the skeleton's
finger colours; hollow circles mark keypoints labelled invisible; a sample without a hand
(handfree, negatives) draws the crop PoseNet is shown there as a magenta square.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from handpose_live.crop import box_corners, keypoint_box
from handpose_live.skeleton import BONES, FINGER_OF, FINGER_COLORS_BGR, WRIST_COLOR_BGR, bone_color_bgr, rhd_to_user

RENDERED = ("render", "render_realpose")
SOURCES = (*RENDERED, "written", "rhd", "freihand", "real_hands", "real_curled", "handfree", "negatives",
           "real_paste")
_TINT_BGR = {1: np.array([255, 80, 0], np.float32), 2: np.array([0, 40, 255], np.float32),
             255: np.array([0, 230, 255], np.float32)}  # left, right, ignore


def open_sheet_data(source: str, root: Path | None, size: int, split: str | None = None, seed: int = 0):
    """The dataset behind ``source``, letterboxed to ``size``."""
    if source in RENDERED:  # endless and seeded: the sheet shows the first samples
        from training.data_mix import open_dataset

        return open_dataset(f"{source}={root}" if root and source != "render" else source, "train", size, seed)
    from training.data.readers import open_reader

    return open_reader(source, root, split=split or "train", image_size=size, seed=seed)


def draw_sample(sample: dict) -> np.ndarray:
    """BGR uint8 tile: image, tinted mask, keypoints and bones (both hands when present)."""
    bgr = cv2.cvtColor(sample["image_rgb"], cv2.COLOR_RGB2BGR).astype(np.float32)
    for label, tint in _TINT_BGR.items():
        sel = sample["mask"] == label
        a = 0.4 if label == 255 else 0.25
        bgr[sel] = (1 - a) * bgr[sel] + a * tint
    tile = np.clip(bgr, 0, 255).astype(np.uint8)
    for label, tint in _TINT_BGR.items():  # outline, so the pixels underneath stay readable
        contours, _ = cv2.findContours((sample["mask"] == label).astype(np.uint8), cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(tile, contours, -1, tuple(int(c) for c in tint), 1)
    hands = [("keypoints_2d", "visible")]
    if bool(sample.get("has_other", False)):
        hands.append(("keypoints_2d_other", "visible_other"))
    for kp_key, vis_key in hands:
        kp = rhd_to_user(np.asarray(sample[kp_key], np.float64))
        vis = rhd_to_user(np.asarray(sample[vis_key])[:, None], axis=0)[:, 0]
        if not vis.any():  # no hand (handfree, negatives): the region PoseNet is shown, if any
            if kp_key == "keypoints_2d" and np.ptp(kp, axis=0).max() > 0:
                x0, y0, x1, y1 = box_corners(keypoint_box(kp))[0]
                cv2.rectangle(tile, (int(x0), int(y0)), (int(x1), int(y1)), (255, 0, 255), 2)
            continue
        pts = [tuple(int(round(v * 4)) for v in p) for p in kp]
        for parent, child in BONES:
            cv2.line(tile, pts[parent], pts[child], bone_color_bgr(child), 1, cv2.LINE_AA, shift=2)
        for k, p in enumerate(pts):
            colour = WRIST_COLOR_BGR if FINGER_OF[k] < 0 else FINGER_COLORS_BGR[FINGER_OF[k]]
            cv2.circle(tile, p, 2 * 4, colour, -1 if vis[k] else 1, cv2.LINE_AA, shift=2)
    side = "L" if int(sample["side"]) == 0 else "R"
    if not np.asarray(sample["visible"]).any():
        side = "no hand"
    text = f"{sample['source']} {side}" + (" coarse" if bool(sample.get("mask_coarse", False)) else "")
    if (sample["mask"] == 255).all():
        text += " all-ignore"
    cv2.putText(tile, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(tile, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return tile


def contact_sheet(samples: list[dict], columns: int = 4) -> np.ndarray:
    """Tile drawn samples (all the same size) into one BGR image."""
    if not samples:
        raise ValueError("no samples to draw")
    tiles = [draw_sample(s) for s in samples]
    h, w = tiles[0].shape[:2]
    rows = (len(tiles) + columns - 1) // columns
    sheet = np.full((rows * h, columns * w, 3), 255, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = t
    return sheet


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", choices=SOURCES, required=True)
    ap.add_argument("--root", type=Path, default=None,
                    help="data folder (written, rhd, freihand; real_hands, handfree, real_paste: the shared data; "
                         "negatives: the mined file)")
    ap.add_argument("--split", default=None,
                    help="reader split (rhd: training/evaluation; real_hands: train/dev/val; handfree: train/dev)")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--size", type=int, default=256, help="tile size, px (samples are letterboxed)")
    ap.add_argument("--seed", type=int, default=0, help="render seed, and which samples to pick")
    ap.add_argument("--augment", action="store_true",
                    help="draw the samples as training sees them (flip, photometric jitter, lighting)")
    ap.add_argument("--out", type=Path, required=True, help="output PNG")
    args = ap.parse_args(argv)
    try:
        data = open_sheet_data(args.source, args.root, args.size, args.split, args.seed)
    except ValueError as e:  # a wrong path or split: one line, not a traceback
        ap.error(str(e))
    n = min(args.n, len(data))
    picks = range(n) if args.source in RENDERED else np.random.default_rng(args.seed).choice(len(data), n, False)
    samples = [data[int(i)] for i in picks]
    if args.augment:
        from .data.augment import augment

        rng = np.random.default_rng(args.seed)
        samples = [augment(s, rng) for s in samples]
    sheet = contact_sheet(samples, columns=int(np.ceil(np.sqrt(n))))
    if not cv2.imwrite(str(args.out), sheet):
        raise ValueError(f"could not write {args.out}")
    print(f"wrote {args.out} ({n} samples from {args.source})")


if __name__ == "__main__":
    main()
