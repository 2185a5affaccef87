"""Headless batch processing and CSV export: ``handpose-live --headless …`` / ``--export-csv``.

``main(argv)`` parses its flags (``build_parser()``: the shared ``cli.common_parser()`` + batch
flags), prints one ``error: …`` line on stderr for every bad input and returns the exit code of
``cli``'s convention instead of raising: 2 for usage and bad input, 1 for a failure while running.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import cv2
import numpy as np
from tqdm import tqdm

from .session import RecordingError, SessionFormatError, SessionWriter, export_csv
from .session.format import STATUS_FAILED, STATUS_INCOMPLETE, STATUS_INTERRUPTED, time_base_for
from .session.writer import check_new_session_folder
from .cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, MODES, PROG, OneLineParser, common_parser
from .drawing import draw_hands
from .frame_check import frame_problem
from .sources import FrameSource, ImageFolderSource, SourceError, open_source

IMAGE_FOLDER_VIDEO_FPS = 10.0  # frame rate of the annotated video of an image folder


class BatchError(Exception):
    """Usage or bad input (exit 2); its message is printed as one line."""


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog=PROG, parents=[common_parser()],
                      description="Process a source without a window, or export CSV. " + MODES)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--headless", action="store_true", help="process --source into --out")
    mode.add_argument("--export-csv", metavar="SESSION_DIR",
                      help="write SESSION_DIR/keypoints.csv (one row per frame x hand x keypoint)")
    p.add_argument("--out", metavar="DIR", help="new session folder (must not exist or be empty)")
    p.add_argument("--batch-size", type=int, default=8, help="frames per inference batch (files)")
    p.add_argument("--raw-video", action="store_true", help="also store the unannotated video")
    p.add_argument("--hand-side", choices=("left", "right"), default=None,
                   help="side of every hand (required by models that cannot tell left from right: "
                        "a 2-class paper model without a side head)")
    return p


@dataclass
class _Item:
    frame: int  # index in the source (capture count for cameras)
    t: float | None  # seconds
    name: str | None  # image file name (image folders)
    image: np.ndarray  # BGR


def _image_items(src: ImageFolderSource, skipped: list[str]) -> Iterator[_Item]:
    """Each file judged alone: one that cannot be decoded or is too small is skipped with a
    warning line, leaving a gap in ``frame``; the others are processed as usual."""
    for index, path in enumerate(src.paths):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        problem = frame_problem(image)
        if problem:
            skipped.append(path.name)
            tqdm.write(f"warning: skipped {path.name}: {problem}", file=sys.stderr)
            continue
        yield _Item(index, None, path.name, image)


def _stream_items(src: FrameSource) -> Iterator[_Item]:
    start, count = time.monotonic(), 0
    while (image := src.read()) is not None:
        position = getattr(src, "position", None)
        index = count if position is None else position  # frames lost in a damaged video leave a gap
        t = time.monotonic() - start if src.is_live else index / src.fps
        yield _Item(index, t, None, image)
        count += 1


def _chunks(items: Iterator[_Item], size: int, limit: int | None) -> Iterator[list[_Item]]:
    chunk, count = [], 0
    for item in items:
        if limit is not None and count >= limit:
            break
        chunk.append(item)
        count += 1
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_estimator(model: str | None, device: str, precision: str, mode: str):
    """The pipeline's ``HandPoseEstimator``; model problems become ``BatchError``."""
    from .pipeline import HandPoseEstimator  # torch: only once the arguments are checked

    try:
        return HandPoseEstimator.from_pretrained(
            path=model, device=device, precision=precision, mode=mode
        )
    except (FileNotFoundError, ValueError) as e:  # ModelNotFoundError, CorruptModelError
        raise BatchError(str(e)) from e


def _check_args(args) -> None:
    if args.source is None or args.out is None:
        raise BatchError("--headless needs --source (video, image folder or camera) and --out DIR")
    if args.batch_size < 1:
        raise BatchError(f"--batch-size must be >= 1, got {args.batch_size}")
    try:
        check_new_session_folder(args.out)
    except (FileExistsError, RecordingError) as exc:
        raise BatchError(f"--out: {exc}") from None


def run_headless(args, estimator_factory: Callable | None = None) -> int:
    """Process ``args.source`` into the session folder ``args.out``; returns the exit code."""
    _check_args(args)
    src = open_source(args.source)
    try:
        # consecutive frames (videos, cameras): video mode tracks hands, so track ids stay
        # stable; image-folder files are independent: image mode
        mode = "image" if isinstance(src, ImageFolderSource) else "video"
        factory = estimator_factory or load_estimator
        est = factory(args.model, args.device or "auto", args.precision, mode)
        if args.hand_size is not None:
            est.palm_length_m = args.hand_size
        if args.camera_fov is not None:
            est.camera_fov_deg = args.camera_fov
        if not getattr(est, "estimates_side", True) and args.hand_side is None:
            raise BatchError(f"model {est.model_name} tells only hand from background: "
                             "pass --hand-side left or --hand-side right")
        fps = src.fps or IMAGE_FOLDER_VIDEO_FPS
        writer = SessionWriter(
            args.out, fps=fps, model_name=est.model_name, weights_sha256=est.weights_sha256,
            source_kind=src.kind, source_description=str(args.source), record_raw=args.raw_video,
            time_base=time_base_for(src.kind),
            palm_length_m=getattr(est, "palm_length_m", None),
            camera_fov_deg=getattr(est, "camera_fov_deg", None),
        )
        return _process(src, est, writer, args)
    finally:
        src.close()


def _process(src: FrameSource, est, writer: SessionWriter, args) -> int:
    skipped: list[str] = []
    items = _image_items(src, skipped) if isinstance(src, ImageFolderSource) else _stream_items(src)
    batch = 1 if src.is_live else args.batch_size
    total = getattr(src, "frame_count", None)
    if args.max_frames is not None:
        total = min(total, args.max_frames) if total else args.max_frames
    bar = tqdm(total=total, unit="frame", desc=src.name, file=sys.stderr, mininterval=0.5)
    start, status = time.monotonic(), EXIT_OK
    try:
        for chunk in _chunks(items, batch, args.max_frames):
            images = [item.image for item in chunk]
            if args.hand_side is None:
                results = est.process(images)
            else:
                results = est.process(images, hand_sides=[args.hand_side] * len(images))
            for item, hands in zip(chunk, results):
                annotated = draw_hands(item.image, hands)
                writer.write(item.frame, item.t, hands, annotated, source=item.name,
                             raw_bgr=item.image if args.raw_video else None)
            bar.update(len(chunk))
        limit_reached = args.max_frames is not None and writer.frame_count >= args.max_frames
        if src.is_live and not limit_reached:  # a camera never ends by itself: its reads failed
            lost = f"{src.name} stopped delivering frames (unplugged or taken by another program)"
            writer.close(status=STATUS_INTERRUPTED, message=lost)
            sys.stderr.write(f"error: {lost}; the session was closed as interrupted: {writer.folder}\n")
            status = EXIT_ERROR
        elif loss := src.loss_message():  # a damaged video: read past, what was lost is said
            writer.close(status=STATUS_INCOMPLETE, message=loss, source_frames_lost=src.frames_lost)
            sys.stderr.write(f"warning: {loss}; the session was closed as incomplete\n")
        else:
            writer.close()
    except KeyboardInterrupt:
        writer.close(status=STATUS_INTERRUPTED, message="interrupted by signal")
        status = EXIT_INTERRUPTED
    except RecordingError as e:  # the writer closed itself (status "failed")
        sys.stderr.write(f"error: {e}\n")
        return EXIT_ERROR
    except BaseException as e:
        writer.close(status=STATUS_FAILED, message=f"{type(e).__name__}: {e}")
        raise
    finally:
        bar.close()
    elapsed = max(time.monotonic() - start, 1e-9)
    if skipped:
        sys.stderr.write(f"warning: skipped {len(skipped)} image(s) that could not be processed, e.g. {skipped[0]}\n")
    note = " (interrupted)" if status in (EXIT_INTERRUPTED, EXIT_ERROR) else \
        " (incomplete: frames of the source were lost)" if writer.info["status"] == STATUS_INCOMPLETE else ""
    print(f"{writer.frame_count} frames, {writer.frames_with_hands} frames with hands, "
          f"{writer.frame_count / elapsed:.1f} frames/s -> {writer.folder}{note}")
    return status


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None, *, estimator_factory: Callable | None = None) -> int:
    """Entry point for ``--headless`` and ``--export-csv``; returns the process exit code.

    ``estimator_factory(model, device, precision, mode)`` replaces ``load_estimator`` (tests).
    """
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if on_main_thread else None
    try:
        if args.export_csv is not None:
            skipped: list[int] = []
            try:
                path = export_csv(args.export_csv, skipped=skipped)
            except FileNotFoundError as e:  # the session folder named on the command line
                raise BatchError(str(e)) from None
            if skipped:
                sys.stderr.write(f"warning: skipped {len(skipped)} damaged line(s) of keypoints.jsonl "
                                 f"(first: line {skipped[0] + 1}); their frames have no rows\n")
            print(f"wrote {path}")
            return EXIT_OK
        return run_headless(args, estimator_factory)
    except (BatchError, SourceError, SessionFormatError) as e:  # usage or bad input
        sys.stderr.write(f"error: {e}\n")
        return EXIT_USAGE
    except OSError as e:  # I/O failing while running
        sys.stderr.write(f"error: {e}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
