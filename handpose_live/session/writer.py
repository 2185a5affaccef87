"""SessionWriter: records a session folder incrementally, safe against crashes and kills."""
from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Sequence

import numpy as np

from ..hand import Hand
from . import format as fmt
from .errors import RecordingError
from .segments import SegmentedVideoWriter

MIN_FREE_BYTES = 50 * 1024 * 1024  # recording stops below this much free disk space
DISK_CHECK_EVERY_FRAMES = 30
# Space set aside at the start and given back at close, so that the final session.json can be
# written even when the disk filled up under the recording (a real ENOSPC between two checks).
RESERVE_FILE = ".space_reserve"
RESERVE_BYTES = 64 * 1024


def check_new_session_folder(folder: str | os.PathLike) -> Path:
    """Check, without creating anything, that ``folder`` can become a new session: it does not
    exist or is an empty folder, and the nearest existing parent is writable.

    Raises ``FileExistsError`` (not empty, or a file) and ``RecordingError`` (cannot be
    created) with a message meant for the user.
    """
    path = Path(folder).expanduser()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty folder; choose a new folder")
    parent = path.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise RecordingError(f"cannot create session folder {path}: {parent} is not a writable folder")
    return path


def prepare_session_folder(folder: str | os.PathLike) -> Path:
    """Create ``folder`` for a new session (see ``check_new_session_folder`` for what is
    refused, and the exceptions)."""
    path = check_new_session_folder(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise RecordingError(f"cannot create session folder {path}: {e.strerror or e}") from e
    if not os.access(path, os.W_OK):
        raise RecordingError(f"cannot record into {path}: the folder is not writable")
    return path


def timestamped_folder(sessions_dir: str | os.PathLike) -> Path:
    """A new, not yet existing ``sessions_dir/session_YYYYmmdd_HHMMSS[_N]`` path (not created)."""
    root = Path(sessions_dir)
    base = "session_" + datetime.now().strftime("%Y%m%d_%H%M%S")
    candidate, n = root / base, 1
    while candidate.exists():
        candidate, n = root / f"{base}_{n}", n + 1
    return candidate


class SessionWriter:
    """Writes ``session.json``, ``keypoints.jsonl`` and segmented annotated (and raw) video.

    ``session.json`` is written at once (status "recording") and replaced atomically when the
    frame size is known and on ``close()``. Each ``write()`` appends the video frame(s), then one
    jsonl line, flushed to the OS (``os.fsync`` every ``fsync_every_frames``; 0 disables), so
    a killed process loses at most the frame in flight and the last ~1 s of video (fragmented MP4).

    Any failure to write raises ``RecordingError``; the writer is then already closed (status
    "failed") and the caller can stop recording and keep tracking. Not thread-safe: call from
    one thread. Signal handling is the application's job: call ``close()`` from it.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        fps: float,
        model_name: str,
        weights_sha256: dict[str, str] | None = None,
        source_kind: str = "other",
        source_description: str = "",
        mirrored: bool = False,
        smoothed: bool = False,
        record_raw: bool = False,
        time_base: str = "media",
        segment_seconds: float = fmt.SEGMENT_SECONDS,
        fsync_every_frames: int = 30,
        palm_length_m: float | None = None,
        camera_fov_deg: float | None = None,
    ):
        self.folder = prepare_session_folder(folder)
        segment_frames = fmt.segment_frames_for(fps, segment_seconds)
        self._videos = {"annotated": SegmentedVideoWriter(self.folder, "annotated", fps, segment_frames)}
        if record_raw:
            self._videos["raw"] = SegmentedVideoWriter(self.folder, "raw", fps, segment_frames)
        self.info = fmt.new_info(
            fps=fps, model_name=model_name, weights_sha256=weights_sha256 or {},
            source_kind=source_kind, source_description=source_description, mirrored=mirrored,
            smoothed=smoothed, record_raw=record_raw, time_base=time_base,
            segment_frames=segment_frames, codec=self._videos["annotated"].codec, palm_length_m=palm_length_m,
            camera_fov_deg=camera_fov_deg,
        )
        self.fsync_every_frames = int(fsync_every_frames)
        self.frame_count = 0
        self.frames_with_hands = 0
        self.closed = False
        self._started = time.monotonic()
        self._guard(self._write_info, "session.json")
        self._guard(self._make_reserve, "the space reserve")
        try:
            self._jsonl = open(self.folder / fmt.KEYPOINTS_FILE, "w", encoding="utf-8", buffering=1)
        except OSError as e:
            self._fail(f"cannot create {self.folder / fmt.KEYPOINTS_FILE}: {e.strerror or e}", e)

    @property
    def elapsed_s(self) -> float:
        """Wall-clock seconds since the writer was created."""
        return time.monotonic() - self._started

    def write(
        self,
        frame: int,
        t: float | None,
        hands: Sequence[Hand],
        annotated_bgr: np.ndarray,
        *,
        raw_bgr: np.ndarray | None = None,
        source: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        """Append one processed frame.

        ``frame``: index in the source (capture count for cameras); ``t``: seconds (media time
        for files, since start for cameras, None if unknown); ``hands`` in raw-frame pixels;
        ``annotated_bgr``: the view as shown; ``raw_bgr``: the unannotated frame (required when
        recording raw video); ``width``/``height``: raw frame size in px (default: from
        ``raw_bgr``, else ``annotated_bgr``).
        """
        if self.closed:
            raise RecordingError(f"recording to {self.folder} has already stopped")
        if "raw" in self._videos and raw_bgr is None:
            raise ValueError("raw_bgr is required: this session records the raw video")
        ref = raw_bgr if raw_bgr is not None else annotated_bgr
        width = int(ref.shape[1] if width is None else width)
        height = int(ref.shape[0] if height is None else height)
        record = {
            "frame": int(frame),
            "t": None if t is None else round(float(t), 6),
            "source": source,
            "width": width,
            "height": height,
            "hands": [h.to_dict() for h in hands],
        }
        line = json.dumps(record, separators=(",", ":")) + "\n"
        self._guard(lambda: self._write_frame(annotated_bgr, raw_bgr, line, bool(hands)), "the frame")

    def _make_reserve(self) -> None:
        with open(self.folder / RESERVE_FILE, "wb") as f:
            f.write(b"\0" * RESERVE_BYTES)
            f.flush()
            os.fsync(f.fileno())

    def _write_frame(self, annotated_bgr, raw_bgr, line: str, has_hands: bool) -> None:
        n = self.frame_count + 1
        if n % DISK_CHECK_EVERY_FRAMES == 0:  # before anything of this frame is written, so
            self._check_free_space()            # that "frames" always equals the lines written
        first = self._videos["annotated"].frame_size_px is None
        self._videos["annotated"].write(annotated_bgr)
        if raw_bgr is not None and "raw" in self._videos:
            self._videos["raw"].write(raw_bgr)
        self._jsonl.write(line)
        self._jsonl.flush()
        # the line is out: count it now, so that whatever fails next, "frames" = lines written
        self.frame_count, self.frames_with_hands = n, self.frames_with_hands + has_hands
        if self.fsync_every_frames > 0 and n % self.fsync_every_frames == 0:
            os.fsync(self._jsonl.fileno())
        if first:
            self.info["frame_size"] = list(self._videos["annotated"].frame_size_px)
            self._write_info()

    def _check_free_space(self) -> None:
        free = shutil.disk_usage(self.folder).free
        if free < MIN_FREE_BYTES:
            raise RecordingError(
                f"recording stopped: the disk holding {self.folder} is almost full "
                f"({free / 1e6:.0f} MB free)"
            )

    def _write_info(self) -> None:
        self.info["frames"] = self.frame_count
        self.info["frames_with_hands"] = self.frames_with_hands
        tmp = self.folder / (fmt.INFO_FILE + ".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.info, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / fmt.INFO_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)  # never leave a half-written .tmp behind
            raise

    def _guard(self, action, what: str) -> None:
        try:
            action()
        except RecordingError as e:
            self._fail(str(e), e)
        except OSError as e:
            self._fail(f"recording stopped: cannot write {what} to {self.folder}: {e.strerror or e}", e)

    def _fail(self, message: str, cause: BaseException) -> None:
        self.close(status=fmt.STATUS_FAILED, message=message)
        raise RecordingError(message) from cause

    def close(self, status: str = fmt.STATUS_COMPLETE, message: str | None = None,
              source_frames_lost: int | None = 0) -> None:
        """Finish the videos and write the final ``session.json``. Idempotent; never raises
        for I/O problems (the previous ``session.json`` stays valid if the update fails).
        ``source_frames_lost``: frames of the source that could not be read (a damaged video;
        ``None`` = some, number unknown)."""
        if self.closed:
            return
        self.closed = True
        self.info["source_frames_lost"] = source_frames_lost
        for video in self._videos.values():
            try:
                video.close()
            except Exception:  # noqa: BLE001 - closing must not hide the original problem
                pass
        jsonl = getattr(self, "_jsonl", None)
        if jsonl is not None:
            try:
                jsonl.close()
            except OSError:  # a full disk: the buffered tail of a line is lost, a partial last
                pass         # line may remain (readers ignore it)
        (self.folder / RESERVE_FILE).unlink(missing_ok=True)  # room for the last session.json
        self.info.update(status=status, status_message=message, ended=fmt.now_iso())
        try:
            self._write_info()
        except OSError:
            pass

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close(status=fmt.STATUS_INTERRUPTED, message="interrupted")
        else:
            self.close(status=fmt.STATUS_FAILED, message=f"{exc_type.__name__}: {exc}")
