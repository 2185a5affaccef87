"""Session format constants and the ``session.json`` header (see docs/session_format.md)."""
from __future__ import annotations

from datetime import datetime, timezone

from ..skeleton import KEYPOINT_NAMES

FORMAT_NAME = "handpose-live-session"
FORMAT_VERSION = 2  # 2: fragmented-MP4 video (H.264 or MPEG-4), "video.codec" names the codec

INFO_FILE = "session.json"
KEYPOINTS_FILE = "keypoints.jsonl"
CSV_FILE = "keypoints.csv"
VIDEO_KINDS = ("annotated", "raw")
VIDEO_SUFFIX = ".mp4"
SEGMENT_SECONDS = 10.0

# Status values of session.json; "recording" after the end means the writer never closed.
STATUS_RECORDING = "recording"
STATUS_COMPLETE = "complete"
STATUS_INTERRUPTED = "interrupted"
STATUS_FAILED = "failed"
STATUS_INCOMPLETE = "incomplete"  # the source was read to its end, but frames of it were lost (damaged video)

SOURCE_KINDS = ("camera", "video", "images", "other")

UNITS = {"keypoints_2d": "px", "bbox": "px", "keypoints_3d": "m", "t": "s"}
AXES = {
    "keypoints_2d": "x right, y down, origin at the top-left corner of the raw (unmirrored) "
    "source frame",
    "keypoints_3d": "camera axes: x right, y down, z forward; origin at the wrist",
}


def segment_name(kind: str, index: int) -> str:
    """File name of video segment ``index`` (0-based) of ``kind`` ("annotated" or "raw")."""
    if kind not in VIDEO_KINDS:
        raise ValueError(f"video kind must be one of {VIDEO_KINDS}, got {kind!r}")
    if index < 0:
        raise ValueError(f"segment index must be >= 0, got {index}")
    return f"{kind}_{index:03d}{VIDEO_SUFFIX}"


def segment_frames_for(fps: float, segment_seconds: float = SEGMENT_SECONDS) -> int:
    """Frames per video segment: as many as fit in ``segment_seconds`` at ``fps`` (at least 1)."""
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    return max(1, int(fps * segment_seconds + 1e-6))


def time_base_for(source_kind: str) -> str:
    """What ``t`` means for a source kind: seconds since the start for cameras, none for image
    folders, the media time otherwise."""
    return {"camera": "wall_clock", "images": "none"}.get(source_kind, "media")


def now_iso() -> str:
    """Current local time, ISO 8601 with UTC offset, to the second."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def app_version() -> str:
    """Version string of handpose_live, or "unknown" when the package does not define one."""
    import handpose_live

    return str(getattr(handpose_live, "__version__", "unknown"))


def new_info(
    *,
    fps: float,
    model_name: str,
    weights_sha256: dict[str, str],
    source_kind: str,
    source_description: str,
    mirrored: bool,
    smoothed: bool,
    record_raw: bool,
    time_base: str,
    segment_frames: int,
    codec: str,
    palm_length_m: float | None = None,
    camera_fov_deg: float | None = None,
) -> dict:
    """The ``session.json`` content at the start of a recording (frame size still unknown)."""
    if source_kind not in SOURCE_KINDS:
        raise ValueError(f"source_kind must be one of {SOURCE_KINDS}, got {source_kind!r}")
    if time_base not in ("media", "wall_clock", "none"):
        raise ValueError(f"time_base must be 'media', 'wall_clock' or 'none', got {time_base!r}")
    videos = {"annotated": True, "raw": bool(record_raw)}
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": now_iso(),
        "ended": None,
        "status": STATUS_RECORDING,
        "status_message": None,
        "app_version": app_version(),
        "model": {"name": str(model_name), "weights_sha256": dict(weights_sha256)},
        "source": {"kind": source_kind, "description": str(source_description)},
        "frame_size": None,
        "fps": float(fps),
        "time_base": time_base,
        "mirrored": bool(mirrored),
        "palm_length_m": None if palm_length_m is None else round(float(palm_length_m), 4),
        "camera_fov_deg": None if camera_fov_deg is None else round(float(camera_fov_deg), 2),
        "smoothed": bool(smoothed),
        "keypoint_names": list(KEYPOINT_NAMES),
        "units": dict(UNITS),
        "axes": dict(AXES),
        "video": {
            "codec": str(codec),
            "container": "fragmented mp4",
            "segment_frames": int(segment_frames),
            "files": {k: (f"{k}_NNN{VIDEO_SUFFIX}" if on else None) for k, on in videos.items()},
            "letterbox": "frames of another size are scaled to fit frame_size, centred, "
            "black borders",
        },
        "frames": 0,
        "frames_with_hands": 0,
        "source_frames_lost": 0,
    }
