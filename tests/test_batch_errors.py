"""Every bad input gives one clear error line on stderr and exit code 2 (a failure while running: 1),
no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from handpose_live import batch
from session_fakes import FakeEstimator, fake_factory, frame_with_patch

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), frame_with_patch(64, 48, None))
    return folder


def error_line(capsys, args, expected: str, fake: bool = True, code: int = 2) -> str:
    factory = fake_factory(FakeEstimator()) if fake else None
    got = batch.main(args, estimator_factory=factory)
    err = capsys.readouterr().err.strip()
    assert got == code, err
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert expected in err, err
    return err


def test_missing_source(capsys, tmp_path):
    error_line(capsys, ["--headless", "--source", str(tmp_path / "nope.mp4"), "--out",
                        str(tmp_path / "o")], "source not found")
    assert not (tmp_path / "o").exists()


def test_unreadable_video(capsys, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    error_line(capsys, ["--headless", "--source", str(bad), "--out", str(tmp_path / "o")],
               "cannot decode video")


def test_unwritable_output(capsys, tmp_path, images):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    error_line(capsys, ["--headless", "--source", str(images), "--out", str(blocker / "o")],
               "not a writable folder")


def test_non_empty_output(capsys, tmp_path, images):
    error_line(capsys, ["--headless", "--source", str(images), "--out", str(images)],
               "not an empty folder")


def test_missing_arguments(capsys, images):
    error_line(capsys, ["--headless", "--source", str(images)], "needs --source")
    with pytest.raises(SystemExit) as exc:
        batch.main(["--headless", "--batch-size", "x"])
    assert exc.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1


def test_shared_flags_are_checked_as_in_the_window(capsys, images, tmp_path):
    for flag, value in [("--device", "tpu"), ("--precision", "int3"), ("--max-frames", "0")]:
        with pytest.raises(SystemExit) as exc:
            batch.main(["--headless", "--source", str(images), "--out", str(tmp_path / "o"), flag, value])
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and len(err.splitlines()) == 1 and flag in err, err


def test_failure_while_running_exits_1_and_closes_the_session(capsys, tmp_path, images, monkeypatch):
    import errno
    import json

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(batch.SessionWriter, "write", full_disk)
    code = batch.main(["--headless", "--source", str(images), "--out", str(tmp_path / "o")],
                      estimator_factory=fake_factory(FakeEstimator()))
    err = capsys.readouterr().err.strip()
    assert code == 1 and "Traceback" not in err, err
    assert err.splitlines()[-1].startswith("error: ") and "No space left" in err.splitlines()[-1], err
    assert json.loads((tmp_path / "o" / "session.json").read_text())["status"] == "failed"


def test_model_by_name_as_in_the_window():
    est = batch.load_estimator("default", "cpu", "fp32", "image")
    assert est.model_name and est.mode == "image"


def test_no_model_installed_and_corrupt_model(capsys, tmp_path, images):
    empty = tmp_path / "empty_model"
    empty.mkdir()
    error_line(capsys, ["--headless", "--source", str(images), "--out", str(tmp_path / "o"),
                        "--model", str(empty)], "missing", fake=False)
    (empty / "config.json").write_text("{broken")
    error_line(capsys, ["--headless", "--source", str(images), "--out", str(tmp_path / "o"),
                        "--model", str(empty)], "not a valid model config", fake=False)
    assert not (tmp_path / "o").exists()


def test_export_csv_bad_inputs(capsys, tmp_path):
    error_line(capsys, ["--export-csv", str(tmp_path / "missing")], "session folder not found")
    error_line(capsys, ["--export-csv", str(tmp_path)], "not a session")


def entry_command() -> list[str]:
    main_py = ROOT / "main.py"
    return [sys.executable, str(main_py)] if main_py.is_file() else \
        [sys.executable, "-m", "handpose_live.batch"]


@pytest.mark.slow  # > 2 s on the 2-core dev VM (pytest --durations)
@pytest.mark.parametrize("args, expected", [
    (["--headless", "--source", "/no/such/video.mp4", "--out", "/tmp/never_created_x"],
     "source not found"),
    (["--export-csv", "/"], "not a session"),
])
def test_process_exit_without_traceback(args, expected):
    proc = subprocess.run(entry_command() + args, capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and expected in proc.stderr


def test_damaged_video_ends_incomplete_with_the_lost_frames_named(capsys, tmp_path):
    import json

    from session_fakes import write_damaged_videos

    from handpose_live.session import SessionReader

    videos = write_damaged_videos(tmp_path)
    out = tmp_path / "o"
    code = batch.main(["--headless", "--source", str(videos["damaged"]), "--out", str(out)],
                      estimator_factory=fake_factory(FakeEstimator()))
    captured = capsys.readouterr()
    assert code == 0  # what could be read was processed; the status says what was not
    assert "warning: 3 frames lost" in captured.err and "incomplete" in captured.out
    info = json.loads((out / "session.json").read_text())
    assert info["status"] == "incomplete" and info["source_frames_lost"] == 3
    assert "damaged.mp4" in info["status_message"]
    with SessionReader(out) as r:
        assert r.ended_cleanly and len(r) == 57
        assert [rec.frame for rec in r][21:25] == [21, 22, 26, 27]  # the lost frames' gap
        assert r.video_frame(56) is not None  # line k is still video frame k


def test_clean_video_ends_complete(capsys, tmp_path):
    import json

    from session_fakes import write_damaged_videos

    videos = write_damaged_videos(tmp_path)
    out = tmp_path / "o"
    assert batch.main(["--headless", "--source", str(videos["clean"]), "--out", str(out)],
                      estimator_factory=fake_factory(FakeEstimator())) == 0
    info = json.loads((out / "session.json").read_text())
    assert info["status"] == "complete" and info["source_frames_lost"] == 0
