"""Start the app: parse flags, check the input, open the live or the replay window;
``--record``, ``--max-frames``, ``--screenshot``; SIGINT/SIGTERM close the window cleanly.

Bad input (missing file, corrupt video, unknown model or device) prints one ``error: …`` line
and returns a non-zero exit code before any window opens. Details go to the log file.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from PyQt5.QtCore import QCoreApplication, Qt, QtMsgType, qInstallMessageHandler
from PyQt5.QtWidgets import QApplication

from ..cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, build_parser
from ..session import RecordingError
from ..session.writer import check_new_session_folder
from ..sources import SourceError, open_demo, open_source
from .model_choice import ModelLoadError, check_device, load_estimator
from .signals import install_signal_handlers, signal_name
from .settings import APPLICATION, ORGANIZATION, AppSettings, data_dir, default_store, resolution_size

log = logging.getLogger("handpose_live")


def setup_logging(folder: Path) -> Path:
    """Log to ``folder/handpose-live.log`` (rotated at 1 MB); Qt's own messages go there too."""
    path = folder / "handpose-live.log"
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    qt_levels = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
                 QtMsgType.QtWarningMsg: logging.WARNING, QtMsgType.QtCriticalMsg: logging.ERROR,
                 QtMsgType.QtFatalMsg: logging.CRITICAL}
    qt_log = logging.getLogger("qt")
    qInstallMessageHandler(lambda kind, _ctx, msg: qt_log.log(qt_levels.get(kind, logging.INFO), msg))
    return path


def available_devices() -> tuple[str, ...]:
    try:
        import torch
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except ImportError:
        count = 0
    return ("auto", "cpu") + tuple(f"cuda:{i}" for i in range(count))


def open_start_source(args, settings: AppSettings):
    """``(source, key, note)``: ``--source``, else the last camera, else the demo clip."""
    size = resolution_size(settings.resolution)
    if args.source is not None:
        source = open_source(args.source, resolution=size)
        key = int(args.source) if source.is_live else str(args.source)
        return source, key, ""
    try:
        return open_source(settings.camera_index, resolution=size), settings.camera_index, ""
    except SourceError as exc:
        log.info("no camera: %s", exc)
        note = f"No camera found at index {settings.camera_index} — playing the demo clip."
        return open_demo(), "demo", note


def prepare(args, settings: AppSettings):
    """Check device, source and model before any window opens. Raises ``SourceError`` /
    ``ModelLoadError`` for bad input."""
    if args.device is not None:
        settings.device = check_device(args.device)
    else:
        try:
            check_device(settings.device)
        except ModelLoadError:
            settings.device = "auto"  # the GPU remembered from last time is gone
    if args.resolution:
        settings.resolution = args.resolution
    if args.no_smoothing:
        settings.smoothing = False
    if args.hand_size is not None:
        settings.hand_size_cm = round(args.hand_size * 100, 1)
    if args.camera_fov is not None:
        settings.camera_fov_deg = round(args.camera_fov, 1)
    source, key, note = open_start_source(args, settings)
    try:
        if args.model is not None:
            settings.model = args.model
            estimator, message = load_estimator(args.model, settings.device, args.precision)
        else:
            try:
                estimator, message = load_estimator(settings.model or None, settings.device,
                                                    args.precision)
            except ModelLoadError:  # the model remembered from last time is gone
                settings.model = ""
                estimator, message = load_estimator(None, settings.device, args.precision)
    except BaseException:
        source.close()
        raise
    return source, key, note, estimator, message


def check_record_dir(folder: str) -> Path:
    """``--record DIR``: DIR must not exist, or be an empty folder, under a writable parent.
    ``ValueError`` with a one-line message otherwise (checked before the window opens)."""
    try:
        return check_new_session_folder(folder)
    except (FileExistsError, RecordingError) as exc:
        raise ValueError(f"--record: {exc}") from None


def check_screenshot_path(path: str) -> Path:
    """``--screenshot PATH``: a .png whose folder exists (or can be made) and is writable;
    ``ValueError`` with a one-line message otherwise (checked before the window opens)."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"--screenshot: {target} is a folder; give a file name such as shot.png")
    if target.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp"):
        raise ValueError(f"--screenshot: {target} should end in .png (or .jpg, .bmp)")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ValueError(f"--screenshot: cannot write under {parent}")
    return target


def check_replay_args(args) -> None:
    """``--replay`` shows a recorded session: live-source flags make no sense with it."""
    clashes = [flag for flag, value in (("--source", args.source), ("--record", args.record),
                                        ("--resolution", args.resolution)) if value]
    if clashes:
        raise ValueError(f"--replay cannot be combined with {', '.join(clashes)}")


def run(argv: list[str]) -> int:
    """Entry point of the window; returns the exit code."""
    args = build_parser().parse_args(argv)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    log_path = setup_logging(data_dir())
    store = default_store()
    settings = AppSettings.load(store)
    if args.replay is not None:
        from .replay_window import OPEN_ERRORS, open_session
        try:
            check_replay_args(args)
            if args.screenshot:
                check_screenshot_path(args.screenshot)
            reader = open_session(args.replay)
        except (ValueError, *OPEN_ERRORS) as exc:
            log.error("cannot replay: %s", exc)
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        return run_replay(args, reader, log_path)
    try:
        record_dir = check_record_dir(args.record) if args.record else None
        if args.screenshot:
            check_screenshot_path(args.screenshot)
        source, key, note, estimator, message = prepare(args, settings)
    except (SourceError, ModelLoadError, ValueError) as exc:
        log.error("startup failed: %s", exc)
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    return run_window(args, settings, store, source, key, note, estimator, message, log_path,
                      record_dir)


def make_app() -> QApplication:
    if QApplication.instance() is None:  # GL widgets may move between windows (docks)
        QCoreApplication.setAttribute(Qt.AA_ShareOpenGLContexts)
    return QApplication.instance() or QApplication(sys.argv[:1])


def run_window(args, settings, store, source, key, note, estimator, message, log_path,
               record_dir: Path | None = None) -> int:
    from .main_window import MainWindow  # imports pyqtgraph.opengl: after the cheap checks

    app = make_app()
    window = MainWindow(settings, store, estimator, message, max_frames=args.max_frames,
                        devices=available_devices(), log_path=str(log_path),
                        data_dir=data_dir())
    window.show()
    try:
        window.start_source(source, key, note, record_dir=record_dir)
    except Exception as exc:  # noqa: BLE001 - checked before, but the disk may disagree
        log.exception("cannot record")
        sys.stderr.write(f"error: cannot record into {record_dir}: {exc}\n")
        window.close()
        return EXIT_ERROR
    window.update_status()
    return run_event_loop(app, window, args.screenshot, window.interrupt, log_path)


def run_replay(args, reader, log_path: Path) -> int:
    from .replay_window import ReplayWindow  # imports pyqtgraph.opengl: after the cheap checks

    app = make_app()
    window = ReplayWindow(reader, max_frames=args.max_frames)
    window.show()
    return run_event_loop(app, window, args.screenshot, lambda reason: window.close(), log_path)


def run_event_loop(app, window, screenshot: str | None, interrupt, log_path) -> int:
    """Run Qt until ``window`` closes: ``finished(code)`` closes it, ``screenshot`` is saved
    at exit, SIGINT/SIGTERM call ``interrupt(reason)`` and exit with ``EXIT_INTERRUPTED``."""
    exit_code = [EXIT_OK]

    def excepthook(kind, value, tb):  # an exception in a slot: log it, tell the user, keep going
        log.error("unexpected error", exc_info=(kind, value, tb))
        window.statusBar().showMessage(f"Internal error: {value} (details in {log_path})", 15000)

    previous_hook, sys.excepthook = sys.excepthook, excepthook

    def save_screenshot():
        if screenshot and not getattr(save_screenshot, "done", False):
            save_screenshot.done = True
            path = Path(screenshot)
            try:
                app.processEvents()
                path.parent.mkdir(parents=True, exist_ok=True)
                problem = "" if window.grab().save(str(path)) else "the image could not be written"
            except Exception as exc:  # noqa: BLE001 - the exit path must never hang on it
                log.exception("screenshot failed")
                problem = str(exc)
            if problem:
                sys.stderr.write(f"error: cannot save screenshot to {path}: {problem}\n")
                exit_code[0] = EXIT_ERROR
            else:
                log.info("screenshot saved to %s", path)

    def on_finished(code: int):
        """The way out: whatever fails on it (screenshot, recorder, close), the app ends."""
        exit_code[0] = exit_code[0] or code
        try:
            save_screenshot()
            window.close()
        except Exception as exc:  # noqa: BLE001
            log.exception("closing failed")
            sys.stderr.write(f"error: closing failed: {exc}\n")
            exit_code[0] = exit_code[0] or EXIT_ERROR
        finally:
            if window.isVisible():  # close() failed or was refused: leave anyway
                app.exit(exit_code[0] or EXIT_ERROR)

    def on_signal(signum: int):
        reason = f"interrupted by {signal_name(signum)}"
        log.info("%s: closing", reason)
        exit_code[0] = EXIT_INTERRUPTED
        interrupt(reason)

    window.close_hooks.append(save_screenshot)
    window.finished.connect(on_finished)
    restore_signals = install_signal_handlers(window, on_signal)
    try:
        code = app.exec_()
    finally:
        restore_signals()
        sys.excepthook = previous_hook
        stop = getattr(window, "stop_runtime", None)
        if stop is not None:
            stop()
    return exit_code[0] or code
