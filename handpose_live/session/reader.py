"""SessionReader: random access to a recorded session's frames, hands and video frames."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..hand import Hand
from . import format as fmt
from .errors import SessionFormatError
from .letterbox import letterbox_transform


@dataclass
class FrameRecord:
    """One line of ``keypoints.jsonl``. Coordinates are raw (unmirrored) source-frame pixels."""

    index: int  # line number (0-based) = frame number in the annotated video
    frame: int  # index in the source (capture count for cameras)
    t: float | None  # seconds: media time (files), since start (cameras), None (image folders)
    source: str | None  # image file name for image-folder sources
    width: int  # raw frame size, px
    height: int
    hands: list[Hand]
    damaged: str = ""  # why the line could not be read ("" = it could): then no hands, frame -1


def read_info(folder: str | os.PathLike) -> dict:
    """Parsed and checked ``session.json`` of ``folder``; ``SessionFormatError`` if not a session."""
    path = Path(folder)
    if not path.exists():
        raise FileNotFoundError(f"session folder not found: {path}")
    if not path.is_dir():
        raise SessionFormatError(f"not a session: {path} is not a folder")
    info_path = path / fmt.INFO_FILE
    if not info_path.is_file():
        raise SessionFormatError(f"not a session: {path} has no {fmt.INFO_FILE}")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SessionFormatError(f"not a session: {info_path} is not valid JSON ({e})") from e
    if not isinstance(info, dict) or info.get("format") != fmt.FORMAT_NAME:
        raise SessionFormatError(f"not a session: {info_path} is not a {fmt.FORMAT_NAME} file")
    version = info.get("format_version")
    if not isinstance(version, int) or version > fmt.FORMAT_VERSION:
        raise SessionFormatError(
            f"{info_path} has format version {version!r}; this app reads versions up to "
            f"{fmt.FORMAT_VERSION} (update the app)"
        )
    problem = _info_problem(info)
    if problem:
        raise SessionFormatError(f"{info_path} is damaged: {problem}")
    return info


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _info_problem(info: dict) -> str:
    """What is wrong with the fields a reader relies on ("" when nothing): one line."""
    fps = info.get("fps")
    if not _number(fps) or not 0 < fps <= 1000:
        return f"fps must be a number in (0, 1000], got {fps!r}"
    size = info.get("frame_size")
    if size is not None and not (isinstance(size, list) and len(size) == 2
                                 and all(isinstance(v, int) and v > 0 for v in size)):
        return f"frame_size must be [width, height] in pixels or null, got {size!r}"
    names = info.get("keypoint_names")
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        return "keypoint_names must be a list of names"
    video = info.get("video")
    if not isinstance(video, dict):
        return f"video must be an object, got {type(video).__name__}"
    frames = video.get("segment_frames")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        return f"video.segment_frames must be a positive whole number, got {frames!r}"
    for key in ("status", "time_base"):
        if info.get(key) is not None and not isinstance(info.get(key), str):
            return f"{key} must be text, got {info.get(key)!r}"
    for key in ("mirrored", "smoothed"):
        if key in info and not isinstance(info[key], bool):
            return f"{key} must be true or false, got {info[key]!r}"
    for key in ("model", "source"):
        if info.get(key) is not None and not isinstance(info[key], dict):
            return f"{key} must be an object, got {info[key]!r}"
    return ""


def _line_offsets(path: Path) -> tuple[list[int], bool]:
    """Byte offsets of each complete line of ``path``, and whether a partial last line exists."""
    offsets, pos = [], 0
    with open(path, "rb") as f:
        data = f.read()
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            return offsets, True  # a line cut off by a kill: ignored
        if end > pos:
            offsets.append(pos)
        pos = end + 1
    return offsets, False


class SessionReader:
    """Reads a session folder. ``len(reader)`` frames; ``reader[k]`` is a ``FrameRecord``;
    ``reader.video_frame(k)`` the matching annotated (or raw) video frame, or None when that
    part of the video was lost (e.g. the segment open when the recorder was killed).

    Lines are indexed at open and parsed on demand, so long sessions open fast and seeking is
    cheap. A partial last line (the frame in flight at a kill) is ignored: see ``truncated``. A
    damaged line (not JSON, wrong fields) is still frame ``k`` of the video — line k stays matched
    to video frame k — but reads as a record without hands whose ``damaged`` says why;
    ``damaged_lines()`` lists them all.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.info = read_info(self.folder)
        jsonl = self.folder / fmt.KEYPOINTS_FILE
        if not jsonl.is_file():
            raise SessionFormatError(f"not a session: {self.folder} has no {fmt.KEYPOINTS_FILE}")
        self._jsonl_path = jsonl
        self._offsets, self.truncated = _line_offsets(jsonl)
        self._file = open(jsonl, "rb")
        self._caps: dict[tuple[str, int], list] = {}  # (kind, segment) -> [capture, next index]
        self._record = lru_cache(maxsize=256)(self._parse)

    # --- header ---------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        return float(self.info["fps"])

    @property
    def frame_size_px(self) -> tuple[int, int] | None:
        """(width, height) of the video frames, None when no frame was recorded."""
        size = self.info.get("frame_size")
        return None if size is None else (int(size[0]), int(size[1]))

    @property
    def mirrored(self) -> bool:
        return bool(self.info.get("mirrored", False))

    @property
    def keypoint_names(self) -> list[str]:
        return list(self.info["keypoint_names"])

    @property
    def ended_cleanly(self) -> bool:
        """False when the recorder was killed or failed (status "recording" or "failed")."""
        return self.info.get("status") in (fmt.STATUS_COMPLETE, fmt.STATUS_INTERRUPTED, fmt.STATUS_INCOMPLETE)

    # --- keypoints ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._offsets)

    def __getitem__(self, index: int) -> FrameRecord:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range: session has {len(self)} frames")
        return self._record(index)

    def __iter__(self) -> Iterator[FrameRecord]:
        for k in range(len(self)):
            yield self[k]

    def hands(self, index: int) -> list[Hand]:
        return self[index].hands

    def _parse(self, index: int) -> FrameRecord:
        self._file.seek(self._offsets[index])
        line = self._file.readline()
        try:
            d = json.loads(line)
            hands = [Hand.from_dict(h) for h in d["hands"]]
            return FrameRecord(
                index=index, frame=int(d["frame"]), t=d.get("t"), source=d.get("source"),
                width=int(d["width"]), height=int(d["height"]), hands=hands,
            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            width, height = self.frame_size_px or (0, 0)
            reason = f"line {index + 1} of {fmt.KEYPOINTS_FILE} is damaged ({type(e).__name__}: {e})"
            return FrameRecord(index=index, frame=-1, t=None, source=None, width=width, height=height,
                               hands=[], damaged=reason[:300])

    def damaged_lines(self) -> list[int]:
        """0-based indices of the lines that could not be read (parses every line once)."""
        return [k for k in range(len(self)) if self[k].damaged]

    # --- video ----------------------------------------------------------------------------
    def has_video(self, kind: str = "annotated") -> bool:
        return (self.folder / fmt.segment_name(kind, 0)).is_file()

    def video_frame(self, index: int, kind: str = "annotated") -> np.ndarray | None:
        """BGR frame ``index`` of the ``kind`` video ("annotated" or "raw"), or None if missing.

        Sequential reads decode one frame each; a jump seeks within one ≤10 s segment.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range: session has {len(self)} frames")
        per_segment = int(self.info["video"]["segment_frames"])
        segment, pos = divmod(index, per_segment)
        entry = self._capture(kind, segment)
        if entry is None:
            return None
        cap, next_pos = entry
        if pos != next_pos:
            cap.set(cv2.CAP_PROP_POS_FRAMES, pos)
        ok, frame = cap.read()
        entry[1] = pos + 1 if ok else -1
        return frame if ok else None

    def _capture(self, kind: str, segment: int):
        key = (kind, segment)
        if key not in self._caps:
            if len(self._caps) >= 2:  # keep at most two segments open (current and previous)
                old = next(iter(self._caps))
                cap = self._caps.pop(old)
                if cap is not None:
                    cap[0].release()
            path = self.folder / fmt.segment_name(kind, segment)
            cap = cv2.VideoCapture(str(path)) if path.is_file() else None
            self._caps[key] = [cap, 0] if cap is not None and cap.isOpened() else None
        return self._caps[key]

    def video_point_px(self, record: FrameRecord, points_px: np.ndarray) -> np.ndarray:
        """Raw-frame pixel points ``[..., 2]`` of ``record`` mapped into the video frame
        (letterbox, then mirror when the session's view was mirrored)."""
        size = self.frame_size_px
        if size is None:
            raise ValueError("the session has no video frames")
        scale, ox, oy = letterbox_transform((record.width, record.height), size)
        out = np.asarray(points_px, np.float64) * scale + (ox, oy)
        if self.mirrored:
            out[..., 0] = size[0] - 1 - out[..., 0]
        return out

    def close(self) -> None:
        for entry in self._caps.values():
            if entry is not None:
                entry[0].release()
        self._caps.clear()
        self._file.close()

    def __enter__(self) -> "SessionReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
