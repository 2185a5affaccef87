"""Per-frame latency of the estimator: paper-size and light configurations, image and video mode.

    python scripts/benchmark_estimator.py [--device cpu|cuda] [--presets paper light default] [--frames 30]
        [--batches 1 8]

A name that is not a preset (``default``, a model folder) takes that model's configuration (the
shipped one differs from the ``light`` preset: it has the keypoint refiner, which runs on every
frame's hand here, told by a hook that it sees none so the hand keeps PoseNet's steady keypoints). ``--batches``: image-mode batch sizes, one column each.

Random weights (speed does not depend on their values): segmentation is forced to find one
hand region in the middle of a 640x480 frame, so both modes do the work of one tracked hand.
Prints a Markdown table; the figures in BENCHMARKS.md come from it.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handpose_live.checkpoint import build_networks, load_model  # noqa: E402
from handpose_live.heatmaps import encode  # noqa: E402
from handpose_live.model_config import PRESETS, preset  # noqa: E402
from handpose_live.pipeline import HandPoseEstimator  # noqa: E402


def one_hand_segnet(net: torch.nn.Module) -> None:
    """Make the final layer output 'right hand' in a central square, background elsewhere, so
    the benchmark always processes one hand whatever the random weights do."""
    final = net.head[-1]  # the last conv: wrapped with its activation (VGG) or bare (mobile)
    final = final[0] if isinstance(final, torch.nn.Sequential) else final
    with torch.no_grad():
        final.weight.zero_()
        final.bias.copy_(torch.tensor([5.0, -5.0, -5.0][: final.bias.numel()]))

    def add_hand(module, inputs, output):
        h, w = output.shape[-2:]
        output[:, 0, h // 3 : 2 * h // 3, w // 3 : w // 2] = -5.0
        output[:, -1, h // 3 : 2 * h // 3, w // 3 : w // 2] = 5.0
        return output

    net.register_forward_hook(add_hand)


def steady_posenet(net: torch.nn.Module, size: int) -> None:
    """Make PoseNet's last maps peak at fixed spots whose box spans 1/1.25 of the crop, so a
    tracked hand's next crop box equals its last and it stays one track (random maps let the box
    wander off its region, and video mode would then pick the region up as a second hand)."""
    t = torch.linspace(0, 1, 21)
    # exactly 0.8 of the crop apart: with keypoint_box's x1.25 the next box is the last one (a
    # span short by even a pixel shrank the box a little every frame, until the periodic search
    # found the forced region's uncovered rest as a second hand)
    lo, hi = size * (0.5 - 0.4), size * (0.5 + 0.4)
    kp = torch.stack([lo + (hi - lo) * t, lo + (hi - lo) * t.flip(0)], -1)[None]
    kp[0, 0], kp[0, 1] = torch.tensor([lo, lo]), torch.tensor([hi, hi])

    def peaks(module, inputs, output):
        maps = output[0] if isinstance(output, tuple) else output
        last = maps[-1]
        last.copy_(encode(kp.expand(len(last), -1, -1), torch.ones(len(last), 21, dtype=torch.bool),
                          size, last.shape[-1]).to(last))
        return output

    net.register_forward_hook(peaks)


def unsure_refiner(net: torch.nn.Module) -> None:
    """Make the keypoint refiner (a model with one: ``default``) report no hand in its crop, so
    the hand keeps PoseNet's steady keypoints; the refiner still runs in full, so its cost counts."""
    def absent(module, inputs, output):
        output["presence"] = torch.full_like(output["presence"], -10.0)
        return output

    net.register_forward_hook(absent)


def measure(est: HandPoseEstimator, frame: np.ndarray, n: int, batch: int = 1) -> float:
    for _ in range(3):
        est.process([frame] * batch)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        est.process([frame] * batch)
        if est.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t) / batch)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--presets", nargs="+", default=["paper", "light"])
    ap.add_argument("--precisions", nargs="+", default=["fp32", "auto"])
    ap.add_argument("--backends", nargs="+", default=["auto"], choices=("auto", "torch", "onnxruntime"),
                    help="what runs the networks (default auto: ONNX Runtime on a CPU when installed; "
                         "bf16 always runs PyTorch)")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--batches", type=int, nargs="+", default=[8], help="image-mode batch sizes (besides 1)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    print(f"device={args.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"cpu={platform.processor() or platform.machine()}  frame 640x480, one hand, median of {args.frames}")
    runs = [("image", 1), ("video", 1)] + [("image", b) for b in args.batches if b > 1]
    print("| preset | backend | precision | image mode ms/frame | video mode ms/frame | "
          + " | ".join(f"image mode, batch {b}, ms/frame" for _, b in runs[2:]) + " |")
    print("|---" * (3 + len(runs)) + "|")
    for name in args.presets:
        config = preset(name) if name in PRESETS else load_model(name)[0]
        for precision, backend in ((p, b) for p in args.precisions for b in args.backends):
            row = []
            for mode, batch in runs:
                torch.manual_seed(0)
                nets = build_networks(config)
                one_hand_segnet(nets["handsegnet"])
                steady_posenet(nets["posenet"], config.posenet.input_size)
                if "landmark" in nets:
                    unsure_refiner(nets["landmark"])
                est = HandPoseEstimator(config, nets, device=args.device, precision=precision, mode=mode,
                                        backend=backend)
                est.config.detection.min_score = 0.0
                est.config.detection.track_min_confidence = 0.0
                # the periodic search leaves the tracked hand's pixels out; the forced region is
                # taller than the square box the steady keypoints give, and with a model's own
                # (smaller) region box its uncovered strip would be found as a second hand: regions
                # under 2 % of the canvas are dropped (the forced hand covers 5.6 %)
                est.config.detection.min_area_frac = 0.02
                assert sum(len(h) for h in est.process([frame])) == 1, "benchmark frame must hold one hand"
                row.append(measure(est, frame, args.frames, batch))
                hands = sum(len(h) for h in est.process([frame]))
                assert hands == 1, f"{mode} mode ended up with {hands} hands; the benchmark needs one"
            print(f"| {name} | {est.backend} | {est.precision} | " + " | ".join(f"{v:.1f}" for v in row) + " |", flush=True)


if __name__ == "__main__":
    main()
