"""Per-frame latency of our estimator against MediaPipe Hands, on the same frames, in one run.

    python scripts/benchmark_vs_mediapipe.py [--frames 50] [--model NAME|DIR] [--model-complexity 1]
                                             [--threads 0] [--json out.json]

Two comparisons, each alternating the two estimators frame by frame (ABBA order, so neither
always goes first), warm-up frames excluded:

* tracking: ``HandPoseEstimator(mode="video")`` vs ``mp.solutions.hands.Hands(
  static_image_mode=False, max_num_hands=2, model_complexity=C)``;
* image:    ``HandPoseEstimator(mode="image")`` vs the same with ``static_image_mode=True``.

MediaPipe runs in a subprocess with the python of its own venv (``.venv-mediapipe/``, created
with ``mediapipe==0.10.21`` on first use and reused after; mediapipe pins numpy<2, so it never
enters the project's env), fed over pipes by ``scripts/mediapipe_worker.py``. Each process times
only its own call (ours: ``est.process([frame])``; MediaPipe: ``cvtColor(BGR->RGB)`` +
``hands.process``, since our ``process`` takes the BGR frame and converts it itself), so the pipe
transfer is never timed. Reported: median and mean wall ms per frame, CPU ms per frame (all
threads of that process: how many cores it kept busy), hands found per frame, ratio ours/MediaPipe.

Frames (640x480 BGR): a ``subhih`` photo of the val split (``split.json``) whose MediaPipe label
has exactly one hand, letterboxed to 640x480, shifted by a few pixels along a closed circle (a
short sequence, so tracking has motion to follow and loops without a jump). The first candidate
whose sequence gets exactly one hand from our image mode and MediaPipe's static mode (``--check``
frames spread over it) and from our video mode (its first ``--check`` frames) is used; the
hands found on every timed frame are counted and printed too.
Without ``../shared/data`` (or ``$HANDPOSE_DATA``): frames of ``assets/demo/demo.mp4``, which
shows **two** hands.

Threads: ``--threads 0`` (default) leaves torch and OpenCV at their defaults in both processes,
as the app does (it sets neither); ``--threads N`` sets ``torch.set_num_threads(N)`` and
``cv2.setNumThreads(N)`` in ours and ``cv2.setNumThreads(N)`` in MediaPipe's process. MediaPipe
has no thread setting in its Python API: on Linux x86 each of its TFLite models runs with XNNPACK
on 1 thread (MediaPipe's desktop default), and its graph scheduler runs calculators on its own
thread pool; the process's thread count and CPU ms per frame are printed to show what it used.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MP_VERSION = "0.10.21"
MP_VENV = REPO / ".venv-mediapipe"
WORKER = Path(__file__).resolve().parent / "mediapipe_worker.py"
DEFAULT_DATA = Path(os.environ.get("HANDPOSE_DATA", REPO.parent / "shared" / "data"))
DEMO_CLIP = REPO / "assets" / "demo" / "demo.mp4"
FRAME_W, FRAME_H = 640, 480


# --------------------------------------------------------------------------- frames
def letterbox(image: np.ndarray, width: int = FRAME_W, height: int = FRAME_H, fill: int = 0) -> np.ndarray:
    """Scale ``image`` (HxWx3 uint8) to fit ``width`` x ``height`` keeping its aspect ratio and
    centre it on a ``fill`` background."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.full((height, width, 3), fill, np.uint8)
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    out[y0:y0 + nh, x0:x0 + nw] = resized
    return out


def shift_offsets(n: int, amplitude: float) -> list[tuple[float, float]]:
    """``n`` (dx, dy) offsets on a circle of radius ``amplitude`` px: a closed path, so a looped
    sequence has no jump."""
    return [(amplitude * np.cos(2 * np.pi * i / n), amplitude * np.sin(2 * np.pi * i / n)) for i in range(n)]


def shifted_sequence(frame: np.ndarray, n: int = 30, amplitude: float = 6.0) -> list[np.ndarray]:
    """``frame`` translated by ``shift_offsets(n, amplitude)`` (edges replicated): a short
    'video' of one still photo, for tracking mode."""
    h, w = frame.shape[:2]
    seq = []
    for dx, dy in shift_offsets(n, amplitude):
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        seq.append(cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return seq


def one_hand_candidates(data: Path, min_score: float = 0.8) -> list[str]:
    """Val-split ``subhih`` photos whose MediaPipe pseudo-label has exactly one hand with
    ``score >= min_score`` (paths relative to ``data``), sorted."""
    root = data / "real_hands"
    val = {p for p in json.loads((root / "split.json").read_text())["val"] if "/subhih/" in p}
    out = []
    with open(root / "labels_mediapipe.jsonl") as f:
        for line in f:
            rec = json.loads(line)
            hands = rec.get("hands") or []
            if rec["file"] in val and len(hands) == 1 and hands[0]["score"] >= min_score:
                out.append(rec["file"])
    return sorted(out)


def demo_frames(n: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(DEMO_CLIP))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame if frame.shape[:2] == (FRAME_H, FRAME_W) else letterbox(frame))
    cap.release()
    if not frames:
        raise SystemExit(f"error: no frames in {DEMO_CLIP}")
    return frames


# --------------------------------------------------------------------------- statistics
def summarize(times_ms) -> dict:
    """Median and mean of per-frame times (ms)."""
    times = [float(t) for t in times_ms]
    if not times:
        raise ValueError("no timed frames")
    return {"n": len(times), "median_ms": statistics.median(times), "mean_ms": statistics.fmean(times)}


def ratio(ours: dict, theirs: dict) -> dict:
    """ours / MediaPipe for the median and the mean (> 1: ours is slower)."""
    return {"median": ours["median_ms"] / theirs["median_ms"], "mean": ours["mean_ms"] / theirs["mean_ms"]}


def count_hist(counts) -> dict:
    """{hands per frame: number of frames}, keys as strings (JSON-ready)."""
    hist: dict[str, int] = {}
    for c in counts:
        hist[str(int(c))] = hist.get(str(int(c)), 0) + 1
    return dict(sorted(hist.items(), key=lambda kv: int(kv[0])))


def format_counts(hist: dict) -> str:
    return ", ".join(f"{k} hand{'s' if k != '1' else ''} x{v}" for k, v in hist.items())


def summary_table(results: dict) -> str:
    """Markdown table of the comparisons in ``results`` (as ``run_comparison`` returns them)."""
    lines = ["| comparison | ours median ms | ours mean ms | MediaPipe median ms | MediaPipe mean ms "
             "| ratio ours/MP (median) | ratio ours/MP (mean) | ours CPU ms | MP CPU ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        o, m, q = r["ours"], r["mediapipe"], r["ratio"]
        lines.append(f"| {name} | {o['median_ms']:.1f} | {o['mean_ms']:.1f} | {m['median_ms']:.1f} | "
                     f"{m['mean_ms']:.1f} | {q['median']:.2f} | {q['mean']:.2f} | "
                     f"{r['ours_cpu']['median_ms']:.1f} | {r['mediapipe_cpu']['median_ms']:.1f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- MediaPipe side
def mediapipe_python(venv: Path = MP_VENV) -> Path:
    """The python of MediaPipe's own venv, made (``python -m venv`` + ``pip install
    mediapipe==MP_VERSION``) unless it already has that version."""
    py = venv / "bin" / "python"
    check = [str(py), "-c", f"import importlib.metadata as m; assert m.version('mediapipe') == '{MP_VERSION}'"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    base = getattr(sys, "_base_executable", None) or sys.executable
    print(f"creating {venv} with mediapipe=={MP_VERSION} (once) ...", file=sys.stderr, flush=True)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"mediapipe=={MP_VERSION}"], check=True)
    subprocess.run(check, check=True)
    return py


class MediaPipeWorker:
    """``scripts/mediapipe_worker.py`` in MediaPipe's venv, one JSON line per command each way."""

    def __init__(self, python: Path, cv2_threads: int):
        env = dict(os.environ, BENCH_CV2_THREADS=str(cv2_threads))
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(python), str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, env=env)

    def call(self, msg: dict, payload: bytes | None = None) -> dict:
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            if payload is not None:
                self.proc.stdin.write(payload)
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = b""
        if not line:
            self.log.seek(0)
            tail = self.log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"MediaPipe worker died; its stderr ends with:\n{tail}")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def process(self, frame: np.ndarray, landmarks: bool = False) -> dict:
        """One BGR frame through MediaPipe; ``landmarks``: also each hand's keypoints (``detail``)."""
        frame = np.ascontiguousarray(frame)
        msg = {"cmd": "process", "h": frame.shape[0], "w": frame.shape[1]}
        if landmarks:
            msg["landmarks"] = True
        return self.call(msg, frame.tobytes())

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call({"cmd": "quit"})
            except RuntimeError:
                pass
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


# --------------------------------------------------------------------------- our side
def os_threads() -> int:
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))
    except (OSError, StopIteration):
        return -1


def ours_process(est, frame: np.ndarray) -> dict:
    c0, t0 = time.process_time(), time.perf_counter()
    hands = est.process([frame])[0]
    t1, c1 = time.perf_counter(), time.process_time()
    return {"ms": (t1 - t0) * 1000, "cpu_ms": (c1 - c0) * 1000, "hands": len(hands)}


def run_comparison(est, mp: MediaPipeWorker, static: bool, complexity: int, frames: list[np.ndarray],
                   n: int, warmup: int) -> dict:
    """Alternate ours and MediaPipe over ``warmup + n`` frames (cycling through ``frames``); the
    first ``warmup`` frames of each are not counted."""
    mp.call({"cmd": "open", "static_image_mode": static, "max_num_hands": 2, "model_complexity": complexity})
    est.reset()
    rec = {"ours": [], "mediapipe": []}
    for i in range(warmup + n):
        frame = frames[i % len(frames)]
        order = ("ours", "mediapipe") if i % 4 in (0, 3) else ("mediapipe", "ours")  # ABBA
        for side in order:
            rec[side].append(ours_process(est, frame) if side == "ours" else mp.process(frame))
            time.sleep(0.001)  # let the other process's spinning threads settle (not timed)
    mp_threads = rec["mediapipe"][-1]["os_threads"]
    mp.call({"cmd": "close"})
    timed = {k: v[warmup:] for k, v in rec.items()}
    ours_t, mp_t = summarize(r["ms"] for r in timed["ours"]), summarize(r["ms"] for r in timed["mediapipe"])
    return {
        "ours": ours_t, "mediapipe": mp_t, "ratio": ratio(ours_t, mp_t),
        "ours_cpu": summarize(r["cpu_ms"] for r in timed["ours"]),
        "mediapipe_cpu": summarize(r["cpu_ms"] for r in timed["mediapipe"]),
        "hands_ours": count_hist(r["hands"] for r in timed["ours"]),
        "hands_mediapipe": count_hist(r["hands"] for r in timed["mediapipe"]),
        "ours_os_threads": os_threads(), "mediapipe_os_threads": mp_threads,
        "ours_ms": [r["ms"] for r in timed["ours"]], "mediapipe_ms": [r["ms"] for r in timed["mediapipe"]],
    }


def pick_photo(data: Path, ests: dict, mp: MediaPipeWorker, complexity: int, photo: str | None,
               max_tries: int, sequence: int, shift: float, check: int) -> tuple[str, list[np.ndarray], dict]:
    """The first val ``subhih`` one-hand photo (or ``photo``) whose shifted sequence gets exactly
    one hand from our image mode and MediaPipe's static mode on ``check`` frames spread over the
    sequence, and from our video mode on its first ``check`` frames. Returns the photo, its
    sequence (letterboxed to 640x480) and what was tried."""
    candidates = [photo] if photo else one_hand_candidates(data)[:max_tries]
    mp.call({"cmd": "open", "static_image_mode": True, "max_num_hands": 2, "model_complexity": complexity})
    tried = []
    try:
        for rel in candidates:
            image = cv2.imread(str(data / rel))
            if image is None:
                raise SystemExit(f"error: cannot read {data / rel}")
            frames = shifted_sequence(letterbox(image), sequence, shift)
            spread = frames[:: max(1, len(frames) // check)][:check]
            counts = {"ours image": [], "MediaPipe static": [], "ours video": []}
            for f in spread:  # stop at the first frame that is not exactly one hand
                counts["ours image"].append(len(ests["image"].process([f])[0]))
                if counts["ours image"][-1] != 1:
                    break
                counts["MediaPipe static"].append(mp.process(f)["hands"])
                if counts["MediaPipe static"][-1] != 1:
                    break
            else:
                ests["video"].reset()
                for f in frames[:check]:
                    counts["ours video"].append(len(ests["video"].process([f])[0]))
                    if counts["ours video"][-1] != 1:
                        break
                ests["video"].reset()
            tried.append((rel, counts))
            wanted = {"ours image": len(spread), "MediaPipe static": len(spread), "ours video": len(frames[:check])}
            if all(len(c) == wanted[k] and set(c) == {1} for k, c in counts.items()):
                return rel, frames, {"tried": len(tried), "size": list(image.shape[1::-1])}
    finally:
        mp.call({"cmd": "close"})
    shown = "; ".join(f"{r}: {c}" for r, c in tried[:10])
    raise SystemExit(f"error: no photo with exactly one hand for both on {check} frames ({shown} ...)")


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=50, help="timed frames per estimator and comparison (default 50)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed frames first (default 5)")
    ap.add_argument("--model", default=None, help="model name under assets/models or folder (default: shipped)")
    ap.add_argument("--model-complexity", type=int, default=1, choices=(0, 1), help="MediaPipe's (default 1)")
    ap.add_argument("--device", default="cpu", help="our device (default cpu: MediaPipe's Python package is CPU-only)")
    ap.add_argument("--precision", default="auto", help="our precision (default auto: fp32 with ONNX Runtime on a CPU; "
                    "without it bf16 where that measures faster than fp32)")
    ap.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"),
                    help="what runs our networks (default auto: ONNX Runtime on a CPU when installed)")
    ap.add_argument("--threads", type=int, default=0,
                    help="0 = torch/cv2 defaults as in the app; N = torch and cv2 threads in ours, cv2 in MediaPipe's")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"shared data folder (default {DEFAULT_DATA})")
    ap.add_argument("--photo", default=None, help="photo relative to --data (default: first one-hand val subhih photo)")
    ap.add_argument("--max-tries", type=int, default=100, help="candidate photos to try (default 100)")
    ap.add_argument("--check", type=int, default=4, help="frames of each candidate checked for one hand (default 4)")
    ap.add_argument("--sequence", type=int, default=30, help="frames in the shifted sequence (default 30)")
    ap.add_argument("--shift", type=float, default=6.0, help="radius of the shift circle, px (default 6)")
    ap.add_argument("--mp-venv", type=Path, default=MP_VENV, help=f"MediaPipe's venv (default {MP_VENV.name})")
    ap.add_argument("--json", type=Path, default=None, help="write all settings and results here")
    args = ap.parse_args(argv)

    import torch

    from handpose_live.pipeline import HandPoseEstimator

    if args.threads > 0:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    py = mediapipe_python(args.mp_venv)
    mp = MediaPipeWorker(py, args.threads if args.threads > 0 else -1)
    try:
        mp_info = mp.call({"cmd": "info"})
        ests = {m: HandPoseEstimator.from_pretrained(args.model, device=args.device, precision=args.precision, mode=m,
                                                     backend=args.backend)
                for m in ("video", "image")}
        est = ests["image"]
        if (args.data / "real_hands" / "split.json").exists():
            rel, frames, meta = pick_photo(args.data, ests, mp, args.model_complexity, args.photo, args.max_tries,
                                           args.sequence, args.shift, args.check)
            source = {"kind": "photo", "photo": rel, "photo_size": meta["size"], "candidates_tried": meta["tried"],
                      "sequence": args.sequence, "shift_px": args.shift,
                      "text": f"{rel} ({meta['size'][0]}x{meta['size'][1]}, val split, one hand; "
                              f"candidate no. {meta['tried']} in the list) letterboxed to 640x480, {args.sequence} frames "
                              f"shifted by {args.shift:g} px along a circle"}
        else:
            frames = demo_frames(max(args.sequence, 1))
            source = {"kind": "demo", "text": f"first {len(frames)} frames of {DEMO_CLIP.relative_to(REPO)} "
                                              f"(no {args.data}; this clip shows TWO hands)"}
        print(f"frames: 640x480 BGR, {source['text']}")
        print(f"ours: model {est.model_name}, {est.device}, {est.backend} {est.precision}, torch {torch.__version__} "
              f"threads {torch.get_num_threads()}, cv2 {cv2.__version__} threads {cv2.getNumThreads()}")
        print(f"MediaPipe: {mp_info['mediapipe']} ({args.mp_venv.name}, numpy {mp_info['numpy']}), "
              f"model_complexity {args.model_complexity}, max_num_hands 2, cv2 {mp_info['cv2']} "
              f"threads {mp_info['cv2_threads']}; TFLite/XNNPACK threads: MediaPipe's default")
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; timing inside each "
              f"process, alternating per frame (ABBA), {args.warmup} warm-up + {args.frames} timed frames each",
              flush=True)
        results = {}
        for name, mode, static in (("tracking (ours video / MP static_image_mode=False)", "video", False),
                                   ("image (ours image / MP static_image_mode=True)", "image", True)):
            results[name] = run_comparison(ests[mode], mp, static, args.model_complexity, frames,
                                           args.frames, args.warmup)
            r = results[name]
            print(f"{name}: hands per frame: ours {format_counts(r['hands_ours'])}; "
                  f"MediaPipe {format_counts(r['hands_mediapipe'])}; OS threads: ours {r['ours_os_threads']}, "
                  f"MediaPipe {r['mediapipe_os_threads']}", flush=True)
    finally:
        mp.close()
    print(summary_table(results))
    expected = "1" if source["kind"] == "photo" else None
    for name, r in results.items():
        for side in ("hands_ours", "hands_mediapipe"):
            if expected and list(r[side]) != [expected]:
                print(f"WARNING: {name}: {side} {r[side]}: not exactly one hand on every timed frame")
    if args.json:
        out = {"source": source, "frames": args.frames, "warmup": args.warmup, "threads_arg": args.threads,
               "ours": {"model": est.model_name, "device": est.device, "precision": est.precision,
                        "backend": est.backend,
                        "precision_timings_ms": getattr(est, "precision_timings_ms", {}),
                        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                        "cv2": cv2.__version__, "cv2_threads": cv2.getNumThreads()},
               "mediapipe": dict(mp_info, model_complexity=args.model_complexity, max_num_hands=2),
               "machine": {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
                           "python": platform.python_version()},
               "results": results}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
