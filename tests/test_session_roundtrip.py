"""SessionWriter -> SessionReader round trip, segments, letterboxing, CSV export, format header."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from handpose_live.session import (
    CSV_COLUMNS, FORMAT_VERSION, SessionFormatError, SessionReader, SessionWriter, export_csv,
    fit_frame, letterbox_transform,
)
from handpose_live.skeleton import KEYPOINT_NAMES
from session_fakes import frame_with_patch, make_hand

W, H, FPS = 96, 64, 10.0


def corner_value(frame: np.ndarray) -> float:
    return float(frame[2:10, 2:10].mean())


def record(folder, n=25, segment_seconds=1.0, **kw):
    """n frames; frame k has background grey 8*k and a hand on every other frame."""
    with SessionWriter(folder, fps=FPS, model_name="m", weights_sha256={"a.pt": "ff"},
                       source_kind="video", source_description="clip.mp4",
                       segment_seconds=segment_seconds, **kw) as w:
        for k in range(n):
            frame = frame_with_patch(W, H, None, background=8 * k)
            hands = [make_hand(10 + k, 8, 40 + k, 50, track_id=k)] if k % 2 == 0 else []
            w.write(100 + k, k / FPS, hands, frame, raw_bgr=frame if kw.get("record_raw") else None)
    return w


def test_round_trip_keypoints_and_video(tmp_path):
    folder = tmp_path / "s"
    w = record(folder, record_raw=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        "annotated_000.mp4", "annotated_001.mp4", "annotated_002.mp4", "keypoints.jsonl",
        "raw_000.mp4", "raw_001.mp4", "raw_002.mp4", "session.json"]
    with SessionReader(folder) as r:
        assert len(r) == 25 and not r.truncated and r.ended_cleanly
        assert r.info["format_version"] == FORMAT_VERSION
        assert r.info["frames"] == 25 and r.info["frames_with_hands"] == 13
        assert r.keypoint_names == list(KEYPOINT_NAMES)
        assert r.frame_size_px == (W, H) and r.fps == FPS
        assert r.info["video"]["segment_frames"] == 10
        rec = r[4]
        assert (rec.index, rec.frame, rec.t, rec.width, rec.height) == (4, 104, 0.4, W, H)
        expected = make_hand(14, 8, 44, 50, track_id=4)
        (hand,) = rec.hands
        np.testing.assert_allclose(hand.keypoints_2d, expected.keypoints_2d, atol=0.01)
        np.testing.assert_allclose(hand.keypoints_3d, expected.keypoints_3d, atol=1e-5)
        np.testing.assert_allclose(hand.keypoint_scores, expected.keypoint_scores, atol=1e-4)
        assert (hand.side, hand.track_id) == ("right", 4)
        assert hand.crop_box == pytest.approx(expected.crop_box)  # the window PoseNet saw (version 2)
        assert r.hands(5) == []
        # random access across segments, in both directions, for both videos
        for k in (17, 3, 24, 4, 5, 12, 0, 23):
            for kind in ("annotated", "raw"):
                assert corner_value(r.video_frame(k, kind)) == pytest.approx(8 * k, abs=4), (k, kind)
        assert [rec.frame for rec in r] == list(range(100, 125))
    assert w.closed and w.frame_count == 25


def test_header_is_valid_json_while_recording(tmp_path):
    w = SessionWriter(tmp_path / "s", fps=30, model_name="m", source_kind="camera",
                      time_base="wall_clock", mirrored=True, smoothed=True)
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert info["status"] == "recording" and info["frame_size"] is None
    assert info["units"]["keypoints_3d"] == "m" and info["mirrored"] and info["smoothed"]
    w.write(0, 0.0, [], np.zeros((48, 64, 3), np.uint8))
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert info["frame_size"] == [64, 48] and info["status"] == "recording"
    w.close()
    info = json.loads((tmp_path / "s" / "session.json").read_text())
    assert info["status"] == "complete" and info["frames"] == 1 and info["ended"]
    assert not (tmp_path / "s" / "session.json.tmp").exists()


def test_frames_of_other_sizes_are_letterboxed(tmp_path):
    folder = tmp_path / "s"
    with SessionWriter(folder, fps=FPS, model_name="m") as w:
        w.write(0, 0.0, [], frame_with_patch(W, H, None, background=40))
        tall = frame_with_patch(32, 64, (0, 0, 32, 64))  # all green, half as wide
        w.write(1, 0.1, [make_hand(0, 0, 32, 64)], tall)
    with SessionReader(folder) as r:
        assert (r[1].width, r[1].height) == (32, 64)
        frame = r.video_frame(1)
        assert frame.shape == (H, W, 3)
        assert frame[32, 48, 1] > 200 and frame[32, 5].max() < 30  # centred, black borders
        wrist = r.video_point_px(r[1], r[1].hands[0].keypoints_2d[0])
        np.testing.assert_allclose(wrist, (48, 64), atol=0.5)
    assert letterbox_transform((32, 64), (96, 64)) == (1.0, 32, 0)
    same = np.zeros((H, W, 3), np.uint8)
    assert fit_frame(same, (W, H)) is same


def test_truncated_last_line_is_ignored(tmp_path):
    folder = tmp_path / "s"
    record(folder, n=5)
    with open(folder / "keypoints.jsonl", "a") as f:
        f.write('{"frame": 5, "t": 0.5, "hands": [{"track_')
    with SessionReader(folder) as r:
        assert len(r) == 5 and r.truncated


def test_damaged_lines_are_skipped_counted_and_keep_frames_matched(tmp_path, capsys):
    from handpose_live import batch

    folder = tmp_path / "s"
    record(folder, n=6)
    lines = (folder / "keypoints.jsonl").read_text().splitlines()
    lines[2] = "{not json"  # frame 2 had a hand
    lines[3] = '{"frame": "x", "hands": 5}'  # JSON, wrong fields
    (folder / "keypoints.jsonl").write_text("\n".join(lines) + "\n")
    with SessionReader(folder) as r:
        assert len(r) == 6 and r.damaged_lines() == [2, 3]
        bad = r[2]
        assert bad.hands == [] and bad.frame == -1 and "line 3" in bad.damaged
        assert (bad.width, bad.height) == (W, H)  # the video's size, for drawing
        assert r[4].frame == 104 and not r[4].damaged  # later lines keep their index: line k = frame k
        assert corner_value(r.video_frame(4)) == pytest.approx(8 * 4, abs=3)
    skipped = []
    export_csv(folder, skipped=skipped)
    assert skipped == [2, 3]
    rows = list(csv.DictReader(open(folder / "keypoints.csv", newline="")))
    assert sorted({int(r["frame"]) for r in rows}) == [100, 104]  # frame 102's line is lost
    (folder / "keypoints.csv").unlink()
    assert batch.main(["--export-csv", str(folder)]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 damaged line(s)" in err and "line 3" in err


@pytest.mark.parametrize("field, value, words", [
    ("fps", -5, "fps must be"), ("fps", "25", "fps must be"), ("frame_size", [96], "frame_size"),
    ("keypoint_names", "wrist", "keypoint_names"), ("video", None, "video must be"),
    ("mirrored", "yes", "mirrored"), ("model", "m", "model must be"),
])
def test_session_json_with_wrong_types_is_one_clear_error(tmp_path, capsys, field, value, words):
    from handpose_live import batch

    folder = tmp_path / "s"
    record(folder, n=2)
    info = json.loads((folder / "session.json").read_text())
    info[field] = value
    (folder / "session.json").write_text(json.dumps(info))
    with pytest.raises(SessionFormatError, match=words):
        SessionReader(folder)
    assert batch.main(["--export-csv", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and words in err


def test_not_a_session_and_newer_versions_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        SessionReader(tmp_path / "missing")
    with pytest.raises(SessionFormatError, match="no session.json"):
        SessionReader(tmp_path)
    (tmp_path / "session.json").write_text('{"format": "handpose-live-session", "format_version": 99}')
    with pytest.raises(SessionFormatError, match="version 99"):
        SessionReader(tmp_path)


def test_export_csv_rows(tmp_path):
    folder = tmp_path / "s"
    record(folder, n=6)
    path = export_csv(folder)
    assert path == folder / "keypoints.csv"
    rows = list(csv.DictReader(open(path, newline="")))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == 3 * 21  # frames 0, 2, 4 have one hand each
    tip = rows[20]
    assert (tip["frame"], tip["t"], tip["keypoint"], tip["keypoint_name"]) == ("100", "0.0", "20", "little_tip")
    assert float(tip["x_px"]) == pytest.approx(37.0) and float(tip["y_px"]) == pytest.approx(8.0)
    assert rows[21]["frame"] == "102" and rows[21]["keypoint_name"] == "wrist"


def test_version_1_sessions_still_replay_and_export(tmp_path):
    """A session as version 1 wrote it (plain MP4 segments with mp4v, no crop_box, no
    source_frames_lost / palm_length_m / video.container) reads, seeks and exports as before."""
    from session_fakes import write_video

    folder = tmp_path / "v1"
    record(folder, n=12)
    info = json.loads((folder / "session.json").read_text())
    info["format_version"] = 1
    for key in ("source_frames_lost", "palm_length_m"):
        info.pop(key)
    info["video"].pop("container")
    info["video"]["codec"] = "mp4v"
    (folder / "session.json").write_text(json.dumps(info))
    lines = [json.loads(line) for line in (folder / "keypoints.jsonl").read_text().splitlines()]
    for line in lines:
        for hand in line["hands"]:
            hand.pop("crop_box")
    (folder / "keypoints.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    for segment in range(2):  # segments of 10 frames, rewritten the way version 1 wrote them
        frames = [frame_with_patch(W, H, None, background=8 * k) for k in range(10 * segment, min(12, 10 * segment + 10))]
        path = folder / f"annotated_{segment:03d}.mp4"
        path.unlink()
        write_video(path, frames, FPS)
    with SessionReader(folder) as r:
        assert len(r) == 12 and r.info["format_version"] == 1
        assert r[4].hands[0].crop_box == (0.0, 0.0, 0.0, 0.0)
        assert corner_value(r.video_frame(11)) == pytest.approx(88, abs=4)
        assert corner_value(r.video_frame(3)) == pytest.approx(24, abs=4)
    rows = list(csv.DictReader(open(export_csv(folder), newline="")))
    assert len(rows) == 6 * 21


def test_mpeg4_fallback_writes_readable_fragmented_mp4(tmp_path):
    """Where PyAV has no x264 the recorder uses FFmpeg's MPEG-4 encoder: same container, readable."""
    import cv2

    from handpose_live.session.errors import RecordingError
    from handpose_live.session.segments import SegmentedVideoWriter

    writer = SegmentedVideoWriter(tmp_path, "annotated", FPS, 100, codec="mpeg4")
    for k in range(12):
        writer.write(frame_with_patch(W, H, None, background=16 * k))
    writer.close()
    assert writer.codec == "mpeg4"
    cap = cv2.VideoCapture(str(tmp_path / "annotated_000.mp4"))
    values = []
    while (got := cap.read())[0]:
        values.append(corner_value(got[1]))
    assert len(values) == 12 and values[5] == pytest.approx(80, abs=4)
    with pytest.raises(RecordingError, match="no vp9 encoder"):
        SegmentedVideoWriter(tmp_path, "raw", FPS, 10, codec="vp9")
