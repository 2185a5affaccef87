"""Sub-pixel readouts of PoseNet's score maps, compared on labelled crops of real_hands.

    python scripts/compare_readout.py --model runs/models/X --split dev

PoseNet runs once per labelled hand (crop from the label's keypoints, as training makes it); the
same maps are read out by: argmax (cell centre), the log-parabola (``heatmaps.decode``, the run
time's), and a soft-argmax over the 5x5 cells around the argmax. Prints, per source, the median
error over the label's bbox diagonal and PCK@0.1 of the diagonal.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handpose_live import crop as cropping  # noqa: E402
from handpose_live.heatmaps import decode  # noqa: E402
from handpose_live.pipeline import HandPoseEstimator  # noqa: E402
from handpose_live.preprocess import normalise  # noqa: E402
from handpose_live.skeleton import user_to_rhd  # noqa: E402
from training.data.paths import data_root  # noqa: E402
from training.data.real_hands import load_records, source_of  # noqa: E402


def soft_argmax(maps: torch.Tensor, crop_size: int, radius: int = 2) -> torch.Tensor:
    """Weighted mean of cell centres (weights = positive scores) in a window around the argmax."""
    b, k, h, w = maps.shape
    idx = maps.view(b, k, -1).argmax(-1)
    py, px = idx // w, idx % w
    off = torch.arange(-radius, radius + 1)
    ys = (py[..., None] + off).clamp(0, h - 1)  # [b, k, 2r+1]
    xs = (px[..., None] + off).clamp(0, w - 1)
    win = maps.gather(2, ys[..., :, None].expand(b, k, len(off), w))  # rows
    win = win.gather(3, xs[..., None, :].expand(b, k, len(off), len(off))).clamp_min(0)
    total = win.sum((-1, -2)).clamp_min(1e-9)
    x = (win.sum(-2) * xs).sum(-1) / total
    y = (win.sum(-1) * ys).sum(-1) / total
    step = crop_size / w
    return torch.stack([(x + 0.5) * step - 0.5, (y + 0.5) * step - 0.5], -1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu")
    net, size = est.nets["posenet"], est.config.posenet.input_size
    root = data_root()
    errors: dict[str, dict[str, list]] = {}
    for rec in load_records(root, args.split):
        frame = cv2.imread(str(root / rec["file"]), cv2.IMREAD_COLOR)
        kps = np.stack([np.asarray(h["kp"], np.float32)[:, :2] for h in rec["hands"]])
        boxes = cropping.keypoint_box(kps)
        x = normalise(torch.from_numpy(cropping.crop_frame(frame, boxes, size)).permute(0, 3, 1, 2))
        with torch.inference_mode(), est._amp():
            maps = net(x.contiguous(memory_format=est._memory_format))[-1].float()
        diag = np.linalg.norm(kps.max(1) - kps.min(1), axis=-1)
        gt = np.stack([user_to_rhd(k) for k in kps])
        step = size / maps.shape[-1]
        idx = maps.flatten(2).argmax(-1)
        readouts = {"argmax": torch.stack([(idx % maps.shape[-1] + 0.5) * step - 0.5,
                                           (idx // maps.shape[-1] + 0.5) * step - 0.5], -1).float(),
                    "log-parabola": decode(maps, size)[0], "soft-argmax 5x5": soft_argmax(maps, size)}
        for name, kp_crop in readouts.items():
            kp = cropping.crop_to_frame(kp_crop, torch.from_numpy(boxes), size).numpy()
            err = np.linalg.norm(kp - gt, axis=-1) / diag[:, None]
            errors.setdefault(source_of(rec["file"]), {}).setdefault(name, []).append(err.ravel())
    print(f"model {est.model_name}, real_hands {args.split}, maps {maps.shape[-1]}x{maps.shape[-1]} from {size} px")
    for src, by_name in sorted(errors.items()):
        for name, errs in by_name.items():
            e = np.concatenate(errs)
            print(f"{src:7} {name:16} median err/diag {100 * np.median(e):5.2f} %  PCK@0.1 {np.mean(e <= 0.1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
