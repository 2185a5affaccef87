"""Training inputs and targets built from a batch of samples (the sample contract of
``training/data``: RHD order, frame pixels). Crops use the run-time crop code."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from handpose_live import crop as cropping
from handpose_live.camera import ray_rotation
from handpose_live.canonical import to_canonical
from handpose_live.heatmaps import encode


def runtime_crop_boxes(kp2d: torch.Tensor, visible: torch.Tensor, centre_noise: float = 0.0,
                       scale_range: tuple[float, float] = (1.0, 1.0),
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """``[B, 3]`` crop boxes as the run time makes them from keypoints (``crop.keypoint_box``: the
    one box function and clamp the estimator uses; its region boxes are calibrated to match these),
    with noise on top: centre shifted by ``centre_noise`` x side (Gaussian), side scaled by
    U(scale_range). Training follows the run time's crops rather than the paper's ground-truth crop
    (centred on kp 12), so PoseNet sees in training what the app feeds it.
    Invisible keypoints count too: a hand's extent includes its occluded fingers."""
    boxes = torch.from_numpy(cropping.keypoint_box(kp2d.detach().float().cpu().numpy())).to(kp2d.device)
    centre, side = boxes[:, :2], boxes[:, 2]
    b = kp2d.shape[0]
    if centre_noise > 0:
        centre = centre + torch.randn(b, 2, generator=generator) * centre_noise * side[:, None]
    if scale_range != (1.0, 1.0):
        lo_s, hi_s = scale_range
        side = side * (lo_s + (hi_s - lo_s) * torch.rand(b, generator=generator))
    return torch.cat([centre, side[:, None]], 1)


def crop_batch(images: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """``images`` ``[B, 3, H, W]`` normalised, one box per image -> ``[B, 3, size, size]``."""
    return torch.cat([cropping.crop_and_resize(img, box[None], size) for img, box in zip(images, boxes)])


def keypoint_targets(kp2d: torch.Tensor, visible: torch.Tensor, boxes: torch.Tensor, size: int):
    """Keypoints in crop pixels, visibility restricted to the crop, and target maps ``[B,21,S,S]``
    at crop resolution (the paper compares maps upsampled to the crop size)."""
    kp_crop = cropping.frame_to_crop(kp2d, boxes, size)
    inside = ((kp_crop >= 0) & (kp_crop <= size - 1)).all(-1)
    vis = visible.bool() & inside
    return kp_crop, vis, encode(kp_crop, vis, size, size)


def to_ray_frame(xyz: torch.Tensor, K: torch.Tensor, centres: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """3D labels ``[B, 21, 3]`` in the frame of the ray through each crop's centre ``[B, 2]``
    (frame px) of the sample's camera ``K`` ``[B, 3, 3]`` (``camera.ray_rotation``): what a crop
    shows, and what lifting nets with ``LiftingConfig.frame == "ray"`` give. Only samples whose
    labels are in the camera's frame (``camera`` ``[B]``, ``has_3d_camera``) are turned; the rest
    (e.g. MediaPipe's world landmarks, regressed from a crop like ours) are taken as they are."""
    out = xyz.clone()
    rows = camera.bool().cpu()
    if rows.any():  # (only these: another source's K may be a placeholder)
        turn = ray_rotation(K[rows].double().cpu(), centres[rows].double().cpu()).to(xyz.device)  # x_cam = R x_ray
        with torch.autocast(xyz.device.type, enabled=False):  # labels at full precision under bf16 training too
            out[rows.to(xyz.device)] = (xyz[rows.to(xyz.device)].double() @ turn).to(xyz.dtype)  # x_ray = R^T x_cam
    return out


def lifting_targets(xyz: torch.Tensor, side: torch.Tensor):
    """Canonical coordinates ``[B,21,3]``, rotation ``[B,3,3]`` and one-hot side ``[B,2]``."""
    canonical, rotation, _ = to_canonical(xyz.float(), side.bool())
    return canonical, rotation, F.one_hot(side.long(), 2).float()
