"""User settings persisted between runs with QSettings, and where the app keeps its files."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QSettings, QStandardPaths

from ..camera import DEFAULT_FOV_DEG, check_fov
from ..hand_size import DEFAULT_PALM_LENGTH_M, check_palm_length

ORGANIZATION = "handpose-live"
APPLICATION = "handpose-live"
RESOLUTIONS = ("640x480", "1280x720", "1920x1080")


@dataclass
class AppSettings:
    """Everything the user can change that should survive a restart."""

    camera_index: int = 0
    resolution: str = "1280x720"  # camera capture size, "WxH"
    mirror_view: bool = False  # show the image mirrored like a selfie (sides stay true)
    camera_mirrors: bool = False  # the camera driver already mirrors: swap reported sides
    show_mask: bool = False
    show_crop: bool = True
    smoothing: bool = True
    model: str = ""  # "" = the shipped default; else a name under assets/models or a folder
    device: str = "auto"
    hand_side: str = "right"  # for models that cannot tell left from right: which hand is shown
    hand_size_cm: float = DEFAULT_PALM_LENGTH_M * 100  # palm length: the scale of the 3D keypoints
    camera_fov_deg: float = DEFAULT_FOV_DEG  # the camera's horizontal field of view: the turn of off-centre 3D
    last_dir: str = ""
    sessions_dir: str = ""  # where the record button puts sessions; "" = <data dir>/sessions

    @classmethod
    def load(cls, store: QSettings) -> "AppSettings":
        """Read from ``store``; missing or unreadable values keep their defaults."""
        values = {}
        for field in dataclasses.fields(cls):
            if not store.contains(field.name):
                continue
            raw = store.value(field.name)
            default = field.default
            try:
                if isinstance(default, bool):
                    value = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
                elif isinstance(default, int):
                    value = int(raw)
                elif isinstance(default, float):
                    value = float(raw)
                else:
                    value = str(raw)
            except (TypeError, ValueError):
                continue
            values[field.name] = value
        settings = cls(**values)
        if settings.resolution not in RESOLUTIONS:
            settings.resolution = cls.resolution
        try:
            check_palm_length(settings.hand_size_cm / 100)
        except ValueError:
            settings.hand_size_cm = cls.hand_size_cm
        try:
            check_fov(settings.camera_fov_deg)
        except ValueError:
            settings.camera_fov_deg = cls.camera_fov_deg
        return settings

    def save(self, store: QSettings) -> None:
        for field in dataclasses.fields(self):
            store.setValue(field.name, getattr(self, field.name))
        store.sync()


def resolution_size(text: str) -> tuple[int, int]:
    """``"1280x720"`` -> ``(1280, 720)``; ``ValueError`` for anything else."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"resolution must look like 1280x720, got {text!r}") from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise ValueError(f"resolution {text!r} is out of range")
    return w, h


def default_store() -> QSettings:
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


def data_dir() -> Path:
    """The platform's per-user data folder for the app (log file, snapshots, sessions)."""
    base = QStandardPaths.writableLocation(QStandardPaths.GenericDataLocation)
    path = Path(base or Path.home() / ".local" / "share") / APPLICATION
    path.mkdir(parents=True, exist_ok=True)
    return path
