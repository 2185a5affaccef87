"""What the record button and the sessions-folder menu item do: ``RecordingActions``, a mixin of
``MainWindow`` (its methods use the window's ``settings``, ``recorder``, ``actions``, ``status``);
the writing itself is ``RecordingController`` (``recording.py``)."""
from __future__ import annotations

import logging
from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QMessageBox

log = logging.getLogger(__name__)


class RecordingActions:
    """What the record button and the sessions-folder menu item do (a mixin of ``MainWindow``)."""

    def sessions_dir(self) -> Path:
        """Where the record button puts new sessions: the user's choice, else ``<data>/sessions``."""
        return Path(self.settings.sessions_dir) if self.settings.sessions_dir else self.data_dir / "sessions"

    def choose_sessions_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for recorded sessions", str(self.sessions_dir()))
        if path:
            self.settings.sessions_dir = path
            self.status.showMessage(f"New recordings go to {path}", 5000)
            self.refresh_record_button()

    def start_recording(self, folder: Path | None = None) -> Path:
        """Record the current stream into ``folder`` (default: a new timestamped folder under
        ``sessions_dir``). Raises with a user-facing message when it cannot start."""
        if self.runtime is None:
            raise RuntimeError("nothing to record: no source is open")
        source, estimator = self.runtime.source, self.estimator
        target = folder if folder is not None else self.recorder.new_folder(self.sessions_dir())
        folder = self.recorder.start(
            target, fps=source.fps or 10.0,
            model_name=getattr(estimator, "model_name", None) or "none",
            weights_sha256=dict(getattr(estimator, "weights_sha256", {}) or {}),
            source_kind=source.kind, source_description=source.name, smoothed=self.settings.smoothing,
            palm_length_m=getattr(estimator, "palm_length_m", None),
            camera_fov_deg=getattr(estimator, "camera_fov_deg", None))
        self.set_record_checked(True)
        self.status.showMessage(f"Recording to {folder}", 5000)
        self.refresh_record_button()
        return folder

    def stop_recording(self, status: str = "complete", message: str | None = None) -> Path | None:
        lost = 0
        loss = self.source_loss()
        if status == "complete" and loss:  # frames of a damaged video were read past
            status, message, lost = "incomplete", loss, self.runtime.source.frames_lost
        folder = self.recorder.stop(status, message, lost)
        self.set_record_checked(False)
        self.refresh_record_button()
        if folder is not None:
            self.status.showMessage(f"Recording saved to {folder}", 8000)
        return folder

    def source_loss(self) -> str | None:
        """What a damaged video source lost so far (``FrameSource.loss_message``), or None."""
        return self.runtime.source.loss_message() if self.runtime is not None else None

    def toggle_recording(self, on: bool) -> None:
        """The record button: start in a new timestamped folder, or stop (status "complete")."""
        if not on:
            self.stop_recording()
            return
        try:
            self.start_recording()
        except Exception as exc:  # noqa: BLE001 - any failure to start is shown, never raised
            log.exception("cannot start recording")
            self.set_record_checked(False)
            QMessageBox.warning(self, "Cannot record", str(exc))

    def set_record_checked(self, on: bool) -> None:
        """Check the record button without triggering ``toggle_recording``."""
        action = self.actions.record
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)

    def refresh_record_button(self) -> None:
        """Button text: "Record", or elapsed time and frame count while recording (stats timer)."""
        action, recorder = self.actions.record, self.recorder
        if recorder.recording:
            minutes, seconds = divmod(int(recorder.elapsed_s), 60)
            action.setText(f"Stop ● {minutes}:{seconds:02d} · {recorder.frames} frames")
            action.setToolTip(f"Recording to {recorder.folder} (Ctrl+R stops)")
        else:
            action.setText("Record")
            action.setToolTip(f"Record a session into a new folder under {self.sessions_dir()} (Ctrl+R)")
        self.status.show_recording(recorder.frames if recorder.recording else None)
        self.panel.hand_size_spin.setEnabled(not recorder.recording)  # session.json holds one size
        self.panel.fov_spin.setEnabled(not recorder.recording)  # and one field of view
