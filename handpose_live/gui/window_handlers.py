"""What the main window's menus and controls do: switching sources, models and view options,
snapshots, recording and the status line. Functions take the ``MainWindow`` as ``w``."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import cv2
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QFileDialog, QMessageBox

from ..sources import VIDEO_SUFFIXES, SourceError, open_demo, open_source
from . import dialogs, recording_actions
from .model_choice import ModelLoadError, installed_models, load_estimator
from .status_text import LiveView
from .settings import resolution_size

log = logging.getLogger(__name__)


def build_menus(w) -> None:
    a = w.actions
    bar = w.menuBar()
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


def apply_settings_to_controls(w, devices) -> None:
    s, a, p = w.settings, w.actions, w.panel
    for action, value in ((a.smoothing, s.smoothing), (a.mask, s.show_mask), (a.crop, s.show_crop),
                          (a.mirror, s.mirror_view), (a.camera_mirrors, s.camera_mirrors)):
        action.setChecked(value)
    p.resolution_combo.setCurrentText(s.resolution)
    p.set_models(installed_models(), s.model)
    p.set_devices(list(devices), s.device)
    p.side_combo.setCurrentText(s.hand_side)
    if not w.recorder.available:
        a.record.setEnabled(False)
        a.record.setToolTip(w.recorder.reason)
    geometry = w.store.value("geometry")
    if geometry is not None:
        w.restoreGeometry(geometry)
    state = w.store.value("window_state")
    if state is not None:
        w.restoreState(state)


def connect_controls(w) -> None:
    a, p, s = w.actions, w.panel, w.settings

    def toggle(name):
        def slot(on):
            setattr(s, name, bool(on))
            if w.runtime is not None:
                w.runtime.set_smoothing(s.smoothing)
                w.runtime.set_camera_mirrors(s.camera_mirrors)
            w.recorder.set_view(mirror=s.mirror_view, show_mask=s.show_mask, spec=w.draw_spec())
            if w.last_result is not None:
                w.show_result(w.last_result)
        return slot

    for action, name in ((a.smoothing, "smoothing"), (a.mask, "show_mask"), (a.crop, "show_crop"),
                         (a.mirror, "mirror_view"), (a.camera_mirrors, "camera_mirrors")):
        action.toggled.connect(toggle(name))
    w.recorder.set_view(mirror=s.mirror_view, show_mask=s.show_mask, spec=w.draw_spec())
    a.play.toggled.connect(lambda on: w.runtime and w.runtime.pause(not on))
    a.play.toggled.connect(lambda on: a.play.setText("Pause" if on else "Start"))
    a.open_video.triggered.connect(lambda: open_video(w))
    a.open_folder.triggered.connect(lambda: open_folder(w))
    a.demo.triggered.connect(lambda: switch_source(w, "demo"))
    a.snapshot.triggered.connect(lambda: snapshot(w))
    a.record.toggled.connect(lambda on: recording_actions.toggle_recording(w, on))
    a.sessions_dir.triggered.connect(lambda: recording_actions.choose_sessions_dir(w))
    a.open_session.triggered.connect(lambda: open_session(w))
    a.quit.triggered.connect(w.close)
    a.reset_view.triggered.connect(lambda: w.view3d.reset_view())
    a.conventions.triggered.connect(lambda: dialogs.show_conventions(w))
    a.about.triggered.connect(lambda: dialogs.show_about(
        w, _version(), _model_name(w), _device(w), w.log_path or "(none)"))
    p.source_combo.currentIndexChanged.connect(
        lambda i: switch_source(w, p.source_combo.itemData(i)))
    p.resolution_combo.currentTextChanged.connect(lambda text: change_resolution(w, text))
    p.model_combo.currentIndexChanged.connect(lambda i: change_model(w, p.model_combo.itemData(i)))
    p.device_combo.currentTextChanged.connect(lambda text: change_model(w, s.model, device=text))
    p.side_combo.currentTextChanged.connect(lambda text: change_side(w, text))


def _version() -> str:
    try:
        from .. import __version__
        return __version__
    except ImportError:
        return ""


def _model_name(w) -> str:
    return getattr(w.estimator, "model_name", None) or "none"


def _device(w) -> str:
    return getattr(w.estimator, "device", None) or w.settings.device


def switch_source(w, key) -> None:
    """Open camera index / "demo" / a path ``key``; on failure keep the current source."""
    try:
        if key == "demo":
            source = open_demo()
        else:
            size = resolution_size(w.settings.resolution)
            source = open_source(key, resolution=size)
    except (SourceError, ValueError) as exc:
        w.status.set_message(str(exc))
        QMessageBox.warning(w, "Cannot open source", str(exc))
        w.panel.show_source(w.source_key)
        return
    if isinstance(key, int):
        w.settings.camera_index = key
    w.start_source(source, key)


def open_video(w) -> None:
    patterns = " ".join(f"*{s}" for s in VIDEO_SUFFIXES)
    path, _ = QFileDialog.getOpenFileName(w, "Open video", w.settings.last_dir,
                                          f"Videos ({patterns});;All files (*)")
    if path:
        w.settings.last_dir = str(Path(path).parent)
        switch_source(w, path)


def open_folder(w) -> None:
    path = QFileDialog.getExistingDirectory(w, "Open image folder", w.settings.last_dir)
    if path:
        w.settings.last_dir = path
        switch_source(w, path)


def change_resolution(w, text: str) -> None:
    w.settings.resolution = text
    if isinstance(w.source_key, int):
        switch_source(w, w.source_key)


def change_model(w, model: str, device: str | None = None) -> None:
    device = device or w.settings.device
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        estimator, message = load_estimator(model or None, device)
    except ModelLoadError as exc:
        QMessageBox.warning(w, "Cannot load model", str(exc))
        w.panel.set_models(installed_models(), w.settings.model)
        w.panel.set_devices([w.panel.device_combo.itemText(i)
                             for i in range(w.panel.device_combo.count())], w.settings.device)
        return
    finally:
        QApplication.restoreOverrideCursor()
    w.settings.model, w.settings.device = model or "", device
    w.set_estimator(estimator, message)


def change_side(w, side: str) -> None:
    w.settings.hand_side = side
    if w.runtime is not None:
        w.runtime.worker.hand_side = side


def snapshot(w) -> None:
    """Save the annotated frame (PNG) and its hands (JSON) under the snapshots folder."""
    if w.last_result is None or w.last_view is None:
        w.status.showMessage("Nothing to save yet", 3000)
        return
    folder = w.data_dir / "snapshots"
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / time.strftime("snapshot_%Y%m%d_%H%M%S")
    n = 1
    while stem.with_suffix(".png").exists():
        stem, n = folder / f"{stem.name.split('-')[0]}-{n}", n + 1
    cv2.imwrite(str(stem.with_suffix(".png")), w.last_view)
    frame = w.last_result.frame
    record = {"frame": frame.index, "width": frame.image.shape[1], "height": frame.image.shape[0],
              "model": _model_name(w), "hands": [h.to_dict() for h in w.last_result.hands]}
    stem.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    w.status.showMessage(f"Saved {stem.with_suffix('.png')}", 5000)
    log.info("snapshot %s", stem)


def open_session(w) -> None:
    """File → Open session: replay a session in its own window (live processing pauses
    unless it is being recorded)."""
    from .replay_window import ask_and_open_session  # imported on use: it is a second window

    window = ask_and_open_session(w, w.settings.last_dir or str(recording_actions.sessions_dir(w)))
    if window is None:
        return
    w.settings.last_dir = str(window.reader.folder.parent)
    w.replay_windows.append(window)
    window.destroyed.connect(lambda *_: w.replay_windows.remove(window)
                             if window in w.replay_windows else None)
    if w.runtime is not None and not w.recorder.recording:
        w.actions.play.setChecked(False)


def update_status(w) -> None:
    """Refresh the figures, the status message and the banner (stats timer)."""
    rt = w.runtime
    if rt is None:
        return
    stats = rt.stats()
    view = LiveView(rt.source.kind, rt.lossless, rt.estimator is not None, rt.paused, w.display_latency_ms,
                    getattr(rt.source, "frame_count", None))
    if w.max_frames is not None and rt.lossless:
        view.total = min(view.total or w.max_frames, w.max_frames)
    w.status.show_stats(stats, view, _device(w), _model_name(w))
    if w.recorder.error:
        error, w.recorder.error = w.recorder.error, ""
        recording_actions.stop_recording(w)
        w.status.showMessage(error, 15000)
        QMessageBox.warning(w, "Recording stopped", error)
    recording_actions.refresh_record_button(w)
    notes = [n for n in (w.source_note, stats.error, w.model_message) if n]
    if stats.finished and w.max_frames is None:
        notes.append(f"End of {rt.source.name}.")
    w.status.set_message("  ·  ".join(notes) or f"Tracking {rt.source.name}")
    lines = [n for n in (w.source_note, stats.error or w.model_message) if n]
    kind = "error" if stats.error else "warning" if w.model_message else "info"
    w.video.set_banner("\n".join(lines), kind)
    state = "Paused — " if rt.paused else ""
    w.video.set_caption(f"{state}{rt.source.name}")
