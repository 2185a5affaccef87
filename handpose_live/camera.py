"""The camera the 3D output is expressed in: pinhole intrinsics from a field of view, and the
rotation between the camera's frame and the frame of a crop's ray.

A crop cut out of the frame shows the hand as a camera looking along the ray through the crop's
centre would see it, not as one looking along the optical axis; a network reading only the crop
cannot tell the two apart. Lifting nets with ``LiftingConfig.frame == "ray"`` are trained on 3D
labels turned into the ray's frame, and the run time turns their output back with the rotation
of the ray through the crop's centre (``ray_rotation``) for a camera of ``fov_deg`` (the
webcam's field of view, unknown in general: ``DEFAULT_FOV_DEG`` unless the user sets it).

No numpy or torch at import: the command line, which decides before anything heavy loads
whether to open the window, checks the setting (``check_fov``).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

DEFAULT_FOV_DEG = 60.0  # horizontal field of view assumed for a webcam (laptop and USB: ~55-70)
FOV_RANGE_DEG = (20.0, 150.0)


def check_fov(fov_deg: float) -> float:
    """``fov_deg`` as a float, or ``ValueError`` outside ``FOV_RANGE_DEG``."""
    value = float(fov_deg)
    lo, hi = FOV_RANGE_DEG
    if not lo <= value <= hi:
        raise ValueError(f"camera field of view must be {lo:g}-{hi:g} degrees (horizontal), got {fov_deg!r}")
    return value


def intrinsics(height: int, width: int, fov_deg: float = DEFAULT_FOV_DEG) -> np.ndarray:
    """Pinhole K ``(3, 3)`` of a ``width`` x ``height`` image whose horizontal field of view is
    ``fov_deg``, square pixels and the principal point at the image centre."""
    import numpy as np

    f = (width / 2) / math.tan(math.radians(check_fov(fov_deg)) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def ray_rotation(K: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Per crop, the rotation ``[B, 3, 3]`` (column vectors) that takes the optical axis to the
    ray through ``centres`` ``[B, 2]`` (frame px) of a camera ``K`` (``[3, 3]`` or ``[B, 3, 3]``),
    turning about their common perpendicular (the least turn): a point ``x_ray`` in the ray's frame
    is ``R @ x_ray`` in the camera's, and ``R`` is the identity at the principal point."""
    import torch

    centres = centres.to(torch.float64)
    K = torch.as_tensor(K, dtype=torch.float64, device=centres.device).expand(len(centres), 3, 3)
    pix = torch.cat([centres, torch.ones_like(centres[:, :1])], 1)
    d = torch.linalg.solve(K, pix[:, :, None])[:, :, 0]
    d = d / d.norm(dim=1, keepdim=True)
    # Rodrigues about z x d: sin = |z x d|, cos = d_z; written without dividing by sin, so the
    # identity at the principal point comes out exactly
    vx, vy = -d[:, 1], d[:, 0]  # z x d = (-d_y, d_x, 0)
    c = d[:, 2]
    k = 1.0 / (1.0 + c)  # (1 - cos) / sin^2; d_z > 0 for any pixel in front of the camera
    R = torch.stack([c + k * vx * vx, k * vx * vy, vy,
                     k * vx * vy, c + k * vy * vy, -vx,
                     -vy, vx, c], 1).view(-1, 3, 3)
    return R
