"""The training stages: which networks each trains and its loss on a batch (the paper's three,
and ``landmark``: the keypoint refiner).

A batch is a dict of tensors collated from samples of ``training/data`` (RHD order, frame px).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from handpose_live import crop as cropping
from handpose_live.heatmaps import encode
from handpose_live.model_config import ModelConfig
from handpose_live.models import HandSegNet, LandmarkConfig, LandmarkNet, PoseNet, PosePrior, ViewPoint
from handpose_live.models.landmark import INPUT_SIZE as LANDMARK_INPUT_SIZE
from handpose_live.models.lifting import world_input
from handpose_live.pipeline import native_bf16
from handpose_live.skeleton import RHD_MIDDLE_MCP, RHD_WRIST, rhd_to_user, user_to_rhd
from handpose_live.preprocess import letterbox, normalise
from handpose_live.segmentation import segment_frames

from . import targets
from .losses import keypoint_map_loss, lifting_loss, segmentation_loss, side_loss

# Paper schedule per stage: learning rate, iterations, step milestones (section 4 / reference).
PAPER_SCHEDULE = {
    "handseg": (1e-5, 40_000, (20_000, 30_000)),
    "posenet": (1e-4, 30_000, (10_000, 20_000)),
    "lifting": (1e-5, 80_000, (60_000,)),
    "landmark": (1e-5, 10_000, (5_000,)),  # ours: a fine-tune of a converted network, not the paper's
}
# Default weight of the side head's BCE (~0.69 untrained) against the maps' loss (~0.17-0.25
# summed over stages). At 0.2 the side loss fell only 0.68 -> 0.62 in 1,400 light-model steps.
SIDE_LOSS_WEIGHT = 0.5
SEG_ZOOM = (1.0, 1.6)  # HandSegNet training: random zoom range before letterboxing

NETWORKS = {"handseg": ("handsegnet",), "posenet": ("posenet",), "lifting": ("poseprior", "viewpoint"),
            "landmark": ("landmark",)}


@dataclass
class CropNoise:
    """Crop augmentation: centre shift (fraction of the side) and side scale range."""

    centre: float = 0.08
    scale: tuple[float, float] = (0.9, 1.3)


def build(stage: str, config: ModelConfig) -> dict[str, torch.nn.Module]:
    if stage == "handseg":
        return {"handsegnet": HandSegNet(config.handsegnet)}
    if stage == "posenet":
        return {"posenet": PoseNet(config.posenet)}
    if stage == "lifting":
        return {"poseprior": PosePrior(config.poseprior), "viewpoint": ViewPoint(config.viewpoint)}
    if stage == "landmark":
        if config.landmark is None:
            config.landmark = LandmarkConfig()
        return {"landmark": LandmarkNet(config.landmark)}
    raise ValueError(f"unknown stage {stage!r}; choose handseg, posenet, lifting or landmark")


def segmentation_inputs(images: np.ndarray, masks: np.ndarray, size_hw: tuple[int, int],
                        rng: np.random.Generator, augment: bool = True, zoom_range=SEG_ZOOM):
    """Letterbox each image (as the run time does) with a random zoom (``zoom_range``, >= 1: a
    random part of the image) and shift when ``augment``: returns normalised images ``[B,3,h,w]``
    and label masks ``[B,h,w]``."""
    h, w = size_hw
    out_i, out_m = [], []
    for img, m in zip(images, masks):
        if augment:
            zoom = rng.uniform(*zoom_range)
            ih, iw = img.shape[:2]
            ch, cw = int(ih / zoom), int(iw / zoom)
            y0, x0 = rng.integers(0, ih - ch + 1), rng.integers(0, iw - cw + 1)
            img, m = img[y0 : y0 + ch, x0 : x0 + cw], m[y0 : y0 + ch, x0 : x0 + cw]
        li, _ = letterbox(img, (h, w))
        lm, _ = letterbox(m, (h, w), fill=0, interpolation=cv2.INTER_NEAREST)
        out_i.append(li)
        out_m.append(lm)
    x = normalise(torch.from_numpy(np.stack(out_i)).permute(0, 3, 1, 2))
    return x, torch.from_numpy(np.stack(out_m))


def handseg_step(nets, batch, config: ModelConfig, rng: np.random.Generator, device,
                 seg_zoom=SEG_ZOOM) -> dict:
    x, mask = segmentation_inputs(batch["image_rgb"].numpy(), batch["mask"].numpy(),
                                  config.handsegnet.input_size, rng, zoom_range=seg_zoom)
    weight = batch["mask_valid"].float() * torch.where(batch["mask_coarse"].bool(), 0.3, 1.0)
    logits = nets["handsegnet"](x.to(device))
    loss = segmentation_loss(logits, mask.to(device), weight.to(device) * batch["weight"].to(device))
    return {"loss": loss}


def noisy_crop_boxes(batch, noise: CropNoise | None, generator=None) -> torch.Tensor:
    """The crop boxes the run time makes from each sample's labelled keypoints
    (``targets.runtime_crop_boxes``), with ``noise`` on their centre and side when given."""
    return targets.runtime_crop_boxes(batch["keypoints_2d"].float(), batch["visible"].bool(),
                                      noise.centre if noise else 0.0, noise.scale if noise else (1.0, 1.0),
                                      generator)


def posenet_crops(batch, config: ModelConfig, noise: CropNoise | None, generator=None, boxes=None):
    """Normalised crops, keypoints in crop px, visibility and target maps for a batch."""
    kp, vis = batch["keypoints_2d"].float(), batch["visible"].bool()
    if boxes is None:
        boxes = noisy_crop_boxes(batch, noise, generator)
    images = normalise(batch["image_rgb"].permute(0, 3, 1, 2))
    size = config.posenet.input_size
    crops = targets.crop_batch(images, boxes, size)
    kp_crop, vis_crop, maps = targets.keypoint_targets(kp, vis, boxes, size)
    return crops, kp_crop, vis_crop, maps, boxes


def handseg_crop_boxes(handsegnet, batch, config: ModelConfig, device, fallback: torch.Tensor) -> torch.Tensor:
    """Crop boxes from HandSegNet's own regions, as at run time: for each sample the region
    nearest the labelled hand's keypoint box; ``fallback`` where none lies on the hand. At the input
    size the run time's regions come from (``detection.fine_input_size`` where the model has one;
    its second pass only takes two joined hands apart)."""
    with torch.no_grad():
        found = segment_frames(handsegnet, list(batch["image_rgb"].numpy()), config.segment_input_size,
                               config.detection, device)
    boxes = fallback.clone()
    kp = batch["keypoints_2d"].float().numpy()
    for i, (regions, _) in enumerate(found):
        lo, hi = kp[i].min(0), kp[i].max(0)
        centre = (lo + hi) / 2
        inside = [r for r in regions if r.bbox[0] <= centre[0] <= r.bbox[2] and r.bbox[1] <= centre[1] <= r.bbox[3]]
        if inside:
            boxes[i] = torch.from_numpy(config.detection.region_box(inside[0].bbox[None])[0])
    return boxes


def posenet_step(nets, batch, config: ModelConfig, rng, device, noise=CropNoise(), generator=None,
                 handsegnet=None, side_weight: float = SIDE_LOSS_WEIGHT) -> dict:
    """PoseNet's loss on a batch: score maps of every stage against maps drawn at the visible
    keypoints (pseudo-labels robust), plus the side head's. A sample flagged ``is_negative`` (a
    region without a hand, marked by its invisible keypoints) counts all 21 maps, whose target is
    empty, so PoseNet learns low confidence off hands; without that flag a hand-free sample adds
    nothing."""
    boxes = None
    if handsegnet is not None:
        kp, vis = batch["keypoints_2d"].float(), batch["visible"].bool()
        fallback = targets.runtime_crop_boxes(kp, vis, noise.centre, noise.scale, generator)
        boxes = handseg_crop_boxes(handsegnet, batch, config, device, fallback)
    crops, _, vis, maps, _ = posenet_crops(batch, config, noise, generator, boxes)
    if "is_negative" in batch:  # a region without a hand (data_mix.NEGATIVE_SOURCES): all 21 maps empty
        vis = vis | batch["is_negative"].bool()[:, None]
    weight = batch["weight"].float().to(device)
    robust = batch["is_pseudo_label"].bool().to(device) if "is_pseudo_label" in batch else None
    if not config.posenet.side_head:
        stages = nets["posenet"](crops.to(device))
        loss = keypoint_map_loss(stages, maps.to(device), vis.to(device), weight, robust)
        return {"loss": loss}
    stages, side_logit = nets["posenet"](crops.to(device), side=True)
    loss_maps = keypoint_map_loss(stages, maps.to(device), vis.to(device), weight, robust)
    has_hand = batch["visible"].bool().any(1).float().to(device)  # hand-free samples: no side to learn
    loss_side = side_loss(side_logit, batch["side"].to(device), weight * has_hand)
    return {"loss": loss_maps + side_weight * loss_side, "loss_maps": loss_maps, "loss_side": loss_side}


@dataclass
class MapNoise:
    """Ground-truth maps made to look like PoseNet's (lifting stage): each sample's keypoints
    jittered by a Gaussian of a per-sample spread drawn from [0, ``jitter_px``] (crop px), and each
    keypoint's map dropped with probability ``drop`` (as PoseNet loses occluded joints)."""

    jitter_px: float = 3.0
    drop: float = 0.05


def ground_truth_maps(batch, config: ModelConfig, noise: CropNoise | None, map_noise: MapNoise | None,
                      generator=None, boxes: torch.Tensor | None = None,
                      keypoints: torch.Tensor | None = None) -> torch.Tensor:
    """Score maps drawn from the labelled keypoints (every keypoint gets one, occluded or not: the
    prior must place them all), with ``map_noise`` when given; in ``boxes`` when given (else
    boxes drawn as the run time makes them, with ``noise``). ``keypoints`` (frame px, ``[B, 21,
    2]``) replace the labels when given."""
    size, m = config.posenet.input_size, config.posenet.map_size
    kp = batch["keypoints_2d"].float() if keypoints is None else keypoints.float()
    if boxes is None:
        boxes = noisy_crop_boxes(batch, noise, generator)
    kp_crop = cropping.frame_to_crop(kp, boxes, size)
    keep = torch.ones(kp.shape[:2], dtype=torch.bool)
    if map_noise is not None:
        spread = torch.rand(kp.shape[0], 1, 1, generator=generator) * map_noise.jitter_px
        kp_crop = kp_crop + torch.randn(kp_crop.shape, generator=generator) * spread
        keep = torch.rand(kp.shape[:2], generator=generator) >= map_noise.drop
    return encode(kp_crop, keep, size, m)


def lifting_step(nets, batch, config: ModelConfig, rng, device, posenet=None, noise=CropNoise(),
                 generator=None, map_noise: MapNoise | None = MapNoise(), refiner=None,
                 refined_share: float = 0.0) -> dict:
    """Lifting from ground-truth maps (the paper; ``map_noise`` makes them look like PoseNet's) or,
    with ``posenet``, from its predicted maps of every sample with an image — unless the lifting
    nets read maps drawn from keypoints (``LiftingConfig.maps``), when every sample keeps the drawn
    maps and PoseNet gives only the image features, from the same crops (samples of
    keypoint-only sources, ``keypoints_only``, keep ground-truth maps, and read zero image
    features when the lifting nets read PoseNet's features). Pseudo-labelled 3D
    (``is_pseudo_label``) gets the robust loss. Lifting nets that read world landmarks
    (``LiftingConfig.world``) get ``refiner``'s (``refiner_world``). Nets that give 3D in the
    crop's ray frame (``LiftingConfig.frame``) learn camera-frame labels turned into it
    (``targets.to_ray_frame``). With maps drawn from keypoints and a ``refiner``, a random
    ``refined_share`` of the samples it sees a hand in read maps drawn from the refiner's own 2D
    keypoints (no map noise: its errors are the noise), the keypoints the run time draws them
    from, so the nets meet the refiner's mistakes in training."""
    has3d = batch["has_3d"].bool()
    drawn = config.poseprior.maps == "keypoints"
    ray = config.viewpoint.frame == "ray"
    if refined_share > 0 and not (drawn and config.poseprior.world and refiner is not None):
        raise ValueError("refined_share needs lifting nets that read maps drawn from keypoints and world "
                         "landmarks, and a refiner")
    boxes = None
    if drawn or ray:  # maps drawn from the labels in the very crops PoseNet's features come from,
        boxes = noisy_crop_boxes(batch, noise, generator)  # and whose centres' rays set the label frame
    maps = ground_truth_maps(batch, config, noise, map_noise, generator, boxes=boxes)
    world = None
    if config.poseprior.world:
        if refiner is None:
            raise ValueError("lifting nets that read world landmarks train on a keypoint refiner's; pass refiner")
        if refined_share > 0:
            world, refined, seen = refiner_world(refiner, batch, config, device, generator, return_keypoints=True)
            use = seen & (torch.rand(len(seen), generator=generator) < refined_share)
            if use.any():
                maps[use] = ground_truth_maps(batch, config, None, None, generator, boxes=boxes,
                                              keypoints=refined)[use]
        else:
            world = refiner_world(refiner, batch, config, device, generator)
    image = None
    if posenet is not None:
        with_image = ~batch["keypoints_only"].bool() if "keypoints_only" in batch else torch.ones_like(has3d)
        reads_image = config.lifting_image_channels > 0
        if with_image.any() and (reads_image or not drawn):
            crops = posenet_crops(batch, config, noise, generator, boxes=boxes)[0][with_image]
            with torch.no_grad():
                out = posenet(crops.to(device), features=True) if reads_image else posenet(crops.to(device))
            if not drawn:
                maps[with_image] = (out[0] if reads_image else out)[-1].float().to(maps.device)
            if reads_image:  # samples without an image (keypoint-only sources) read zero features
                feats = out[1].float()
                image = torch.zeros((len(maps), *feats.shape[1:]), device=feats.device)
                image[with_image.to(feats.device)] = feats
        elif reads_image:
            c = posenet.feature_channels
            image = torch.zeros(len(maps), c, 1, 1, device=device)
    maps = maps.to(device)
    xyz = batch["keypoints_3d"].float()
    if ray:  # camera-frame labels into the frame of the ray through each crop's centre
        xyz = targets.to_ray_frame(xyz, batch["K"], boxes[:, :2], batch["has_3d_camera"].bool())
    canonical_gt, rotation_gt, one_hot = targets.lifting_targets(xyz, batch["side"])
    one_hot = one_hot.to(device)
    extra = {} if world is None else {"world": world}
    canonical = nets["poseprior"](maps, one_hot, image, **extra)
    rotation = nets["viewpoint"].to_matrix(nets["viewpoint"](maps, one_hot, image, **extra).float())
    weight = batch["weight"].float() * has3d.float()
    robust = batch["is_pseudo_label"].bool().to(device) if "is_pseudo_label" in batch else None
    loss_c, loss_r = lifting_loss(canonical, rotation, canonical_gt.to(device), rotation_gt.to(device),
                                  weight.to(device), robust)
    return {"loss": loss_c + loss_r, "loss_canonical": loss_c, "loss_rotation": loss_r}


@dataclass
class UprightNoise:
    """The keypoint refiner's crops in training: upright by the label's wrist -> middle-finger
    base, turned further by a Gaussian of ``angle_deg``, sized ``crop_scale`` x ``scale`` (a
    uniform draw) of the keypoint box in the turned frame, centre moved by up to ``centre`` of the
    side — the spread of the crops PoseNet's keypoints give at run time."""

    angle_deg: float = 10.0
    scale: tuple[float, float] = (0.85, 1.2)
    centre: float = 0.06


def landmark_crops(batch, config: ModelConfig, noise: UprightNoise | None, generator=None,
                   return_maps: bool = False):
    """Upright crops ``[B, 3, 224, 224]`` (our normalisation) and the keypoints in them ``[B, 21,
    2]`` (crop px, **user order**, what the refiner regresses); hand-free samples get a crop of
    their marked region at a random angle. The boxes are the run time's
    (``crop.upright_angle``, ``crop.rotated_keypoint_box``, ``crop.rotated_crop_map``) from the
    labels, with ``noise`` on the angle, side and centre. With ``return_maps`` also each crop's
    map ``[B, 2, 3]`` (crop px -> frame px)."""
    kp = batch["keypoints_2d"].float()
    b = kp.shape[0]
    size = LANDMARK_INPUT_SIZE
    has_hand = batch["visible"].bool().any(1)
    if noise is not None:
        turn = torch.randn(b, generator=generator) * np.radians(noise.angle_deg)
    random_angle = (torch.rand(b, generator=generator) * 2 - 1) * np.pi
    if noise is not None:
        lo_s, hi_s = noise.scale
        scale = lo_s + (hi_s - lo_s) * torch.rand(b, generator=generator)
        shift = (torch.rand(b, 2, generator=generator) * 2 - 1) * noise.centre
    maps = []
    for i, p in enumerate(kp.numpy()):
        if has_hand[i]:
            angle = cropping.upright_angle(p[RHD_WRIST], p[RHD_MIDDLE_MCP])
            angle += float(turn[i]) if noise is not None else 0.0
        else:
            angle = float(random_angle[i])
        centre, side, to_frame = cropping.rotated_keypoint_box(p, angle, config.landmark.crop_scale)
        if noise is not None:
            side *= float(scale[i])
            centre = centre + to_frame @ (shift[i].numpy().astype(np.float64) * side)
        maps.append(cropping.rotated_crop_map(centre, side, to_frame, size))
    m = torch.from_numpy(np.stack(maps)).float()  # [B, 2, 3]: crop px -> frame px
    images = normalise(batch["image_rgb"].permute(0, 3, 1, 2))  # [B, 3, H, W]
    h, w = images.shape[-2:]
    u = torch.arange(size, dtype=torch.float32)
    grid_u = torch.stack(torch.meshgrid(u, u, indexing="xy"), -1)  # [S, S, 2] crop px (x, y)
    frame_pts = torch.einsum("bij,yxj->byxi", m[:, :, :2], grid_u) + m[:, None, None, :, 2]
    norm = torch.stack([(2 * frame_pts[..., 0] + 1) / w - 1, (2 * frame_pts[..., 1] + 1) / h - 1], -1)
    crops = F.grid_sample(images, norm, mode="bilinear", padding_mode="zeros", align_corners=False)
    kp_crop = torch.einsum("bij,bkj->bki", torch.linalg.inv(m[:, :, :2]), kp - m[:, None, :, 2])
    return (crops, rhd_to_user(kp_crop), m) if return_maps else (crops, rhd_to_user(kp_crop))


WORLD_DROP = 0.1  # lifting with world landmarks: the share of samples that read zeros (no refiner answer)


def refiner_world(refiner, batch, config: ModelConfig, device, generator=None, noise=UprightNoise(),
                  drop: float = WORLD_DROP, return_keypoints: bool = False):
    """The lifting nets' world-landmark input (``models.lifting.world_input``, ``[B, 21, 3]``, RHD)
    from the frozen ``refiner`` on each sample's upright crop (``landmark_crops`` with ``noise``:
    the spread of the run time's crops), turned from the crop's axes to the frame's as the run time
    does. Zeros, as at run time where the refiner sees no hand: samples whose presence is below
    ``LandmarkConfig.min_presence``, hand-free or keypoint-only samples, and a random ``drop``
    share. With ``return_keypoints`` also the refiner's 2D keypoints ``[B, 21, 2]`` (frame px,
    RHD) and which samples have them ``[B]`` (a hand it sees, before the random drop)."""
    crops, _, m = landmark_crops(batch, config, noise, generator, return_maps=True)
    fast = device.type == "cuda" or native_bf16()
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=fast):
        out = refiner(crops.to(device).contiguous(memory_format=torch.channels_last))
    w = cropping.world_to_frame(out["world"].float().cpu(), m)
    seen = (torch.sigmoid(out["presence"].float().cpu()) >= config.landmark.min_presence)
    seen &= batch["visible"].bool().any(1)
    if "keypoints_only" in batch:
        seen &= ~batch["keypoints_only"].bool()
    if "is_negative" in batch:
        seen &= ~batch["is_negative"].bool()
    keep = seen & (torch.rand(len(seen), generator=generator) >= drop)
    w = world_input(user_to_rhd(w) * keep[:, None, None].float()).to(device)
    if not return_keypoints:
        return w
    lm = out["landmarks"][..., :2].float().cpu()
    return w, user_to_rhd(cropping.rotated_crop_to_frame(lm, m)), seen


WORLD_DISTILL_SCALE = 10.0  # world landmarks in decimetres for the distillation Huber (delta 0.05 = 5 mm)


def landmark_step(nets, batch, config: ModelConfig, rng, device, noise=UprightNoise(), generator=None,
                  teacher=None) -> dict:
    """The keypoint refiner's loss: the 21 regressed keypoints against the labels' in its upright
    crop (Huber on crop px / 224: every keypoint, occluded ones too, as MediaPipe's labels and the
    renders give them; pseudo-labels count like exact ones), and hand presence (BCE: 1 on a hand,
    0 on a hand-free or mined-negative sample).

    With ``teacher`` (a frozen refiner, e.g. the one training started from), pseudo-labelled
    samples (``is_pseudo_label``: real photos labelled by MediaPipe) learn the teacher's keypoints
    on the very same crop in place of their labels, where the teacher sees a hand — so what the
    refiner does on real photos is held where it was while exact labels (renders) move it — and,
    when both have a world head, every hand sample's world landmarks are held to the teacher's
    (``loss_world``: Huber in decimetres), since lifting nets read them."""
    crops, kp = landmark_crops(batch, config, noise, generator)
    crops = crops.to(device)
    out = nets["landmark"](crops)
    weight = batch["weight"].float().to(device)
    is_hand = batch["visible"].bool().any(1)
    if "is_negative" in batch:
        is_hand = is_hand & ~batch["is_negative"].bool()
    is_hand = is_hand.to(device)
    kp = kp.to(device)
    hand_w = weight * is_hand.float()
    losses = {}
    if teacher is not None:
        with torch.no_grad():
            taught = teacher(crops)
        seen = torch.sigmoid(taught["presence"].float()) >= config.landmark.min_presence
        pseudo = batch["is_pseudo_label"].bool().to(device) if "is_pseudo_label" in batch else torch.zeros_like(seen)
        kp = torch.where((pseudo & seen)[:, None, None], taught["landmarks"][..., :2].float(), kp)
        if "world" in out and "world" in taught:
            err_w = F.huber_loss(out["world"].float() * WORLD_DISTILL_SCALE, taught["world"].float() * WORLD_DISTILL_SCALE,
                                 reduction="none", delta=0.05).sum(-1).mean(-1)
            w = hand_w * seen.float()
            losses["loss_world"] = (err_w * w).sum() / w.sum().clamp_min(1e-6)
    err = F.huber_loss(out["landmarks"][..., :2] / LANDMARK_INPUT_SIZE, kp / LANDMARK_INPUT_SIZE,
                       reduction="none", delta=0.05).sum(-1).mean(-1)
    loss_kp = (err * hand_w).sum() / hand_w.sum().clamp_min(1e-6)
    loss_presence = (F.binary_cross_entropy_with_logits(out["presence"].float(), is_hand.float(), reduction="none")
                     * weight).sum() / weight.sum().clamp_min(1e-6)
    loss = loss_kp + 0.1 * loss_presence + losses.get("loss_world", 0.0)
    return {"loss": loss, "loss_keypoints": loss_kp, "loss_presence": loss_presence, **losses}
