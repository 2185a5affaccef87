"""Evaluate a model folder following the paper's protocol.

    python -m training.evaluate --model assets/models/default --data render --split val --n 500 \
        --out runs/eval/render

Data: ``render`` (rendered val, unseen seeds), ``real_hands`` (split.json val, pseudo-labels),
``rhd=DIR``, ``freihand=DIR``, ``written=DIR``. Two modes, both reported: ``gt_crop`` (PoseNet on a
crop around the labelled hand, ground-truth side) and ``full`` (the whole pipeline on the image).
Root = the wrist. 2D: EPE px, PCK/AUC 0-30 px. 3D (root-relative, prediction normalised and
multiplied by the ground-truth middle MCP->PIP bone): EPE mm, AUC 0-50 and 20-50 mm, PA-MPJPE.
Also hand-side accuracy, detection rate and median 2D error over the hand's bbox diagonal.
Writes ``metrics.json`` and ``pck_2d.png`` / ``pck_3d.png``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from handpose_live.checkpoint import CorruptModelError, ModelNotFoundError
from handpose_live.pipeline import HandPoseEstimator
from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_MIDDLE_PIP, user_to_rhd

from . import metrics as M
from .data_mix import open_source
from .targets import runtime_crop_boxes

MISSED = 1e9  # error given to keypoints of a hand the pipeline did not find


def _bone(xyz: np.ndarray) -> float:
    return float(np.linalg.norm(xyz[RHD_MIDDLE_MCP] - xyz[RHD_MIDDLE_PIP]))


def _match(hands, gt_kp: np.ndarray):
    """The predicted hand closest to the labelled one (mean 2D distance), or None when no hand's
    crop window contains the centre of the labelled keypoints (a hand found elsewhere is a miss)."""
    lo, hi = gt_kp.min(0), gt_kp.max(0)
    cx, cy = (lo + hi) / 2
    on_it = [h for h in hands if h.crop_box[0] <= cx <= h.crop_box[2] and h.crop_box[1] <= cy <= h.crop_box[3]]
    if not on_it:
        return None
    dists = [np.linalg.norm(user_to_rhd(h.keypoints_2d) - gt_kp, axis=-1).mean() for h in on_it]
    return on_it[int(np.argmin(dists))]


def collect(est: HandPoseEstimator, dataset, n: int) -> dict:
    """Per-sample predictions of both modes against the labels."""
    rows = {k: [] for k in ("gt2d", "vis", "gt3d", "has3d", "side", "diag",
                            "crop2d", "crop3d", "full2d", "full3d", "found", "side_ok",
                            "crop_side_ok")}
    head = est.config.posenet.side_head
    for i in tqdm(range(min(n, len(dataset))), desc="evaluate", dynamic_ncols=True):
        s = dataset[i]
        frame = np.ascontiguousarray(s["image_rgb"][:, :, ::-1])
        gt2d, vis = s["keypoints_2d"].astype(np.float32), s["visible"].astype(bool)
        side = "right" if int(s["side"]) == 1 else "left"
        box = runtime_crop_boxes(torch.from_numpy(gt2d)[None], torch.from_numpy(vis)[None])[0].numpy()
        (kp, _, xyz), = est.keypoints_in_boxes([frame], [box[None]], [[side]])
        if head:  # the side head's own call on the same crop
            (_, _, _, crop_side, _), = est.keypoints_in_boxes([frame], [box[None]], [[None]], return_sides=True)
            rows["crop_side_ok"].append(crop_side == side)
        hands = est.process([frame])[0]
        hit = _match(hands, gt2d)
        lo, hi = gt2d.min(0), gt2d.max(0)
        rows["gt2d"].append(gt2d)
        rows["vis"].append(vis)
        rows["gt3d"].append(s["keypoints_3d"].astype(np.float32))
        rows["has3d"].append(bool(s["has_3d"]))
        rows["side"].append(side)
        rows["diag"].append(float(np.linalg.norm(hi - lo)))
        rows["crop2d"].append(kp)
        rows["crop3d"].append(xyz)
        rows["found"].append(hit is not None)
        rows["side_ok"].append(hit is not None and hit.side == side)
        rows["full2d"].append(user_to_rhd(hit.keypoints_2d) if hit else np.full_like(gt2d, MISSED))
        rows["full3d"].append(user_to_rhd(hit.keypoints_3d) if hit else np.full((21, 3), MISSED, np.float32))
    return {k: np.array(v) for k, v in rows.items()}


def _balanced(correct: np.ndarray, sides: np.ndarray) -> float | None:
    """Mean over left and right of the fraction correct (a set of mostly right hands cannot
    score well by always answering "right"); None when a side is absent."""
    recalls = [correct[sides == s].mean() for s in ("left", "right") if (sides == s).any()]
    return float(np.mean(recalls)) if len(recalls) == 2 else None


def summarise(r: dict) -> dict:
    """Metrics of both modes. PCK/AUC count a hand the pipeline missed as beyond every threshold;
    EPE statistics and PA-MPJPE are over the hands it found (``full``) or all (``gt_crop``)."""
    out = {"samples": int(len(r["vis"]))}
    has3d = r["has3d"]
    for mode in ("crop", "full"):
        found = r["found"] if mode == "full" else np.ones(len(r["vis"]), bool)
        err2d = M.end_point_errors(r[f"{mode}2d"], r["gt2d"])
        curve = M.pck_curve(err2d, r["vis"], M.PCK_2D_PX)
        per_sample = np.nanmedian(np.where(r["vis"], err2d, np.nan)[found], 1) / np.maximum(r["diag"][found], 1e-6)
        res = {"epe_2d_px": M.epe_stats(err2d[found], r["vis"][found]), "auc_2d_0_30px": M.auc(curve, M.PCK_2D_PX),
               "pck_2d": curve.tolist(),
               "median_2d_over_bbox_diag": float(np.nanmedian(per_sample)) if found.any() else None}
        if has3d.any():
            gt = r["gt3d"][has3d] - r["gt3d"][has3d][:, :1]
            pred = r[f"{mode}3d"][has3d]
            ok = found[has3d]
            scaled = pred.copy()
            for j in np.nonzero(ok)[0]:
                scaled[j] = (pred[j] - pred[j, 0]) / max(_bone(pred[j]), 1e-9) * _bone(gt[j])
            err3d = M.end_point_errors(scaled, gt) * 1000
            vis3d = np.ones(err3d.shape, bool)
            c0, c20 = M.pck_curve(err3d, vis3d, M.PCK_3D_MM), M.pck_curve(err3d, vis3d, M.PCK_3D_20_50_MM)
            res.update({"epe_3d_mm": M.epe_stats(err3d[ok], vis3d[ok]), "auc_3d_0_50mm": M.auc(c0, M.PCK_3D_MM),
                        "auc_3d_20_50mm": M.auc(c20, M.PCK_3D_20_50_MM), "pck_3d": c0.tolist(),
                        "pa_mpjpe_mm": float(M.pa_mpjpe(scaled[ok], gt[ok]).mean() * 1000) if ok.any() else None})
        out[{"crop": "gt_crop", "full": "full"}[mode]] = res
    if len(r.get("crop_side_ok", [])):
        out["gt_crop"]["side_head_accuracy"] = float(r["crop_side_ok"].mean())
        out["gt_crop"]["side_head_balanced_accuracy"] = _balanced(r["crop_side_ok"], r["side"])
    out["full"]["hand_found_rate"] = float(r["found"].mean())
    found = r["found"]
    out["full"]["side_accuracy_of_found"] = float(r["side_ok"][found].mean()) if found.any() else None
    out["full"]["side_balanced_accuracy_of_found"] = _balanced(r["side_ok"][found], r["side"][found])
    out["side_counts"] = {s: int((r["side"] == s).sum()) for s in ("left", "right")}
    return out


def plot(summary: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, xs, unit in (("pck_2d", M.PCK_2D_PX, "px"), ("pck_3d", M.PCK_3D_MM, "mm")):
        fig, ax = plt.subplots(figsize=(4.5, 3.4))
        for mode in ("gt_crop", "full"):
            if key in summary[mode]:
                auc_key = "auc_2d_0_30px" if key == "pck_2d" else "auc_3d_0_50mm"
                ax.plot(xs, summary[mode][key], label=f"{mode} (AUC {summary[mode][auc_key]:.3f})")
        ax.set_xlabel(f"threshold ({unit})")
        ax.set_ylabel("PCK")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / f"{key}.png", dpi=90)
        plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="model folder or name under assets/models (default: shipped)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--image-size", type=int, default=320)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        est = HandPoseEstimator.from_pretrained(args.model, device=args.device, mode="image")
        dataset = open_source(args.data, split=args.split, image_size=args.image_size, seed=12345)
    except (ModelNotFoundError, CorruptModelError, FileNotFoundError, ValueError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    summary = summarise(collect(est, dataset, args.n))
    summary.update({"model": est.model_name, "weights_sha256": est.weights_sha256, "data": args.data,
                    "split": args.split, "image_size": args.image_size})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=1))
    plot(summary, args.out)
    brief = {m: {k: v for k, v in summary[m].items() if not k.startswith("pck")} for m in ("gt_crop", "full")}
    print(json.dumps(brief, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
