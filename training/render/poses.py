"""Hand poses without images, for the lifting stage trained on ground-truth score maps.

The same pose, orientation, framing and camera sampling as ``HandRenderer.render``, but no
rasterising: about a hundred times faster. Samples follow the sample contract with a blank
image and no mask (``mask_valid`` False); every keypoint counts as visible (the lifting nets
see a map for each keypoint, occluded or not).
"""
from __future__ import annotations

import numpy as np
from torch.utils.data import Dataset

from training.data.sample import no_other_hand
from training.render.dataset import _RendererHolder
from training.render.pose import local_angles_rad
from training.render.scene import SIDE_INDEX, HandRenderer, _project
from training.render.skinning import posed_globals, skin


class RenderedPoses(Dataset, _RendererHolder):
    """``length`` pose samples; sample ``i`` depends only on (``seed``, ``i``)."""

    def __init__(self, length: int = 10_000, seed: int = 0, size=320, mesh_dir=None, pose_bank=None):
        _RendererHolder.__init__(self, seed, size, mesh_dir, None, None, pose_bank)
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} pose samples")
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, int(index)]))
        return pose_sample(self.renderer(), rng)


def pose_sample(renderer: HandRenderer, rng: np.random.Generator) -> dict:
    h, w = renderer.config.height, renderer.config.width
    K, side, size, centre = renderer.sample_framing(rng)
    hand = renderer.sample_hand(rng, side, K, size, centre)
    mesh = renderer.meshes[side]
    _, _, kp = skin(mesh, posed_globals(mesh, local_angles_rad(hand.angles_deg, side)), hand.scale_xyz)
    kp_cam = (kp - kp.mean(axis=0)) @ hand.rotation.T + hand.translation_m
    sample = {
        "image_rgb": np.zeros((h, w, 3), np.uint8), "mask": np.zeros((h, w), np.uint8),
        "mask_valid": np.bool_(False), "mask_coarse": np.bool_(False),
        "keypoints_2d": _project(K, kp_cam).astype(np.float32), "visible": np.ones(21, bool),
        "keypoints_3d": kp_cam.astype(np.float32), "has_3d": np.bool_(True), "has_3d_camera": np.bool_(True),
        "K": K.astype(np.float32), "side": np.int64(SIDE_INDEX[side]), "weight": np.float32(1.0),
        "source": "render_poses",
    }
    sample.update(no_other_hand())
    return sample
