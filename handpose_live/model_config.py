"""The configuration of a whole model: the four networks (and the optional keypoint refiner),
the bone length and run-time options.

It is stored as ``config.json`` in a model folder and rebuilds the networks from that alone.
Unknown keys are rejected, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .hand_size import DEFAULT_PALM_LENGTH_M
from .crop import REGION_ENLARGE, REGION_SHIFT, region_box
from .models import HandSegNetConfig, LandmarkConfig, LiftingConfig, PoseNetConfig

FORMAT_VERSION = 1


@dataclass
class DetectionConfig:
    """Run-time options of segmentation, cropping and tracking."""

    mask_threshold: float = 0.5  # hand probability above which a pixel is a hand
    bridge_px_at_240: float = 10.0  # gap bridged between pieces of one hand, px at 240 rows
    # pieces joined through pixels above this lower hand probability too (None: off; detection.find_regions)
    bridge_threshold: float | None = None
    # a region whose minority side (3-class HandSegNet) holds at least this fraction of its pixels is
    # two hands, left and right, taken apart (None: off; detection.find_regions)
    split_sides_frac: float | None = None
    # a candidate hand whose PoseNet keypoints' box and a better-scoring kept hand's overlap by at least
    # this fraction of the smaller box is the same hand seen twice, and is dropped (None: off;
    # pipeline.drop_duplicates)
    duplicate_overlap: float | None = None
    # HandSegNet run a second time at this (height, width) input: its regions are the candidates, a
    # region of it that holds two or more regions of the model's own size is replaced by them, and
    # regions of the model's size it does not overlap are added (None: off; detection.combine_scales)
    fine_input_size: tuple[int, int] | None = None
    # with fine_input_size: the model's own size runs only on a frame where a fine region's minority
    # side holds at least this share of its pixels (two hands joined); None: on every frame
    coarse_minority: float | None = None
    # a candidate whose PoseNet keypoints' bbox diagonal is under this fraction of its crop box's side
    # is no hand: keypoints bunched on a small shape (None: off; pipeline.keypoint_spread)
    min_spread: float | None = None
    min_area_frac: float = 0.0005  # smallest hand region, fraction of the segmentation canvas
    max_hands: int = 2
    # regions beyond max_hands that PoseNet examines per search (best segmentation peak first);
    # the best max_hands by hand score are kept, so a face that segments brighter than a fist no
    # longer pushes the fist out before PoseNet has looked at it
    extra_candidates: int = 2
    min_score: float = 0.15  # hands scoring below this are not reported
    track_min_confidence: float = 0.35  # mean keypoint score below which a track is lost
    redetect_interval: int = 10  # frames between searches for new hands while tracking
    # crop box from a HandSegNet region: side = region's longer side x region_enlarge, centre
    # shifted by region_shift x that side; calibrated per HandSegNet (crop.py, calibrate_region_box.py)
    region_enlarge: float = REGION_ENLARGE
    region_shift: tuple[float, float] = REGION_SHIFT

    def __post_init__(self):
        self.region_shift = tuple(float(v) for v in self.region_shift)
        if self.fine_input_size is not None:
            size = tuple(int(v) for v in self.fine_input_size)
            if len(size) != 2 or min(size) < 32 or any(v % 16 for v in size):
                raise ValueError(f"detection fine_input_size must be two multiples of 16 (>= 32) or null, "
                                 f"got {self.fine_input_size!r}")
            self.fine_input_size = size
        if self.min_spread is not None and not 0.0 < float(self.min_spread) < 2.0:
            raise ValueError(f"detection min_spread must be in (0, 2) or null, got {self.min_spread!r}")
        if self.coarse_minority is not None and not 0.0 <= float(self.coarse_minority) <= 0.5:
            raise ValueError(f"detection coarse_minority must be in [0, 0.5] or null, got {self.coarse_minority!r}")
        if int(self.extra_candidates) < 0 or int(self.max_hands) < 1:
            raise ValueError(f"detection max_hands must be >= 1 and extra_candidates >= 0, got "
                             f"{self.max_hands!r}, {self.extra_candidates!r}")
        if self.bridge_threshold is not None and not 0.0 < float(self.bridge_threshold) < 1.0:
            raise ValueError(f"detection bridge_threshold must be between 0 and 1 or null, got {self.bridge_threshold!r}")
        if self.duplicate_overlap is not None and not 0.0 < float(self.duplicate_overlap) <= 1.0:
            raise ValueError(f"detection duplicate_overlap must be in (0, 1] or null, got {self.duplicate_overlap!r}")
        if self.split_sides_frac is not None and not 0.0 < float(self.split_sides_frac) <= 0.5:
            raise ValueError(f"detection split_sides_frac must be in (0, 0.5] or null, got {self.split_sides_frac!r}")
        if len(self.region_shift) != 2 or not 0.5 <= float(self.region_enlarge) <= 2.0:
            raise ValueError(f"detection region_enlarge must be 0.5-2 and region_shift two numbers, got "
                             f"{self.region_enlarge!r}, {self.region_shift!r}")

    @property
    def candidates(self) -> int:
        """Hand regions a search examines: ``max_hands + extra_candidates``."""
        return int(self.max_hands) + int(self.extra_candidates)

    def region_box(self, bbox_xyxy):
        """Crop boxes ``[N, 3]`` from region bboxes ``[N, 4]`` with this model's calibration."""
        return region_box(bbox_xyxy, self.region_enlarge, self.region_shift)


@dataclass
class ModelConfig:
    handsegnet: HandSegNetConfig = field(default_factory=HandSegNetConfig)
    posenet: PoseNetConfig = field(default_factory=PoseNetConfig)
    poseprior: LiftingConfig = field(default_factory=LiftingConfig)
    viewpoint: LiftingConfig = field(default_factory=LiftingConfig)
    detection: DetectionConfig = field(default_factory=DetectionConfig)
    # the keypoint refiner (models/landmark.py): a second 2D pass on an upright crop; None = none
    landmark: LandmarkConfig | None = None
    # metric scale of the 3D output: the wrist -> middle MCP distance (the user's hand size)
    palm_length_m: float = DEFAULT_PALM_LENGTH_M
    name: str = "unnamed"
    description: str = ""

    def __post_init__(self):
        if self.poseprior.maps != self.viewpoint.maps:
            raise ValueError(f"PosePrior and ViewPoint must read the same maps, got {self.poseprior.maps!r} and "
                             f"{self.viewpoint.maps!r}")
        if self.poseprior.world != self.viewpoint.world:
            raise ValueError("PosePrior and ViewPoint must both read world landmarks or neither")
        if self.poseprior.frame != self.viewpoint.frame:
            raise ValueError(f"PosePrior and ViewPoint must give 3D in the same frame, got {self.poseprior.frame!r} "
                             f"and {self.viewpoint.frame!r}")
        if self.poseprior.world and (self.landmark is None or self.landmark.world != "lifting"):
            raise ValueError("lifting nets that read world landmarks need a keypoint refiner with world \"lifting\"")

    @property
    def segment_input_size(self) -> tuple[int, int]:
        """HandSegNet's input (height, width) on every frame: ``detection.fine_input_size`` where the
        model sets one (its own ``handsegnet.input_size`` then runs only where two hands may be
        joined), else its own."""
        return tuple(self.detection.fine_input_size or self.handsegnet.input_size)

    @property
    def lifting_image_channels(self) -> int:
        """PoseNet feature channels the lifting nets read (0: score maps and hand side only)."""
        return max(self.poseprior.image_channels, self.viewpoint.image_channels)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["format_version"] = FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        d = dict(d)
        version = d.pop("format_version", None)
        if version != FORMAT_VERSION:
            raise ValueError(f"config format_version {version!r} is not supported (expected {FORMAT_VERSION})")
        kinds = {"handsegnet": HandSegNetConfig, "posenet": PoseNetConfig, "poseprior": LiftingConfig,
                 "viewpoint": LiftingConfig, "detection": DetectionConfig, "landmark": LandmarkConfig}
        kwargs = {}
        d.pop("bone_length_m", None)  # models exported before the palm length: the default applies
        for key, value in d.items():
            if key == "landmark" and value is None:
                kwargs[key] = None
            elif key in kinds:
                kwargs[key] = _strict(kinds[key], value, key)
            elif key in {f.name for f in dataclasses.fields(cls)}:
                kwargs[key] = value
            else:
                raise ValueError(f"unknown key {key!r} in model config")
        return cls(**kwargs)


def _strict(kind, values: dict, where: str):
    if not isinstance(values, dict):
        raise ValueError(f"model config section {where!r} must be an object, got {values!r}")
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)} in model config section {where!r}")
    return kind(**values)


# Named configurations. "paper" is the published size; "light" is the real-time CPU default;
# "tiny" exists for tests (random weights, fast).
PRESETS = {
    "paper": ModelConfig(name="paper"),
    "light": ModelConfig(
        handsegnet=HandSegNetConfig(width=0.5, input_size=(128, 160)),
        # one refinement stage (~14 % less PoseNet compute) and the side head: the shipped default
        posenet=PoseNetConfig(width=0.5, input_size=128, refine_stages=1, side_head=True),
        poseprior=LiftingConfig(width=0.5), viewpoint=LiftingConfig(width=0.5),
        name="light",
    ),
    "tiny": ModelConfig(
        handsegnet=HandSegNetConfig(width=0.125, input_size=(64, 80)),
        posenet=PoseNetConfig(width=0.125, input_size=64),
        poseprior=LiftingConfig(width=0.125), viewpoint=LiftingConfig(width=0.125),
        name="tiny",
    ),
}


def preset(name: str) -> ModelConfig:
    """A fresh copy of a named configuration."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return ModelConfig.from_dict(PRESETS[name].to_dict())
