"""Frame readers that treat a camera, a video file, an image folder and the demo clip alike.

Every source yields BGR ``uint8`` frames ``[H, W, 3]`` through ``read()``. No Qt, no threads:
the capture thread in ``runtime.py`` drives them.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import cv2
import numpy as np

from .assets import DEMO_DIR
from .frame_check import frame_problem

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
FOLDER_FPS = 30.0  # nominal frame rate of an image folder (for smoothing timestamps)


class SourceError(ValueError):
    """A source cannot be opened or read. The message is meant for the user."""


class FrameSource:
    """Base class. ``read()`` returns the next BGR frame, or ``None`` at the end of the source.

    Attributes:
        name: short user-facing description ("camera 0", "video clip.mp4", ...).
        kind: "camera", "video" or "images" (the session format's source kinds).
        is_live: True for cameras (frames arrive in real time and may be dropped).
        fps: frames per second of the source, ``None`` when it has no timing (image folder).
        position: index in the source of the frame ``read()`` returned last (an image folder's
            file index, so skipped files leave a gap), or ``None`` = count the frames read.
        label: the file name of that frame (image folders), else ``None``.
        frames_lost: frames of the source that could not be read (``None``: some, number unknown).
    """

    name = "source"
    kind = "other"
    is_live = False
    fps: float | None = None
    position: int | None = None
    label: str | None = None
    frames_lost: int | None = 0

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def loss_message(self) -> str | None:
        """What was lost of the source so far, for the status and the session; None: nothing."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


class CameraSource(FrameSource):
    """OpenCV camera ``index``, opened at ``resolution`` = (width, height) when given.

    The driver may pick the closest mode it supports; ``frame_size`` tells what it chose.
    """

    kind = "camera"
    is_live = True

    def __init__(self, index: int, resolution: tuple[int, int] | None = None):
        self.index = int(index)
        self.name = f"camera {self.index}"
        if sys.platform.startswith("linux") and not Path(f"/dev/video{self.index}").exists():
            raise SourceError(f"no camera found at index {self.index} (/dev/video{self.index} missing)")
        self._cap = cv2.VideoCapture(self.index)
        if not self._cap.isOpened():
            raise SourceError(f"cannot open camera {self.index}: no such camera or it is in use")
        if resolution is not None:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(resolution[0]))
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(resolution[1]))
        ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise SourceError(f"camera {self.index} opened but delivers no frames")
        self._pending: np.ndarray | None = _as_bgr(frame)
        self.frame_size = (frame.shape[1], frame.shape[0])
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if 1.0 <= fps <= 240.0 else 30.0

    def read(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        ok, frame = self._cap.read()
        return _as_bgr(frame) if ok and frame is not None else None

    def close(self) -> None:
        self._cap.release()


# Failed reads in a row before a video counts as ended: OpenCV's read fails at a damaged packet
# and succeeds again at the next frame it can decode, so a damaged spot is read past.
READ_RETRIES = 25
# A video that ends this many frames or fewer short of its container's frame count is not called
# truncated (some containers only estimate the count from the duration).
END_TOLERANCE_FRAMES = 2


class VideoFileSource(FrameSource):
    """A video file (or a stream path such as a FIFO, read as it arrives); with ``loop=True`` it
    restarts at the end (the demo clip does).

    A damaged spot is read past (up to ``READ_RETRIES`` failed reads in a row). Frames lost there
    are counted from the timestamps on both sides of it, and frames missing at the end from the
    container's frame count (a truncated file); ``frames_lost`` is the total (``None`` when a gap's
    size cannot be told) and ``position`` counts lost frames too, so they leave a gap in the
    frame numbers. ``loss_message()`` says what was lost, for the status and the session.
    """

    kind = "video"

    def __init__(self, path: str | Path, loop: bool = False):
        self.path = Path(path)
        self.loop = loop
        self.name = f"video {self.path.name}"
        if not self.path.exists() or self.path.is_dir():
            raise SourceError(f"video file not found: {self.path}")
        self._cap = cv2.VideoCapture(str(self.path))
        ok, frame = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or frame is None:
            self._cap.release()
            raise SourceError(f"cannot decode video file {self.path} (corrupt or unsupported format)")
        self._pending: np.ndarray | None = _as_bgr(frame)
        self.frame_size = (frame.shape[1], frame.shape[0])
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if 1.0 <= fps <= 240.0 else 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        self.frames_lost: int | None = 0
        self.damaged_at: list[float] = []  # media seconds of each damaged spot read past
        self._delivered = 0
        self._last_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        self.ended = False

    def read(self) -> np.ndarray | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            self.position, self._delivered = 0, 1
            return frame
        if self.ended:
            return None
        failures = 0
        while True:
            ok, frame = self._cap.read()
            if ok and frame is not None:
                break
            if self.loop:  # the demo clip: back to the start (a restart, not damage)
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
                if not ok or frame is None:
                    return None
                failures = 0
                break
            failures += 1
            if failures > READ_RETRIES:
                self._at_end()
                return None
        now_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if failures:
            self._count_gap(self._last_ms, now_ms)
        self._last_ms = now_ms
        self._delivered += 1
        self.position = self._delivered - 1 + (self.frames_lost or 0)
        return _as_bgr(frame)

    def _count_gap(self, before_ms: float, after_ms: float) -> None:
        """A damaged spot was read past between two frames at these media times."""
        self.damaged_at.append(after_ms / 1000.0)
        step = 1000.0 / self.fps
        if not (np.isfinite(before_ms) and np.isfinite(after_ms) and after_ms > before_ms):
            self.frames_lost = None  # no usable timestamps: lost, but how many is unknown
        elif self.frames_lost is not None:
            self.frames_lost += max(0, round((after_ms - before_ms) / step) - 1)

    def _at_end(self) -> None:
        self.ended = True
        short = (self.frame_count or 0) - self._delivered - (self.frames_lost or 0)
        if self.frame_count and short > END_TOLERANCE_FRAMES:  # cut off: the rest never came
            self.damaged_at.append(self._last_ms / 1000.0)
            if self.frames_lost is not None:
                self.frames_lost += short

    def loss_message(self) -> str | None:
        """None when nothing was lost (so far), else e.g. "12 frames lost: clip.mp4 is damaged or
        truncated (at 1.6 s)"."""
        if not self.damaged_at or self.frames_lost == 0:
            return None
        where = ", ".join(f"{t:.1f} s" for t in self.damaged_at[:3]) + (", ..." if len(self.damaged_at) > 3 else "")
        lost = "frames lost (how many is unknown)" if self.frames_lost is None else \
            f"{self.frames_lost} frame{'s' if self.frames_lost != 1 else ''} lost"
        return f"{lost}: {self.path.name} is damaged or truncated (at {where})"

    def close(self) -> None:
        self._cap.release()


class ImageFolderSource(FrameSource):
    """The images of a folder in name order; unreadable files are skipped (and counted)."""

    kind = "images"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.name = f"folder {self.folder.name}"
        if not self.folder.is_dir():
            raise SourceError(f"image folder not found: {self.folder}")
        self.paths = sorted(
            p for p in self.folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.paths:
            suffixes = ", ".join(IMAGE_SUFFIXES)
            raise SourceError(f"no images ({suffixes}) in folder {self.folder}")
        self.frame_count = len(self.paths)
        self.skipped: list[Path] = []
        self._next = 0

    def read(self) -> np.ndarray | None:
        while self._next < len(self.paths):
            path = self.paths[self._next]
            self._next += 1
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            problem = frame_problem(frame)
            if not problem:  # undecodable or too small: skipped, the others go on
                self.position, self.label = self._next - 1, path.name
                return frame
            log.warning("skipped %s: %s", path.name, problem)
            self.skipped.append(path)
        return None


def demo_clip_path() -> Path:
    """The bundled demo clip, ``assets/demo/demo.mp4`` (or another ``demo.*`` video there)."""
    for path in sorted(DEMO_DIR.glob("demo.*")):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return path
    raise SourceError(f"the demo clip is missing from {DEMO_DIR}; reinstall the app")


def open_demo() -> VideoFileSource:
    """The demo clip, looping."""
    source = VideoFileSource(demo_clip_path(), loop=True)
    source.name = "demo clip"
    return source


def parse_source(text: str) -> int | Path:
    """``--source`` text: an integer is a camera index, anything else a path (not checked here)."""
    text = str(text).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if index < 0:
            raise SourceError(f"camera index must be >= 0, got {index}")
        return index
    if not text:
        raise SourceError("empty --source; give a camera index, a video file or an image folder")
    return Path(text).expanduser()


def open_source(
    spec: int | str | Path, resolution: tuple[int, int] | None = None, loop: bool = False
) -> FrameSource:
    """Open a camera index, a video file or an image folder; ``SourceError`` says what failed."""
    if isinstance(spec, str):
        spec = parse_source(spec)
    if isinstance(spec, int):
        return CameraSource(spec, resolution)
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path)
    if path.exists():  # a file, or a stream path such as a FIFO: read as a video
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise SourceError(f"{path} is a single image; give the folder that holds it")
        return VideoFileSource(path, loop=loop)
    raise SourceError(f"source not found: {path} (expected a camera index, video file or image folder)")
