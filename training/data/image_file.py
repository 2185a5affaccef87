"""Reading a photo of a data set: the one place that turns an unreadable file into an error."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def read_bgr(path: str | Path) -> np.ndarray:
    """``HxWx3`` uint8 BGR; ``ValueError`` naming the file when it cannot be decoded."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}")
    return bgr


def read_rgb(path: str | Path) -> np.ndarray:
    """``HxWx3`` uint8 RGB (``read_bgr`` converted)."""
    return cv2.cvtColor(read_bgr(path), cv2.COLOR_BGR2RGB)
