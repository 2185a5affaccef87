"""Load the rigged WebXR "generic-hand" glTF meshes into plain numpy arrays.

Joints are mapped by name (``left.glb`` lists its skin joints in the reverse order of
``right.glb``). Everything is in the mesh's model frame, metres.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib

# Canonical joint order used by the renderer (WebXR names).
FINGER_JOINTS = {
    "thumb": ("thumb-metacarpal", "thumb-phalanx-proximal", "thumb-phalanx-distal", "thumb-tip"),
    "index": ("index-finger-metacarpal", "index-finger-phalanx-proximal",
              "index-finger-phalanx-intermediate", "index-finger-phalanx-distal", "index-finger-tip"),
    "middle": ("middle-finger-metacarpal", "middle-finger-phalanx-proximal",
               "middle-finger-phalanx-intermediate", "middle-finger-phalanx-distal", "middle-finger-tip"),
    "ring": ("ring-finger-metacarpal", "ring-finger-phalanx-proximal",
             "ring-finger-phalanx-intermediate", "ring-finger-phalanx-distal", "ring-finger-tip"),
    "little": ("pinky-finger-metacarpal", "pinky-finger-phalanx-proximal",
               "pinky-finger-phalanx-intermediate", "pinky-finger-phalanx-distal", "pinky-finger-tip"),
}
JOINT_NAMES = ("wrist",) + tuple(n for chain in FINGER_JOINTS.values() for n in chain)
JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
# Parent of each joint in JOINT_NAMES (-1 for the wrist): every chain hangs off the wrist.
JOINT_PARENTS = tuple(
    [-1] + [JOINT_INDEX[chain[k - 1]] if k else 0 for chain in FINGER_JOINTS.values()
            for k in range(len(chain))]
)
# Keypoints in RHD order (wrist, then each finger tip -> base) as joint indices.
RHD_JOINTS = np.array([0] + [JOINT_INDEX[c[-1 - k]] for c in FINGER_JOINTS.values() for k in range(4)])

HAND_PARTS = 16  # RHD's mask parts per hand: palm + 3 phalanges x 5 fingers


def default_mesh_dir() -> Path:
    """``$HANDPOSE_DATA/hand_mesh``, by default ``<repo>/../shared/data/hand_mesh``."""
    from training.data.paths import data_root

    return data_root() / "hand_mesh"


@dataclass(frozen=True)
class HandMesh:
    """A skinned hand in its bind pose (model frame, metres)."""

    side: str                   # "left" or "right"
    vertices: np.ndarray        # (V, 3) float32
    normals: np.ndarray         # (V, 3) float32, unit
    triangles: np.ndarray       # (T, 3) int32, counter-clockwise seen from outside
    joint_ids: np.ndarray       # (V, 4) int64, indices into JOINT_NAMES
    weights: np.ndarray         # (V, 4) float32, rows sum to 1
    bind_globals: np.ndarray    # (J, 4, 4) float64, joint-to-model transforms in the bind pose
    inverse_bind: np.ndarray    # (J, 4, 4) float64
    rest_local: np.ndarray      # (J, 4, 4) float64, each joint in its parent's frame (wrist: in the model)
    triangle_part: np.ndarray   # (T,) int64 in [0, 16): 0 palm, 1 + 3*finger + phalanx
    tip_offset_m: np.ndarray    # (5,) float64, fingertip keypoint beyond the tip joint along its -Z


def _accessor(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    blob = gltf.binary_blob()
    dtype = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16,
             5125: np.uint32, 5126: np.float32}[acc.componentType]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or width * np.dtype(dtype).itemsize
    raw = np.frombuffer(blob, np.uint8, count=stride * (acc.count - 1) + width * np.dtype(dtype).itemsize,
                        offset=start)
    rows = np.lib.stride_tricks.as_strided(raw, (acc.count, width * np.dtype(dtype).itemsize), (stride, 1))
    return np.ascontiguousarray(rows).view(dtype).reshape(acc.count, width)


def _node_matrix(node) -> np.ndarray:
    t = np.array(node.translation or (0, 0, 0), np.float64)
    x, y, z, w = node.rotation or (0, 0, 0, 1)
    s = np.array(node.scale or (1, 1, 1), np.float64)
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    m = np.eye(4)
    m[:3, :3] = r * s
    m[:3, 3] = t
    return m


def _orthonormal(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m[:3, :3])
    out = m.copy()
    out[:3, :3] = u @ vt
    return out


def load_hand_mesh(path: str | os.PathLike) -> HandMesh:
    """Read a skinned hand from a ``.glb``; ``side`` comes from the file name (left/right)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"hand mesh {path} does not exist; set HANDPOSE_DATA or pass the folder holding "
                         "left.glb/right.glb (the generic-hand models of `npm pack @webxr-input-profiles/assets@1.0.20`)")
    side = "left" if "left" in path.stem.lower() else "right" if "right" in path.stem.lower() else None
    if side is None:
        raise ValueError(f"cannot tell the hand side from the file name {path.name!r}; name it left.glb or right.glb")
    gltf = pygltflib.GLTF2().load(str(path))
    if len(gltf.skins) != 1 or len(gltf.meshes) != 1:
        raise ValueError(f"{path}: expected one skin and one mesh, got {len(gltf.skins)} and {len(gltf.meshes)}")
    prim = gltf.meshes[0].primitives[0]
    skin = gltf.skins[0]
    names = [gltf.nodes[j].name for j in skin.joints]
    missing = sorted(set(JOINT_NAMES) - set(names))
    if missing:
        raise ValueError(f"{path}: skin lacks joints {missing}")
    remap = np.array([JOINT_INDEX.get(n, -1) for n in names])
    ibm_file = _accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    bind = np.zeros((len(JOINT_NAMES), 4, 4))
    inverse_bind = np.zeros_like(bind)
    for file_index, node_index in enumerate(skin.joints):
        j = remap[file_index]
        if j >= 0:
            bind[j] = _orthonormal(_node_matrix(gltf.nodes[node_index]))
            inverse_bind[j] = ibm_file[file_index]
    vertices = _accessor(gltf, prim.attributes.POSITION).astype(np.float32)
    normals = _accessor(gltf, prim.attributes.NORMAL).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
    joints = remap[_accessor(gltf, prim.attributes.JOINTS_0).astype(np.int64)]
    weights = _accessor(gltf, prim.attributes.WEIGHTS_0).astype(np.float32)
    weights = np.where(joints >= 0, weights, 0.0)
    joints = np.maximum(joints, 0)
    weights /= weights.sum(axis=1, keepdims=True)
    triangles = _accessor(gltf, prim.indices).reshape(-1, 3).astype(np.int32)
    triangles = _outward(vertices, triangles)
    rest_local = np.array([bind[j] if p < 0 else np.linalg.inv(bind[p]) @ bind[j]
                           for j, p in enumerate(JOINT_PARENTS)])
    return HandMesh(side, vertices, normals, triangles, joints, weights, bind, inverse_bind, rest_local,
                    _triangle_parts(joints, weights, triangles), _tip_offsets(vertices, bind))


def _outward(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Orient triangles counter-clockwise seen from outside (positive signed volume)."""
    a, b, c = (vertices[triangles[:, k]].astype(np.float64) for k in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum()
    return triangles if volume > 0 else triangles[:, ::-1].copy()


def dominant_joints(joint_ids: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(V,) the joint (index into JOINT_NAMES) with the largest skin weight at each vertex."""
    return joint_ids[np.arange(len(joint_ids)), weights.argmax(axis=1)]


def _triangle_parts(joints, weights, triangles) -> np.ndarray:
    part_of_joint = np.zeros(len(JOINT_NAMES), np.int64)
    for f, chain in enumerate(FINGER_JOINTS.values()):
        phalanges = chain[1:4] if len(chain) == 5 else chain[0:3]
        for k, name in enumerate(phalanges):
            part_of_joint[JOINT_INDEX[name]] = 1 + 3 * f + k
        part_of_joint[JOINT_INDEX[chain[-1]]] = 1 + 3 * f + 2
    dominant = dominant_joints(joints, weights)
    return part_of_joint[dominant][triangles[:, 0]]


def _tip_offsets(vertices, bind) -> np.ndarray:
    """How far the skin extends beyond each tip joint along the last bone, minus 2 mm."""
    out = np.zeros(5)
    for f, chain in enumerate(FINGER_JOINTS.values()):
        tip = bind[JOINT_INDEX[chain[-1]], :3, 3]
        prev = bind[JOINT_INDEX[chain[-2]], :3, 3]
        axis = (tip - prev) / np.linalg.norm(tip - prev)
        rel = vertices - tip
        along = rel @ axis
        radial = np.linalg.norm(rel - along[:, None] * axis, axis=1)
        near = (radial < 0.012) & (along > -0.01)
        out[f] = max(along[near].max() - 0.002, 0.0)
    return out
