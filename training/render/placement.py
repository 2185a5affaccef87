"""Camera intrinsics, hand orientation (biased toward the camera) and framing in the image."""
from __future__ import annotations

import numpy as np

from training.render.skinning import rotation_xyz

# Model -> camera rotation that shows each mesh palm-on with the fingers up (camera frame:
# x right, y down, z forward). The right mesh's back faces model +X, the left mesh's model -X.
PALM_TO_CAMERA = {
    "right": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "left": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),
}


def sample_intrinsics(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """K (3,3) for a horizontal field of view of 45-75 degrees and a slightly off-centre principal point."""
    fov = np.radians(rng.uniform(45, 75))
    f = (width / 2) / np.tan(fov / 2)
    cx = (width - 1) / 2 + rng.normal(0, 0.02 * width)
    cy = (height - 1) / 2 + rng.normal(0, 0.02 * height)
    return np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]])


def fixed_intrinsics(height: int, width: int, fov_deg: float = 60.0) -> np.ndarray:
    """K (3,3) for a horizontal field of view of ``fov_deg`` and a centred principal point."""
    f = (width / 2) / np.tan(np.radians(fov_deg) / 2)
    return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation (3,3)."""
    q = rng.normal(size=4)
    x, y, z, w = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def sample_orientation(rng: np.random.Generator, side: str) -> np.ndarray:
    """Camera-from-model rotation: mostly palm or back toward the camera, fingers mostly up."""
    if rng.random() < 0.1:
        return random_rotation(rng)
    yaw = (180.0 if rng.random() < 0.5 else 0.0) + rng.normal(0, 35)  # palm vs back, then turn
    pitch = rng.normal(0, 30)
    roll = rng.normal(0, 45) if rng.random() < 0.85 else rng.uniform(-180, 180)
    r = rotation_xyz(np.radians([pitch, yaw, roll]))  # Rz(roll) @ Ry(yaw) @ Rx(pitch), camera axes
    return r @ PALM_TO_CAMERA[side]


def sample_hand_size_px(rng: np.random.Generator, min_px: float, max_px: float) -> float:
    """Hand extent in pixels, log-uniform between ``min_px`` and ``max_px``."""
    if min_px <= 0 or max_px < min_px:
        raise ValueError(f"hand size range must satisfy 0 < min <= max, got {min_px}, {max_px}")
    return float(np.exp(rng.uniform(np.log(min_px), np.log(max_px))))


def place(K: np.ndarray, extent_m: float, size_px: float, centre_px: np.ndarray) -> np.ndarray:
    """Camera-frame position (3,) that shows an object ``extent_m`` wide as ``size_px`` at ``centre_px``."""
    z = K[0, 0] * extent_m / size_px
    ray = np.linalg.solve(K, np.array([centre_px[0], centre_px[1], 1.0]))
    return ray * z
