"""Frame validation, letterboxing and normalisation (the same at training and run time)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from .frame_check import MAX_FRAME_SIDE, MIN_FRAME_SIDE, WORK_MAX_SIDE, frame_problem  # noqa: F401 (re-exported)

GREY = 128  # normalises to ~0: the value of padding outside the image


def validate_frames(frames) -> list[np.ndarray]:
    """Check a list of ``HxWx3`` uint8 BGR frames; raise ``ValueError`` saying what is wrong."""
    if isinstance(frames, np.ndarray):
        raise ValueError("process() takes a list of frames; wrap a single frame as [frame]")
    frames = list(frames)
    for i, f in enumerate(frames):
        if not isinstance(f, np.ndarray):
            raise ValueError(f"frame {i}: expected a numpy array, got {type(f).__name__}")
        if f.dtype != np.uint8:
            raise ValueError(f"frame {i}: expected dtype uint8 (BGR 0-255), got {f.dtype}")
        if f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"frame {i}: expected shape HxWx3 (BGR), got {f.shape}")
        problem = frame_problem(f)
        if problem:
            raise ValueError(f"frame {i}: {problem}")
    return frames


def normalise(rgb_uint8: torch.Tensor) -> torch.Tensor:
    """``[..., 3, H, W]`` uint8 RGB -> float ``rgb / 255 - 0.5`` (the paper's normalisation)."""
    return rgb_uint8.float() / 255.0 - 0.5


@dataclass
class Letterbox:
    """How a frame was fitted into a canvas: ``canvas = frame * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        """Canvas pixel coordinates ``[..., 2]`` -> frame pixel coordinates."""
        return (np.asarray(xy, np.float32) - (self.pad_x, self.pad_y)) / self.scale

    def to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Frame pixel coordinates ``[..., 2]`` -> canvas pixel coordinates (``to_frame``'s inverse)."""
        return np.asarray(xy, np.float32) * self.scale + np.float32([self.pad_x, self.pad_y])


def letterbox(image: np.ndarray, size_hw: tuple[int, int], fill: int = GREY,
              interpolation: int | None = None) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` (HxW or HxWxC) to fit ``size_hw`` keeping its aspect, centred on ``fill``."""
    h, w = image.shape[:2]
    th, tw = size_hw
    scale = min(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if interpolation is None:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interpolation)
    canvas = np.full((th, tw) + image.shape[2:], fill, dtype=image.dtype)
    py, px = (th - nh) // 2, (tw - nw) // 2
    canvas[py : py + nh, px : px + nw] = resized
    # exact per-axis scale is nw / w; the mean is within half a pixel over the canvas
    return canvas, Letterbox(scale=(nw / w + nh / h) / 2, pad_x=px, pad_y=py)


def unletterbox_mask(mask: np.ndarray, box: Letterbox, frame_hw: tuple[int, int]) -> np.ndarray:
    """A canvas-sized label mask -> frame-sized (nearest neighbour)."""
    h, w = frame_hw
    x0, y0 = int(round(box.pad_x)), int(round(box.pad_y))
    x1 = x0 + max(1, int(round(w * box.scale)))
    y1 = y0 + max(1, int(round(h * box.scale)))
    return cv2.resize(mask[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_NEAREST)
