"""GPU check for a session lent one: the estimator on CUDA against the CPU, on the demo clip.

    PYTHONPATH=. python3 scripts/device_check.py --out $OUT

The shipped model runs in image mode on the first ``--frames`` frames of the demo clip twice: on
the CPU in fp32 and on CUDA with ``--precision`` (default auto = fp16). For every hand found in
both (matched by bbox IoU >= 0.5) it compares the 2D keypoints; the check passes when the median
difference is at most ``--tolerance-px`` (default 1.0 px on the 640x480 clip: fp16 score maps move
a sub-pixel peak by a fraction of a pixel; a real fault moves it by whole cells, 4-8 px) and the
hand counts agree on at least 90 % of frames. Writes ``cuda_vs_cpu.json`` under ``--out``; exit 1
when the check fails, 2 when there is no CUDA.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handpose_live.pipeline import HandPoseEstimator  # noqa: E402
from handpose_live.sources import demo_clip_path  # noqa: E402
from handpose_live.tracking import iou  # noqa: E402


def read_frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(demo_clip_path()))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def run(device: str, precision: str, frames: list[np.ndarray], batch: int = 8):
    est = HandPoseEstimator.from_pretrained(device=device, precision=precision, mode="image")
    out = []
    for i in range(0, len(frames), batch):
        out.extend(est.process(frames[i:i + batch]))
    return est, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/device_check"))
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--tolerance-px", type=float, default=1.0)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("device_check: no CUDA device here", file=sys.stderr)
        return 2
    frames = read_frames(args.frames)
    cpu, cpu_hands = run("cpu", "fp32", frames)
    gpu, gpu_hands = run("cuda", args.precision, frames)
    diffs, same_count, matched = [], 0, 0
    for a, b in zip(cpu_hands, gpu_hands):
        same_count += len(a) == len(b)
        for h in a:
            overlaps = [iou(np.asarray(h.bbox), np.asarray(g.bbox)) for g in b]
            if overlaps and max(overlaps) >= 0.5:
                g = b[int(np.argmax(overlaps))]
                diffs.append(np.linalg.norm(h.keypoints_2d - g.keypoints_2d, axis=1))
                matched += 1
    d = np.concatenate(diffs) if diffs else np.array([np.inf])
    result = {
        "torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "model": cpu.model_name,
        "gpu_precision": gpu.precision, "frames": len(frames),
        "hands_cpu": sum(map(len, cpu_hands)), "hands_gpu": sum(map(len, gpu_hands)), "matched": matched,
        "same_hand_count_frac": same_count / max(len(frames), 1),
        "median_kp_diff_px": float(np.median(d)), "p95_kp_diff_px": float(np.percentile(d, 95)),
        "tolerance_px": args.tolerance_px,
    }
    result["passed"] = bool(result["median_kp_diff_px"] <= args.tolerance_px and result["same_hand_count_frac"] >= 0.9)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cuda_vs_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
