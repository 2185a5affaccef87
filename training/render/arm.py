"""A forearm (bare skin, optionally under a sleeve) attached at the wrist, as a tapered tube."""
from __future__ import annotations

import numpy as np

from training.render.skinning import rotation_xyz

_SEGMENTS = 14
_RINGS = 10


def tube(length_m: float, start_m: float, half_width_m: tuple[float, float],
         half_thickness_m: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An open elliptic tube along +Z from ``start_m`` to ``start_m + length_m`` in a local frame.

    Width runs along X, thickness along Y, both linearly tapered (start, end). Returns
    vertices (N,3), unit normals (N,3) and triangles (T,3) counter-clockwise from outside.
    """
    t = np.linspace(0.0, 1.0, _RINGS)
    phi = np.linspace(0.0, 2 * np.pi, _SEGMENTS, endpoint=False)
    a = half_width_m[0] + (half_width_m[1] - half_width_m[0]) * t
    b = half_thickness_m[0] + (half_thickness_m[1] - half_thickness_m[0]) * t
    x = a[:, None] * np.cos(phi)[None]
    y = b[:, None] * np.sin(phi)[None]
    z = np.broadcast_to((start_m + length_m * t)[:, None], x.shape)
    verts = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    normals = np.stack([b[:, None] * np.cos(phi)[None], a[:, None] * np.sin(phi)[None],
                        np.zeros_like(x)], axis=-1).reshape(-1, 3)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    i, j = np.meshgrid(np.arange(_RINGS - 1), np.arange(_SEGMENTS), indexing="ij")
    p00 = i * _SEGMENTS + j
    p01 = i * _SEGMENTS + (j + 1) % _SEGMENTS
    p10 = p00 + _SEGMENTS
    p11 = p01 + _SEGMENTS
    tris = np.concatenate([np.stack([p00, p01, p11], -1).reshape(-1, 3),
                           np.stack([p00, p11, p10], -1).reshape(-1, 3)])
    # Orient outward: the face normal must agree with the radial direction.
    v0, v1, v2 = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    face = np.cross(v1 - v0, v2 - v0)
    flip = np.einsum("ij,ij->i", face, normals[tris].mean(axis=1)) < 0
    tris[flip] = tris[flip][:, ::-1]
    return verts, normals, tris.astype(np.int32)


def sample_forearm(rng: np.random.Generator, wrist_global: np.ndarray, hand_scale: float):
    """Forearm and sleeve tubes in the hand's model frame, bent at the wrist.

    ``wrist_global`` (4,4): the wrist joint's transform (its local +Z points up the arm).
    Returns a list of (vertices, normals, triangles, kind) with kind "skin" or "sleeve".
    """
    bend = rotation_xyz(np.radians([rng.uniform(-50, 40), rng.uniform(-20, 20), 0.0]))
    frame = wrist_global[:3, :3] @ bend
    origin = wrist_global[:3, 3]
    s = hand_scale
    parts = []
    sleeve_at = rng.uniform(0.02, 0.18) if rng.random() < 0.65 else None
    arm_end = 0.32 if sleeve_at is None else sleeve_at + 0.01
    v, n, t = tube((arm_end - 0.012) * s, 0.012 * s, (0.0245 * s, 0.032 * s), (0.017 * s, 0.024 * s))
    parts.append((v, n, t, "skin"))
    if sleeve_at is not None:
        grow = rng.uniform(1.15, 1.5)
        r0 = (0.0245 + 0.03 * sleeve_at) * s * grow
        v, n, t = tube(0.3 * s, sleeve_at * s, (r0, r0 * 1.25), (r0 * 0.75, r0 * 0.95))
        parts.append((v, n, t, "sleeve"))
    return [(v @ frame.T + origin, n @ frame.T, t, kind) for v, n, t, kind in parts]
