"""The paper's four networks and the keypoint refiner, pure torch, each with its config dataclass."""
from .handsegnet import HandSegNet, HandSegNetConfig
from .landmark import LandmarkConfig, LandmarkNet
from .lifting import LiftingConfig, PosePrior, ViewPoint
from .posenet import PoseNet, PoseNetConfig

__all__ = [
    "HandSegNet", "HandSegNetConfig", "PoseNet", "PoseNetConfig",
    "PosePrior", "ViewPoint", "LiftingConfig", "LandmarkNet", "LandmarkConfig",
]
