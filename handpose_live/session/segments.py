"""A video written as a series of fragmented-MP4 segments that survive ``kill -9``.

Each segment is an MP4 whose index is written up front (``empty_moov``) and whose frames follow in
fragments of at most one second, each written out as soon as it closes: a killed recorder leaves
every finished fragment readable, so at most ~1 s of video is lost (measured:
``scripts/measure_killsafe_video.py``, BENCHMARKS.md). Encoded with PyAV (its wheel bundles FFmpeg):
H.264 through x264 where the PyAV build has it (the codec browsers and common players support),
else FFmpeg's own MPEG-4 Part 2 encoder (players such as VLC and mpv; not browsers).
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from .errors import RecordingError
from .format import segment_name
from .letterbox import fit_frame

# (PyAV encoder, the codec name session.json records, encoder options), in order of preference
ENCODERS = (
    ("libx264", "h264", {"preset": "veryfast", "tune": "zerolatency", "crf": "23"}),
    ("mpeg4", "mpeg4", {"q:v": "5"}),
)
MUXER_OPTIONS = {
    # the index up front, a fragment at each keyframe and at least every second, written out at once
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",  # microseconds
    "flush_packets": "1",
}


def available_encoder(codec: str | None = None) -> tuple[str, str, dict]:
    """The first of ``ENCODERS`` (or of those for ``codec``) this PyAV build can encode with."""
    for name, known, options in ENCODERS:
        if codec not in (None, known):
            continue
        try:
            av.codec.Codec(name, "w")
        except ValueError:  # UnknownCodecError is a ValueError
            continue
        return name, known, options
    wanted = codec or "an H.264 (x264) nor an MPEG-4"
    raise RecordingError(f"this PyAV build has no {wanted} encoder")


class SegmentedVideoWriter:
    """Writes frames to ``<kind>_000.mp4``, ``<kind>_001.mp4``, … in ``folder``.

    Every segment holds ``segment_frames`` frames (the last one may hold fewer), so frame
    ``k`` is frame ``k % segment_frames`` of segment ``k // segment_frames``. The frame size
    is fixed by the first frame; later frames of another size are letterboxed into it.
    A keyframe starts every second (``gop`` = fps, at least 1), so fragments close that often.
    ``codec``: "h264" or "mpeg4" (default: the first this PyAV build has).
    """

    def __init__(self, folder: Path, kind: str, fps: float, segment_frames: int, codec: str | None = None):
        if segment_frames < 1:
            raise ValueError(f"segment_frames must be >= 1, got {segment_frames}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        segment_name(kind, 0)  # validates kind
        self.folder = Path(folder)
        self.kind = kind
        self.fps = float(fps)
        self.segment_frames = int(segment_frames)
        self.encoder, self.codec, self._options = available_encoder(codec)
        self.frame_size_px: tuple[int, int] | None = None  # (width, height)
        self.frames_written = 0
        self._container = None
        self._stream = None
        self._pts = 0

    @property
    def segments_started(self) -> int:
        """Number of segment files created so far."""
        return -(-self.frames_written // self.segment_frames)

    def write(self, frame_bgr: np.ndarray) -> None:
        """Append one BGR frame; opens the next segment when the current one is full."""
        if self.frame_size_px is None:
            if frame_bgr.ndim != 3 or frame_bgr.shape[0] < 2 or frame_bgr.shape[1] < 2 or frame_bgr.shape[2] != 3:
                raise ValueError(f"expected a BGR frame [H, W, 3], got shape {frame_bgr.shape}")
            h, w = frame_bgr.shape[:2]
            self.frame_size_px = (w - w % 2, h - h % 2)  # 4:2:0 video needs even sizes
        frame = np.ascontiguousarray(fit_frame(frame_bgr, self.frame_size_px))
        if self.frames_written % self.segment_frames == 0:
            self._open_segment(self.frames_written // self.segment_frames)
        try:
            video_frame = av.VideoFrame.from_ndarray(frame, format="bgr24")
            video_frame.pts = self._pts
            self._container.mux(self._stream.encode(video_frame))
        except av.error.FFmpegError as e:
            if isinstance(e, OSError):
                raise  # e.g. ENOSPC: the session writer reports it with the folder
            raise RecordingError(f"cannot encode video frame {self.frames_written}: {e}") from e
        self._pts += 1
        self.frames_written += 1

    def _open_segment(self, index: int) -> None:
        self._release()
        path = self.folder / segment_name(self.kind, index)
        try:
            container = av.open(str(path), "w", format="mp4", options=MUXER_OPTIONS)
        except av.error.FFmpegError as e:
            raise RecordingError(f"cannot write video segment {path}: {e}") from e
        rate = Fraction(self.fps).limit_denominator(1001)
        stream = container.add_stream(self.encoder, rate=rate)
        stream.width, stream.height = self.frame_size_px
        stream.pix_fmt = "yuv420p"
        stream.time_base = 1 / rate
        stream.codec_context.gop_size = max(1, int(self.fps))
        stream.codec_context.options = dict(self._options)
        self._container, self._stream, self._pts = container, stream, 0

    def _release(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.mux(self._stream.encode(None))  # the encoder's last frames
            finally:
                container.close()

    def close(self) -> None:
        """Finish the open segment (idempotent)."""
        self._release()
