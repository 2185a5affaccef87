"""handpose-live: live 3D hand pose from RGB frames (Zimmermann & Brox 2017, extended).

``from handpose_live import HandPoseEstimator`` is the entry point; it imports neither Qt nor
the training code. Names are imported on first use, so ``import handpose_live.skeleton`` (or the
command line's argument checks) does not pay for loading torch.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"
_LAZY = {"Hand": ".hand", "HandPoseEstimator": ".pipeline", "KEYPOINT_NAMES": ".skeleton"}
__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'handpose_live' has no attribute {name!r}")
