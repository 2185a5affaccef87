"""Recording failures: unwritable folder, non-empty folder, disk full."""
from __future__ import annotations

import errno
import json
from collections import namedtuple

import numpy as np
import pytest

from handpose_live.session import RecordingError, SessionReader, SessionWriter, timestamped_folder
from handpose_live.session import writer as writer_module

FRAME = np.zeros((48, 64, 3), np.uint8)


def new_writer(folder, **kw):
    return SessionWriter(folder, fps=10, model_name="m", **kw)


def test_existing_non_empty_folder_is_refused(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        new_writer(tmp_path)
    new_writer(tmp_path / "empty_ok").close()


def test_unwritable_location_raises_recording_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(RecordingError, match="cannot create session folder"):
        new_writer(blocker / "session")


class FullDisk:
    def __init__(self, f):
        self.f = f

    def write(self, _):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.f, name)


def test_disk_full_stops_recording_and_keeps_a_valid_session(tmp_path):
    w = new_writer(tmp_path / "s")
    for k in range(3):
        w.write(k, k / 10, [], FRAME)
    w._jsonl = FullDisk(w._jsonl)
    with pytest.raises(RecordingError, match="No space left"):
        w.write(3, 0.3, [], FRAME)
    assert w.closed
    with pytest.raises(RecordingError, match="already stopped"):
        w.write(4, 0.4, [], FRAME)
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert info["status"] == "failed"
    assert "No space left" in info["status_message"] or "disk full" in info["status_message"]
    with SessionReader(tmp_path / "s") as r:
        assert len(r) == 3


def test_low_free_space_stops_recording(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(writer_module.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 10**6))
    w = new_writer(tmp_path / "s")
    with pytest.raises(RecordingError, match="almost full"):
        for k in range(writer_module.DISK_CHECK_EVERY_FRAMES):
            w.write(k, None, [], FRAME)
    with SessionReader(tmp_path / "s") as r:
        # checked before the frame is written: frames 0-28 are in, and "frames" counts them all
        assert len(r) == r.info["frames"] == writer_module.DISK_CHECK_EVERY_FRAMES - 1
        assert r.info["status"] == "failed" and not r.truncated
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.suffix in (".tmp", "") or p.name.startswith("."))\
        == []  # no session.json.tmp, no space reserve left behind


def test_timestamped_folders_are_new(tmp_path):
    a = timestamped_folder(tmp_path)
    a.mkdir()
    b = timestamped_folder(tmp_path)
    assert a != b and a.name.startswith("session_") and not b.exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs where the tests run as root (CI does), so the disk really fills up; else
    ``None`` and the test injects ``OSError(ENOSPC)`` instead."""
    import os
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    mounted = os.geteuid() == 0 and not os.environ.get("HANDPOSE_NO_TMPFS") and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True).returncode == 0
    yield mount if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_disk_filling_up_mid_recording_ends_the_session_failed_and_consistent(tmp_path, small_disk,
                                                                                monkeypatch):
    monkeypatch.setattr(writer_module, "MIN_FREE_BYTES", 0)  # the guard would stop it first
    folder = (small_disk or tmp_path) / "s"
    w = new_writer(folder)
    if small_disk is None:  # not root: the disk "fills" at the 40th line
        real, calls = w._jsonl.write, [0]

        def write(text):
            calls[0] += 1
            if calls[0] >= 40:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(text)
        monkeypatch.setattr(w._jsonl, "write", write)
    rng = np.random.default_rng(0)
    with pytest.raises(RecordingError, match="No space left on device|disk full"):
        for k in range(5000):  # noise compresses badly: a 1 MB disk fills within a few hundred frames
            w.write(k, k / 10, [], rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    names = sorted(p.name for p in folder.iterdir())
    assert "session.json.tmp" not in names and writer_module.RESERVE_FILE not in names
    info = json.loads((folder / "session.json").read_text())
    assert info["status"] == "failed"
    assert "No space left" in info["status_message"] or "disk full" in info["status_message"]
    with SessionReader(folder) as r:
        assert len(r) == info["frames"] >= 10  # every complete line counted, a cut last line ignored
        assert r[len(r) - 1].frame == len(r) - 1 and not r[len(r) - 1].damaged
