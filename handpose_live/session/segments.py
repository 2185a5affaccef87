"""A video written as a series of short mp4 segments, so a kill loses at most the open one."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import RecordingError
from .format import VIDEO_FOURCC, segment_name
from .letterbox import fit_frame


class SegmentedVideoWriter:
    """Writes frames to ``<kind>_000.mp4``, ``<kind>_001.mp4``, … in ``folder``.

    Every segment holds ``segment_frames`` frames (the last one may hold fewer), so frame
    ``k`` is frame ``k % segment_frames`` of segment ``k // segment_frames``. The frame size
    is fixed by the first frame; later frames of another size are letterboxed into it
    (OpenCV would silently drop them otherwise).
    """

    def __init__(self, folder: Path, kind: str, fps: float, segment_frames: int):
        if segment_frames < 1:
            raise ValueError(f"segment_frames must be >= 1, got {segment_frames}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        segment_name(kind, 0)  # validates kind
        self.folder = Path(folder)
        self.kind = kind
        self.fps = float(fps)
        self.segment_frames = int(segment_frames)
        self.frame_size_px: tuple[int, int] | None = None  # (width, height)
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None

    @property
    def segments_started(self) -> int:
        """Number of segment files created so far."""
        return -(-self.frames_written // self.segment_frames)

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one BGR frame; opens the next segment when the current one is full."""
        if self.frame_size_px is None:
            if frame_bgr.ndim < 2 or frame_bgr.shape[0] < 2 or frame_bgr.shape[1] < 2:
                raise ValueError(f"expected a BGR frame [H, W, 3], got shape {frame_bgr.shape}")
            h, w = frame_bgr.shape[:2]
            self.frame_size_px = (w - w % 2, h - h % 2)  # mp4v needs even sizes
        frame = fit_frame(frame_bgr, self.frame_size_px)
        if self.frames_written % self.segment_frames == 0:
            self._open_segment(self.frames_written // self.segment_frames)
        self._writer.write(np.ascontiguousarray(frame))
        self.frames_written += 1

    def _open_segment(self, index: int) -> None:
        self._release()
        path = self.folder / segment_name(self.kind, index)
        writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC), self.fps, self.frame_size_px
        )
        if not writer.isOpened():
            raise RecordingError(
                f"cannot write video segment {path}: OpenCV could not open it "
                f"(folder missing, not writable, or disk full)"
            )
        self._writer = writer

    def _release(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def close(self) -> None:
        """Finish the open segment (idempotent)."""
        self._release()
