"""Stills of rendered hands in set poses, to check by eye that the 3D view shows what the image shows.

    python -m training.render.known_pose --out runs/known_pose
    handpose-live --source runs/known_pose --model default --screenshot shot.png

Each file is named after what it shows: ``right_open_palm.png`` is an open right hand, fingers
up, palm toward the camera; ``_back`` shows the back of the hand; ``_point`` the index finger out.
Only the rigged mesh is used, over a procedural background.
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

# (file stem, side, gesture, yaw in degrees: 0 = palm toward the camera, 180 = back)
STILLS = (("right_open_palm", "right", "open", 0.0), ("right_open_back", "right", "open", 180.0),
          ("left_open_palm", "left", "open", 0.0), ("right_point_palm", "right", "point", 0.0))


def render_still(renderer: HandRenderer, side: str, gesture: str, yaw_deg: float, width: int, height: int,
                 seed: int = 0) -> np.ndarray:
    """One RGB image of a single hand, fingers up, turned ``yaw_deg`` about the vertical axis."""
    K = fixed_intrinsics(height, width)
    angles = sample_pose_deg(np.random.default_rng(seed), gesture)[0]
    rotation = rotation_xyz(np.radians([0.0, yaw_deg, 0.0])) @ PALM_TO_CAMERA[side]
    hand = HandParams(side, angles, rotation, place(K, 0.17, 0.6 * height, np.array([width / 2, height / 2])))
    return renderer.render_hands(np.random.default_rng(seed), [hand], K)["image_rgb"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.render.known_pose", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    ap.add_argument("--mesh-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    config = RenderConfig(height=height, width=width, two_hands_prob=0, arm_prob=1.0, occluder_prob=0.0,
                          distractor_prob=0.0, effects=False)
    renderer = HandRenderer(args.mesh_dir, None, config)
    args.out.mkdir(parents=True, exist_ok=True)
    for stem, side, gesture, yaw in STILLS:
        image = render_still(renderer, side, gesture, yaw, width, height)
        cv2.imwrite(str(args.out / f"{stem}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    print(f"wrote {len(STILLS)} stills to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
