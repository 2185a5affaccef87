"""Tracking on real video: a subhih recording sequence of real_hands played as a folder in video
mode (frames in name order), scored against the labels.

    python scripts/track_real_sequence.py --group 35_ --group 46_ [--model M]
    python scripts/track_real_sequence.py --clip assets/demo/demo.mp4 [--model M]

``--clip``: a video with no labels (the demo clip holds two hands throughout) played in video
mode; prints the frames with 0, 1, 2 hands and the stretches with fewer than two.

Per sequence: hands found (the evaluation's matching rule), false hands per frame, PCK@0.1 of the
diagonal, and track-id switches: a labelled hand (told apart by its side: one left and one right
hand at most per frame) matched in two successive matched frames by tracks of different ids.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handpose_live.pipeline import HandPoseEstimator  # noqa: E402
from training.data.paths import data_root  # noqa: E402
from training.data.real_hands import SPLITS, kept_hands, label_side, split_files  # noqa: E402
from training.evaluate import match_hands, score_real_images  # noqa: E402


def sequence_records(root: Path, split: str, group: str) -> list[dict]:
    """The label records of subhih sequence ``group`` in ``split`` (train, dev or val: dev is
    carved out of split.json's train, ``real_hands.split_files``), in name order."""
    wanted = {f for f in split_files(root)[split] if f.split("/")[-1].startswith(f"{group}pic")}
    recs = [json.loads(line) for line in (root / "real_hands" / "labels_mediapipe.jsonl").read_text().splitlines()
            if line.strip()]
    return sorted((r for r in recs if r["file"] in wanted), key=lambda r: r["file"])


def track(est: HandPoseEstimator, root: Path, records: list[dict]) -> dict:
    est.reset()
    images, last_id, switches, frames = [], {}, 0, 0
    for rec in records:
        frame = cv2.imread(str(root / rec["file"]), cv2.IMREAD_COLOR)
        hands = est.process([frame])[0]
        frames += 1
        labels = [{"kp": [k[:2] for k in h["kp"]], "side": label_side(h)} for h in kept_hands(rec)]
        preds = [{"kp": h.keypoints_2d, "side": h.side, "track_id": h.track_id} for h in hands]
        for lab, j in zip(labels, match_hands(preds, labels)):
            if j < 0:
                continue
            tid = preds[j]["track_id"]
            if lab["side"] in last_id and last_id[lab["side"]] != tid:
                switches += 1
            last_id[lab["side"]] = tid
        if labels:
            images.append({"source": "subhih", "labels": labels, "preds": preds})
    scores = score_real_images(images)["overall"]
    return {"frames": frames, "labelled_frames": len(images), "hands": scores["hands"],
            "found": scores["found"], "false_hands_per_frame": scores["false_hands_per_image"],
            "pck@0.1diag": scores["pck@0.1diag"], "track_id_switches": switches}


def count_hands(est: HandPoseEstimator, path: str) -> dict:
    """Frames of the video ``path`` by the number of hands reported, and the stretches of frames
    (first, last) with fewer than two."""
    est.reset()
    cap = cv2.VideoCapture(path)
    counts, short, frame = {}, [], 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        n = len(est.process([image])[0])
        counts[n] = counts.get(n, 0) + 1
        if n < 2:
            if short and short[-1][1] == frame - 1:
                short[-1][1] = frame
            else:
                short.append([frame, frame])
        frame += 1
    cap.release()
    if not frame:
        raise ValueError(f"{path}: no frames could be read")
    return {"frames": frame, "frames_by_hands": dict(sorted(counts.items())), "fewer_than_two": short}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="val", choices=SPLITS)
    ap.add_argument("--group", action="append", default=[], help="subhih sequence prefix, e.g. 35_")
    ap.add_argument("--clip", action="append", default=[], help="an unlabelled video: hands per frame")
    args = ap.parse_args()
    if not args.group and not args.clip:
        ap.error("give --group or --clip")
    cv2.setNumThreads(1)
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu", precision="fp32", mode="video")
    for clip in args.clip:
        try:
            r = count_hands(est, clip)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"model {est.model_name}, {clip}: " + json.dumps(r))
    root = data_root() if args.group else None
    for group in args.group:
        try:
            records = sequence_records(root, args.split, group)
        except ValueError as e:  # the shared data is missing
            print(f"error: {e}", file=sys.stderr)
            return 2
        if not records:
            print(f"{group}: no frames in {args.split}", file=sys.stderr)
            return 2
        r = track(est, root, records)
        print(f"model {est.model_name}, subhih {args.split} sequence {group!r}: " + json.dumps(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
