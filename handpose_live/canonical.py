"""The canonical hand frame of the paper (section 3.3), Rodrigues, and 3D assembly.

All functions take torch tensors in **RHD order** with row vectors: ``xyz`` is ``[B, 21, 3]``.
The canonical frame: the wrist (kp 0) at the origin, the middle-finger MCP->PIP bone
(kp 12 -> kp 11) of unit length, kp 12 on the negative y axis, the little-finger MCP (kp 20)
in the z = 0 plane; right hands have z negated so both sides share one canonical shape.
``xyz_normalised = canonical_flipped @ R`` with ``R`` a proper rotation.
"""
from __future__ import annotations

import math

import torch

from .skeleton import RHD_LITTLE_MCP, RHD_MIDDLE_MCP, RHD_MIDDLE_PIP, RHD_WRIST


def metric_scale(canonical: torch.Tensor, palm_length_m: float) -> torch.Tensor:
    """Per hand, the metric length of the middle MCP->PIP bone (the canonical unit) that makes
    the hand's wrist -> middle MCP distance ``palm_length_m``: ``palm_length_m / |c[MCP] - c[wrist]|``
    with ``canonical`` ``[B, 21, 3]`` in bone units (so the palm of the 3D output is always the
    given length, and the fingers keep the model's proportions)."""
    palm = (canonical[:, RHD_MIDDLE_MCP] - canonical[:, RHD_WRIST]).norm(dim=-1)
    return palm_length_m / palm.clamp_min(0.5)  # the palm is ~2 bones; 0.5 only guards a collapse


def _rot_x(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([o, z, z, z, c, -s, z, s, c], -1).view(-1, 3, 3)


def _rot_y(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, z, s, z, o, z, -s, z, c], -1).view(-1, 3, 3)


def _rot_z(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).view(-1, 3, 3)


def _apply(points: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Rotate row vectors ``[B, N, 3]`` by column-vector matrices ``[B, 3, 3]``."""
    return points @ m.transpose(1, 2)


def side_flip(is_right: torch.Tensor) -> torch.Tensor:
    """``[B, 1, 3]`` multiplier (1, 1, -1 for right hands) applied to canonical coordinates."""
    flip = torch.ones(is_right.shape[0], 1, 3, dtype=torch.float32, device=is_right.device)
    flip[:, 0, 2] = torch.where(is_right.bool().view(-1), -1.0, 1.0)
    return flip


def to_canonical(xyz: torch.Tensor, is_right: torch.Tensor):
    """``xyz`` ``[B, 21, 3]`` (any units, RHD order), ``is_right`` ``[B]`` bool/int.

    Returns ``(canonical [B, 21, 3], R [B, 3, 3], scale [B])`` with
    ``xyz - xyz[:, 0] == (canonical * side_flip) @ R * scale``.
    """
    rel = xyz - xyz[:, RHD_WRIST : RHD_WRIST + 1]
    scale = (rel[:, RHD_MIDDLE_MCP] - rel[:, RHD_MIDDLE_PIP]).norm(dim=-1).clamp_min(1e-8)
    p = rel / scale[:, None, None]

    k = p[:, RHD_MIDDLE_MCP]
    m_z = _rot_z(torch.atan2(k[:, 0], k[:, 1]))  # kp 12 into the yz-plane
    p = _apply(p, m_z)
    k = p[:, RHD_MIDDLE_MCP]
    m_x = _rot_x(-torch.atan2(k[:, 2], k[:, 1]) + math.pi)  # kp 12 onto the -y axis
    p = _apply(p, m_x)
    k = p[:, RHD_LITTLE_MCP]
    m_y = _rot_y(torch.atan2(k[:, 2], k[:, 0]))  # kp 20 into the z = 0 plane
    p = _apply(p, m_y)

    rotation = m_y @ m_x @ m_z  # column-vector rotation camera -> canonical
    return p * side_flip(is_right), rotation, scale


def from_canonical(canonical: torch.Tensor, rotation: torch.Tensor, is_right: torch.Tensor,
                   scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """Inverse of ``to_canonical``: wrist-relative ``xyz = (canonical * flip) @ R * scale``."""
    xyz = (canonical * side_flip(is_right).to(canonical.dtype)) @ rotation
    if isinstance(scale, torch.Tensor):
        scale = scale.view(-1, 1, 1)
    return xyz * scale


def rodrigues(axis_angle: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Axis-angle ``[B, 3]`` -> rotation matrices ``[B, 3, 3]``, per sample (angle = |u|)."""
    theta = torch.sqrt((axis_angle * axis_angle).sum(-1) + eps)
    k = axis_angle / theta[:, None]
    zero = torch.zeros_like(theta)
    kx, ky, kz = k.unbind(-1)
    skew = torch.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).view(-1, 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(skew)
    s, c = torch.sin(theta)[:, None, None], torch.cos(theta)[:, None, None]
    return eye + s * skew + (1 - c) * (skew @ skew)


def rotation_from_6d(six: torch.Tensor) -> torch.Tensor:
    """``[B, 6]`` -> rotation matrices ``[B, 3, 3]``: the two 3-vectors are made orthonormal
    (Gram-Schmidt) and are the first two rows; the third is their cross product. Any input that
    is not degenerate maps to a proper rotation, and the map is continuous."""
    a, b = six[:, :3], six[:, 3:]
    r1 = torch.nn.functional.normalize(a, dim=-1, eps=1e-8)
    r2 = torch.nn.functional.normalize(b - (r1 * b).sum(-1, keepdim=True) * r1, dim=-1, eps=1e-8)
    return torch.stack([r1, r2, torch.linalg.cross(r1, r2)], dim=-2)


def rotation_to_6d(rotation: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``[B, 3, 3]`` -> ``[B, 6]`` (their first two rows; inverse of ``rotation_from_6d``)."""
    return rotation[:, :2, :].reshape(-1, 6)


def rotation_to_axis_angle(rotation: torch.Tensor) -> torch.Tensor:
    """Rotation matrices ``[B, 3, 3]`` -> axis-angle ``[B, 3]`` (inverse of ``rodrigues``;
    accurate away from angle = pi, which the training targets rarely reach)."""
    cos = ((rotation.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1 + 1e-7, 1 - 1e-7)
    theta = torch.acos(cos)
    w = torch.stack([rotation[:, 2, 1] - rotation[:, 1, 2], rotation[:, 0, 2] - rotation[:, 2, 0],
                     rotation[:, 1, 0] - rotation[:, 0, 1]], -1)
    return w * (theta / (2 * torch.sin(theta)).clamp_min(1e-7))[:, None]
