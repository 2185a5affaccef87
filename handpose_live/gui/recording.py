"""Recording hook: writes every processed frame to a session folder (``handpose_live.session``).

``on_result`` runs on the inference worker thread (so no processed frame is missed, whatever the
repaint rate); ``start``/``stop`` run on the GUI thread. A lock keeps them apart. No Qt here.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..drawing import DrawSpec, draw_view
from ..runtime import Result

log = logging.getLogger(__name__)


class RecordingController:
    """Start/stop a ``SessionWriter`` and feed it results. ``available`` is False (and ``reason``
    says why) when the session package cannot be imported."""

    def __init__(self):
        try:
            from ..session import RecordingError, SessionWriter, timestamped_folder
        except ImportError as exc:  # the sessions package is optional for the live view
            self.available, self.reason = False, f"recording unavailable: {exc}"
            self._writer_cls = None
        else:
            self.available, self.reason = True, ""
            self._writer_cls, self._folder_for, self._error_cls = (
                SessionWriter, timestamped_folder, RecordingError)
        self._lock = threading.Lock()
        self._writer = None
        self._view: dict = {}
        self.error = ""  # set when recording stopped by itself (disk full, ...)

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def folder(self) -> Path | None:
        writer = self._writer
        return writer.folder if writer is not None else None

    @property
    def frames(self) -> int:
        writer = self._writer
        return writer.frame_count if writer is not None else 0

    def set_view(self, *, mirror: bool, show_mask: bool, spec: DrawSpec) -> None:
        """How annotated frames are drawn (the view as shown in the window)."""
        self._view = {"mirror": mirror, "show_mask": show_mask, "spec": spec}

    def start(self, sessions_dir: Path, *, fps: float, model_name: str, weights_sha256: dict,
              source_kind: str, source_description: str, smoothed: bool) -> Path:
        """Open a new session folder under ``sessions_dir``; errors propagate (user-facing)."""
        if not self.available:
            raise RuntimeError(self.reason)
        kind = source_kind if source_kind in ("camera", "video", "images") else "other"
        writer = self._writer_cls(
            self._folder_for(sessions_dir), fps=fps, model_name=model_name,
            weights_sha256=weights_sha256, source_kind=kind, source_description=source_description,
            mirrored=bool(self._view.get("mirror")), smoothed=smoothed,
            time_base={"camera": "wall_clock", "images": "none"}.get(kind, "media"))
        with self._lock:
            self._writer, self.error, self._kind, self._t0 = writer, "", kind, None
        log.info("recording to %s", writer.folder)
        return writer.folder

    def stop(self) -> Path | None:
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is None:
            return None
        writer.close()
        log.info("recording stopped: %d frames in %s", writer.frame_count, writer.folder)
        return writer.folder

    def on_result(self, result: Result) -> None:
        """Append one processed frame (worker thread)."""
        if self._writer is None:
            return
        with self._lock:
            writer = self._writer
            if writer is None:
                return
            frame = result.frame
            if self._t0 is None:
                self._t0 = frame.t_source
            t = {"camera": frame.t_source - self._t0, "images": None}.get(self._kind, frame.t_source)
            annotated = draw_view(frame.image, result.hands, result.mask, **self._view)
            try:
                writer.write(frame.index, t, result.hands, annotated)
            except Exception as exc:  # RecordingError: the writer has closed itself
                log.exception("recording failed")
                self.error = str(exc)
                self._writer = None
