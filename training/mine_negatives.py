"""Mine PoseNet's hard negatives: the regions a model reports as hands where there is none, on
training photos only (real_hands train — dev and val groups are never read — and the hand-free
crops' train split), written for the ``negatives=FILE`` training source
(``training.data.negatives``).

    python -m training.mine_negatives --model assets/models/default --out runs/negatives/run10.json

The model runs as in image mode with ``min_score`` 0 and every candidate it examines reported
(``max_hands`` raised to the number of candidates, no extra ones). A reported hand is a negative (``is_negative``) when it matches no
labelled hand (the evaluation's rule, ``evaluate.match_hands``, against every label of the photo,
whatever its score), its crop box holds none of the photo's labelled keypoints (so the crop shows
no labelled hand, even one too uncertain to be scored), and its mean keypoint confidence is at most
``--max-keypoint-confidence`` (a confident "false" hand may be a hand MediaPipe missed: left out).
HandSegNet decides which regions there are, so mining again with the same HandSegNet finds the same
ones; ``--mask-threshold`` (below the model's) finds more.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from handpose_live.checkpoint import CorruptModelError, ModelNotFoundError
from handpose_live.crop import box_corners
from handpose_live.pipeline import HandPoseEstimator

from .data.handfree import FOLDER as HANDFREE_FOLDER
from .data.handfree import handfree_files
from .data.image_file import read_bgr
from .data.negatives import FORMAT
from .data.paths import data_root
from .data.real_hands import load_records
from .evaluate import match_hands

MAX_KEYPOINT_CONFIDENCE = 0.7


def crop_box_of(hand) -> np.ndarray:
    """A reported hand's crop box ``(cx, cy, side)`` from its window corners."""
    x0, y0, x1, y1 = hand.crop_box
    return np.float32([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0])


def is_negative(box, keypoint_confidence: float, matched: bool, label_keypoints: list[np.ndarray],
                max_keypoint_confidence: float = MAX_KEYPOINT_CONFIDENCE) -> bool:
    """The mining rule (module doc) for one reported hand: crop box ``(cx, cy, side)``, its mean
    keypoint confidence, whether it matched a label, and every label's keypoints ``[21, 2]``."""
    if matched or keypoint_confidence > max_keypoint_confidence:
        return False
    x0, y0, x1, y1 = box_corners(np.asarray(box, np.float32))[0]
    for kp in label_keypoints:
        kp = np.asarray(kp, np.float32)[:, :2]
        if ((kp[:, 0] >= x0) & (kp[:, 0] <= x1) & (kp[:, 1] >= y0) & (kp[:, 1] <= y1)).any():
            return False
    return True


def mine_photo(est: HandPoseEstimator, frame_bgr: np.ndarray, label_keypoints: list[np.ndarray],
               max_keypoint_confidence: float = MAX_KEYPOINT_CONFIDENCE) -> list[dict]:
    """The negatives of one photo: ``{"box", "score", "keypoint_confidence"}`` per mined region."""
    hands = est.process([frame_bgr])[0]
    preds = [{"kp": h.keypoints_2d} for h in hands]
    taken = set(match_hands(preds, [{"kp": kp} for kp in label_keypoints]))
    out = []
    for j, h in enumerate(hands):
        conf = float(np.mean(h.keypoint_scores))
        box = crop_box_of(h)
        if is_negative(box, conf, j in taken, label_keypoints, max_keypoint_confidence):
            out.append({"box": [round(float(v), 1) for v in box], "score": round(h.score, 3),
                        "keypoint_confidence": round(conf, 3)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model folder whose false hands to mine")
    ap.add_argument("--out", type=Path, required=True, help="JSON file to write")
    ap.add_argument("--root", type=Path, default=None, help="shared data folder (default $HANDPOSE_DATA)")
    ap.add_argument("--max-keypoint-confidence", type=float, default=MAX_KEYPOINT_CONFIDENCE)
    ap.add_argument("--mask-threshold", type=float, default=None,
                    help="HandSegNet's mask threshold while mining (default: the model's); a lower one gives "
                         "more candidate regions, so more and more varied negatives")
    ap.add_argument("--limit", type=int, default=None, help="read at most this many photos per set (a quick look)")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    root = args.root or data_root()
    try:
        est = HandPoseEstimator.from_pretrained(args.model, device=args.device, precision="fp32")
    except (ModelNotFoundError, CorruptModelError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    det = est.config.detection
    det.min_score = 0.0
    det.max_hands, det.extra_candidates = det.candidates, 0  # the candidates it examines, all reported
    if args.mask_threshold is not None:
        if not 0.0 < args.mask_threshold < 1.0:
            print(f"error: --mask-threshold must be between 0 and 1, got {args.mask_threshold}", file=sys.stderr)
            return 2
        det.mask_threshold = args.mask_threshold
    try:
        photos = [(rec["file"], [np.asarray(h["kp"], np.float32)[:, :2] for h in rec["hands"]], False)
                  for rec in load_records(root, "train", min_score=0.0)]
        photos += [(str(p.relative_to(root)), [], True) for p in handfree_files(root, "train")]
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.limit is not None:
        photos = [p for p in photos if not p[2]][: args.limit] + [p for p in photos if p[2]][: args.limit]
    regions = []
    for file, labels, hand_free in tqdm(photos, desc="mining", mininterval=10):
        for r in mine_photo(est, read_bgr(root / file), labels, args.max_keypoint_confidence):
            regions.append({"file": file, "hand_free": hand_free, **r})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "format": FORMAT, "model": est.config.name, "max_keypoint_confidence": args.max_keypoint_confidence,
        "mask_threshold": det.mask_threshold,
        "photos": {"real_hands": sum(not p[2] for p in photos), str(HANDFREE_FOLDER): sum(p[2] for p in photos)},
        "regions": regions}, indent=0))
    scores = np.array([r["score"] for r in regions]) if regions else np.zeros(0)
    print(f"{len(regions)} negatives from {len(photos)} photos "
          f"({sum(not r['hand_free'] for r in regions)} on real_hands train, {sum(r['hand_free'] for r in regions)} "
          f"on hand-free crops); scores >= 0.4: {int((scores >= 0.4).sum())}, >= 0.5: {int((scores >= 0.5).sum())}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
