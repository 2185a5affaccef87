"""Forward kinematics over the (un-nested) joint chains and linear-blend skinning."""
from __future__ import annotations

import numpy as np

from training.render.mesh import JOINT_NAMES, JOINT_PARENTS, RHD_JOINTS, FINGER_JOINTS, JOINT_INDEX, HandMesh

_TIP_JOINTS = np.array([JOINT_INDEX[c[-1]] for c in FINGER_JOINTS.values()])
_RHD_TIP_SLOTS = np.array([1, 5, 9, 13, 17])  # RHD keypoint index of each fingertip (thumb..little)


def rotation_xyz(angles_rad: np.ndarray) -> np.ndarray:
    """Rotations R = Rz @ Ry @ Rx for ``angles_rad`` (..., 3) = (about X, about Y, about Z)."""
    a = np.asarray(angles_rad, np.float64)
    cx, cy, cz = np.cos(a[..., 0]), np.cos(a[..., 1]), np.cos(a[..., 2])
    sx, sy, sz = np.sin(a[..., 0]), np.sin(a[..., 1]), np.sin(a[..., 2])
    r = np.empty(a.shape[:-1] + (3, 3))
    r[..., 0, 0] = cz * cy
    r[..., 0, 1] = cz * sy * sx - sz * cx
    r[..., 0, 2] = cz * sy * cx + sz * sx
    r[..., 1, 0] = sz * cy
    r[..., 1, 1] = sz * sy * sx + cz * cx
    r[..., 1, 2] = sz * sy * cx - cz * sx
    r[..., 2, 0] = -sy
    r[..., 2, 1] = cy * sx
    r[..., 2, 2] = cy * cx
    return r


def posed_globals(mesh: HandMesh, local_angles_rad: np.ndarray) -> np.ndarray:
    """Joint-to-model transforms (J, 4, 4) after rotating each joint in its own local frame.

    ``local_angles_rad`` (J, 3): rotation about the joint's local X (flexion is negative),
    Y (abduction; +Y is the back of the hand) and Z (twist along the bone). The chains are
    walked from the wrist outwards, so rotating a joint carries every joint after it.
    """
    if local_angles_rad.shape != (len(JOINT_NAMES), 3):
        raise ValueError(f"expected local angles of shape ({len(JOINT_NAMES)}, 3), got {local_angles_rad.shape}")
    rot = np.tile(np.eye(4), (len(JOINT_NAMES), 1, 1))
    rot[:, :3, :3] = rotation_xyz(local_angles_rad)
    local = mesh.rest_local @ rot
    out = np.empty_like(local)
    for j, parent in enumerate(JOINT_PARENTS):  # parents always precede children
        out[j] = local[j] if parent < 0 else out[parent] @ local[j]
    return out


def skin(mesh: HandMesh, globals_: np.ndarray, scale_xyz: np.ndarray | None = None):
    """Linear-blend skinning. Returns (vertices (V,3), normals (V,3), keypoints (21,3) RHD order).

    ``scale_xyz`` (3,) optionally stretches the hand in the model frame (hand size variety) —
    applied to vertices and keypoints alike, so labels stay on the skin.
    """
    skin_mats = globals_ @ mesh.inverse_bind                               # (J, 4, 4)
    blend = np.einsum("vk,vkij->vij", mesh.weights, skin_mats[mesh.joint_ids][..., :3, :])  # (V, 3, 4)
    verts = np.einsum("vij,vj->vi", blend[..., :3], mesh.vertices) + blend[..., 3]
    normals = np.einsum("vij,vj->vi", blend[..., :3], mesh.normals)
    keypoints = globals_[RHD_JOINTS, :3, 3].copy()
    tip_dir = -globals_[_TIP_JOINTS, :3, 2]                                 # bones point along local -Z
    keypoints[_RHD_TIP_SLOTS] += tip_dir * mesh.tip_offset_m[:, None]
    if scale_xyz is not None:
        s = np.asarray(scale_xyz, np.float64)
        verts = verts * s
        keypoints = keypoints * s
        normals = normals / s
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    return verts, normals, keypoints
