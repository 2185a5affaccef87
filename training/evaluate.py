"""Evaluate a model folder following the paper's protocol.

    python -m training.evaluate --model assets/models/default --data render --split val --n 500 \
        --out runs/eval/render

Data: ``render`` (rendered val, unseen seeds), ``real_hands`` (pseudo-labels; splits val, dev, train),
``rhd=DIR``, ``freihand=DIR``, ``written=DIR``.

``real_hands`` is scored per image and per source (sld, subhih, overall), as a user of
``main.py --headless`` on a folder of the photos sees them (``score_real_images``): every labelled
hand (score >= 0.8) of every image at its original size, hands found, false hands, 2D error over
the hand's bbox diagonal, PCK, balanced side accuracy; ``--largest-hand`` scores it like the others.

Otherwise two modes, both reported: ``gt_crop`` (PoseNet on a
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

import cv2
import numpy as np
import torch
from tqdm import tqdm

from handpose_live.checkpoint import CorruptModelError, ModelNotFoundError
from handpose_live.pipeline import HandPoseEstimator
from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_MIDDLE_PIP, rhd_to_user, user_to_rhd

from . import metrics as M
from .data.image_file import read_bgr
from .data.paths import data_root
from .data_mix import open_dataset, parse_spec
from .targets import runtime_crop_boxes

MISSED = 1e9  # error given to keypoints of a hand the pipeline did not find
MATCH_WITHIN_DIAG = 0.5  # a reported hand matches a label when its mean error < this x the label's diagonal
REAL_SOURCES = ("sld", "subhih")


def _bone(xyz: np.ndarray) -> float:
    return float(np.linalg.norm(xyz[RHD_MIDDLE_MCP] - xyz[RHD_MIDDLE_PIP]))


def on_label(hands, gt_kp: np.ndarray) -> list[bool]:
    """Per reported hand: does its crop window contain the centre of the labelled keypoints
    (``[21, 2]`` px)? The rendered evaluation's rule for a hand found."""
    cx, cy = (gt_kp.min(0) + gt_kp.max(0)) / 2
    return [h.crop_box[0] <= cx <= h.crop_box[2] and h.crop_box[1] <= cy <= h.crop_box[3] for h in hands]


def _match(hands, gt_kp: np.ndarray):
    """The predicted hand closest to the labelled one (mean 2D distance), or None when no hand's
    crop window contains the centre of the labelled keypoints (a hand found elsewhere is a miss)."""
    on_it = [h for h, hit in zip(hands, on_label(hands, gt_kp)) if hit]
    if not on_it:
        return None
    dists = [np.linalg.norm(user_to_rhd(h.keypoints_2d) - gt_kp, axis=-1).mean() for h in on_it]
    return on_it[int(np.argmin(dists))]


def sample_side(s: dict) -> str:
    """A dataset sample's labelled hand side."""
    return "right" if int(s["side"]) == 1 else "left"


def add_full_rows(rows: dict, s: dict, hit) -> None:
    """Append one sample's labels and the ``full`` mode's answer to ``rows``: ``hit`` is the
    reported hand ``_match`` took for the label (anything with ``keypoints_2d``,
    ``keypoints_3d`` in user order and ``side``), or None for a miss."""
    gt2d = s["keypoints_2d"].astype(np.float32)
    side = sample_side(s)
    rows["gt2d"].append(gt2d)
    rows["vis"].append(s["visible"].astype(bool))
    rows["gt3d"].append(s["keypoints_3d"].astype(np.float32))
    rows["has3d"].append(bool(s["has_3d"]))
    rows["side"].append(side)
    rows["diag"].append(float(np.linalg.norm(gt2d.max(0) - gt2d.min(0))))
    rows["found"].append(hit is not None)
    rows["side_ok"].append(hit is not None and hit.side == side)
    rows["full2d"].append(user_to_rhd(hit.keypoints_2d) if hit else np.full_like(gt2d, MISSED))
    rows["full3d"].append(user_to_rhd(hit.keypoints_3d) if hit else np.full((21, 3), MISSED, np.float32))


FULL_ROWS = ("gt2d", "vis", "gt3d", "has3d", "side", "diag", "full2d", "full3d", "found", "side_ok")


def collect(est: HandPoseEstimator, dataset, n: int) -> dict:
    """Per-sample predictions of both modes against the labels."""
    rows = {k: [] for k in (*FULL_ROWS, "crop2d", "crop3d", "crop_side_ok")}
    head = est.config.posenet.side_head
    for i in tqdm(range(min(n, len(dataset))), desc="evaluate", dynamic_ncols=True):
        s = dataset[i]
        frame = np.ascontiguousarray(s["image_rgb"][:, :, ::-1])
        gt2d, vis = s["keypoints_2d"].astype(np.float32), s["visible"].astype(bool)
        side = sample_side(s)
        box = runtime_crop_boxes(torch.from_numpy(gt2d)[None], torch.from_numpy(vis)[None])[0].numpy()
        (kp, _, xyz), = est.keypoints_in_boxes([frame], [box[None]], [[side]])
        if head:  # the side head's own call on the same crop
            (_, _, _, crop_side, _), = est.keypoints_in_boxes([frame], [box[None]], [[None]], return_sides=True)
            rows["crop_side_ok"].append(crop_side == side)
        rows["crop2d"].append(kp)
        rows["crop3d"].append(xyz)
        add_full_rows(rows, s, _match(est.process([frame])[0], gt2d))
    return {k: np.array(v) for k, v in rows.items()}


def _balanced(correct: np.ndarray, sides: np.ndarray) -> float | None:
    """Mean over left and right of the fraction correct (a set of mostly right hands cannot
    score well by always answering "right"); None when a side is absent."""
    recalls = [correct[sides == s].mean() for s in ("left", "right") if (sides == s).any()]
    return float(np.mean(recalls)) if len(recalls) == 2 else None


def summarise(r: dict, modes: tuple[str, ...] = ("crop", "full")) -> dict:
    """Metrics of both modes (``modes``: ``full`` alone for a pipeline that has no crop mode).
    PCK/AUC count a hand the pipeline missed as beyond every threshold; EPE statistics and
    PA-MPJPE are over the hands it found (``full``) or all (``gt_crop``)."""
    out = {"samples": int(len(r["vis"]))}
    has3d = r["has3d"]
    for mode in modes:
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
            if ok.any():  # the viewpoint alone (issue 13): geodesic angle between output and true rotation
                rot = M.rotation_errors_deg(pred[ok], gt[ok], (r["side"][has3d] == "right")[ok])
                res["rotation_error_deg"] = {"median": float(np.median(rot)), "p90": float(np.percentile(rot, 90))}
        out[{"crop": "gt_crop", "full": "full"}[mode]] = res
    if "crop" in modes and len(r.get("crop_side_ok", [])):
        out["gt_crop"]["side_head_accuracy"] = float(r["crop_side_ok"].mean())
        out["gt_crop"]["side_head_balanced_accuracy"] = _balanced(r["crop_side_ok"], r["side"])
    out["full"]["hand_found_rate"] = float(r["found"].mean())
    found = r["found"]
    out["full"]["side_accuracy_of_found"] = float(r["side_ok"][found].mean()) if found.any() else None
    out["full"]["side_balanced_accuracy_of_found"] = _balanced(r["side_ok"][found], r["side"][found])
    out["side_counts"] = {s: int((r["side"] == s).sum()) for s in ("left", "right")}
    return out


def match_hands(preds: list[dict], labels: list[dict]) -> list[int]:
    """For each label, the index of the reported hand it takes, or -1: the nearest in mean
    keypoint distance, when that is under ``MATCH_WITHIN_DIAG`` x the label's bbox diagonal."""
    kps = [np.asarray(p["kp"], np.float64)[:, :2] for p in preds]
    out = []
    for lab in labels:
        gt = np.asarray(lab["kp"], np.float64)[:, :2]
        diag = max(float(np.linalg.norm(gt.max(0) - gt.min(0))), 1e-6)
        dists = [np.linalg.norm(p - gt, axis=1).mean() for p in kps]
        j = int(np.argmin(dists)) if dists else -1
        out.append(j if j >= 0 and dists[j] < MATCH_WITHIN_DIAG * diag else -1)
    return out


def _errors_3d(pred: np.ndarray, gt: np.ndarray, side: str) -> tuple[np.ndarray, float, float]:
    """One hand's 3D errors against a (pseudo-)label, both ``[21, 3]`` metres in user order:
    per-keypoint mm after rooting both at the wrist and scaling the prediction to the label's
    middle MCP->PIP bone (the rendered evaluation's protocol), PA-MPJPE mm, rotation error deg."""
    gt, pred = user_to_rhd(gt - gt[:1]), user_to_rhd(pred - pred[:1])
    pred = pred / max(_bone(pred), 1e-9) * _bone(gt)
    err = np.linalg.norm(pred - gt, axis=1) * 1000
    pa = float(M.pa_mpjpe(pred[None], gt[None])[0] * 1000)
    rot = float(M.rotation_errors_deg(pred[None], gt[None], np.array([side == "right"]))[0])
    return err, pa, rot


def _summary_3d(rows: list[tuple[np.ndarray, float, float]]) -> dict | None:
    if not rows:
        return None
    err = np.concatenate([r[0] for r in rows])
    rot = np.array([r[2] for r in rows])
    return {"hands": len(rows), "median_mm": float(np.median(err)), "pa_mpjpe_mm": float(np.mean([r[1] for r in rows])),
            "rotation_median_deg": float(np.median(rot)), "rotation_p90_deg": float(np.percentile(rot, 90))}


def _real_hands_image_scores(images: list[dict]) -> dict:
    """``score_real_images`` for one set of images (one source, or all)."""
    found = false = 0
    errs, px_found, side_ok, sides, crop_errs = [], [], [], [], []
    full_3d, crop_3d = [], []
    for im in images:
        preds = [np.asarray(p["kp"], np.float64)[:, :2] for p in im["preds"]]
        used = set()
        for lab, j in zip(im["labels"], match_hands(im["preds"], im["labels"])):
            gt = np.asarray(lab["kp"], np.float64)[:, :2]
            diag = max(float(np.linalg.norm(gt.max(0) - gt.min(0))), 1e-6)
            hit = j >= 0
            sides.append(lab["side"])
            side_ok.append(hit and im["preds"][j]["side"] == lab["side"])
            if hit:
                found += 1
                used.add(j)
                px = np.linalg.norm(preds[j] - gt, axis=1)
                px_found.append(px)
                errs.append(px / diag)
                if lab.get("xyz") is not None and im["preds"][j].get("xyz") is not None:
                    full_3d.append(_errors_3d(np.asarray(im["preds"][j]["xyz"], np.float64),
                                              np.asarray(lab["xyz"], np.float64), lab["side"]))
            else:
                errs.append(np.full(len(gt), np.inf))
            if lab.get("crop_kp") is not None:
                crop_errs.append(np.linalg.norm(np.asarray(lab["crop_kp"], np.float64)[:, :2] - gt, axis=1) / diag)
            if lab.get("crop_xyz") is not None and lab.get("xyz") is not None:
                crop_3d.append(_errors_3d(np.asarray(lab["crop_xyz"], np.float64), np.asarray(lab["xyz"], np.float64),
                                          lab["side"]))
        false += len(preds) - len(used)
    hands = len(sides)
    if not hands:
        return {"images": len(images), "hands": 0}
    e = np.concatenate(errs)
    med = float(np.median(e))
    side_ok, sides = np.array(side_ok), np.array(sides)
    out = {"images": len(images), "hands": hands,
           "found": found / hands,
           "false_hands_per_image": false / len(images),
           "median_err_over_diag": med if np.isfinite(med) else None,
           "pck@0.05diag": float((e <= 0.05).mean()),
           "pck@0.1diag": float((e <= 0.1).mean()),
           "median_err_px_found": float(np.median(np.concatenate(px_found))) if px_found else None,
           "side_accuracy": float(side_ok.mean()),
           "side_balanced_accuracy": _balanced(side_ok, sides),
           "side_counts": {s: int((sides == s).sum()) for s in ("left", "right")}}
    if crop_errs:
        c = np.concatenate(crop_errs)
        out["gt_crop"] = {"pck@0.1diag": float((c <= 0.1).mean()), "median_err_over_diag": float(np.median(c)),
                          "3d": _summary_3d(crop_3d)}
    out["3d_found"] = _summary_3d(full_3d)  # against MediaPipe's world landmarks: agreement, not accuracy
    return out


def score_real_images(images: list[dict]) -> dict:
    """Per source and overall, every labelled hand of every image against the reported hands.

    ``images``: one dict per image, ``{"source": "sld" | "subhih", "labels": [...], "preds": [...]}``;
    a label ``{"kp": [21, 2+] px, "side": "left" | "right", "crop_kp": optional [21, 2] px}``
    (``crop_kp``: PoseNet on the label's crop), a prediction ``{"kp": [21, 2] px, "side": ...}``,
    keypoints in one order (the user order). As ``shared/hooks/score_real_hands.py``: each label
    takes the reported hand nearest in mean keypoint distance, found when that is under
    ``MATCH_WITHIN_DIAG`` x the label's bbox diagonal (two labels may take one hand); reported hands
    that no label takes are false hands. Errors are per keypoint over the label's diagonal, a missed
    hand's infinite; ``median_err_over_diag`` is None when over half the keypoints are missed.
    Side accuracy counts a missed hand wrong; ``side_balanced_accuracy`` = mean over left and right
    (None when one side has no label)."""
    out = {src: _real_hands_image_scores([im for im in images if im["source"] == src])
           for src in sorted({im["source"] for im in images}, key=lambda s: (s not in REAL_SOURCES, s))}
    out["overall"] = _real_hands_image_scores(images)
    return out


def collect_real_images(est: HandPoseEstimator, root: Path, records: list[dict], gt_crop: bool = True) -> list[dict]:
    """``score_real_images``'s input: each record's photo read as ``main.py --headless`` reads a
    folder (BGR, original size) through ``est.process``; with ``gt_crop`` also PoseNet on each
    label's crop (``runtime_crop_boxes``, the label's side)."""
    from .data.real_hands import label_side, source_of

    images = []
    for rec in tqdm(records, desc="evaluate", dynamic_ncols=True):
        frame = read_bgr(root / rec["file"])
        labels = [{"kp": np.asarray(h["kp"], np.float32)[:, :2], "side": label_side(h),
                   "xyz": np.asarray(h["world_m"], np.float32) if h.get("world_m") is not None else None}
                  for h in rec["hands"]]
        if gt_crop:
            kps = torch.from_numpy(user_to_rhd(np.stack([lab["kp"] for lab in labels])))
            boxes = runtime_crop_boxes(kps, torch.ones(kps.shape[:2], dtype=torch.bool)).numpy()
            out = est.keypoints_in_boxes([frame], [boxes], [[lab["side"] for lab in labels]])
            for lab, (kp, _, xyz) in zip(labels, out):
                lab["crop_kp"], lab["crop_xyz"] = rhd_to_user(kp), rhd_to_user(xyz)
        hands = est.process([frame])[0]
        images.append({"file": rec["file"], "source": source_of(rec["file"]), "labels": labels,
                       "preds": [{"kp": h.keypoints_2d, "side": h.side, "xyz": h.keypoints_3d} for h in hands]})
    return images


def print_real_table(per_source: dict) -> None:
    """One line per source: the figures of ``score_real_images``."""
    def pct(v):
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    print(f"{'source':8} {'images':>6} {'hands':>5} {'found':>6} {'false/im':>8} {'err/diag':>8} "
          f"{'PCK.05':>6} {'PCK.1':>6} {'px':>5} {'side':>6} {'bal.':>6} {'L/R':>9} {'crop PCK.1':>10}")
    for src, m in per_source.items():
        if not m["hands"]:
            print(f"{src:8} {m['images']:6d} {0:5d}")
            continue
        px = m["median_err_px_found"]
        print(f"{src:8} {m['images']:6d} {m['hands']:5d} {pct(m['found'])} {m['false_hands_per_image']:8.2f} "
              f"{pct(m['median_err_over_diag']):>8} {m['pck@0.05diag']:6.2f} {m['pck@0.1diag']:6.2f} "
              f"{'-' if px is None else f'{px:.1f}':>5} {pct(m['side_accuracy'])} {pct(m['side_balanced_accuracy'])} "
              f"{m['side_counts']['left']:>4}/{m['side_counts']['right']:<4} "
              f"{m['gt_crop']['pck@0.1diag'] if 'gt_crop' in m else float('nan'):10.2f}")
    print("3D against MediaPipe's world landmarks (root-relative, scaled to the label's middle MCP->PIP bone):")
    print(f"{'source':8} {'mode':8} {'hands':>5} {'median mm':>9} {'PA-MPJPE':>8} {'rot. med':>8} {'rot. p90':>8}")
    for src, m in per_source.items():
        for mode, d in (("gt_crop", m.get("gt_crop", {}).get("3d")), ("found", m.get("3d_found"))):
            if d:
                print(f"{src:8} {mode:8} {d['hands']:5d} {d['median_mm']:9.1f} {d['pa_mpjpe_mm']:8.1f} "
                      f"{d['rotation_median_deg']:8.1f} {d['rotation_p90_deg']:8.1f}")


def evaluate_real_hands(est: HandPoseEstimator, root: Path, split: str, n: int | None = None,
                        gt_crop: bool = True) -> dict:
    """The per-image, per-source evaluation of ``split`` (all images, or ``n`` evenly spaced)."""
    from .data.real_hands import load_records

    records = load_records(root, split)
    if n is not None and n < len(records):
        records = [records[i] for i in np.unique(np.linspace(0, len(records) - 1, n).round().astype(int))]
    return {"per_source": score_real_images(collect_real_images(est, root, records, gt_crop))}


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
    ap.add_argument("--split", default="val", help="val, train, dev (real_hands: carved from train; render: its own seeds)")
    ap.add_argument("--n", type=int, default=None,
                    help="samples to score (default 500); real_hands: images, evenly spaced (default all)")
    ap.add_argument("--image-size", type=int, default=320)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16", "auto"),
                    help="inference precision (default fp32: the same numbers on every run; the app's auto "
                         "times bf16 against fp32 at load, so its choice can differ between runs)")
    ap.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"),
                    help="what runs the networks (HandPoseEstimator backend; default auto: ONNX Runtime on a "
                         "CPU when installed, same fp32 outputs as PyTorch to ~1e-4 px)")
    ap.add_argument("--flip-test", action="store_true",
                    help="PoseNet also on each mirrored crop, the two averaged (HandPoseEstimator flip_test)")
    ap.add_argument("--largest-hand", action="store_true",
                    help="real_hands: score the largest hand per image like the other sets (3D, PCK curves) "
                         "instead of every hand per image and source")
    ap.add_argument("--no-gt-crop", action="store_true", help="real_hands: skip PoseNet on the labels' crops")
    ap.add_argument("--threads", type=int, default=None, help="torch/OpenCV CPU threads")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    try:
        (kind, root, _), = parse_spec(args.data)
        per_image = kind == "real_hands" and not args.largest_hand
        est = HandPoseEstimator.from_pretrained(args.model, device=args.device, precision=args.precision,
                                               mode="image", flip_test=args.flip_test, backend=args.backend)
        if per_image:
            summary = evaluate_real_hands(est, Path(root) if root else data_root(), args.split, args.n,
                                          not args.no_gt_crop)
        else:
            dataset = open_dataset(args.data, split=args.split, image_size=args.image_size, seed=12345)
    except (ModelNotFoundError, CorruptModelError, FileNotFoundError, ValueError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    if not per_image:
        summary = summarise(collect(est, dataset, 500 if args.n is None else args.n))
        summary["image_size"] = args.image_size
    summary.update({"model": est.model_name, "weights_sha256": est.weights_sha256, "data": args.data,
                    "split": args.split, "precision": est.precision, "backend": est.backend,
                    "flip_test": est.flip_test})
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(summary, indent=1))
    if per_image:
        print_real_table(summary["per_source"])
        return 0
    plot(summary, args.out)
    brief = {m: {k: v for k, v in summary[m].items() if not k.startswith("pck")} for m in ("gt_crop", "full")}
    print(json.dumps(brief, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
