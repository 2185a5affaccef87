"""The paper's four networks, pure torch, each with its config dataclass."""
from .handsegnet import HandSegNet, HandSegNetConfig
from .lifting import LiftingConfig, PosePrior, ViewPoint
from .posenet import PoseNet, PoseNetConfig

__all__ = [
    "HandSegNet", "HandSegNetConfig", "PoseNet", "PoseNetConfig",
    "PosePrior", "ViewPoint", "LiftingConfig",
]
