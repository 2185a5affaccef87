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
    assert info["status"] == "failed" and "No space left" in info["status_message"]
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
        assert len(r) == writer_module.DISK_CHECK_EVERY_FRAMES


def test_timestamped_folders_are_new(tmp_path):
    a = timestamped_folder(tmp_path)
    a.mkdir()
    b = timestamped_folder(tmp_path)
    assert a != b and a.name.startswith("session_") and not b.exists()
