"""What the main window's menus and controls do — switching sources, models and view options,
snapshots, the status line: ``WindowActions``, a mixin of ``MainWindow`` (its methods use the
window's ``settings``, ``actions``, ``panel``, ``runtime``, ``status``, ``video``)."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import cv2
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QFileDialog, QMessageBox

from ..sources import VIDEO_SUFFIXES, SourceError, open_demo, open_source
from . import dialogs
from .model_choice import ModelLoadError, installed_models, load_estimator
from .status_text import LiveView
from .settings import resolution_size

log = logging.getLogger(__name__)


def _version() -> str:
    from .. import __version__

    return __version__


class WindowActions:
    """What the main window's menus and controls do (a mixin of ``MainWindow``)."""

    def build_menus(self) -> None:
        a = self.actions
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for item in (a.open_video, a.open_folder, a.demo, None, a.open_session, None, a.snapshot,
                     a.record, a.sessions_dir, None, a.quit):
            file_menu.addSeparator() if item is None else file_menu.addAction(item)
        view_menu = bar.addMenu("&View")
        for item in (a.play, None, a.smoothing, a.mask, a.crop, a.mirror, a.camera_mirrors, None,
                     a.reset_view):
            view_menu.addSeparator() if item is None else view_menu.addAction(item)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a.conventions)
        help_menu.addAction(a.about)

    def apply_settings_to_controls(self, devices) -> None:
        s, a, p = self.settings, self.actions, self.panel
        for action, value in ((a.smoothing, s.smoothing), (a.mask, s.show_mask), (a.crop, s.show_crop),
                              (a.mirror, s.mirror_view), (a.camera_mirrors, s.camera_mirrors)):
            action.setChecked(value)
        p.resolution_combo.setCurrentText(s.resolution)
        p.set_models(installed_models(), s.model)
        p.set_devices(list(devices), s.device)
        p.side_combo.setCurrentText(s.hand_side)
        p.hand_size_spin.setValue(s.hand_size_cm)
        p.fov_spin.setValue(s.camera_fov_deg)
        geometry = self.store.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.store.value("window_state")
        if state is not None:
            self.restoreState(state)

    def connect_controls(self) -> None:
        a, p, s = self.actions, self.panel, self.settings

        def toggle(name):
            def slot(on):
                setattr(s, name, bool(on))
                if self.runtime is not None:
                    self.runtime.set_smoothing(s.smoothing)
                    self.runtime.set_camera_mirrors(s.camera_mirrors)
                self.recorder.set_view(mirror=s.mirror_view, show_mask=s.show_mask, spec=self.draw_spec())
                if self.last_result is not None:
                    self.show_result(self.last_result)
            return slot

        for action, name in ((a.smoothing, "smoothing"), (a.mask, "show_mask"), (a.crop, "show_crop"),
                             (a.mirror, "mirror_view"), (a.camera_mirrors, "camera_mirrors")):
            action.toggled.connect(toggle(name))
        self.recorder.set_view(mirror=s.mirror_view, show_mask=s.show_mask, spec=self.draw_spec())
        a.play.toggled.connect(lambda on: self.runtime and self.runtime.pause(not on))
        a.play.toggled.connect(lambda on: a.play.setText("Pause" if on else "Start"))
        a.open_video.triggered.connect(lambda: self.open_video())
        a.open_folder.triggered.connect(lambda: self.open_folder())
        a.demo.triggered.connect(lambda: self.switch_source("demo"))
        a.snapshot.triggered.connect(lambda: self.snapshot())
        a.record.toggled.connect(lambda on: self.toggle_recording(on))
        a.sessions_dir.triggered.connect(lambda: self.choose_sessions_dir())
        a.open_session.triggered.connect(lambda: self.open_session())
        a.quit.triggered.connect(self.close)
        a.reset_view.triggered.connect(lambda: self.view3d.reset_view())
        a.conventions.triggered.connect(lambda: dialogs.show_conventions(self))
        a.about.triggered.connect(lambda: dialogs.show_about(
            self, _version(), self._model_name(), self._device(), self.log_path or "(none)"))
        p.source_combo.currentIndexChanged.connect(
            lambda i: self.switch_source(p.source_combo.itemData(i)))
        p.resolution_combo.currentTextChanged.connect(lambda text: self.change_resolution(text))
        p.model_combo.currentIndexChanged.connect(lambda i: self.change_model(p.model_combo.itemData(i)))
        p.device_combo.currentTextChanged.connect(lambda text: self.change_model(s.model, device=text))
        p.side_combo.currentTextChanged.connect(lambda text: self.change_side(text))
        p.hand_size_spin.valueChanged.connect(lambda cm: self.change_hand_size(cm))
        p.fov_spin.valueChanged.connect(lambda deg: self.change_camera_fov(deg))

    def _model_name(self) -> str:
        return getattr(self.estimator, "model_name", None) or "none"

    def _device(self) -> str:
        device = getattr(self.estimator, "device", None) or self.settings.device
        if getattr(self.estimator, "backend", None) == "onnxruntime":
            return f"{device} · ONNX Runtime"
        return device

    def switch_source(self, key) -> None:
        """Open camera index / "demo" / a path ``key``; on failure keep the current source."""
        try:
            if key == "demo":
                source = open_demo()
            else:
                size = resolution_size(self.settings.resolution)
                source = open_source(key, resolution=size)
        except (SourceError, ValueError) as exc:
            self.status.set_message(str(exc))
            QMessageBox.warning(self, "Cannot open source", str(exc))
            self.panel.show_source(self.source_key)
            return
        if isinstance(key, int):
            self.settings.camera_index = key
        self.start_source(source, key)

    def open_video(self) -> None:
        patterns = " ".join(f"*{s}" for s in VIDEO_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(self, "Open video", self.settings.last_dir,
                                              f"Videos ({patterns});;All files (*)")
        if path:
            self.settings.last_dir = str(Path(path).parent)
            self.switch_source(path)

    def open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open image folder", self.settings.last_dir)
        if path:
            self.settings.last_dir = path
            self.switch_source(path)

    def change_resolution(self, text: str) -> None:
        self.settings.resolution = text
        if isinstance(self.source_key, int):
            self.switch_source(self.source_key)

    def change_model(self, model: str, device: str | None = None) -> None:
        device = device or self.settings.device
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            estimator, message = load_estimator(model or None, device)
        except ModelLoadError as exc:
            QMessageBox.warning(self, "Cannot load model", str(exc))
            self.panel.set_models(installed_models(), self.settings.model)
            self.panel.set_devices([self.panel.device_combo.itemText(i)
                                 for i in range(self.panel.device_combo.count())], self.settings.device)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.settings.model, self.settings.device = model or "", device
        self.set_estimator(estimator, message)

    def change_side(self, side: str) -> None:
        self.settings.hand_side = side
        if self.runtime is not None:
            self.runtime.set_hand_side(side)

    def change_hand_size(self, cm: float) -> None:
        """The palm length (cm) that scales the 3D keypoints; a recording keeps the size it
        started with (the spin box is disabled while recording)."""
        self.settings.hand_size_cm = round(float(cm), 1)
        self.apply_hand_size()

    def change_camera_fov(self, deg: float) -> None:
        """The camera's horizontal field of view (degrees) the 3D is turned with; like the hand
        size, a recording keeps the one it started with."""
        self.settings.camera_fov_deg = round(float(deg), 1)
        self.apply_hand_size()

    def snapshot(self) -> None:
        """Save the annotated frame (PNG) and its hands (JSON) under the snapshots folder."""
        if self.last_result is None or self.last_view is None:
            self.status.showMessage("Nothing to save yet", 3000)
            return
        folder = self.data_dir / "snapshots"
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / time.strftime("snapshot_%Y%m%d_%H%M%S")
        n = 1
        while stem.with_suffix(".png").exists():
            stem, n = folder / f"{stem.name.split('-')[0]}-{n}", n + 1
        cv2.imwrite(str(stem.with_suffix(".png")), self.last_view)
        frame = self.last_result.frame
        record = {"frame": frame.index, "width": frame.image.shape[1], "height": frame.image.shape[0],
                  "model": self._model_name(), "hands": [h.to_dict() for h in self.last_result.hands]}
        stem.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
        self.status.showMessage(f"Saved {stem.with_suffix('.png')}", 5000)
        log.info("snapshot %s", stem)

    def open_session(self) -> None:
        """File → Open session: replay a session in its own window (live processing pauses
        unless it is being recorded)."""
        from .replay_window import ask_and_open_session  # imported on use: it is a second window

        window = ask_and_open_session(self, self.settings.last_dir or str(self.sessions_dir()))
        if window is None:
            return
        self.settings.last_dir = str(window.reader.folder.parent)
        self.replay_windows.append(window)
        window.destroyed.connect(lambda *_: self.replay_windows.remove(window)
                                 if window in self.replay_windows else None)
        if self.runtime is not None and not self.recorder.recording:
            self.actions.play.setChecked(False)

    def update_status(self) -> None:
        """Refresh the figures, the status message and the banner (stats timer)."""
        rt = self.runtime
        if rt is None:
            return
        stats = rt.stats()
        if (rt.source.is_live and stats.finished and not rt.paused) or self.lost_source is not None:
            self._camera_lost(rt, stats)
            return
        view = LiveView(rt.source.kind, rt.lossless, rt.estimator is not None, rt.paused, self.display_latency_ms,
                        getattr(rt.source, "frame_count", None))
        if self.max_frames is not None and rt.lossless:
            view.total = min(view.total or self.max_frames, self.max_frames)
        self.status.show_stats(stats, view, self._device(), self._model_name())
        if self.recorder.error:
            error, self.recorder.error = self.recorder.error, ""
            self.stop_recording()
            self.status.showMessage(error, 15000)
            QMessageBox.warning(self, "Recording stopped", error)
        self.refresh_record_button()
        loss = self.source_loss()  # a damaged video: frames read past
        notes = [n for n in (self.source_note, stats.error, loss, self.model_message) if n]
        if stats.finished and self.max_frames is None:
            notes.append(f"End of {rt.source.name}.")
        self.status.set_message("  ·  ".join(notes) or f"Tracking {rt.source.name}")
        lines = [n for n in (self.source_note, stats.error or loss or self.model_message) if n]
        kind = "error" if stats.error else "warning" if loss or self.model_message else "info"
        self.video.set_banner("\n".join(lines), kind)
        state = "Paused — " if rt.paused else ""
        self.video.set_caption(f"{state}{rt.source.name}")

    def _camera_lost(self, rt, stats) -> None:
        """A camera stopped delivering (how OpenCV reports an unplug): stop the recording
        ("interrupted", with the reason), take the hands off the frozen frame, say so in a banner
        and try to reopen the camera every ``RECONNECT_MS`` (a new recording is the user's choice)."""
        if self.lost_source is None:
            reason = stats.error or "no more frames"
            self.lost_source = (self.source_key, rt.source.name, reason)
            self.reconnect_attempts = 0
            log.warning("%s lost: %s", rt.source.name, reason)
            if self.recorder.recording:
                self.stop_recording("interrupted", f"{rt.source.name} lost: {reason}")
            if self.last_result is not None:  # the last frame stays, without its (stale) hands
                self.video.set_frame(self.last_result.frame.image)
            self.memory.clear()
            self.view3d.show_hands([])
            self.set_3d_header([], 0)
            self.reconnect_timer.start()
        view = LiveView(rt.source.kind, rt.lossless, rt.estimator is not None, lost=True)
        self.status.show_stats(stats, view, self._device(), self._model_name())
        _, name, reason = self.lost_source
        text = (f"{name} lost ({reason}). Trying to reconnect every {self.reconnect_timer.interval() / 1000:g} s"
                f" — attempt {self.reconnect_attempts}.")
        self.video.set_banner(text, "error")
        self.video.set_caption(f"{name} — lost")
        self.status.set_message(text)

    def try_reconnect(self) -> None:
        """Reconnect timer: reopen the lost camera; on success, track it again."""
        if self.lost_source is None:
            self.reconnect_timer.stop()
            return
        key, name, _ = self.lost_source
        self.reconnect_attempts += 1
        try:
            source = open_source(key, resolution=resolution_size(self.settings.resolution))
        except (SourceError, ValueError) as exc:
            log.info("reconnect %d to %s failed: %s", self.reconnect_attempts, name, exc)
            self.update_status()
            return
        self.reconnect_timer.stop()
        self.lost_source = None
        log.info("%s reconnected after %d attempt(s)", name, self.reconnect_attempts)
        self.start_source(source, key, f"{name} reconnected.")
