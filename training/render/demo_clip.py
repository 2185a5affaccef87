"""Render the bundled demo clip: two hands moving through gestures, with our own renderer.

    python -m training.render.demo_clip --out assets/demo/demo.mp4

The app plays it when there is no camera. Only the rigged hand mesh (MIT) is used; backgrounds
are procedural, so nothing from ../shared/data ends up in the clip besides the mesh's shape.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from training.render.placement import PALM_TO_CAMERA, fixed_intrinsics, place
from training.render.pose import sample_pose_deg
from training.render.scene import HandParams, HandRenderer, RenderConfig
from training.render.skinning import rotation_xyz

# (right hand gesture, left hand gesture) at each key pose; the clip eases from one to the next.
KEYS = [("open", "fist"), ("count", "open"), ("fist", "point"), ("point", "thumbs_up"),
        ("thumbs_up", "count"), ("pinch", "open"), ("open", "fist")]


def key_poses(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(sample_pose_deg(rng, r)[0], sample_pose_deg(rng, l)[0]) for r, l in KEYS]


def hand_at(side: str, angles: np.ndarray, t: float, K: np.ndarray, w: int, h: int) -> HandParams:
    """One hand at time ``t`` (s): palm toward the camera, swaying and turning slowly."""
    sign = 1.0 if side == "right" else -1.0
    yaw = 25 * np.sin(0.7 * t + (0 if side == "right" else 1.3))
    roll = sign * (12 + 10 * np.sin(0.5 * t))
    pitch = 10 * np.sin(0.4 * t + 0.5)
    rotation = rotation_xyz(np.radians([pitch, yaw, roll])) @ PALM_TO_CAMERA[side]
    centre = np.array([w * (0.33 if side == "right" else 0.68) + 25 * np.sin(0.6 * t),
                       h * 0.5 + 20 * np.sin(0.9 * t + sign)])
    return HandParams(side, angles, rotation, place(K, 0.17, h * 0.55, centre))


def render_clip(out: Path, seconds: float, fps: int, width: int, height: int, seed: int, look_seed: int,
                mesh_dir: Path | None) -> int:
    config = RenderConfig(height=height, width=width, two_hands_prob=0, arm_prob=1.0, occluder_prob=0.0,
                          distractor_prob=0.0, effects=False)
    renderer = HandRenderer(mesh_dir, None, config)  # no photo backgrounds: procedural only
    K = fixed_intrinsics(height, width)
    keys = key_poses(seed)
    n = int(round(seconds * fps))
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write {out}")
    for i in range(n):
        t = i / fps
        u = t / seconds * (len(keys) - 1)
        k = min(int(u), len(keys) - 2)
        a = np.clip(u - k, 0, 1)
        a = a * a * (3 - 2 * a)  # ease in and out between key poses
        right = (1 - a) * keys[k][0] + a * keys[k + 1][0]
        left = (1 - a) * keys[k][1] + a * keys[k + 1][1]
        hands = [hand_at("right", right, t, K, width, height), hand_at("left", left, t, K, width, height)]
        # the same appearance seed every frame: skin, light, sleeves and background stay put
        sample = renderer.render_hands(np.random.default_rng(look_seed), hands, K)
        writer.write(cv2.cvtColor(sample["image_rgb"], cv2.COLOR_RGB2BGR))
    writer.release()
    return n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.render.demo_clip", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("assets/demo/demo.mp4"))
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    ap.add_argument("--seed", type=int, default=11, help="seed of the key poses")
    ap.add_argument("--look-seed", type=int, default=6, help="seed of skin, light, sleeves and background")
    ap.add_argument("--mesh-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    n = render_clip(args.out, args.seconds, args.fps, width, height, args.seed, args.look_seed, args.mesh_dir)
    print(f"wrote {args.out}: {n} frames, {args.out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
