"""Errors raised by session recording and reading."""
from __future__ import annotations


class RecordingError(OSError):
    """Recording had to stop (disk full, folder not writable, video writer failed).

    The writer has already closed what it could; the caller should stop recording,
    show ``str(error)`` to the user, and may keep tracking.
    """


class SessionFormatError(ValueError):
    """A folder is not a session, or a session file is malformed or too new."""
