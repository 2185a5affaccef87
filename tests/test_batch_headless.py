"""Headless batch runs on an image folder and a video, and CSV export through main()."""
from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
import torch

from handpose_live import batch
from handpose_live.checkpoint import build_networks
from handpose_live.model_config import preset
from handpose_live.pipeline import HandPoseEstimator
from handpose_live.session import SessionReader
from fakes import CentrePoseNet, FollowRedPoseNet, RedIsHandSegNet
from session_fakes import FakeEstimator, fake_factory, frame_with_patch, write_video


def run(args, est):
    return batch.main(args, estimator_factory=fake_factory(est))


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    cv2.imwrite(str(folder / "e_4.png"), frame_with_patch(96, 64, None))
    cv2.imwrite(str(folder / "a_0.png"), frame_with_patch(96, 64, (10, 10, 40, 50)))
    cv2.imwrite(str(folder / "b_1.png"), frame_with_patch(48, 64, (8, 4, 40, 60)))  # other size
    (folder / "c_bad.png").write_bytes(b"not an image")
    cv2.imwrite(str(folder / "c_tiny.png"), np.zeros((1, 1, 3), np.uint8))  # decodes, too small
    cv2.imwrite(str(folder / "d_3.png"), frame_with_patch(96, 64, (50, 20, 90, 60)))
    (folder / "notes.txt").write_text("ignored")
    return folder


def test_image_folder(image_folder, tmp_path, capsys):
    est, out = FakeEstimator(), tmp_path / "out"
    assert run(["--headless", "--source", str(image_folder), "--out", str(out),
                "--batch-size", "3"], est) == 0
    assert est.mode == "image" and est.batch_sizes == [3, 1]
    captured = capsys.readouterr()
    assert "4 frames, 3 frames with hands" in captured.out and "frames/s" in captured.out
    assert "skipped 2 image(s) that could not be processed" in captured.err
    assert "c_tiny.png: 1x1 is too small" in captured.err and "c_bad.png: cannot be decoded" in captured.err
    with SessionReader(out) as r:
        assert r.info["source"]["kind"] == "images" and r.info["status"] == "complete"
        assert r.info["model"]["name"] == "fake-green-patch"
        assert [(x.frame, x.source, x.t) for x in r] == [
            (0, "a_0.png", None), (1, "b_1.png", None), (4, "d_3.png", None), (5, "e_4.png", None)]
        assert (r[1].width, r[1].height) == (48, 64) and r.frame_size_px == (96, 64)
        assert r[0].hands[0].bbox == (10, 10, 40, 50) and r[3].hands == []
        # the overlay is drawn where the keypoints are: compare with the unannotated image
        for k in (0, 2):
            rec, video = r[k], r.video_frame(k).astype(int)
            raw = cv2.imread(str(image_folder / rec.source))
            raw_boxed = cv2.resize(raw, (rec.width, rec.height))
            for xy in rec.hands[0].keypoints_2d[[0, 8, 20]]:
                vx, vy = np.round(r.video_point_px(rec, xy)).astype(int)
                sx, sy = np.clip(np.round(xy).astype(int), 0, [rec.width - 1, rec.height - 1])
                assert np.abs(video[vy, vx] - raw_boxed[sy, sx]).max() > 60, (k, xy)


def test_video_file_and_csv_export(tmp_path, capsys):
    frames = [frame_with_patch(64, 48, (4 + 2 * k, 8, 30 + 2 * k, 40)) for k in range(12)]
    video = write_video(tmp_path / "clip.mp4", frames, fps=10)
    est, out = FakeEstimator(), tmp_path / "out"
    assert run(["--headless", "--source", str(video), "--out", str(out),
                "--batch-size", "4", "--max-frames", "10"], est) == 0
    assert est.mode == "video" and est.batch_sizes == [4, 4, 2]
    with SessionReader(out) as r:
        assert len(r) == 10 and r.info["time_base"] == "media" and r.fps == 10
        assert [x.t for x in r] == pytest.approx([k / 10 for k in range(10)])
        assert all(x.source is None and len(x.hands) == 1 for x in r)
        assert r[9].hands[0].bbox[0] == pytest.approx(22, abs=1)
    capsys.readouterr()
    assert batch.main(["--export-csv", str(out)]) == 0
    assert "keypoints.csv" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "keypoints.csv", newline="")))
    assert len(rows) == 10 * 21 and rows[0]["keypoint_name"] == "wrist"


def test_real_estimator_with_random_tiny_model(tmp_path, capsys, tiny_model_dir):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (120, 160, 3), np.uint8))
    out = tmp_path / "out"
    code = batch.main(["--headless", "--source", str(folder), "--out", str(out),
                       "--model", str(tiny_model_dir), "--device", "cpu", "--batch-size", "2", "--camera-fov", "66"])
    assert code == 0, capsys.readouterr().err
    with SessionReader(out) as r:
        assert len(r) == 3 and r.info["model"]["name"] == "random-tiny"
        assert r.info["camera_fov_deg"] == 66.0  # the field of view the 3D was turned with
        assert "config.json" in r.info["model"]["weights_sha256"]
        assert r.video_frame(2).shape == (120, 160, 3)


def red_square_estimator(model, device, precision, mode):
    """The real pipeline (detection, crops, uncropping, lifting) with the core tests' fake
    segmentation (red = right hand) and a PoseNet putting every keypoint at the crop centre."""
    config = preset("tiny")
    nets = build_networks(config)
    size = config.posenet.input_size
    nets["handsegnet"] = RedIsHandSegNet()
    nets["posenet"] = CentrePoseNet(torch.full((21, 2), size / 2.0), size)
    return HandPoseEstimator(config, nets, device="cpu", precision="fp32", mode=mode)


def test_keypoints_line_up_with_the_hands_through_the_real_pipeline(tmp_path):
    folder, out = tmp_path / "imgs", tmp_path / "out"
    folder.mkdir()
    squares = {"a.png": (320, 240, (40, 60, 120, 160)), "b.png": (160, 240, (90, 20, 150, 90)),
               "c.png": (320, 240, (200, 100, 300, 220))}
    for name, (w, h, (x0, y0, x1, y1)) in squares.items():
        frame = np.full((h, w, 3), 90, np.uint8)
        frame[y0:y1, x0:x1] = (0, 0, 255)
        cv2.imwrite(str(folder / name), frame)
    assert batch.main(["--headless", "--source", str(folder), "--out", str(out)],
                      estimator_factory=red_square_estimator) == 0
    with SessionReader(out) as r:
        assert [x.source for x in r] == sorted(squares)
        for rec in r:
            w, h, (x0, y0, x1, y1) = squares[rec.source]
            assert (rec.width, rec.height) == (w, h)
            (hand,) = rec.hands
            assert hand.side == "right"
            centre = hand.keypoints_2d.mean(0)
            assert centre == pytest.approx([(x0 + x1) / 2, (y0 + y1) / 2], abs=6)
            vx, vy = np.round(r.video_point_px(rec, centre)).astype(int)
            video = r.video_frame(rec.index).astype(int)
            assert np.abs(video[vy, vx] - (0, 0, 255)).max() > 60  # the overlay is drawn there


def test_video_runs_in_video_mode_with_stable_track_ids(tmp_path):
    """A video's frames are consecutive: the estimator tracks the moving "hand" (one id), and
    the keypoints follow it; an image folder of the same frames gets a new id per file."""
    frames = []
    for k in range(10):
        frame = np.full((240, 320, 3), 90, np.uint8)
        frame[80:170, 60 + 4 * k:140 + 4 * k] = (0, 0, 255)
        frames.append(frame)
    video = write_video(tmp_path / "clip.mp4", frames, fps=10)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for k, frame in enumerate(frames[:3]):
        cv2.imwrite(str(folder / f"{k}.png"), frame)

    def follow_red_estimator(model, device, precision, mode):
        est = red_square_estimator(model, device, precision, mode)
        est.nets["posenet"] = FollowRedPoseNet(est.config.posenet.input_size)
        return est

    for source, out in ((video, tmp_path / "v"), (folder, tmp_path / "i")):
        assert batch.main(["--headless", "--source", str(source), "--out", str(out),
                           "--batch-size", "4"], estimator_factory=follow_red_estimator) == 0
    with SessionReader(tmp_path / "v") as r:
        assert len(r) == 10 and all(len(x.hands) == 1 for x in r)
        assert len({x.hands[0].track_id for x in r}) == 1
        assert r[9].hands[0].bbox[0] == pytest.approx(96, abs=5)  # followed the square
    with SessionReader(tmp_path / "i") as r:
        assert len({x.hands[0].track_id for x in r}) == 3


def test_a_camera_that_stops_delivering_closes_the_session_and_exits_1(tmp_path, capsys, monkeypatch):
    from handpose_live.sources import FrameSource

    class UnpluggedCamera(FrameSource):  # 3 frames, then reads fail (how OpenCV reports an unplug)
        name, kind, is_live, fps = "camera 0", "camera", True, 30.0

        def __init__(self):
            self.left = 3

        def read(self):
            self.left -= 1
            return frame_with_patch(64, 48, (8, 8, 30, 30)) if self.left >= 0 else None

    monkeypatch.setattr(batch, "open_source", lambda spec: UnpluggedCamera())
    out = tmp_path / "out"
    assert run(["--headless", "--source", "0", "--out", str(out)], FakeEstimator()) == 1
    err = capsys.readouterr().err
    assert "error: camera 0 stopped delivering frames" in err and "Traceback" not in err
    with SessionReader(out) as r:
        assert len(r) == 3 and r.info["status"] == "interrupted" and r.info["frames"] == 3
        assert "stopped delivering frames" in r.info["status_message"]
    # with --max-frames reached first, a camera run ends normally
    monkeypatch.setattr(batch, "open_source", lambda spec: UnpluggedCamera())
    assert run(["--headless", "--source", "0", "--out", str(tmp_path / "o2"), "--max-frames", "2"],
               FakeEstimator()) == 0
    with SessionReader(tmp_path / "o2") as r:
        assert len(r) == 2 and r.info["status"] == "complete"
