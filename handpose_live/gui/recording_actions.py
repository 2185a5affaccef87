"""What the record button and the sessions-folder menu item do. Functions take the
``MainWindow`` as ``w``; the writing itself is ``RecordingController`` (``recording.py``)."""
from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QMessageBox

log = logging.getLogger(__name__)


def sessions_dir(w) -> Path:
    """Where the record button puts new sessions: the user's choice, else ``<data>/sessions``."""
    return Path(w.settings.sessions_dir) if w.settings.sessions_dir else w.data_dir / "sessions"


def choose_sessions_dir(w) -> None:
    path = QFileDialog.getExistingDirectory(w, "Folder for recorded sessions", str(sessions_dir(w)))
    if path:
        w.settings.sessions_dir = path
        w.status.showMessage(f"New recordings go to {path}", 5000)
        refresh_record_button(w)


def start_recording(w, folder: Path | None = None) -> Path:
    """Record the current stream into ``folder`` (default: a new timestamped folder under
    ``sessions_dir``). Raises with a user-facing message when it cannot start."""
    if w.runtime is None:
        raise RuntimeError("nothing to record: no source is open")
    source, estimator = w.runtime.source, w.estimator
    target = folder if folder is not None else w.recorder.new_folder(sessions_dir(w))
    folder = w.recorder.start(
        target, fps=source.fps or 10.0,
        model_name=getattr(estimator, "model_name", None) or "none",
        weights_sha256=dict(getattr(estimator, "weights_sha256", {}) or {}),
        source_kind=source.kind, source_description=source.name, smoothed=w.settings.smoothing)
    set_record_checked(w, True)
    w.status.showMessage(f"Recording to {folder}", 5000)
    refresh_record_button(w)
    return folder


def stop_recording(w, status: str = "complete", message: str | None = None) -> Path | None:
    folder = w.recorder.stop(status, message)
    set_record_checked(w, False)
    refresh_record_button(w)
    if folder is not None:
        w.status.showMessage(f"Recording saved to {folder}", 8000)
    return folder


def toggle_recording(w, on: bool) -> None:
    """The record button: start in a new timestamped folder, or stop (status "complete")."""
    if not on:
        stop_recording(w)
        return
    try:
        start_recording(w)
    except Exception as exc:  # noqa: BLE001 - any failure to start is shown, never raised
        log.exception("cannot start recording")
        set_record_checked(w, False)
        QMessageBox.warning(w, "Cannot record", str(exc))


def set_record_checked(w, on: bool) -> None:
    """Check the record button without triggering ``toggle_recording``."""
    action = w.actions.record
    action.blockSignals(True)
    action.setChecked(on)
    action.blockSignals(False)


def refresh_record_button(w) -> None:
    """Button text: "Record", or elapsed time and frame count while recording (stats timer)."""
    action, recorder = w.actions.record, w.recorder
    if not recorder.available:
        return
    if recorder.recording:
        minutes, seconds = divmod(int(recorder.elapsed_s), 60)
        action.setText(f"Stop ● {minutes}:{seconds:02d} · {recorder.frames} frames")
        action.setToolTip(f"Recording to {recorder.folder} (Ctrl+R stops)")
    else:
        action.setText("Record")
        action.setToolTip(f"Record a session into a new folder under {sessions_dir(w)} (Ctrl+R)")
    w.status.show_recording(recorder.frames if recorder.recording else None)
