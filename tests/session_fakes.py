"""Shared helpers for the session and batch tests (no tests here): synthetic frames with a
green "hand" patch and a fake estimator that finds it, with the HandPoseEstimator interface."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from handpose_live.hand import Hand

PATCH_BGR = (0, 255, 0)


def make_hand(x0: float, y0: float, x1: float, y1: float, side: str = "right", track_id: int = 0,
              score: float = 0.9) -> Hand:
    """A hand whose 21 keypoints fan out inside the box: wrist at the bottom centre, fingers
    as straight lines to the top edge (user order)."""
    cx, w, h = (x0 + x1) / 2, x1 - x0, y1 - y0
    pts = [(cx, y1)]
    for f in range(5):
        tip_x = x0 + w * (f + 0.5) / 5
        for j in range(1, 5):
            a = j / 4
            pts.append((cx + (tip_x - cx) * a, y1 - h * a))
    kp2 = np.array(pts, np.float32)
    kp3 = np.stack([(kp2[:, 0] - cx) / 1000, (kp2[:, 1] - y1) / 1000,
                    np.linspace(0, 0.02, 21)], axis=1).astype(np.float32)
    return Hand(side=side, score=score, bbox=(x0, y0, x1, y1), keypoints_2d=kp2,
                keypoint_scores=np.linspace(0.5, 1.0, 21).astype(np.float32),
                keypoints_3d=kp3, track_id=track_id, crop_box=(x0 - 2.5, y0 - 2.5, x1 + 2.5, y1 + 2.5))


def frame_with_patch(width: int, height: int, box: tuple[int, int, int, int] | None,
                     background: int = 60) -> np.ndarray:
    frame = np.full((height, width, 3), background, np.uint8)
    if box is not None:
        x0, y0, x1, y1 = box
        frame[y0:y1, x0:x1] = PATCH_BGR
    return frame


class FakeEstimator:
    """Finds the green patch of each frame and returns one hand spanning it."""

    model_name = "fake-green-patch"
    weights_sha256 = {"fake.pt": "0" * 64}
    device = "cpu"

    def __init__(self):
        self.batch_sizes: list[int] = []

    def process(self, frames):
        self.batch_sizes.append(len(frames))
        out = []
        for frame in frames:
            mask = (frame[:, :, 1] > 200) & (frame[:, :, 0] < 80) & (frame[:, :, 2] < 80)
            ys, xs = np.nonzero(mask)
            if len(xs) < 20:
                out.append([])
                continue
            out.append([make_hand(xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)])
        return out


def fake_factory(estimator: FakeEstimator):
    def factory(model, device, precision, mode):
        estimator.mode = mode
        return estimator
    return factory


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def write_damaged_videos(folder: Path, frames: int = 60, fps: int = 10) -> dict[str, Path]:
    """An MPEG-4 clip with its index up front (as cameras and phones write them), and two damaged
    copies: ``damaged`` with the packets of frames 23-25 overwritten (OpenCV's read fails there
    and resumes at frame 26), ``truncated`` cut before frame 40's packet."""
    import av

    clean = folder / "clean.mp4"
    container = av.open(str(clean), "w", format="mp4", options={"movflags": "faststart"})
    stream = container.add_stream("mpeg4", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    stream.codec_context.gop_size = 10
    rng = np.random.default_rng(0)
    for k in range(frames):
        image = np.full((120, 160, 3), (k * 4) % 256, np.uint8)
        image[::7] = rng.integers(0, 255, (18, 160, 3))
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = k
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    with av.open(str(clean)) as c:
        packets = [(p.pos, p.size) for p in c.demux(c.streams.video[0]) if p.size]
    data = bytearray(clean.read_bytes())
    for k in (23, 24, 25):
        pos, size = packets[k]
        data[pos:pos + size] = b"\xff" * size
    damaged, truncated = folder / "damaged.mp4", folder / "truncated.mp4"
    damaged.write_bytes(bytes(data))
    truncated.write_bytes(clean.read_bytes()[:packets[40][0]])
    return {"clean": clean, "damaged": damaged, "truncated": truncated}
