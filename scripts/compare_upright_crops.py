"""Do upright-rotated crops help PoseNet? Measured on labelled crops of real_hands.

    python scripts/compare_upright_crops.py --model runs/models/X --split dev

MediaPipe's landmark network reads crops rotated so that the hand points up (wrist below the
middle finger's base); ours reads axis-aligned crops. For every labelled hand, PoseNet runs on:

- ``axis``: the axis-aligned crop training makes from the label's keypoints (``crop.keypoint_box``);
- ``upright (label)``: the crop rotated about its centre so that the label's wrist -> middle-MCP
  direction points up, sized by the keypoint box in that rotated frame (what a tracker that carries
  the previous frame's angle would feed, with a perfect previous frame);
- ``upright (2-pass)``: the same, with the angle taken from PoseNet's own keypoints on the ``axis``
  crop (what image mode could do: one more PoseNet pass per hand).

Keypoints are mapped back to the frame and compared with the label. Prints per source the median
error over the label's bbox diagonal, PCK@0.05 and @0.1 of the diagonal, and how far the hands are
turned from upright (median and 90th percentile of the label's angle).
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
from handpose_live.skeleton import rhd_to_user  # noqa: E402
from training.data.paths import data_root  # noqa: E402
from training.data.real_hands import load_records, source_of  # noqa: E402

WRIST, MIDDLE_MCP = 0, 9  # user order


def upright_angle(kp_user: np.ndarray) -> float:
    """Radians to rotate the image by (counter-clockwise on screen) so that wrist -> middle MCP points up."""
    return cropping.upright_angle(kp_user[WRIST], kp_user[MIDDLE_MCP])


def rotated_box(kp_user: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Crop (centre x, centre y, side) of the keypoint box in the frame turned by ``angle``, and
    the 2x2 map from crop offsets to frame offsets (``crop.rotated_keypoint_box``)."""
    centre, side, to_frame = cropping.rotated_keypoint_box(kp_user, angle)
    return np.array([centre[0], centre[1], side]), to_frame


def crop_rotated(frame_bgr: np.ndarray, box: np.ndarray, to_frame: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB crop ``size`` x ``size`` whose axes are ``to_frame``'s columns; returns it and the 2x3
    map from crop px to frame px (``crop.crop_rotated``)."""
    return cropping.crop_rotated(frame_bgr, box[:2], float(box[2]), to_frame, size)


def posenet(net, crops_rgb: list[np.ndarray], size: int) -> np.ndarray:
    x = normalise(torch.from_numpy(np.stack(crops_rgb)).permute(0, 3, 1, 2))
    with torch.inference_mode():
        out = net(x)
    maps = (out[0] if isinstance(out, tuple) else out)[-1].float()
    kp, _ = decode(maps, size)
    return np.stack([rhd_to_user(k) for k in kp.numpy()])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    est = HandPoseEstimator.from_pretrained(args.model, device="cpu", precision="fp32")  # posenet() runs fp32
    net, size = est.nets["posenet"], est.config.posenet.input_size
    root = data_root()
    modes = ("axis", "upright (label)", "upright (2-pass)")
    errors: dict[str, dict[str, list]] = {}
    angles: dict[str, list] = {}
    for rec in load_records(root, args.split):
        frame = cv2.imread(str(root / rec["file"]), cv2.IMREAD_COLOR)
        src = source_of(rec["file"])
        for hand in rec["hands"]:
            gt = np.asarray(hand["kp"], np.float64)[:, :2]
            diag = max(float(np.linalg.norm(gt.max(0) - gt.min(0))), 1e-6)
            box = cropping.keypoint_box(gt[None])[0]
            axis_crop = cropping.crop_frame(frame, box[None], size)[0]
            kp_axis = cropping.crop_to_frame(torch.from_numpy(posenet(net, [axis_crop], size)),
                                             torch.from_numpy(box[None]).float(), size)[0].numpy()
            found = {"axis": kp_axis}
            for mode, reference in (("upright (label)", gt), ("upright (2-pass)", kp_axis)):
                rbox, to_frame = rotated_box(reference, upright_angle(reference))
                crop, m = crop_rotated(frame, rbox, to_frame, size)
                kp_crop = posenet(net, [crop], size)[0]
                found[mode] = kp_crop @ m[:, :2].T + m[:, 2]
            angles.setdefault(src, []).append(abs(np.degrees(upright_angle(gt))))
            for mode in modes:
                errors.setdefault(src, {}).setdefault(mode, []).append(np.linalg.norm(found[mode] - gt, axis=1) / diag)
    print(f"split {args.split}, model {args.model or 'default'}")
    for src in sorted(errors):
        a = np.array(angles[src])
        print(f"\n{src}: {len(a)} hands, turned from upright median {np.median(a):.0f} deg, p90 {np.percentile(a, 90):.0f} deg")
        print(f"{'crop':>18} {'median err/diag':>16} {'PCK@0.05':>9} {'PCK@0.1':>8}")
        for mode in modes:
            e = np.concatenate(errors[src][mode])
            print(f"{mode:>18} {100 * np.median(e):15.2f}% {(e <= 0.05).mean():9.3f} {(e <= 0.1).mean():8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
