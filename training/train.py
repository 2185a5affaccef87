"""Train one stage of the pipeline.

    python -m training.train --stage posenet --preset light --data render:1,real_hands:0.3 \
        --iters 30000 --out runs/light

Stages: ``handseg`` (HandSegNet), ``posenet`` (PoseNet), ``lifting`` (PosePrior + ViewPoint).
Adam with the paper's step schedule (``--schedule cosine`` as an option); mixed precision on a GPU;
a checkpoint every ``--ckpt-every`` iterations (``--resume`` continues from it); ``curves.csv`` and
``curves.png`` beside it. Several GPUs: ``torchrun --nproc_per_node N -m training.train ...``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from handpose_live.model_config import ModelConfig, preset
from handpose_live.pipeline import native_bf16, resolve_device
from handpose_live.models import LandmarkNet, PoseNet, PosePrior, ViewPoint
from handpose_live.models.mobile import LAYOUTS

from . import checkpoints, stages
from .curves import CurveLog, plot_curves
from .data_mix import check_spec, make_loader


def _zoom_range(text: str) -> tuple[float, float]:
    """``LO,HI`` with 1 <= LO <= HI (``--seg-zoom``)."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI, got {text!r}") from None
    if not 1.0 <= lo <= hi:
        raise argparse.ArgumentTypeError(f"need 1 <= LO <= HI, got {text!r}")
    return lo, hi


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", required=True, choices=sorted(stages.NETWORKS))
    ap.add_argument("--preset", default="light", help="paper, light or tiny (network sizes)")
    ap.add_argument("--classes", type=int, default=3, choices=(2, 3), help="HandSegNet classes (2 = paper)")
    ap.add_argument("--data", default="render:1",
                    help="weighted sources: render, real_hands, written=DIR, rhd=DIR, freihand=DIR; "
                         "e.g. render:1,real_hands:0.3")
    ap.add_argument("--image-size", type=int, default=256, help="side of the square training images")
    ap.add_argument("--iters", type=int, default=None, help="default: the paper's count for the stage")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=None, help="default: the paper's rate for the stage")
    ap.add_argument("--schedule", choices=("step", "cosine"), default="step")
    ap.add_argument("--out", type=Path, default=Path("runs/default"))
    ap.add_argument("--resume", action="store_true", help="continue from OUT/STAGE/last.pt")
    ap.add_argument("--refine-stages", type=int, default=None,
                    help="posenet: refinement stages after the first (paper: 2)")
    ap.add_argument("--side-head", action="store_true", help="posenet: add the left/right classifier head")
    ap.add_argument("--crop-size", type=int, default=None,
                    help="PoseNet's crop side in px (the preset's or --init's otherwise); the lifting nets' "
                         "map size follows (crop / map stride)")
    ap.add_argument("--side-weight", type=float, default=stages.SIDE_LOSS_WEIGHT,
                    help="posenet: weight of the side head's loss")
    ap.add_argument("--seg-zoom", type=_zoom_range, default=stages.SEG_ZOOM, metavar="LO,HI",
                    help="handseg: random zoom range (>= 1) applied before letterboxing (default 1.0,1.6)")
    ap.add_argument("--encoder", choices=("vgg", *sorted(LAYOUTS)), default=None,
                    help="posenet/handseg: the paper's VGG-like encoder or a mobile one (outputs at stride 4); "
                         "lifting: the PoseNet encoder whose map size the lifting nets are trained for")
    ap.add_argument("--rotation", choices=("axis_angle", "6d"), default=None,
                    help="lifting: ViewPoint's rotation output (default: the preset's or --init's; paper: axis_angle)")
    ap.add_argument("--lifting-maps", choices=("posenet", "keypoints"), default=None,
                    help="lifting: the score maps PosePrior and ViewPoint read — PoseNet's (the paper; with "
                         "--posenet) or maps drawn from the 2D keypoints (the labels under map noise here; the "
                         "reported keypoints at run time) beside PoseNet's image features (default: the preset's "
                         "or --init's)")
    ap.add_argument("--lifting-world", default=None, metavar="REFINER",
                    help="lifting: PosePrior and ViewPoint also read the keypoint refiner's world landmarks "
                         "(ours); REFINER: 'mediapipe' (converted) or a model folder with a refiner, whose "
                         "crop settings the model keeps (nets that already read them, from --init or --resume, "
                         "use 'mediapipe' unless it is given)")
    ap.add_argument("--lifting-refined", type=float, default=0.0, metavar="SHARE",
                    help="lifting with --lifting-maps keypoints and --lifting-world: the share (0-1) of samples "
                         "whose maps are drawn from the frozen refiner's own 2D keypoints, the ones the run time "
                         "draws them from, in place of the noised labels (default 0)")
    ap.add_argument("--landmark-teacher", default=None, metavar="REFINER",
                    help="landmark: hold the refiner on real photos to a frozen one — pseudo-labelled samples "
                         "learn its keypoints on the same crop instead of their labels, and every hand its world "
                         "landmarks; REFINER: 'mediapipe' (converted) or a model folder with a refiner")
    ap.add_argument("--lifting-frame", choices=("camera", "ray"), default=None,
                    help="lifting: the frame of the 3D PosePrior and ViewPoint give — the camera's (the paper) or "
                         "the ray's through the crop's centre, which the crop shows (ours; camera-frame labels are "
                         "turned into it with each sample's K, and the run time turns the output back; default: "
                         "the preset's or --init's)")
    ap.add_argument("--image-features", action="store_true",
                    help="lifting: PosePrior and ViewPoint also read PoseNet's deepest image features "
                         "(ours, not the paper's; needs --posenet)")
    ap.add_argument("--pretrained", action="store_true",
                    help="posenet/handseg: initialise the mobile encoder from its pretrained start (lite0: ImageNet "
                         "EfficientNet-Lite0; mediapipe, mediapipe32: MediaPipe Hands' landmark network); "
                         "with --init, only the encoder layers the checkpoint lacks; needs the train extra (pip install -e \".[train]\")")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this stage checkpoint's or model folder's weights (e.g. assets/models/default)")
    ap.add_argument("--posenet", type=Path, default=None,
                    help="lifting: train on this PoseNet's (checkpoint or model folder) predicted maps instead of GT maps")
    ap.add_argument("--handseg", type=Path, default=None,
                    help="posenet: crop with this HandSegNet's (checkpoint or model folder) regions "
                         "(GT crops where it finds none)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--amp", choices=("auto", "bf16", "off"), default="auto",
                    help="bf16 autocast: auto = on a GPU, and on a CPU with native bf16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--ckpt-every", type=int, default=1000)
    return ap.parse_args(argv)


def setup_distributed(device_arg: str) -> tuple[torch.device, int, int]:
    """torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; otherwise a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        local = int(os.environ["LOCAL_RANK"])
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        return device, dist.get_rank(), world
    return resolve_device(device_arg), 0, 1  # the estimator's rule: auto = a CUDA GPU if there is one


def make_scheduler(optimizer, args, milestones_paper, total: int):
    if args.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total, 1), eta_min=args.lr * 0.01)
    paper_total = stages.PAPER_SCHEDULE[args.stage][1]
    milestones = [int(m * total / paper_total) for m in milestones_paper]  # scaled to --iters
    return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)


def _replayed_scheduler(optimizer, args, milestones, start: int):
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = args.lr
    scheduler = make_scheduler(optimizer, args, milestones, args.iters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping the schedule without optimizer steps is the point
        for _ in range(start):
            scheduler.step()
    return scheduler


def apply_overrides(config: ModelConfig, args) -> None:
    """Architecture flags that change a preset or an ``--init`` checkpoint's configuration."""
    if args.refine_stages is not None:
        config.posenet.refine_stages = args.refine_stages
    if args.side_head:
        config.posenet.side_head = True
    if getattr(args, "rotation", None) is not None:
        config.viewpoint.rotation = args.rotation
    if getattr(args, "image_features", False):
        channels = PoseNet(config.posenet).feature_channels
        config.poseprior.image_channels = config.viewpoint.image_channels = channels
    if args.encoder is not None:
        section = config.handsegnet if args.stage == "handseg" else config.posenet
        section.encoder = args.encoder
        section.__post_init__()  # the encoder may need another input-size multiple
    if getattr(args, "lifting_maps", None) is not None:
        config.poseprior.maps = config.viewpoint.maps = args.lifting_maps
    if getattr(args, "lifting_world", None) is not None:
        config.poseprior.world = config.viewpoint.world = True
    if getattr(args, "lifting_frame", None) is not None:
        config.poseprior.frame = config.viewpoint.frame = args.lifting_frame
    if getattr(args, "crop_size", None) is not None:
        config.posenet.input_size = args.crop_size
        config.posenet.__post_init__()  # a multiple of the encoder's stride
        config.poseprior.input_size = config.viewpoint.input_size = config.posenet.map_size


def load_pretrained_encoder(net: torch.nn.Module, encoder: str, only_missing_from: dict | None = None) -> None:
    """Initialise a network's mobile encoder (PoseNet's or HandSegNet's) from its pretrained
    start (``training/pretrained``). ``only_missing_from``: a checkpoint's state of the network
    (with ``--init``): only the encoder layers it lacks (e.g. the blocks ``mediapipe32`` adds to a
    ``mediapipe`` PoseNet) come from the start."""
    if encoder == "lite0":
        from .pretrained.lite0 import encoder_state_dict

        state = encoder_state_dict()
    elif encoder in ("mediapipe", "mediapipe32"):
        from .pretrained.mediapipe_landmark import encoder_state_dict, fetch_tflite

        state = encoder_state_dict(fetch_tflite(), encoder)
    else:
        raise ValueError(f"--pretrained: no pretrained start for the {encoder!r} encoder")
    if only_missing_from is not None:
        state = {k: v for k, v in state.items() if f"encoder.{k}" not in only_missing_from}
        net.encoder.load_state_dict(state, strict=False)
    else:
        net.encoder.load_state_dict(state)
    print(f"{type(net).__name__}: encoder initialised from the {encoder} start ({len(state)} tensors)", flush=True)


def load_matching(net: torch.nn.Module, state: dict, name: str) -> None:
    """Load ``state`` into ``net`` where they match: layers the new configuration adds or reshapes
    keep their fresh init, layers it drops are left out, and a lifting net's first fully connected
    layer that gains image-feature inputs is widened with zero weights; all are reported."""
    own = net.state_dict()
    layer = lambda key: ".".join(key.split(".")[:2])  # noqa: E731  e.g. "side.0" of "side.0.0.weight"
    state, widened = dict(state), set()
    # the lifting nets' first fully connected layer given image features (appended after its other
    # inputs) keeps its weights; the new inputs' start at zero, so the net first computes what the
    # checkpoint did
    key = "fc.0.weight"
    if isinstance(net, (PosePrior, ViewPoint)) and key in state and key in own:
        v = state[key]
        if own[key].shape[0] == v.shape[0] and own[key].shape[1] > v.shape[1]:
            grown = torch.zeros_like(own[key], dtype=v.dtype)
            grown[:, : v.shape[1]] = v
            state[key] = grown
            widened.add(layer(key))
    # a layer whose shape the new configuration changes otherwise (e.g. ViewPoint's 6D output) starts fresh
    state = {k: v for k, v in state.items() if k not in own or own[k].shape == v.shape}
    new = sorted({layer(k) for k in own if k not in state})
    dropped = sorted({layer(k) for k in state if k not in own})
    net.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    if new or dropped or widened:
        print(f"{name}: initialised from the checkpoint except new {new or '-'}; left out {dropped or '-'}; "
              f"widened with zero weights {sorted(widened) or '-'}", flush=True)


def _frozen(path: Path, name: str, device) -> torch.nn.Module:
    """A network from another stage's checkpoint, in eval mode, for inputs of this stage."""
    state = checkpoints.load(path)
    stage = {"posenet": "posenet", "handsegnet": "handseg"}[name]
    net = stages.build(stage, ModelConfig.from_dict(state["config"]))[name]
    net.load_state_dict(state["networks"][name])
    return net.to(device).eval()


def _frozen_refiner(source: str, device):
    """The keypoint refiner (``mediapipe`` or a model folder's) with its world head, in eval mode,
    for lifting nets that read its world landmarks; and its config (``world="lifting"``)."""
    from .export import refiner_weights

    lm_config, weights = refiner_weights(source, "lifting")
    net = LandmarkNet(lm_config)
    net.load_state_dict({k: v.float() for k, v in weights.items()})
    return net.to(device).eval().to(memory_format=torch.channels_last), lm_config


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_spec(args.data)
    except (ValueError, FileNotFoundError) as e:  # before any model loads: one line, not a traceback
        print(f"error: --data {args.data}: {e}", file=sys.stderr)
        return 2
    lr_paper, iters_paper, milestones = stages.PAPER_SCHEDULE[args.stage]
    args.lr = args.lr or lr_paper
    args.iters = args.iters or iters_paper
    device, rank, world = setup_distributed(args.device)
    torch.manual_seed(args.seed + rank)
    rng = np.random.default_rng(args.seed + 1000 * rank)
    generator = torch.Generator().manual_seed(args.seed + rank)
    out = args.out / args.stage
    out.mkdir(parents=True, exist_ok=True)

    config = preset(args.preset)
    config.handsegnet.num_classes = args.classes
    apply_overrides(config, args)
    nets = stages.build(args.stage, config)
    start = 0
    resume_state = None
    if args.resume and (out / "last.pt").exists():
        resume_state = checkpoints.load(out / "last.pt")
        config = ModelConfig.from_dict(resume_state["config"])
        nets = stages.build(args.stage, config)
    elif args.init:
        init = checkpoints.load(args.init)
        config = ModelConfig.from_dict(init["config"])
        if args.stage != "landmark":  # only the refiner's own stage carries it (training.export adds it)
            config.landmark = None
            if args.stage != "lifting":  # and only the lifting stage reads its world landmarks (a
                # configuration that says so without a refiner cannot be loaded)
                config.poseprior.world = config.viewpoint.world = False
        apply_overrides(config, args)
        nets = stages.build(args.stage, config)
        for k, net in nets.items():
            if k not in init["networks"]:
                raise SystemExit(f"--init {args.init} has no {k} network" +
                                 (" (start the refiner with --pretrained instead)" if k == "landmark" else ""))
            load_matching(net, init["networks"][k], k)
        if args.pretrained:  # layers the checkpoint lacks (a deeper encoder) from the start
            if args.stage in ("lifting", "landmark"):
                raise SystemExit("--pretrained with --init applies to --stage posenet and handseg")
            name = stages.NETWORKS[args.stage][0]
            load_pretrained_encoder(nets[name], getattr(config, name).encoder, init["networks"][name])
    elif args.pretrained and args.stage == "landmark":  # the whole converted network
        from .pretrained.mediapipe_landmark import landmark_state_dict

        nets["landmark"].load_state_dict(landmark_state_dict(world=config.landmark.world != "off"))
    elif args.pretrained:
        if args.stage == "lifting":
            raise SystemExit("--pretrained applies to --stage posenet and handseg")
        name = stages.NETWORKS[args.stage][0]
        load_pretrained_encoder(nets[name], getattr(config, name).encoder)
    for net in nets.values():
        net.to(device).train()
    params = [p for net in nets.values() for p in net.parameters()]
    optimizer = torch.optim.Adam(params, lr=args.lr)
    scheduler = make_scheduler(optimizer, args, milestones, args.iters)
    if resume_state is not None:
        for k, net in nets.items():
            net.load_state_dict(resume_state["networks"][k])
        optimizer.load_state_dict(resume_state["optimizer"])
        start = int(resume_state["iteration"])
        saved = resume_state["args"]
        if (saved.get("iters"), saved.get("lr"), saved.get("schedule")) == (args.iters, args.lr, args.schedule):
            scheduler.load_state_dict(resume_state["scheduler"])
        else:  # a longer or different schedule: replay it from the start up to this iteration
            scheduler = _replayed_scheduler(optimizer, args, milestones, start)
        rng = np.random.default_rng(args.seed + 1000 * rank + start)
    if world > 1:
        nets = {k: torch.nn.parallel.DistributedDataParallel(v, device_ids=[device.index] if device.type == "cuda"
                                                              else None) for k, v in nets.items()}

    extra = {"generator": generator} if args.stage != "handseg" else {}
    if args.stage == "lifting" and args.posenet:
        extra["posenet"] = _frozen(args.posenet, "posenet", device)
    reads_image = args.stage == "lifting" and config.lifting_image_channels > 0
    if reads_image and "posenet" not in extra:
        raise SystemExit("lifting nets that read image features (--image-features) train on a PoseNet's "
                         "outputs: give --posenet")
    if reads_image and extra["posenet"].feature_channels != config.lifting_image_channels:
        raise SystemExit(f"--posenet gives {extra['posenet'].feature_channels} feature channels, the lifting "
                         f"nets read {config.lifting_image_channels}")
    if args.stage == "lifting" and config.poseprior.world:
        try:
            extra["refiner"], config.landmark = _frozen_refiner(args.lifting_world or "mediapipe", device)
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            raise SystemExit(f"--lifting-world {args.lifting_world}: {e}")
    if not 0.0 <= args.lifting_refined <= 1.0:
        raise SystemExit(f"--lifting-refined {args.lifting_refined}: a share between 0 and 1")
    if args.lifting_refined > 0:
        if args.stage != "lifting" or config.poseprior.maps != "keypoints" or not config.poseprior.world:
            raise SystemExit("--lifting-refined applies to --stage lifting with --lifting-maps keypoints and "
                             "--lifting-world")
        extra["refined_share"] = args.lifting_refined
    if args.landmark_teacher is not None:
        if args.stage != "landmark":
            raise SystemExit("--landmark-teacher applies to --stage landmark")
        try:
            extra["teacher"] = _frozen_refiner(args.landmark_teacher, device)[0]
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            raise SystemExit(f"--landmark-teacher {args.landmark_teacher}: {e}")
    if args.stage == "posenet":
        extra["side_weight"] = args.side_weight
    if args.stage == "handseg":
        extra["seg_zoom"] = args.seg_zoom
    if args.stage == "posenet" and args.handseg:
        extra["handsegnet"] = _frozen(args.handseg, "handsegnet", device)

    try:
        loader = make_loader(args.data, split="train", image_size=args.image_size, batch_size=args.batch,
                             workers=args.workers, seed=args.seed + 7919 * rank + start)
    except (ValueError, FileNotFoundError) as e:  # a wrong data path or spec: one line, not a traceback
        print(f"error: --data {args.data}: {e}", file=sys.stderr)
        return 2
    amp = contextlib.nullcontext()
    if args.amp == "bf16" or (args.amp == "auto" and (device.type == "cuda" or native_bf16())):
        amp = torch.autocast(device.type, dtype=torch.bfloat16)
    log = CurveLog(out / "curves.csv") if rank == 0 else None
    step_fn = {"handseg": stages.handseg_step, "posenet": stages.posenet_step, "lifting": stages.lifting_step,
               "landmark": stages.landmark_step}
    running: dict[str, list[float]] = {}
    t0 = time.time()
    bar = tqdm(total=args.iters, initial=start, desc=f"{args.stage}", disable=rank != 0, dynamic_ncols=True)
    batches = iter(loader)
    for it in range(start, args.iters):
        batch = next(batches)
        with amp:
            losses = step_fn[args.stage](nets, batch, config, rng, device, **extra)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizer.step()
        scheduler.step()
        for k, v in losses.items():
            running.setdefault(k, []).append(float(v.detach()))
        bar.update(1)
        done = it + 1
        if rank == 0 and (done % args.log_every == 0 or done == args.iters):
            row = {"iteration": done, "lr": scheduler.get_last_lr()[0], "seconds": round(time.time() - t0, 1)}
            row.update({k: float(np.mean(v)) for k, v in running.items()})
            running = {}
            bar.set_postfix(loss=f"{row['loss']:.4f}")
            log.append(row)
        if rank == 0 and (done % args.ckpt_every == 0 or done == args.iters):
            checkpoints.save(out / "last.pt", stage=args.stage, nets=nets, optimizer=optimizer,
                             scheduler=scheduler, iteration=done, config=config, args=vars(args),
                             argv=[sys.executable, "-m", "training.train", *(argv or sys.argv[1:])])
            plot_curves(out / "curves.csv", out / "curves.png", f"{args.stage} ({args.preset})")
    bar.close()
    if world > 1:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
