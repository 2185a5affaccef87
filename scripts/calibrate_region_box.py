"""Measure how HandSegNet's region boxes differ from the keypoint boxes training crops on.

For every labelled hand (``score >= 0.8``) of a real_hands split, the shipped model's HandSegNet
regions are matched to the hand (the region whose bbox has the highest IoU with the bbox of the 21
labelled keypoints, IoU >= ``--min-iou``), and the script prints, over the matched hands:

* ``enlarge``: the factor that, applied to the region bbox's longer side, gives the side training
  makes from the keypoints (``CROP_ENLARGE`` x keypoint bbox longer side) — exp(median log ratio);
* ``shift``: the median offset (keypoint-box centre - region-bbox centre) / region bbox longer side,
  per axis (frame x right, y down).

These are a model's ``detection.region_enlarge`` / ``region_shift`` (defaults
``crop.REGION_ENLARGE`` / ``crop.REGION_SHIFT``); ``--write`` stores the values over all sources in
the model folder's config.json. Calibrate on ``train`` (the default); ``--split val`` checks what the
parity test checks. ``--apply`` measures the residual with the model's current values (boxes from
its ``detection.region_box`` vs ``crop.keypoint_box``).

    .venv/bin/python scripts/calibrate_region_box.py [--model DIR] [--split train] [--limit N] [--apply] [--write]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handpose_live import crop as cropping  # noqa: E402
from handpose_live.checkpoint import resolve_model_dir  # noqa: E402
from handpose_live.pipeline import HandPoseEstimator  # noqa: E402
from handpose_live.tracking import iou  # noqa: E402
from training.data.paths import data_root  # noqa: E402
from training.data.real_hands import load_records  # noqa: E402


@torch.inference_mode()
def matched_pairs(est: HandPoseEstimator, root: Path, split: str, min_iou: float = 0.3,
                  limit: int | None = None, batch: int = 32):
    """``(region_bbox [M,4], keypoint_bbox [M,4], source [M], n_hands)`` for the labelled hands
    of ``split`` that a region of ``est``'s HandSegNet overlaps (IoU >= ``min_iou``)."""
    records = load_records(root, split)[:limit]
    reg, kpb, src = [], [], []
    for start in range(0, len(records), batch):
        chunk = records[start:start + batch]
        frames = [cv2.imread(str(root / r["file"]), cv2.IMREAD_COLOR) for r in chunk]
        for rec, (regions, _) in zip(chunk, est._segment(frames)):
            if not regions:
                continue
            boxes = np.stack([r.bbox for r in regions]).astype(np.float64)
            for hand in rec["hands"]:
                kp = np.asarray(hand["kp"], np.float64)[:, :2]
                kb = np.concatenate([kp.min(0), kp.max(0)])
                o = np.array([iou(kb, b) for b in boxes])
                j = int(np.argmax(o))
                if o[j] >= min_iou:
                    reg.append(boxes[j])
                    kpb.append(kb)
                    src.append(rec["file"].split("/")[1])
    n_hands = sum(len(r["hands"]) for r in records)
    return np.array(reg).reshape(-1, 4), np.array(kpb).reshape(-1, 4), np.array(src), n_hands


def longer(b: np.ndarray) -> np.ndarray:
    return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])


def centre(b: np.ndarray) -> np.ndarray:
    return (b[:, :2] + b[:, 2:]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=data_root())
    ap.add_argument("--split", default="train")
    ap.add_argument("--min-iou", type=float, default=0.3)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--apply", action="store_true", help="residuals with the model's current calibration")
    ap.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--write", action="store_true", help="store the values over all sources in the model's config.json")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    # fp32 as in training.evaluate: precision="auto" times bf16 at load and could differ between runs
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu", precision="fp32")
    measured = {}
    reg, kpb, src, n_hands = matched_pairs(est, args.data, args.split, args.min_iou, args.limit)
    print(f"{args.split}: {len(reg)} of {n_hands} labelled hands matched to a region (IoU >= {args.min_iou}),"
          f" precision {est.precision}")
    for name, keep in [("all", np.ones(len(src), bool))] + [(s, src == s) for s in np.unique(src)]:
        r, k = reg[keep], kpb[keep]
        log_ratio = np.log(cropping.CROP_ENLARGE * longer(k) / longer(r))
        shift = (centre(k) - centre(r)) / longer(r)[:, None]
        measured[name] = (float(np.exp(np.median(log_ratio))), tuple(float(v) for v in np.median(shift, axis=0)))
        print(f"  {name:7s} n={keep.sum():5d}  enlarge={np.exp(np.median(log_ratio)):.4f} "
              f"(mean-log {np.exp(log_ratio.mean()):.4f}, IQR of log {np.subtract(*np.percentile(log_ratio, [75, 25])):.3f})"
              f"  shift x={np.median(shift[:, 0]):+.4f} y={np.median(shift[:, 1]):+.4f}")
        if args.apply:
            rb = est.config.detection.region_box(r)
            kb = cropping.keypoint_box(np.stack([k[:, :2], k[:, 2:]], 1))
            lr = np.abs(np.log(rb[:, 2] / kb[:, 2]))
            off = np.linalg.norm(rb[:, :2] - kb[:, :2], axis=1) / kb[:, 2]
            signed = np.log(rb[:, 2] / kb[:, 2])
            print(f"          calibrated: median |log side ratio| {np.median(lr):.4f}, median signed "
                  f"{np.median(signed):+.4f}, median centre offset/side {np.median(off):.4f}")
            raw = cropping.box_from_bbox(r)
            lr0 = np.abs(np.log(raw[:, 2] / kb[:, 2]))
            off0 = np.linalg.norm(raw[:, :2] - kb[:, :2], axis=1) / kb[:, 2]
            print(f"          uncalibrated (x1.25, no shift): median |log side ratio| {np.median(lr0):.4f}, "
                  f"median signed {np.median(np.log(raw[:, 2] / kb[:, 2])):+.4f}, "
                  f"median centre offset/side {np.median(off0):.4f}")
    if args.write:
        path = resolve_model_dir(args.model) / "config.json"
        config = json.loads(path.read_text())
        enlarge, shift = measured["all"]
        config["detection"]["region_enlarge"] = round(enlarge, 3)
        config["detection"]["region_shift"] = [round(v, 3) for v in shift]
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote region_enlarge {enlarge:.3f}, region_shift ({shift[0]:+.3f}, {shift[1]:+.3f}) to {path}")


if __name__ == "__main__":
    main()
