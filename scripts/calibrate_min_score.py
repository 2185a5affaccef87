"""Choose a model's ``detection.min_score`` on dev sets (never val): every hand the model reports
at min_score 0 is scored against the labels, then each threshold's found rate and false hands per
image are tabulated per source.

    python scripts/calibrate_min_score.py --model runs/models/X [--render 200] [--write]

Two dev sets: real_hands dev (the evaluation's matching rule) and rendered dev (``--render N``
images from seeds neither training nor rendered val draw; a hand counts as found when its crop
contains the label's centre, as the rendered evaluation counts it). The chosen threshold makes the
fewest errors — missed labelled hands plus false hands, as a fraction of the labelled hands — summed
over subhih dev and rendered dev, so that a threshold fitted to real photos does not drop rendered
hands (or the reverse); it is the middle of the range of thresholds that do (a threshold at the edge
of that range is one step from losing hands or letting false ones in). ``--render 0`` uses subhih
dev alone. ``--write`` stores it in the model folder's config.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handpose_live.checkpoint import resolve_model_dir  # noqa: E402
from handpose_live.pipeline import HandPoseEstimator  # noqa: E402
from training.data.paths import data_root  # noqa: E402
from training.data.real_hands import label_side, load_records, source_of  # noqa: E402
from training.data_mix import open_dataset  # noqa: E402
from training.evaluate import match_hands, on_label  # noqa: E402

THRESHOLDS = np.round(np.arange(0.0, 0.81, 0.05), 2)


def collect(est: HandPoseEstimator, root: Path, split: str) -> list[dict]:
    """Per image: source, number of labels, and (score, matched) of every reported hand, plus
    for each label the best score among the hands matching it."""
    rows = []
    for rec in load_records(root, split):
        frame = cv2.imread(str(root / rec["file"]), cv2.IMREAD_COLOR)
        hands = est.process([frame])[0]
        labels = [{"kp": np.asarray(h["kp"], np.float32)[:, :2], "side": label_side(h)} for h in rec["hands"]]
        preds = [{"kp": h.keypoints_2d, "side": h.side} for h in hands]
        match = match_hands(preds, labels)
        rows.append({"source": source_of(rec["file"]), "scores": [h.score for h in hands],
                     "matched": [j in match for j in range(len(hands))],
                     "label_best": [hands[j].score if j >= 0 else -1.0 for j in match]})
    return rows


def collect_rendered(est: HandPoseEstimator, n: int, image_size: int) -> list[dict]:
    """The same rows for ``n`` rendered dev images (one labelled hand each): a reported hand
    matches when its crop contains the centre of the label's keypoints."""
    dataset = open_dataset("render", split="dev", image_size=image_size)
    rows = []
    for i in range(min(n, len(dataset))):
        s = dataset[i]
        hands = est.process([np.ascontiguousarray(s["image_rgb"][:, :, ::-1])])[0]
        on_it = on_label(hands, s["keypoints_2d"].astype(np.float32))
        best = max((h.score for h, m in zip(hands, on_it) if m), default=-1.0)
        rows.append({"source": "render", "scores": [h.score for h in hands], "matched": on_it, "label_best": [best]})
    return rows


def error_rates(rows: list[dict], source: str) -> np.ndarray:
    """(missed + false hands) / labelled hands of ``source`` at each threshold."""
    mine = [r for r in rows if r["source"] == source]
    n_images, n_hands = len(mine), max(sum(len(r["label_best"]) for r in mine), 1)
    return np.array([((1 - found) * n_hands + false * n_images) / n_hands for _, found, false in table(rows, source)])


def choose(rows: list[dict], sets: list[str]) -> tuple[float, float, float, float]:
    """The chosen threshold, the range of thresholds with the fewest summed error rate, and that rate."""
    errors = np.round(sum(error_rates(rows, s) for s in sets), 6)
    best = [float(t) for t, e in zip(THRESHOLDS, errors) if e == errors.min()]
    return round((best[0] + best[-1]) / 2, 3), best[0], best[-1], float(errors.min())


def table(rows: list[dict], source: str) -> list[tuple[float, float, float]]:
    rows = [r for r in rows if r["source"] == source or (source == "overall" and r["source"] != "render")]
    out = []
    for t in THRESHOLDS:
        labels = [s for r in rows for s in r["label_best"]]
        found = np.mean([s >= t for s in labels]) if labels else float("nan")
        false = sum(s >= t and not m for r in rows for s, m in zip(r["scores"], r["matched"])) / max(len(rows), 1)
        out.append((float(t), float(found), float(false)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="dev", choices=("dev", "train"))
    ap.add_argument("--render", type=int, default=200, help="rendered dev images (0: subhih dev alone)")
    ap.add_argument("--image-size", type=int, default=320, help="side of the rendered images (the evaluation's)")
    ap.add_argument("--write", action="store_true", help="store the chosen min_score in the model's config.json")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    # fp32 as in training.evaluate: precision="auto" times bf16 at load and could differ between runs
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu", precision="fp32")
    est.config.detection.min_score = 0.0
    rows = collect(est, data_root(), args.split)
    sets = ["subhih"]
    if args.render:
        rows += collect_rendered(est, args.render, args.image_size)
        sets.append("render")
    tables = {s: table(rows, s) for s in ("sld", "subhih", "overall", *sets[1:])}
    print(f"model {est.model_name}, real_hands {args.split}" + (f" + {args.render} rendered dev" if args.render else "")
          + ": found / false hands per image at each min_score")
    print("min_score " + "  ".join(f"{s:>15}" for s in tables))
    for i, t in enumerate(THRESHOLDS):
        print(f"{t:9.2f} " + "  ".join(f"{tables[s][i][1]:6.3f} / {tables[s][i][2]:5.3f}" for s in tables))
    chosen, lo, hi, rate = choose(rows, sets)
    print(f"chosen min_score {chosen:.3f}: the middle of {lo:.2f}-{hi:.2f}, where {' + '.join(sets)} "
          f"{args.split} have the fewest (missed + false) / labelled hands (summed rate {rate:.3f})")
    if args.write:
        path = resolve_model_dir(args.model) / "config.json"
        config = json.loads(path.read_text())
        config["detection"]["min_score"] = chosen
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
