"""Frame sources: video files, image folders, cameras that are not there, the demo clip."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from handpose_live.sources import (CameraSource, ImageFolderSource, SourceError, VideoFileSource,
                                   demo_clip_path, open_demo, open_source, parse_source)


def write_video(path, n=6, size=(64, 48), fps=15.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 20 * i, np.uint8))
    writer.release()
    return path


def test_video_file_reads_all_frames_then_none(tmp_path):
    with open_source(str(write_video(tmp_path / "v.avi"))) as src:
        assert isinstance(src, VideoFileSource) and src.kind == "video" and not src.is_live
        assert src.fps == pytest.approx(15.0) and src.frame_size == (64, 48)
        frames = []
        while (f := src.read()) is not None:
            frames.append(f)
    assert len(frames) == 6 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert frames[-1].mean() > frames[0].mean()


def test_looping_video_restarts(tmp_path):
    src = VideoFileSource(write_video(tmp_path / "v.avi", n=3), loop=True)
    positions = []
    for _ in range(8):
        assert src.read() is not None
        positions.append(src.position)
    assert positions == list(range(8))  # frames keep counting across the restart
    assert src.loss_message() is None


def test_image_folder_in_name_order_skips_unreadable(tmp_path):
    for name, value in (("b.png", 200), ("a.png", 100)):
        cv2.imwrite(str(tmp_path / name), np.full((10, 12, 3), value, np.uint8))
    (tmp_path / "c.jpg").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored")
    src = open_source(tmp_path)
    assert isinstance(src, ImageFolderSource) and src.fps is None and src.frame_count == 3
    assert src.read()[0, 0, 0] == 100 and src.read()[0, 0, 0] == 200
    assert src.read() is None and [p.name for p in src.skipped] == ["c.jpg"]


@pytest.mark.parametrize("make, match", [
    (lambda p: p / "missing.mp4", "not found"),
    (lambda p: (p / "bad.mp4").write_bytes(b"\0" * 2000) and p / "bad.mp4", "cannot decode"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no images"),
])
def test_bad_paths_raise_source_error(tmp_path, make, match):
    with pytest.raises(SourceError, match=match):
        open_source(make(tmp_path))


def test_single_image_is_refused_with_a_hint(tmp_path):
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(SourceError, match="folder"):
        open_source(tmp_path / "one.png")


def test_missing_camera_is_a_clear_error():
    with pytest.raises(SourceError, match="camera"):
        CameraSource(63)


def test_parse_source():
    assert parse_source("0") == 0 and parse_source(" 2 ") == 2
    assert str(parse_source("clip.mp4")) == "clip.mp4"
    with pytest.raises(SourceError):
        parse_source("-1")


def test_demo_clip_is_bundled_small_and_playable():
    path = demo_clip_path()
    assert path.stat().st_size <= 5 * 1024 * 1024
    src = open_demo()
    frame = src.read()
    assert frame.shape == (480, 640, 3) and src.frame_count >= 90 and src.loop
    assert frame.std() > 10  # a picture, not a blank frame


def test_a_fifo_is_read_as_a_video_stream(tmp_path):
    import os
    import threading

    clip = write_video(tmp_path / "v.avi")
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(clip.read_bytes()), daemon=True)
    feeder.start()
    with open_source(str(fifo)) as src:
        assert src.kind == "video"
        frames = []
        while (frame := src.read()) is not None:
            frames.append(frame)
    feeder.join(10)
    assert len(frames) >= 2 and frames[0].ndim == 3


@pytest.fixture(scope="module")
def damaged_videos(tmp_path_factory):
    from session_fakes import write_damaged_videos

    return write_damaged_videos(tmp_path_factory.mktemp("damaged"))


def read_positions(path):
    src = VideoFileSource(path)
    positions = []
    while src.read() is not None:
        positions.append(src.position)
    src.close()
    return src, positions


def test_clean_video_loses_nothing(damaged_videos):
    src, positions = read_positions(damaged_videos["clean"])
    assert positions == list(range(60))
    assert src.frames_lost == 0 and src.loss_message() is None


def test_damaged_spot_is_read_past_and_its_frames_counted(damaged_videos):
    src, positions = read_positions(damaged_videos["damaged"])
    # frames 23-25 are unreadable; reading resumes at 26 and the numbering leaves their gap
    assert positions == list(range(23)) + list(range(26, 60))
    assert src.frames_lost == 3
    assert "3 frames lost" in src.loss_message() and "damaged.mp4" in src.loss_message()


def test_truncated_video_counts_the_frames_that_never_came(damaged_videos):
    src, positions = read_positions(damaged_videos["truncated"])
    assert positions == list(range(40))
    assert src.frames_lost == 20 and "20 frames lost" in src.loss_message()
