"""Command line of ``handpose-live`` (``main.py``): the flags every mode shares, the window's
flags, and which flags hand over to batch mode.

``--headless …`` and ``--export-csv …`` run without a window in ``handpose_live.batch``;
everything else opens a window with the flags of ``build_parser()``: the live window, or with
``--replay DIR`` the replay window. Both parsers take the shared flags from ``common_parser()``,
so they are checked the same way. Bad input exits with one ``error: …`` line, never a traceback.

Exit codes, the same in every mode: 0 done; 2 usage or bad input (a bad flag, a missing or
unreadable source, model or session, an output folder that is not new), before any work starts;
1 a failure while running (a recording that cannot be written, a disk that fills); 130
interrupted (Ctrl+C, SIGTERM).
"""
from __future__ import annotations

import argparse
import re
import sys

from .camera import check_fov
from .hand_size import check_palm_length

BATCH_FLAGS = ("--headless", "--export-csv")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message: str):  # one line instead of usage + message
        sys.stderr.write(f"error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def wants_batch(argv: list[str]) -> bool:
    """True when ``argv`` asks for a mode without a window (see ``BATCH_FLAGS``)."""
    return any(arg == flag or arg.startswith(flag + "=") for arg in argv for flag in BATCH_FLAGS)


def _device(text: str) -> str:
    if not DEVICE_PATTERN.match(text):
        raise argparse.ArgumentTypeError(f"unknown device {text!r}; use auto, cpu, cuda or cuda:N")
    return text


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _resolution(text: str) -> str:
    m = re.match(r"^(\d+)x(\d+)$", text.lower())
    if not m or not (16 <= int(m[1]) <= 7680 and 16 <= int(m[2]) <= 4320):
        raise argparse.ArgumentTypeError(f"resolution must look like 1280x720, got {text!r}")
    return text.lower()


PROG = "handpose-live"
MODES = (f"Modes: the live window (default); --replay DIR, a recorded session in the replay window; "
         f"--headless --source S --out DIR, without a window into a session folder; --export-csv DIR, "
         f"a session's keypoints as CSV (see {PROG} --headless --help). "
         "Exit codes: 0 done, 2 usage or bad input, 1 failure while running, 130 interrupted.")


def _palm_cm(text: str) -> float:
    """``--hand-size`` in cm -> metres, checked (4-16 cm)."""
    try:
        return check_palm_length(float(text) / 100)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e) if "palm" in str(e) else f"not a number: {text!r}") from None


def _fov(text: str) -> float:
    """``--camera-fov`` in degrees, checked."""
    try:
        return check_fov(float(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e) if "field of view" in str(e) else f"not a number: {text!r}") from None


def common_parser() -> argparse.ArgumentParser:
    """The flags every mode shares, checked the same way (a parent parser, no --help)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--source", help="camera index (e.g. 0), video file or image folder "
                   "(window default: the last camera; the demo clip when there is no camera)")
    p.add_argument("--model", default=None,
                   help="a model name under assets/models or a model folder (default: default)")
    p.add_argument("--device", type=_device, default=None,
                   help="auto, cpu, cuda or cuda:N (default: the window's last choice, else auto)")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"),
                   help="inference precision (default auto: fp16 on CUDA; on a CPU fp32 with ONNX Runtime, "
                        "or, without it, bf16 where that measures faster than fp32; bf16 runs PyTorch)")
    p.add_argument("--max-frames", type=_positive, default=None, metavar="N",
                   help="process N frames (or the whole source if shorter), then exit 0")
    p.add_argument("--hand-size", type=_palm_cm, default=None, metavar="CM",
                   help="palm length in cm, back of the hand, wrist crease to middle knuckle: the scale of "
                        "the 3D keypoints (default: the window's last setting, else 10)")
    p.add_argument("--camera-fov", type=_fov, default=None, metavar="DEG",
                   help="the camera's horizontal field of view in degrees: how the 3D of a hand away from the "
                        "image centre is turned (default: the window's last setting, else 60)")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The window's flags (the shared ones + the window's). Batch flags: ``batch.build_parser``."""
    p = OneLineParser(prog=PROG, parents=[common_parser()],
                      description="Live 3D hand tracking from a webcam, video or images. " + MODES)
    p.add_argument("--resolution", type=_resolution, default=None,
                   help="camera capture size WxH, e.g. 1280x720 (default: the last choice)")
    p.add_argument("--screenshot", default=None, metavar="PATH",
                   help="save a PNG of the whole window when the app exits")
    p.add_argument("--no-smoothing", action="store_true", help="start with smoothing off")
    p.add_argument("--record", default=None, metavar="DIR",
                   help="record the session into the new folder DIR (refused if DIR exists and "
                   "is not empty); stops at exit, Ctrl+C or SIGTERM")
    p.add_argument("--replay", default=None, metavar="DIR",
                   help="replay the recorded session DIR (video, overlay and 3D view); with "
                   "--max-frames N, exit after showing N frames")
    return p
