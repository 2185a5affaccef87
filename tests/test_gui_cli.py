"""main.py: flags, one-line errors for bad input, dispatch to batch mode, a real run under Xvfb."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import QSettings

import handpose_live
from handpose_live.cli import build_parser, wants_batch

REPO = Path(__file__).resolve().parent.parent


def load_main():
    spec = importlib.util.spec_from_file_location("handpose_main", REPO / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_main(tmp_path, monkeypatch, capsys):
    from handpose_live.gui import app

    monkeypatch.setattr(app, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(app, "default_store",
                        lambda: QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    main = load_main()

    def run(*argv):
        with pytest.raises(SystemExit) as exit_info:
            raise SystemExit(main.main(list(argv)))
        err = capsys.readouterr().err.strip()
        return exit_info.value.code, err
    return run


def test_wants_batch():
    assert wants_batch(["--headless", "--source", "a.mp4"])
    assert wants_batch(["--export-csv=s"])
    assert not wants_batch(["--source", "a.mp4", "--max-frames", "3"])
    assert not wants_batch(["--replay", "s"])  # the replay window


def test_parser_defaults_and_flags():
    args = build_parser().parse_args(["--source", "0", "--device", "cuda:1", "--max-frames", "5",
                                      "--screenshot", "s.png", "--resolution", "640x480"])
    assert (args.source, args.device, args.max_frames, args.resolution) == ("0", "cuda:1", 5, "640x480")


def test_missing_and_corrupt_sources_fail_with_one_line(run_main, tmp_path):
    code, err = run_main("--source", str(tmp_path / "nope.mp4"))
    assert code == 2 and err.startswith("error: ") and "not found" in err and "\n" not in err
    (tmp_path / "bad.mp4").write_bytes(b"garbage" * 100)
    code, err = run_main("--source", str(tmp_path / "bad.mp4"))
    assert code == 2 and "cannot decode" in err and "\n" not in err


@pytest.mark.parametrize("argv, words", [
    (["--device", "gpu"], "unknown device"),
    (["--max-frames", "0"], ">= 1"),
    (["--resolution", "big"], "1280x720"),
    (["--model", "/no/such/model", "--source", "assets/demo/demo.mp4"], "not found"),
    (["--source", "assets/demo/demo.mp4", "--screenshot", "README.md/shot.png"], "cannot write under README.md"),
    (["--source", "assets/demo/demo.mp4", "--screenshot", "assets"], "is a folder"),
])
def test_bad_flags_fail_with_one_line(run_main, argv, words):
    code, err = run_main(*argv)
    assert code == 2 and err.startswith("error: ") and words in err and "\n" not in err


def test_cuda_without_gpu_fails_clearly(run_main):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    code, err = run_main("--device", "cuda", "--source", "assets/demo/demo.mp4")
    assert code == 2 and "CUDA" in err and "\n" not in err


def test_batch_flags_dispatch_to_batch_main(monkeypatch):
    calls = []
    fake = types.ModuleType("handpose_live.batch")
    fake.main = lambda argv: calls.append(argv) or 7
    monkeypatch.setitem(sys.modules, "handpose_live.batch", fake)
    monkeypatch.setattr(handpose_live, "batch", fake, raising=False)
    assert load_main().main(["--headless", "--source", "x.mp4"]) == 7
    assert calls == [["--headless", "--source", "x.mp4"]]


@pytest.mark.gui
@pytest.mark.slow
def test_main_runs_real_estimator_and_saves_screenshot(tmp_path, tiny_model_dir):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server")
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_RUNTIME_DIR=str(tmp_path))
    os.chmod(tmp_path, 0o700)
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--source", str(REPO / "assets/demo/demo.mp4"),
         "--model", str(tiny_model_dir), "--device", "cpu", "--max-frames", "8",
         "--screenshot", str(shot)],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import cv2

    image = cv2.imread(str(shot))
    assert image is not None and image.shape[0] > 400 and image.shape[1] > 600  # fitted to the (800 px) screen
    skin = (np.abs(image.astype(int) - (120, 150, 205)).max(-1) <= 40).sum()  # BGR
    assert skin > 1000  # the demo clip's hand is on screen
    log = (tmp_path / "data" / "handpose-live" / "handpose-live.log").read_text()
    assert "loaded model random-tiny" in log and "screenshot saved" in log


def test_a_failing_way_out_ends_the_app_with_exit_1(qtbot, monkeypatch, tmp_path, capsys):
    """A screenshot that cannot be written once the run is over (the disk filled, the folder was
    removed) and a close that raises: the event loop still ends, with exit code 1."""
    from PyQt5.QtCore import QTimer, pyqtSignal
    from PyQt5.QtWidgets import QApplication, QMainWindow

    from handpose_live.gui.app import run_event_loop

    class Window(QMainWindow):
        finished = pyqtSignal(int)

        def __init__(self):
            super().__init__()
            self.close_hooks = []
            self.refuse_close = True

        def grab(self, *args):
            raise OSError(28, "No space left on device")

        def closeEvent(self, event):  # noqa: N802
            if self.refuse_close:
                raise RuntimeError("recorder would not stop")
            event.accept()

    window = Window()
    window.show()
    app = QApplication.instance()
    QTimer.singleShot(100, lambda: window.finished.emit(0))
    guard = QTimer()  # the test's own guard against a hang; stopped before the next test runs
    guard.setSingleShot(True)
    guard.timeout.connect(app.quit)
    guard.start(10000)
    try:
        code = run_event_loop(app, window, str(tmp_path / "shot.png"), lambda r: None, tmp_path / "log")
    finally:
        guard.stop()
        window.refuse_close = False
        window.close()
        window.deleteLater()
    err = capsys.readouterr().err
    assert code == 1 and "cannot save screenshot" in err and "No space left" in err
