"""Live processing: a capture thread, a bounded drop-oldest queue and an inference worker.

No Qt here. The GUI (or any other consumer) polls ``LiveRuntime.latest()`` and
``LiveRuntime.stats()`` from its own thread; ``on_result`` callbacks run on the worker thread.

    source ──CaptureThread──▶ DropOldestQueue ──InferenceWorker(estimator.process)──▶ latest()
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .hand import Hand
from .frame_queue import STOP, DropOldestQueue, RateMeter
from .smoothing import HandSmoother
from .sources import FOLDER_FPS, FrameSource

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_ERRORS = 3  # then the worker stops calling the model (video only)


@dataclass
class Frame:
    """One captured frame. ``t_capture`` is ``time.monotonic()`` at capture; ``t_source`` the
    frame's time in the stream (s), used for smoothing."""

    index: int  # index in the source (an image folder's file index: skipped files leave gaps)
    image: np.ndarray  # [H, W, 3] uint8 BGR
    t_capture: float
    t_source: float
    name: str | None = None  # the image file's name (image folders)


@dataclass
class Result:
    """What the worker publishes per frame. Hands are in raw-frame pixels, sides as corrected."""

    frame: Frame
    hands: list[Hand]
    mask: np.ndarray | None  # [H, W] uint8 (0 bg, 1 left, 2 right) or None
    t_done: float

    @property
    def latency_s(self) -> float:
        return self.t_done - self.frame.t_capture


@dataclass
class RuntimeStats:
    camera_fps: float = 0.0
    inference_fps: float = 0.0
    latency_ms: float = 0.0
    dropped: int = 0
    captured: int = 0
    processed: int = 0
    finished: bool = False
    error: str = ""  # last model or source error, user-facing; "" when none


def swap_sides(hands: list[Hand]) -> list[Hand]:
    """Hands with left and right exchanged (for cameras whose driver mirrors the image)."""
    flip = {"left": "right", "right": "left"}
    return [dataclasses.replace(h, side=flip.get(h.side, h.side)) for h in hands]


class CaptureThread(threading.Thread):
    """Reads ``source`` into ``queue``. Paced to ``pace_fps`` when given (playing a file in real
    time); ``lossless`` waits for room instead of dropping. Ends with the stop token."""

    def __init__(self, source: FrameSource, queue: DropOldestQueue, *, pace_fps: float | None,
                 lossless: bool, max_frames: int | None = None):
        super().__init__(name="handpose-capture", daemon=True)
        self.source, self.queue = source, queue
        self.pace_fps, self.lossless, self.max_frames = pace_fps, lossless, max_frames
        self.meter = RateMeter()
        self.captured = 0
        self.error = ""
        self._stop_event = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop_event.set()
        self._running.set()

    def pause(self, paused: bool) -> None:
        if paused:
            self._running.clear()
        else:
            self._running.set()

    def run(self) -> None:
        fps = self.source.fps or FOLDER_FPS
        t0 = time.monotonic()
        try:
            while not self._stop_event.is_set():
                self._running.wait()
                if self._stop_event.is_set() or self.max_frames is not None and self.captured >= self.max_frames:
                    break
                image = self.source.read()
                if image is None:
                    break
                now = time.monotonic()
                if self.pace_fps:
                    due = t0 + self.captured / self.pace_fps
                    if due > now:
                        self._stop_event.wait(due - now)
                        now = time.monotonic()
                    elif now - due > 1.0:  # fell far behind (paused or slow decode): re-anchor
                        t0 = now - self.captured / self.pace_fps
                position = getattr(self.source, "position", None)
                index = self.captured if position is None else position  # lost frames leave a gap
                t_source = now if self.source.is_live else index / fps
                frame = Frame(index, image, now, t_source, getattr(self.source, "label", None))
                while not self.queue.put(frame, block=self.lossless, timeout=0.1):
                    if self._stop_event.is_set():
                        return
                self.captured += 1
                self.meter.tick(now)
        except Exception as exc:  # a camera unplugged, a decoder crash: report, end the stream
            log.exception("capture failed")
            self.error = f"Source error ({self.source.name}): {exc}"
        finally:
            self.queue.put_stop()


class InferenceWorker(threading.Thread):
    """Takes every waiting frame (up to ``max_batch``), runs ``estimator.process``, smooths, and
    publishes a ``Result`` per frame. ``estimator=None`` passes frames through. ``independent``
    (a folder of photos): no smoothing from one frame to the next."""

    def __init__(self, queue: DropOldestQueue, estimator, *, max_batch: int, smoother: HandSmoother,
                 on_result: Callable[[Result], None] | None = None):
        super().__init__(name="handpose-inference", daemon=True)
        self.queue, self.estimator, self.max_batch = queue, estimator, max_batch
        self.smoother = smoother
        self.smoothing = True
        self.independent = False
        self.camera_mirrors = False
        self.hand_side = "right"  # the side passed to models that cannot tell left from right
        self.on_result = on_result
        self.meter = RateMeter()
        self.processed = 0
        self.latency_s = 0.0
        self.error = ""
        self.finished = threading.Event()
        self.latest: Result | None = None
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._errors_in_row = 0

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        try:
            if self.estimator is not None:
                self.estimator.reset()
            while not self._stop_event.is_set():
                batch = self.queue.get_batch(self.max_batch, timeout=0.1)
                frames = [item for item in batch if item is not STOP]
                if frames:
                    self._process(frames)
                if batch and batch[-1] is STOP:
                    break
        finally:
            self.finished.set()

    def _infer(self, frames: list[Frame]) -> tuple[list[list[Hand]], list]:
        estimator = self.estimator
        if estimator is None:
            return [[] for _ in frames], [None] * len(frames)
        try:
            images = [f.image for f in frames]
            if not getattr(estimator, "estimates_side", True):
                hands = estimator.process(images, hand_sides=[self.hand_side] * len(images))
            else:
                hands = estimator.process(images)
            masks = list(getattr(estimator, "last_masks", None) or [None] * len(frames))
            if len(hands) != len(frames):
                raise RuntimeError(f"estimator returned {len(hands)} results for {len(frames)} frames")
            self._errors_in_row = 0
            return hands, masks
        except Exception as exc:
            log.exception("hand pose estimator failed")
            self._errors_in_row += 1
            self.error = f"Model error: {type(exc).__name__}: {exc}"
            if self._errors_in_row >= MAX_CONSECUTIVE_ERRORS:
                self.error += " (model disabled after repeated errors; video only)"
                self.estimator = None
            return [[] for _ in frames], [None] * len(frames)

    def _process(self, frames: list[Frame]) -> None:
        hands_per_frame, masks = self._infer(frames)
        now = time.monotonic()
        for frame, hands, mask in zip(frames, hands_per_frame, masks):
            if self.camera_mirrors:
                hands = swap_sides(hands)
            if self.smoothing and not self.independent:
                hands = self.smoother(hands, frame.t_source)
            result = Result(frame, list(hands), mask, now)
            with self._lock:
                self.latest = result
                self.processed += 1
                self.latency_s = result.latency_s
            self.meter.tick(now, 1)
            if self.on_result is not None:
                self.on_result(result)


class LiveRuntime:
    """Capture thread + inference worker over one source. ``start()``, poll, then ``stop()``.

    Live sources drop the oldest frame when inference falls behind; files are played in real
    time (``realtime=True``) with drops, or, with ``realtime=False`` / ``max_frames``, every frame is
    processed as fast as the model allows.

    The estimator runs in video mode (hands tracked from frame to frame, smoothed), except on a
    folder of photos (``source.kind == "images"``): each photo is a scene of its own, so image mode
    (every photo searched whole, as the headless batch does) and no smoothing.
    """

    def __init__(self, source: FrameSource, estimator, *, max_frames: int | None = None,
                 realtime: bool = True, smoothing: bool = True, camera_mirrors: bool = False,
                 max_batch: int = 4, on_result: Callable[[Result], None] | None = None):
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.source = source
        lossless = not source.is_live and (max_frames is not None or not realtime or source.fps is None)
        self.lossless = lossless  # every frame processed; the source waits for the model
        pace = None if source.is_live or lossless else source.fps
        self.queue = DropOldestQueue(max_batch if lossless else 2)
        self.capture = CaptureThread(source, self.queue, pace_fps=pace, lossless=lossless,
                                     max_frames=max_frames)
        self.worker = InferenceWorker(self.queue, estimator, max_batch=max_batch,
                                      smoother=HandSmoother(), on_result=on_result)
        self.worker.smoothing = smoothing
        self.worker.independent = source.kind == "images"
        self.worker.camera_mirrors = camera_mirrors
        self.paused = False
        self._set_mode(estimator)

    def _set_mode(self, estimator) -> None:
        if estimator is not None and hasattr(estimator, "mode"):
            estimator.mode = "image" if self.worker.independent else "video"

    @property
    def estimator(self):
        return self.worker.estimator

    def start(self) -> "LiveRuntime":
        self.worker.start()
        self.capture.start()
        return self

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self.capture.pause(paused)

    def set_estimator(self, estimator) -> None:
        """Use ``estimator`` (or ``None``: video only) from the next batch on."""
        if estimator is not None:
            estimator.reset()
        self._set_mode(estimator)
        self.worker.estimator = estimator
        self.worker.error = ""
        self.worker._errors_in_row = 0

    def set_hand_side(self, side: str) -> None:
        """The side given to a model that cannot tell left from right (2-class, no side head)."""
        self.worker.hand_side = side

    def set_smoothing(self, on: bool) -> None:
        self.worker.smoothing = on

    def set_camera_mirrors(self, on: bool) -> None:
        self.worker.camera_mirrors = on

    @property
    def finished(self) -> bool:
        """True once the worker has processed the last frame of the source (or was stopped)."""
        return self.worker.finished.is_set()

    def latest(self) -> Result | None:
        with self.worker._lock:
            return self.worker.latest

    def stats(self) -> RuntimeStats:
        w, c = self.worker, self.capture
        return RuntimeStats(
            camera_fps=c.meter.rate, inference_fps=w.meter.rate, latency_ms=1000.0 * w.latency_s,
            dropped=self.queue.dropped, captured=c.captured, processed=w.processed,
            finished=self.finished, error=w.error or c.error)

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop both threads, close the source; ``True`` when both threads ended in time."""
        self.capture.stop()
        self.worker.stop()
        for thread in (self.capture, self.worker):
            if thread.is_alive():
                thread.join(timeout)
        self.source.close()
        return not (self.capture.is_alive() or self.worker.is_alive())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
