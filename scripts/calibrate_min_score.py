"""Choose a model's ``detection.min_score`` on real_hands dev (never val): every hand the model
reports at min_score 0 is scored against the labels (the evaluation's matching rule), then each
threshold's found rate and false hands per image are tabulated per source.

    python scripts/calibrate_min_score.py --model runs/models/X [--write]

The chosen threshold makes the fewest errors on subhih dev — missed labelled hands plus false
hands — and is the middle of the range of thresholds that do (a threshold at the edge of that
range is one step from losing hands or letting false ones in). ``--write`` stores it in the model
folder's config.json.
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
from training.evaluate import match_hands  # noqa: E402

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


def table(rows: list[dict], source: str) -> list[tuple[float, float, float]]:
    rows = [r for r in rows if source == "overall" or r["source"] == source]
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
    ap.add_argument("--write", action="store_true", help="store the chosen min_score in the model's config.json")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu")
    est.config.detection.min_score = 0.0
    rows = collect(est, data_root(), args.split)
    tables = {s: table(rows, s) for s in ("sld", "subhih", "overall")}
    print(f"model {est.model_name}, real_hands {args.split}: found / false hands per image at each min_score")
    print("min_score " + "  ".join(f"{s:>15}" for s in tables))
    for i, t in enumerate(THRESHOLDS):
        print(f"{t:9.2f} " + "  ".join(f"{tables[s][i][1]:6.3f} / {tables[s][i][2]:5.3f}" for s in tables))
    n_images = sum(r["source"] == "subhih" for r in rows)
    n_hands = sum(len(r["label_best"]) for r in rows if r["source"] == "subhih")
    errors = [round((1 - found) * n_hands + false * n_images) for _, found, false in tables["subhih"]]
    best = [float(t) for t, e in zip(THRESHOLDS, errors) if e == min(errors)]
    chosen = round((best[0] + best[-1]) / 2, 3)
    print(f"chosen min_score {chosen:.3f}: the middle of {best[0]:.2f}-{best[-1]:.2f}, where subhih {args.split} has "
          f"the fewest missed + false hands ({min(errors)} in {n_images} images, {n_hands} hands)")
    if args.write:
        path = resolve_model_dir(args.model) / "config.json"
        config = json.loads(path.read_text())
        config["detection"]["min_score"] = chosen
        path.write_text(json.dumps(config, indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
