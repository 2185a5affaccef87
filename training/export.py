"""Assemble a model folder (what the app loads) from the three stage checkpoints (or model
folders), and optionally the keypoint refiner.

    python -m training.export --handseg runs/light/handseg/last.pt --posenet runs/light/posenet/last.pt \
        --lifting runs/light/lifting/last.pt --out assets/models/default --name light-v1 --fp16

``--landmark mediapipe`` adds MediaPipe Hands' landmark network, converted from the
``mediapipe==0.10.21`` wheel (``training/pretrained/mediapipe_landmark.py``), as the keypoint
refiner (``handpose_live/models/landmark.py``); ``--landmark FOLDER`` takes it from a model folder
that has one. Without ``--landmark`` the model has none.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from handpose_live.checkpoint import build_networks, save_model
from handpose_live.model_config import ModelConfig
from handpose_live.models import LandmarkConfig

from . import checkpoints
from .stages import NETWORKS


def refiner_weights(source: str | Path, world: str | None = None) -> tuple[LandmarkConfig, dict]:
    """The keypoint refiner's config and weights from ``mediapipe`` (converted) or a model folder;
    ``world`` (None: as the source has it) sets the use of its world-landmark head
    (``LandmarkConfig.world``; a folder without that layer takes it from the converted network)."""
    from .pretrained.mediapipe_landmark import landmark_state_dict

    if str(source) == "mediapipe":
        world = world or "off"
        return LandmarkConfig(world=world), landmark_state_dict(world=world != "off")
    state = checkpoints.load(Path(source))
    config = ModelConfig.from_dict(state["config"])
    if config.landmark is None:
        raise ValueError(f"{source} has no keypoint refiner")
    weights = dict(state["networks"]["landmark"])
    if world is None or world == config.landmark.world:
        return config.landmark, weights
    has = any(k.startswith("world.") for k in weights)
    if world != "off" and not has:
        weights.update({k: v for k, v in landmark_state_dict().items() if k.startswith("world.")})
    elif world == "off":
        weights = {k: v for k, v in weights.items() if not k.startswith("world.")}
    return dataclasses.replace(config.landmark, world=world), weights


def _stage_config(stage: str, config: dict) -> dict:
    """A stage checkpoint's configuration, readable whatever the stage left out: a HandSegNet or
    PoseNet trained from a model folder whose lifting nets read the refiner's world landmarks
    carries no refiner (before session 22 its configuration still said the lifting nets read one,
    which no model can load). Only the lifting source's lifting section is used, so for the other
    two that flag is dropped."""
    if stage != "lifting" and config.get("landmark") is None:
        config = {**config, **{k: {**config[k], "world": False} for k in ("poseprior", "viewpoint")
                               if isinstance(config.get(k), dict) and config[k].get("world")}}
    return config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--handseg", type=Path, required=True)
    ap.add_argument("--posenet", type=Path, required=True)
    ap.add_argument("--lifting", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--description", default="")
    ap.add_argument("--fp16", action="store_true", help="store weights as fp16 (half the size)")
    ap.add_argument("--landmark", default=None,
                    help="keypoint refiner: 'mediapipe' (convert MediaPipe Hands' landmark network) or a model "
                         "folder that has one (default: none)")
    ap.add_argument("--landmark-scale", type=float, default=None,
                    help="the refiner's crop side over PoseNet's keypoint box (default: the folder's, else 1.3)")
    ap.add_argument("--landmark-world", choices=("off", "3d"), default=None,
                    help="3d: the 3D keypoints from the refiner's world landmarks instead of PosePrior + "
                         "ViewPoint (default: the folder's, else off; lifting nets that read them set it)")
    args = ap.parse_args(argv)
    try:
        states = {k: checkpoints.load(p) for k, p in
                  (("handseg", args.handseg), ("posenet", args.posenet), ("lifting", args.lifting))}
    except (FileNotFoundError, ValueError) as e:
        print(f"export: {e}", file=sys.stderr)
        return 2
    configs = {k: ModelConfig.from_dict(_stage_config(k, s["config"])) for k, s in states.items()}
    config = configs["posenet"]
    config.handsegnet = configs["handseg"].handsegnet
    # the detection options (region-box calibration, min_score) go with the HandSegNet's source;
    # recalibrate min_score for the new pair (scripts/calibrate_min_score.py --write)
    config.detection = configs["handseg"].detection
    config.poseprior, config.viewpoint = configs["lifting"].poseprior, configs["lifting"].viewpoint
    trained_for, given = configs["lifting"].posenet, config.posenet
    if (trained_for.input_size, trained_for.map_size) != (given.input_size, given.map_size):
        print(f"export: the lifting nets were trained for {trained_for.map_size}x{trained_for.map_size} maps of "
              f"{trained_for.input_size} px crops, the PoseNet gives {given.map_size}x{given.map_size} of "
              f"{given.input_size} px", file=sys.stderr)
        return 2
    config.name, config.description = args.name, args.description
    config.landmark, landmark_state = None, None
    if args.landmark is None and (args.landmark_world is not None or config.poseprior.world):
        print("export: --landmark-world and lifting nets that read world landmarks need --landmark",
              file=sys.stderr)
        return 2
    if args.landmark_world is not None and config.poseprior.world:
        print("export: these lifting nets read the refiner's world landmarks; --landmark-world does not apply",
              file=sys.stderr)
        return 2
    if args.landmark is not None:
        try:
            world = "lifting" if config.poseprior.world else args.landmark_world
            config.landmark, landmark_state = refiner_weights(args.landmark, world)
            if args.landmark_scale is not None:  # replace() runs the config's own checks
                config.landmark = dataclasses.replace(config.landmark, crop_scale=args.landmark_scale)
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            print(f"export: --landmark {args.landmark}: {e}", file=sys.stderr)
            return 2
    nets = build_networks(config)
    reads = config.lifting_image_channels
    if reads and reads != nets["posenet"].feature_channels:
        print(f"export: the lifting nets read {reads} image-feature channels, the PoseNet gives "
              f"{nets['posenet'].feature_channels}", file=sys.stderr)
        return 2
    for stage in states:  # handseg, posenet, lifting (the refiner comes from --landmark)
        for name in NETWORKS[stage]:
            nets[name].load_state_dict(states[stage]["networks"][name])
    if landmark_state is not None:
        nets["landmark"].load_state_dict(landmark_state)
    save_model(args.out, config, nets, dtype=torch.float16 if args.fp16 else torch.float32)
    print(f"export: wrote {args.out} ({sum(f.stat().st_size for f in args.out.iterdir()) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
