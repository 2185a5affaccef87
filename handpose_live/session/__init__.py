"""Recorded sessions: one folder with session.json, keypoints.jsonl and segmented video.

The format is documented in ``docs/session_format.md``.
"""
from .csv_export import CSV_COLUMNS, export_csv
from .errors import RecordingError, SessionFormatError
from .format import FORMAT_VERSION
from .letterbox import fit_frame, letterbox_transform
from .reader import FrameRecord, SessionReader, read_info
from .writer import SessionWriter, prepare_session_folder, timestamped_folder

__all__ = [
    "CSV_COLUMNS", "FORMAT_VERSION", "FrameRecord", "RecordingError", "SessionFormatError",
    "SessionReader", "SessionWriter", "export_csv", "fit_frame", "letterbox_transform",
    "prepare_session_folder", "read_info", "timestamped_folder",
]
