"""Real poses for the renderer: its rigged hand fitted to MediaPipe's world landmarks.

The poses are the metric world landmarks (``world_m``) of real_hands **train** — never dev or
val. Their frame is camera-aligned (x right, y down, z away from the camera; origin near the
hand's centre), so one fit gives both the articulation (the renderer's local joint angles, inside
``pose.py``'s anatomical limits) and the hand's orientation relative to the camera, which the
renderer's hand-set orientation ranges (``placement.sample_orientation``) only guess.

The fit, for each hand: the joint angles θ (``FREE``: 27 of the 25x3, pose.py's conventions)
that minimise the mean squared distance between the landmarks and the similarity-aligned posed
keypoints ``s R (k(θ) - mean k(θ)) + t``; ``R, s, t`` in closed form (Umeyama) at every step, θ by
Adam projected onto the limits, every hand at once (torch forward kinematics that mirror
``skinning.py``), from two starts (open, half-closed), the better kept. Each hand is fitted twice:
its own side's mesh to its landmarks, and the other side's mesh to the landmarks mirrored in x
(the same hand seen in a mirror), so every real pose serves both sides.

``python -m training.render.pose_fit`` fits real_hands train, writes the bank
(``data_cache/pose_bank/``, git-ignored) and prints the fit error.
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from training.render.mesh import FINGER_JOINTS, JOINT_INDEX, JOINT_NAMES, JOINT_PARENTS, RHD_JOINTS, HandMesh
from training.render.pose import DIP_FLEX, MCP_FLEX, PIP_FLEX, ABDUCTION, THUMB_LIMITS
from training.render.skinning import _RHD_TIP_SLOTS, _TIP_JOINTS

FIT_VERSION = 1
MAX_FIT_ERROR_M = 0.012  # a fit worse than this (mean per keypoint) is a failed label or fit: left out


def _free_parameters() -> list[tuple[int, int, float, float]]:
    """(joint, axis, low, high) in degrees, right-hand convention: the angles the fit may move."""
    free = []
    for f in ("index", "middle", "ring", "little"):
        chain = FINGER_JOINTS[f]
        free += [(JOINT_INDEX[chain[1]], 0, -MCP_FLEX[1], -MCP_FLEX[0]),
                 (JOINT_INDEX[chain[1]], 1, -ABDUCTION, ABDUCTION),
                 (JOINT_INDEX[chain[1]], 2, -10.0, 10.0),
                 (JOINT_INDEX[chain[2]], 0, -PIP_FLEX[1], -PIP_FLEX[0]),
                 (JOINT_INDEX[chain[3]], 0, -DIP_FLEX[1], -DIP_FLEX[0])]
    free += [(JOINT_INDEX["ring-finger-metacarpal"], 0, -12.0, 0.0),
             (JOINT_INDEX["pinky-finger-metacarpal"], 0, -20.0, 0.0)]
    t = FINGER_JOINTS["thumb"]
    free += [(JOINT_INDEX[t[0]], 0, *THUMB_LIMITS["cmc_x"]), (JOINT_INDEX[t[0]], 1, *THUMB_LIMITS["cmc_y"]),
             (JOINT_INDEX[t[0]], 2, *THUMB_LIMITS["cmc_z"]),
             (JOINT_INDEX[t[1]], 0, -THUMB_LIMITS["mcp"][1], -THUMB_LIMITS["mcp"][0]),
             (JOINT_INDEX[t[2]], 0, -THUMB_LIMITS["ip"][1], -THUMB_LIMITS["ip"][0])]
    return free


FREE = _free_parameters()
_FREE_JOINT = np.array([j for j, _, _, _ in FREE])
_FREE_AXIS = np.array([a for _, a, _, _ in FREE])
_FREE_LOW = np.array([lo for _, _, lo, _ in FREE])
_FREE_HIGH = np.array([hi for _, _, _, hi in FREE])


def angles_from_free(free_deg: np.ndarray) -> np.ndarray:
    """(N, len(FREE)) degrees -> (N, 25, 3) local angles in degrees (right-hand convention)."""
    out = np.zeros((len(free_deg), len(JOINT_NAMES), 3))
    out[:, _FREE_JOINT, _FREE_AXIS] = free_deg
    return out


def _rotation_xyz(a: torch.Tensor) -> torch.Tensor:
    """``skinning.rotation_xyz`` in torch: R = Rz @ Ry @ Rx for angles (..., 3) in radians."""
    cx, cy, cz = torch.cos(a).unbind(-1)
    sx, sy, sz = torch.sin(a).unbind(-1)
    rows = [torch.stack([cz * cy, cz * sy * sx - sz * cx, cz * sy * cx + sz * sx], -1),
            torch.stack([sz * cy, sz * sy * sx + cz * cx, sz * sy * cx - cz * sx], -1),
            torch.stack([-sy, cy * sx, cy * cx], -1)]
    return torch.stack(rows, -2)


def posed_keypoints(mesh: HandMesh, angles_deg: torch.Tensor) -> torch.Tensor:
    """Keypoints (B, 21, 3), RHD order, model frame, of the ``mesh`` posed with local angles
    ``angles_deg`` (B, 25, 3) in the right hand's convention — what ``skinning.skin`` gives for
    ``local_angles_rad(angles, mesh.side)``, differentiable and batched (float64)."""
    a = torch.deg2rad(angles_deg.double())
    if mesh.side == "left":
        a = a * torch.tensor([1.0, -1.0, -1.0], dtype=a.dtype)
    rot = _rotation_xyz(a)                                        # (B, J, 3, 3)
    rest = torch.as_tensor(mesh.rest_local, dtype=a.dtype)
    local_r = rest[:, :3, :3] @ rot                               # rest_local @ [[R, 0], [0, 1]]
    local_t = rest[:, :3, 3].expand(a.shape[0], -1, -1)
    glob_r, glob_t = [], []
    for j, parent in enumerate(JOINT_PARENTS):                    # parents precede children
        if parent < 0:
            glob_r.append(local_r[:, j])
            glob_t.append(local_t[:, j])
        else:
            glob_r.append(glob_r[parent] @ local_r[:, j])
            glob_t.append((glob_r[parent] @ local_t[:, j, :, None])[..., 0] + glob_t[parent])
    g_r, g_t = torch.stack(glob_r, 1), torch.stack(glob_t, 1)
    kp = g_t[:, RHD_JOINTS]                                       # indexing copies: safe to add to
    offset = torch.as_tensor(mesh.tip_offset_m, dtype=a.dtype)[None, :, None]
    kp[:, _RHD_TIP_SLOTS] += -g_r[:, _TIP_JOINTS, :, 2] * offset  # bones point along local -Z
    return kp


def similarity(source: torch.Tensor, target: torch.Tensor):
    """Umeyama: the rotation R (B,3,3), scale s (B,) and translation t (B,3) minimising
    ``|s R source + t - target|^2`` per batch item (points (B, N, 3)), never a reflection."""
    mu_s, mu_t = source.mean(1, keepdim=True), target.mean(1, keepdim=True)
    xs, xt = source - mu_s, target - mu_t
    cov = xt.transpose(1, 2) @ xs / source.shape[1]
    u, sv, vt = torch.linalg.svd(cov)
    d = torch.ones_like(sv)
    d[:, 2] = torch.sign(torch.det(u @ vt))
    r = u @ torch.diag_embed(d) @ vt
    var = (xs ** 2).sum((1, 2)) / source.shape[1]
    s = (sv * d).sum(1) / var.clamp_min(1e-12)
    t = mu_t[:, 0] - s[:, None] * (r @ mu_s[:, 0, :, None])[..., 0]
    return r, s, t


@dataclass
class PoseFit:
    angles_deg: np.ndarray   # (N, 25, 3) right-hand convention
    rotation: np.ndarray     # (N, 3, 3) camera from model (the landmarks' frame)
    scale: np.ndarray        # (N,) landmarks' size / the mesh's
    error_m: np.ndarray      # (N,) mean distance per keypoint after the fit


def _starts(n: int) -> list[np.ndarray]:
    """Two starts per hand: the open rest pose, and every flexion 40 % of the way to its limit."""
    half = np.where(_FREE_AXIS == 0, 0.4 * _FREE_LOW, 0.0)
    return [np.zeros((n, len(FREE))), np.tile(np.clip(half, _FREE_LOW, _FREE_HIGH), (n, 1))]


def _free_to_angles(free: torch.Tensor) -> torch.Tensor:
    """``angles_from_free`` in torch, differentiable: (N, len(FREE)) -> (N, 25, 3) degrees."""
    rows = torch.arange(len(free))[:, None]
    zeros = torch.zeros(len(free), len(JOINT_NAMES), 3, dtype=free.dtype)
    return zeros.index_put((rows, torch.as_tensor(_FREE_JOINT)[None], torch.as_tensor(_FREE_AXIS)[None]), free)


def _aligned(mesh: HandMesh, free: torch.Tensor, target: torch.Tensor):
    """The posed keypoints similarity-aligned to ``target`` (R, s, t fixed: no gradient through
    them), and R and s."""
    kp = posed_keypoints(mesh, _free_to_angles(free))
    with torch.no_grad():
        r, s, t = similarity(kp, target)
    return s[:, None, None] * kp @ r.transpose(1, 2) + t[:, None], r, s


def fit_poses(mesh: HandMesh, targets_m: np.ndarray, steps: int = 300, lr_deg: float = 3.0) -> PoseFit:
    """Fit ``mesh`` to ``targets_m`` (N, 21, 3), RHD order, camera-aligned metres."""
    target = torch.as_tensor(np.asarray(targets_m, np.float64))
    low, high = torch.as_tensor(_FREE_LOW), torch.as_tensor(_FREE_HIGH)
    best = None
    for start in _starts(len(target)):
        free = torch.tensor(start, requires_grad=True)
        opt = torch.optim.Adam([free], lr=lr_deg)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        for _ in range(steps):
            aligned, _, _ = _aligned(mesh, free, target)
            per_hand = ((aligned - target) ** 2).sum(-1).mean(-1)
            opt.zero_grad()
            (per_hand.sum() * 1e4).backward()   # metres^2 -> cm^2: gradients well above Adam's eps
            opt.step()
            sched.step()
            with torch.no_grad():
                free.copy_(torch.maximum(torch.minimum(free, high), low))
        with torch.no_grad():
            aligned, r, s = _aligned(mesh, free, target)
            err = (aligned - target).norm(dim=-1).mean(-1)
        cand = PoseFit(angles_from_free(free.detach().numpy()), r.numpy(), s.numpy(), err.numpy())
        if best is None:
            best = cand
        else:
            better = cand.error_m < best.error_m
            for name in ("angles_deg", "rotation", "scale", "error_m"):
                getattr(best, name)[better] = getattr(cand, name)[better]
    return best


MIRROR_X = np.diag([-1.0, 1.0, 1.0])


@dataclass
class PoseBank:
    """Fitted real poses to render from: per entry local angles (right-hand convention), the
    camera-from-model rotation of ``side``'s mesh, the side (0 left, 1 right) and the fit error."""

    angles_deg: np.ndarray
    rotation: np.ndarray
    side: np.ndarray
    error_m: np.ndarray

    def __len__(self) -> int:
        return len(self.side)

    def sample(self, rng: np.random.Generator, side: str, angle_noise_deg: float = 4.0,
               rotation_noise_deg: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
        """A random entry of ``side`` with a little noise: (angles_deg (25, 3), rotation (3, 3))."""
        choices = np.flatnonzero(self.side == (1 if side == "right" else 0))
        if len(choices) == 0:
            raise ValueError(f"the pose bank holds no {side} hand")
        i = int(rng.choice(choices))
        free = self.angles_deg[i][_FREE_JOINT, _FREE_AXIS] + rng.normal(0, angle_noise_deg, len(FREE))
        angles = angles_from_free(np.clip(free, _FREE_LOW, _FREE_HIGH)[None])[0]
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        theta = np.radians(rng.normal(0, rotation_noise_deg))
        turn = cv2.Rodrigues(axis * theta)[0]
        return angles, turn @ self.rotation[i]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, angles_deg=self.angles_deg, rotation=self.rotation, side=self.side, error_m=self.error_m)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "PoseBank":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["angles_deg"], z["rotation"], z["side"], z["error_m"])


def fit_bank(meshes: dict[str, HandMesh], landmarks_m: np.ndarray, sides: np.ndarray,
             steps: int = 300) -> tuple[PoseBank, dict]:
    """Fit every hand (``landmarks_m`` (N, 21, 3) RHD order; ``sides`` (N,) 0 left / 1 right) with
    its own side's mesh, and its mirror image with the other side's; keep fits under
    ``MAX_FIT_ERROR_M``. Returns the bank and the fit errors (metres) of the own-side fits."""
    sides = np.asarray(sides)
    parts, own_error = [], np.full(len(sides), np.nan)
    for own in (0, 1):
        idx = np.flatnonzero(sides == own)
        if not len(idx):
            continue
        for side, points in ((own, landmarks_m[idx]), (1 - own, landmarks_m[idx] @ MIRROR_X)):
            fit = fit_poses(meshes["right" if side else "left"], points, steps)
            if side == own:
                own_error[idx] = fit.error_m
            parts.append((fit, np.full(len(idx), side)))
    angles = np.concatenate([p.angles_deg for p, _ in parts])
    rotation = np.concatenate([p.rotation for p, _ in parts])
    error = np.concatenate([p.error_m for p, _ in parts])
    side = np.concatenate([s for _, s in parts])
    keep = error < MAX_FIT_ERROR_M
    bank = PoseBank(angles[keep], rotation[keep], side[keep].astype(np.int64), error[keep])
    return bank, {"own_side_error_m": own_error, "kept": int(keep.sum()), "fitted": int(len(keep))}


def train_landmarks(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """real_hands **train** (dev and val left out): world landmarks (N, 21, 3) RHD order, sides."""
    from handpose_live.skeleton import user_to_rhd
    from training.data.real_hands import label_side, load_records

    points, sides = [], []
    for rec in load_records(root, "train"):
        for hand in rec["hands"]:
            points.append(user_to_rhd(np.asarray(hand["world_m"], np.float64)))
            sides.append(1 if label_side(hand) == "right" else 0)
    return np.stack(points), np.asarray(sides)


def bank_path(root: Path) -> Path:
    """The cache file for ``root``'s labels (named after their size and mtime and FIT_VERSION)."""
    from training.data.paths import REPO_ROOT

    labels = root / "real_hands" / "labels_mediapipe.jsonl"
    st = labels.stat()
    key = hashlib.sha1(f"{labels.resolve()}:{st.st_size}:{st.st_mtime_ns}:{FIT_VERSION}".encode()).hexdigest()[:12]
    return REPO_ROOT / "data_cache" / "pose_bank" / f"real_hands_train_{key}.npz"


def load_or_fit_bank(root: Path | None = None, mesh_dir: Path | None = None, verbose: bool = True) -> PoseBank:
    """The bank of real_hands train poses, fitted once per machine (~1-2 min) and cached."""
    from training.data.paths import data_root
    from training.render.mesh import default_mesh_dir, load_hand_mesh

    root = Path(root) if root is not None else data_root()
    path = bank_path(root)
    if path.is_file():
        return PoseBank.load(path)
    mesh_dir = Path(mesh_dir) if mesh_dir is not None else default_mesh_dir()
    meshes = {s: load_hand_mesh(mesh_dir / f"{s}.glb") for s in ("left", "right")}
    landmarks, sides = train_landmarks(root)
    bank, stats = fit_bank(meshes, landmarks, sides)
    bank.save(path)
    if verbose:
        print(fit_report(stats, len(bank)), file=sys.stderr)
    return bank


def fit_report(stats: dict, bank_size: int) -> str:
    e = stats["own_side_error_m"] * 1000
    return (f"pose fit to real_hands train: {len(e)} hands, mean error per keypoint (mm) median "
            f"{np.median(e):.1f}, p90 {np.percentile(e, 90):.1f}, max {e.max():.1f}; bank {bank_size} of "
            f"{stats['fitted']} fits (own side and mirrored) under {MAX_FIT_ERROR_M * 1000:.0f} mm")


def main(argv=None) -> int:
    import argparse

    from training.data.paths import data_root
    from training.render.mesh import default_mesh_dir, load_hand_mesh

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default: $HANDPOSE_DATA)")
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args(argv)
    root = args.data or data_root()
    meshes = {s: load_hand_mesh(default_mesh_dir() / f"{s}.glb") for s in ("left", "right")}
    torch.set_num_threads(1)
    landmarks, sides = train_landmarks(root)
    bank, stats = fit_bank(meshes, landmarks, sides, args.steps)
    bank.save(bank_path(root))
    print(fit_report(stats, len(bank)))
    print(f"wrote {bank_path(root)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
