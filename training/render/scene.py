"""Render one synthetic sample: hands + forearms over a background, with labels (RHD order)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from training.data.sample import no_other_hand
from training.render.arm import sample_forearm
from training.render.background import BackgroundBank
from training.render.effects import camera_effects
from training.render.mesh import (FINGER_JOINTS, JOINT_INDEX, HandMesh, default_mesh_dir, dominant_joints,
                                  load_hand_mesh)
from training.render.occluders import draw_distractors, sample_occluders
from training.render.placement import place, sample_hand_size_px, sample_intrinsics, sample_orientation
from training.render.pose import close_pinch, local_angles_rad, sample_pose_deg
from training.render.raster import rasterize
from training.render.shading import linear_to_srgb, sample_lights, sample_skin_linear, shade, vertex_albedo
from training.render.skinning import posed_globals, skin

SIDE_LABEL = {"left": 1, "right": 2}   # mask labels
SIDE_INDEX = {"left": 0, "right": 1}   # ``side`` field
# How far each keypoint (RHD order) may lie behind the visible skin and still count as visible:
# joints sit inside the hand (the wrist ~2 cm deep); a finger folded behind the palm is >= 3.5 cm.
_FINGER_TOL_M = [0.012, 0.014, 0.016, 0.024]  # tip, DIP, PIP, MCP
VISIBILITY_TOLERANCE_M = np.array([0.028, 0.012, 0.016, 0.026, 0.030] + _FINGER_TOL_M * 4)


@dataclass
class RenderConfig:
    height: int = 320
    width: int = 320
    min_hand_px: float = 40.0          # smallest hand extent (the larger of its width and height)
    max_hand_fraction: float = 1.0     # largest hand extent, as a fraction of the shorter image side
    two_hands_prob: float = 0.25
    arm_prob: float = 0.9
    occluder_prob: float = 0.3
    distractor_prob: float = 0.35
    effects: bool = True


@dataclass
class HandParams:
    """Everything geometric about one hand; sampled by ``sample_hand`` or given by a test."""

    side: str
    angles_deg: np.ndarray             # (25, 3) right-hand convention, see pose.py
    rotation: np.ndarray               # (3, 3) camera from model
    translation_m: np.ndarray          # (3,) camera-frame position of the keypoints' centroid
    scale_xyz: np.ndarray = field(default_factory=lambda: np.ones(3))
    gesture: str = "given"


class HandRenderer:
    """Loads the meshes and backgrounds once; ``render(seed)`` gives one sample dict."""

    def __init__(self, mesh_dir: Path | None = None, background_dir: Path | None = None,
                 config: RenderConfig | None = None, pose_bank=None):
        """``pose_bank`` (``pose_fit.PoseBank``): draw each hand's articulation and orientation from
        fitted real poses instead of the hand-set gestures and orientation ranges."""
        mesh_dir = Path(mesh_dir) if mesh_dir is not None else default_mesh_dir()
        self.meshes: dict[str, HandMesh] = {s: load_hand_mesh(mesh_dir / f"{s}.glb") for s in ("left", "right")}
        self.backgrounds = BackgroundBank(background_dir)
        self.config = config or RenderConfig()
        self.pose_bank = pose_bank
        self._palm_side = {s: self._palm_facing(m) for s, m in self.meshes.items()}
        self._nail = {s: self._nails(m) for s, m in self.meshes.items()}

    @staticmethod
    def _palm_facing(mesh: HandMesh) -> np.ndarray:
        back = mesh.bind_globals[0, :3, 1]  # the wrist's local +Y: the back of the hand
        return np.clip(-(mesh.normals @ back), 0, 1)

    @staticmethod
    def _nails(mesh: HandMesh) -> np.ndarray:
        """(V,) in [0, 1]: how much each vertex lies on a fingernail — the outer ~60 % of the
        last phalanx, on its dorsal side (the joint's local +Y). Nails and the palm/back
        difference are what tell a left palm from a right back in a picture: the silhouettes of
        the two are mirror images."""
        nail = np.zeros(len(mesh.vertices))
        dominant = dominant_joints(mesh.joint_ids, mesh.weights)
        for f, chain in enumerate(FINGER_JOINTS.values()):
            dip, tip = JOINT_INDEX[chain[-2]], JOINT_INDEX[chain[-1]]
            p_dip, p_tip = mesh.bind_globals[dip, :3, 3], mesh.bind_globals[tip, :3, 3]
            axis = (p_tip - p_dip) / np.linalg.norm(p_tip - p_dip)
            length = np.linalg.norm(p_tip - p_dip) + mesh.tip_offset_m[f]
            dorsal = mesh.bind_globals[dip, :3, 1]
            dorsal = dorsal - (dorsal @ axis) * axis
            dorsal /= np.linalg.norm(dorsal)
            t = (mesh.vertices - p_dip) @ axis / length
            facing = mesh.normals @ dorsal
            on = np.isin(dominant, (dip, tip))
            w = _smoothstep(0.35, 0.5, t) * _smoothstep(0.4, 0.7, facing) * (1 - _smoothstep(1.0, 1.08, t))
            nail = np.where(on, np.maximum(nail, w), nail)
        return nail

    # ---- sampling -------------------------------------------------------------------------
    def sample_framing(self, rng: np.random.Generator) -> tuple[np.ndarray, str, float, np.ndarray]:
        """Camera K, the primary hand's side, its extent (px) and its centre (px)."""
        c = self.config
        h, w = c.height, c.width
        K = sample_intrinsics(rng, h, w)
        side = "left" if rng.random() < 0.5 else "right"
        size = sample_hand_size_px(rng, c.min_hand_px, max(c.min_hand_px, c.max_hand_fraction * min(h, w)))
        margin = min(0.35 * size, 0.45 * min(h, w))
        return K, side, size, rng.uniform([margin, margin], [w - margin, h - margin])

    def sample_hand(self, rng: np.random.Generator, side: str, K: np.ndarray, size_px: float,
                    centre_px: np.ndarray) -> HandParams:
        mesh = self.meshes[side]
        if self.pose_bank is not None:
            angles, real_rotation = self.pose_bank.sample(rng, side)
            gesture = "real"
        else:
            angles, gesture = sample_pose_deg(rng)
            if gesture == "pinch":
                angles = close_pinch(mesh, angles, rng)
        s = rng.uniform(0.85, 1.15)
        scale = s * np.array([rng.uniform(0.9, 1.1), 1.0, rng.uniform(0.9, 1.1)])
        rotation = sample_orientation(rng, side) if self.pose_bank is None else real_rotation
        verts, _, kp = skin(mesh, posed_globals(mesh, local_angles_rad(angles, side)), scale)
        rel = (verts - kp.mean(axis=0)) @ rotation.T
        extent = float(max(np.ptp(rel[:, 0]), np.ptp(rel[:, 1])))
        return HandParams(side, angles, rotation, place(K, extent, size_px, centre_px), scale, gesture)

    def render(self, seed: int | np.random.SeedSequence | np.random.Generator, with_rhd_mask: bool = False) -> dict:
        """Sample a scene from ``seed`` and render it; same seed, same sample.

        ``with_rhd_mask`` adds ``rhd_mask`` (H,W) uint8 with RHD's part labels (for rhd_layout.py).
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        c = self.config
        h, w = c.height, c.width
        K, primary_side, size, centre = self.sample_framing(rng)
        hands = [self.sample_hand(rng, primary_side, K, size, centre)]
        if rng.random() < c.two_hands_prob:
            other = "right" if primary_side == "left" else "left"
            size2 = max(c.min_hand_px, size * rng.uniform(0.7, 1.3))
            hands.append(self.sample_hand(rng, other, K, size2, rng.uniform([0, 0], [w, h])))
        return self.render_hands(rng, hands, K, with_rhd_mask)

    # ---- rendering ------------------------------------------------------------------------
    def render_hands(self, rng: np.random.Generator, hands: list[HandParams], K: np.ndarray,
                     with_rhd_mask: bool = False) -> dict:
        """Render given hands; ``rng`` drives appearance only (skin, lights, background, effects)."""
        c = self.config
        h, w = c.height, c.width
        skin_lin = sample_skin_linear(rng)
        objects = []  # (vertices_cam, normals_cam, triangles, albedo (V,3), hand index, kind, parts)
        keypoints = []
        for i, hp in enumerate(hands):
            if hp.side not in self.meshes:
                raise ValueError(f"hand side must be 'left' or 'right', got {hp.side!r}")
            mesh = self.meshes[hp.side]
            g = posed_globals(mesh, local_angles_rad(hp.angles_deg, hp.side))
            verts, normals, kp = skin(mesh, g, hp.scale_xyz)
            centre = kp.mean(axis=0)
            to_cam = lambda p: (p - centre) @ hp.rotation.T + hp.translation_m  # noqa: E731
            keypoints.append(to_cam(kp))
            albedo = vertex_albedo(rng, skin_lin, self._palm_side[hp.side], self._nail[hp.side])
            objects.append((to_cam(verts), normals @ hp.rotation.T, mesh.triangles, albedo, i, "hand",
                            mesh.triangle_part))
            if rng.random() < c.arm_prob:
                wrist = g[0].copy()
                wrist[:3, 3] *= hp.scale_xyz
                sleeve = np.clip(rng.uniform(0, 1, 3) * rng.uniform(0.2, 1.0), 0.01, 1)
                for v, n, t, kind in sample_forearm(rng, wrist, float(np.mean(hp.scale_xyz))):
                    col = skin_lin if kind == "skin" else sleeve
                    objects.append((to_cam(v), n @ hp.rotation.T, t, np.tile(col, (len(v), 1)), i, kind, None))
        verts = np.concatenate([o[0] for o in objects])
        offsets = np.cumsum([0] + [len(o[0]) for o in objects])[:-1]
        tris = np.concatenate([o[2] + off for o, off in zip(objects, offsets)])
        tri_obj = np.concatenate([np.full(len(o[2]), k) for k, o in enumerate(objects)])
        xy = _project(K, verts)
        raster = rasterize(xy, verts[:, 2], tris, h, w)

        image = self.backgrounds.sample(rng, h, w)
        if rng.random() < c.distractor_prob:
            draw_distractors(rng, image, linear_to_srgb(skin_lin) * 255)
        owner_tri = raster.triangle.ravel()[raster.covered]
        attrs = np.concatenate([np.concatenate([o[1] for o in objects]), verts,
                                np.concatenate([o[3] for o in objects])], axis=1).astype(np.float32)
        px_attr = np.einsum("pk,pkc->pc", raster.bary, attrs[tris[owner_tri]])
        n_px, p_px, a_px = px_attr[:, 0:3], px_attr[:, 3:6], px_attr[:, 6:9]
        n_px /= np.linalg.norm(n_px, axis=1, keepdims=True) + 1e-12
        obj_px = tri_obj[owner_tri]
        is_hand_obj = np.array([o[5] == "hand" for o in objects])
        spec = np.where(is_hand_obj[obj_px] | (np.array([o[5] for o in objects])[obj_px] == "skin"), 1.0, 0.3)
        colour = linear_to_srgb(shade(a_px, n_px, p_px, sample_lights(rng), spec)) * 255.0
        image.reshape(-1, 3)[raster.covered] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
        _soften_silhouettes(image, raster.triangle >= 0)

        # Label maps: which hand (by object) owns each pixel.
        hand_of_obj = np.array([o[4] for o in objects])
        owner_hand = np.full(h * w, -1, np.int64)
        owner_hand[raster.covered[is_hand_obj[obj_px]]] = hand_of_obj[obj_px[is_hand_obj[obj_px]]]
        person = np.zeros(h * w, bool)
        person[raster.covered[~is_hand_obj[obj_px]]] = True
        occluded = np.zeros((h, w), bool)
        if rng.random() < c.occluder_prob:
            kp2d = _project(K, keypoints[0])
            box = np.concatenate([kp2d.min(axis=0), kp2d.max(axis=0)])
            occ_rgb, occluded = sample_occluders(rng, h, w, box, texture=image[::-1, ::-1].copy())
            image[occluded] = occ_rgb[occluded]
        owner_hand = owner_hand.reshape(h, w)
        owner_hand[occluded] = -1
        mask = np.zeros((h, w), np.uint8)
        for i, hp in enumerate(hands):
            mask[owner_hand == i] = SIDE_LABEL[hp.side]
        if c.effects:
            image = camera_effects(rng, image)
        pixels = [int((owner_hand == i).sum()) for i in range(len(hands))]
        order = sorted(range(len(hands)), key=lambda i: -pixels[i])  # primary = most mask pixels
        sample = {"image_rgb": image, "mask": mask}
        scales = [float(np.mean(hp.scale_xyz)) for hp in hands]
        sample.update(_hand_labels(K, keypoints[order[0]], raster.depth_m, owner_hand, order[0], scales[order[0]]))
        sample["side"] = np.int64(SIDE_INDEX[hands[order[0]].side])
        if len(hands) > 1:
            other = _hand_labels(K, keypoints[order[1]], raster.depth_m, owner_hand, order[1], scales[order[1]])
            sample.update({f"{key}_other": value for key, value in other.items()})
            sample.update(side_other=np.int64(SIDE_INDEX[hands[order[1]].side]), has_other=np.bool_(True))
        else:
            sample.update(no_other_hand())
        sample.update(mask_valid=np.bool_(True), mask_coarse=np.bool_(False), has_3d=np.bool_(True),
                      has_3d_camera=np.bool_(True), K=K.astype(np.float32), weight=np.float32(1.0),
                      num_hands=np.int64(len(hands)), source="render")
        if with_rhd_mask:
            sample["rhd_mask"] = _rhd_mask(objects, tri_obj, owner_tri, raster.covered, person, owner_hand,
                                           occluded, hands, tris, h, w)
        return sample


def _soften_silhouettes(image: np.ndarray, covered: np.ndarray) -> None:
    """Cheap anti-aliasing: blur the pixels along rendered outlines (a hard edge is a give-away)."""
    cov = covered.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    edge = cv2.dilate(cov, kernel) != cv2.erode(cov, kernel)
    image[edge] = cv2.blur(image, (3, 3))[edge]


def _project(K: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    q = xyz @ K.T
    return q[:, :2] / q[:, 2:3]


def _hand_labels(K, kp_cam, depth, owner_hand, hand_index, hand_scale=1.0) -> dict:
    """2D keypoints, visibility (in the image, on this hand's own pixels, not behind other skin)."""
    h, w = depth.shape
    uv = _project(K, kp_cam)
    ui, vi = np.round(uv[:, 0]).astype(np.int64), np.round(uv[:, 1]).astype(np.int64)
    inside = (ui >= 0) & (ui < w) & (vi >= 0) & (vi < h) & (kp_cam[:, 2] > 0)
    uc, vc = np.clip(ui, 0, w - 1), np.clip(vi, 0, h - 1)
    visible = inside & (owner_hand[vc, uc] == hand_index) & (kp_cam[:, 2] - depth[vc, uc] < VISIBILITY_TOLERANCE_M * hand_scale)
    return {"keypoints_2d": uv.astype(np.float32), "visible": visible,
            "keypoints_3d": kp_cam.astype(np.float32)}


def _rhd_mask(objects, tri_obj, owner_tri, covered, person, owner_hand, occluded, hands, tris, h, w):
    """RHD's mask labels: 0 background, 1 person (arms), 2-17 left hand parts, 18-33 right."""
    out = np.zeros(h * w, np.uint8)
    out[person] = 1
    starts = np.cumsum([0] + [len(o[2]) for o in objects])
    for k, o in enumerate(objects):
        if o[5] != "hand":
            continue
        sel = tri_obj[owner_tri] == k
        base = 2 if hands[o[4]].side == "left" else 18
        out[covered[sel]] = base + o[6][owner_tri[sel] - starts[k]]
    out = out.reshape(h, w)
    out[occluded] = 0
    return out


def _smoothstep(lo: float, hi: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)
