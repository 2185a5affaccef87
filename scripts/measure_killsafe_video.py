"""Which video format survives ``kill -9`` while recording? Each candidate is written by a child
process at the recording's pace (640x480, 30 fps, the demo clip's frames looping), the child is
killed with SIGKILL after ``--seconds``, and the file is read back with OpenCV (what replay uses).

    python scripts/measure_killsafe_video.py [--seconds 8] [--out runs/killsafe]

Prints, per candidate: frames the child had written, frames OpenCV reads back, the video lost at
the kill in seconds (worst and mean of ``--repeats`` kills at different moments), the encoder's
mean time per frame and the file's size per minute of video. ``app-*`` are the app's own writer
(``handpose_live.session.segments``); the others are the alternatives it was chosen from.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FPS = 30
SIZE = (640, 480)

# name -> (file suffix, library, settings)
CANDIDATES = {
    "opencv-mp4v-mp4": (".mp4", "opencv", {"fourcc": "mp4v"}),
    "opencv-mjpg-avi": (".avi", "opencv", {"fourcc": "MJPG"}),
    "opencv-mp4v-mkv": (".mkv", "opencv", {"fourcc": "mp4v"}),
    "pyav-vp8-webm": (".webm", "pyav", {"codec": "libvpx", "format": "webm"}),
    "pyav-mpeg4-mkv": (".mkv", "pyav", {"codec": "mpeg4", "format": "matroska"}),
    # what the app records with: handpose_live.session.segments (fragmented MP4, 1 s fragments)
    "app-h264-fmp4": (".mp4", "app", {"codec": "h264"}),
    "app-mpeg4-fmp4": (".mp4", "app", {"codec": "mpeg4"}),
}


def demo_frames() -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(ROOT / "assets" / "demo" / "demo.mp4"))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, SIZE))
    return frames or [np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)]


class OpenCVWriter:
    def __init__(self, path: Path, fourcc: str):
        self.w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, SIZE)
        if not self.w.isOpened():
            raise RuntimeError("OpenCV could not open the writer")

    def write(self, frame):
        self.w.write(frame)


class PyAVWriter:
    def __init__(self, path: Path, codec: str, format: str):
        import av

        # a cluster (and its flush) at least once a second
        options = {"flush_packets": "1", "cluster_time_limit": "1000"}
        self.c = av.open(str(path), "w", format=format, options=options)
        self.s = self.c.add_stream(codec, rate=FPS)
        self.s.width, self.s.height = SIZE
        self.s.pix_fmt = "yuv420p"
        self.s.codec_context.gop_size = FPS  # a keyframe (a fragment/cluster start) every second
        if codec == "libvpx":
            self.s.codec_context.options = {"deadline": "realtime", "cpu-used": "8", "b": "2M"}
            self.s.bit_rate = 2_000_000
        else:
            self.s.bit_rate = 2_000_000

    def write(self, frame):
        import av

        for packet in self.s.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
            self.c.mux(packet)


class AppWriter:
    def __init__(self, path: Path, codec: str):
        sys.path.insert(0, str(ROOT))
        from handpose_live.session.segments import SegmentedVideoWriter

        self.w = SegmentedVideoWriter(path.parent, "annotated", FPS, 10**9, codec=codec)
        self.path = path

    def write(self, frame):
        self.w.write(frame)
        if self.w.frames_written == 1:  # the writer names its file; the measurement wants ours
            (self.path.parent / "annotated_000.mp4").rename(self.path)


def child(name: str, path: Path, progress: Path) -> None:
    suffix, lib, settings = CANDIDATES[name]
    writer = {"opencv": OpenCVWriter, "pyav": PyAVWriter, "app": AppWriter}[lib](path, **settings)
    frames = demo_frames()
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    start = time.perf_counter()
    spent = 0.0
    for k in range(10**9):
        t0 = time.perf_counter()
        writer.write(frames[k % len(frames)])
        spent += time.perf_counter() - t0
        os.pwrite(fd, f"{k + 1:10d} {spent * 1000 / (k + 1):8.2f}\n".encode(), 0)
        time.sleep(max(0.0, start + (k + 1) / FPS - time.perf_counter()))


def count_readable(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return 0
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def kill_run(name: str, out: Path, seconds: float) -> tuple[int, int, float, int]:
    """Record with candidate ``name``, SIGKILL after ``seconds``; (frames written, frames
    readable, encoder ms per frame, file bytes)."""
    suffix = CANDIDATES[name][0]
    path, progress = out / f"{name}{suffix}", out / f"{name}.progress"
    for p in (path, progress):
        p.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, __file__, "--child", name, str(path), str(progress)])
    deadline = time.monotonic() + 30
    while not (progress.is_file() and progress.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.05)  # from the first frame on
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    fields = progress.read_text().split() if progress.is_file() else ["0", "nan"]
    return int(fields[0]), count_readable(path), float(fields[1]), path.stat().st_size if path.is_file() else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "killsafe")
    ap.add_argument("--repeats", type=int, default=3, help="kills per candidate, each 0.33 s later")
    ap.add_argument("--only", nargs="*", default=None, help="candidate names (default: all)")
    ap.add_argument("--child", nargs=3, metavar=("NAME", "PATH", "PROGRESS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"kill -9 after {args.seconds:.0f} s (+0.33 s per repeat, {args.repeats} kills) of recording at {FPS} fps, "
          f"{SIZE[0]}x{SIZE[1]}; 'lost' = video seconds written but unreadable, worst / mean of the kills")
    print(f"{'candidate':16s} {'written':>8s} {'readable':>9s} {'lost s worst':>13s} {'mean':>6s} "
          f"{'ms/frame':>9s} {'MB/min':>7s}")
    for name in args.only or CANDIDATES:
        runs = [kill_run(name, args.out, args.seconds + 0.33 * r) for r in range(args.repeats)]
        lost = [(w - r) / FPS for w, r, _, _ in runs]
        written, readable, ms, size = runs[-1]
        mb_min = size / 1e6 / max(written / FPS, 1e-9) * 60
        print(f"{name:16s} {written:8d} {readable:9d} {max(lost):13.2f} {np.mean(lost):6.2f} {ms:9.2f} {mb_min:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
