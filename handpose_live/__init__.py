"""handpose-live: live 3D hand pose from RGB frames (Zimmermann & Brox 2017, extended).

``from handpose_live import HandPoseEstimator`` is the entry point; it imports neither Qt nor
the training code.
"""
from .hand import Hand
from .pipeline import HandPoseEstimator
from .skeleton import KEYPOINT_NAMES

__version__ = "0.1.0"
__all__ = ["Hand", "HandPoseEstimator", "KEYPOINT_NAMES", "__version__"]
