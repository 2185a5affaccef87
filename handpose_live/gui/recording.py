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
from ..session import RecordingError, SessionWriter, timestamped_folder
from ..session.format import time_base_for

log = logging.getLogger(__name__)


class RecordingController:
    """Start/stop a ``SessionWriter`` and feed it results."""

    def __init__(self):
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

    @property
    def elapsed_s(self) -> float:
        """Seconds since recording started (0 when not recording)."""
        writer = self._writer
        return writer.elapsed_s if writer is not None else 0.0

    def new_folder(self, sessions_dir: Path) -> Path:
        """A new timestamped session folder under ``sessions_dir`` (not created yet)."""
        return timestamped_folder(sessions_dir)

    def start(self, folder: Path, *, fps: float, model_name: str, weights_sha256: dict,
              source_kind: str, source_description: str, smoothed: bool,
              palm_length_m: float | None = None, camera_fov_deg: float | None = None) -> Path:
        """Record into the new session folder ``folder`` (refused when it exists and is not
        empty); errors propagate with a user-facing message."""
        kind = source_kind if source_kind in ("camera", "video", "images") else "other"
        writer = SessionWriter(
            folder, fps=fps, model_name=model_name,
            weights_sha256=weights_sha256, source_kind=kind, source_description=source_description,
            mirrored=bool(self._view.get("mirror")), smoothed=smoothed,
            time_base=time_base_for(kind),
            palm_length_m=palm_length_m, camera_fov_deg=camera_fov_deg)
        with self._lock:
            self._writer, self.error, self._kind, self._t0 = writer, "", kind, None
        log.info("recording to %s", writer.folder)
        return writer.folder

    def stop(self, status: str = "complete", message: str | None = None,
             source_frames_lost: int | None = 0) -> Path | None:
        """Stop recording; ``status`` is the session's final status ("complete" when the user
        stopped it or the source ended, "incomplete" when a damaged source lost frames,
        "interrupted" for window close and signals)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is None:
            return None
        writer.close(status=status, message=message, source_frames_lost=source_frames_lost)
        log.info("recording stopped (%s): %d frames in %s", status, writer.frame_count,
                 writer.folder)
        return writer.folder

    def on_result(self, result: Result) -> None:
        """Append one processed frame (worker thread). Never raises: a failure stops recording,
        sets ``error`` and leaves a session with status "failed"."""
        if self._writer is None:
            return
        with self._lock:
            writer = self._writer
            if writer is None:
                return
            try:
                frame = result.frame
                if self._t0 is None:
                    self._t0 = frame.t_source
                t = {"camera": frame.t_source - self._t0, "images": None}.get(self._kind,
                                                                              frame.t_source)
                annotated = draw_view(frame.image, result.hands, result.mask, **self._view)
                writer.write(frame.index, t, result.hands, annotated, source=frame.name)
            except RecordingError as exc:  # disk full, unwritable: the writer closed itself
                log.error("recording failed: %s", exc)
                self.error, self._writer = str(exc), None
            except Exception as exc:  # noqa: BLE001 - a bug must not kill the worker thread
                log.exception("recording failed")
                writer.close(status="failed", message=f"{type(exc).__name__}: {exc}")
                self.error, self._writer = f"Recording stopped: {type(exc).__name__}: {exc}", None
