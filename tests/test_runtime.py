"""Capture thread, drop-oldest queue and inference worker, without Qt."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from handpose_live.frame_queue import STOP, DropOldestQueue
from handpose_live.runtime import LiveRuntime, swap_sides
from handpose_live.sources import FrameSource
from test_runtime_fake_estimator import FakeEstimator, fake_hand


class ListSource(FrameSource):
    """``n`` small frames; live sources deliver them at ``fps`` like a camera."""

    kind = "video"

    def __init__(self, n=20, live=False, fps=None):
        self.n, self.is_live, self.fps, self.i = n, live, fps, 0
        self.name, self.closed = "list", False

    def read(self):
        if self.i >= self.n:
            return None
        if self.is_live and self.fps:
            time.sleep(1 / self.fps)
        self.i += 1
        return np.full((48, 64, 3), self.i % 256, np.uint8)

    def close(self):
        self.closed = True


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_queue_drops_oldest_and_counts():
    q = DropOldestQueue(2)
    for i in range(5):
        q.put(i)
    assert q.dropped == 3 and q.get_batch(10, timeout=0) == [3, 4]
    assert q.get_batch(10, timeout=0.01) == []


def test_queue_blocking_put_waits_and_stop_token_ends_batch():
    q = DropOldestQueue(1)
    q.put("a")
    assert q.put("b", block=True, timeout=0.05) is False and q.dropped == 0
    q.put_stop()  # the stop token is never dropped, even when full
    q.put_stop()
    assert q.get_batch(5, timeout=0) == ["a", STOP]
    with pytest.raises(ValueError):
        DropOldestQueue(0)


def test_every_frame_processed_in_batches_with_max_frames():
    est = FakeEstimator(delay_s=0.002)
    with LiveRuntime(ListSource(50), est, max_frames=30, max_batch=4) as rt:
        assert wait_for(lambda: rt.finished)
        stats = rt.stats()
    assert stats.processed == 30 and stats.captured == 30 and stats.dropped == 0
    assert sum(est.batches) == 30 and max(est.batches) <= 4 and max(est.batches) > 1
    assert est.thread_names == {"handpose-inference"} and est.resets == 1
    assert rt.latest().frame.index == 29 and len(rt.latest().hands) == 1
    assert rt.latest().mask.shape == (48, 64)


def test_slow_model_on_live_source_drops_oldest_and_keeps_latency_low():
    est = FakeEstimator(delay_s=0.05)
    with LiveRuntime(ListSource(60, live=True, fps=200), est) as rt:
        assert wait_for(lambda: rt.finished)
        stats = rt.stats()
    assert stats.dropped > 0 and stats.processed + stats.dropped == 60
    assert rt.latest().frame.index == 59  # the newest frame always gets through
    assert stats.latency_ms < 400


def test_stop_leaves_no_threads_and_closes_source():
    before = set(threading.enumerate())
    source = ListSource(10_000, live=True, fps=500)
    rt = LiveRuntime(source, FakeEstimator(delay_s=0.01)).start()
    assert wait_for(lambda: rt.stats().processed > 3)
    assert rt.stop(timeout=3.0)
    assert set(threading.enumerate()) == before and source.closed and rt.finished


def test_pause_stops_capture():
    rt = LiveRuntime(ListSource(10_000, live=True, fps=500), None).start()
    try:
        assert wait_for(lambda: rt.stats().captured > 2)
        rt.pause(True)
        time.sleep(0.05)
        n = rt.stats().captured
        time.sleep(0.1)
        assert rt.stats().captured <= n + 1
        rt.pause(False)
        assert wait_for(lambda: rt.stats().captured > n + 3)
    finally:
        assert rt.stop()


def test_model_exception_becomes_status_and_video_continues():
    est = FakeEstimator(fail_after=4)
    with LiveRuntime(ListSource(20), est, max_frames=20, max_batch=2) as rt:
        assert wait_for(lambda: rt.finished)
        stats = rt.stats()
    assert "Model error" in stats.error and "fake model exploded" in stats.error
    assert "disabled" in stats.error and rt.estimator is None  # gave up after repeated errors
    assert stats.processed == 20 and rt.latest().hands == []


def test_no_estimator_passes_video_through():
    with LiveRuntime(ListSource(5), None, max_frames=10) as rt:
        assert wait_for(lambda: rt.finished)
    assert rt.stats().processed == 5 and rt.stats().error == ""


def test_camera_mirrors_swaps_sides_and_callbacks_see_every_frame():
    seen = []
    with LiveRuntime(ListSource(8), FakeEstimator(), max_frames=8, camera_mirrors=True,
                     on_result=seen.append) as rt:
        assert wait_for(lambda: rt.finished)
    assert [r.frame.index for r in seen] == list(range(8))
    assert all(r.hands[0].side == "left" for r in seen)  # the fake reports "right"
    assert [h.side for h in swap_sides([fake_hand(0, side="left")])] == ["right"]


def test_source_error_is_reported():
    class Broken(ListSource):
        def read(self):
            raise OSError("camera unplugged")

    with LiveRuntime(Broken(), None, max_frames=3) as rt:
        assert wait_for(lambda: rt.finished)
    assert "camera unplugged" in rt.stats().error


def test_runtime_modules_import_without_qt():
    import subprocess
    import sys

    code = ("import sys; import handpose_live.runtime, handpose_live.sources, handpose_live.drawing, "
            "handpose_live.smoothing, handpose_live.frame_queue, handpose_live.cli; "
            "assert not any(m.startswith(('PyQt5', 'pyqtgraph')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_two_class_models_get_the_chosen_side():
    class TwoClass(FakeEstimator):
        num_classes = 2
        estimates_side = False

        def process(self, frames, hand_sides=None):
            assert hand_sides == ["left"] * len(frames)
            return super().process(frames)

    rt = LiveRuntime(ListSource(4), TwoClass(), max_frames=4)
    rt.worker.hand_side = "left"
    with rt:
        assert wait_for(lambda: rt.finished)
    assert rt.stats().error == "" and rt.stats().processed == 4


class PhotoFolder(ListSource):
    kind = "images"


class ModalEstimator(FakeEstimator):
    """Records the mode it runs each batch in, as ``HandPoseEstimator.mode``."""

    def __init__(self):
        super().__init__()
        self.mode = "video"
        self.modes: list[str] = []

    def process(self, frames, hand_sides=None):
        self.modes.append(self.mode)
        return super().process(frames, hand_sides)


def test_a_folder_of_photos_runs_in_image_mode_unsmoothed_and_a_video_in_video_mode():
    est = ModalEstimator()
    raw = [fake_hand(i).keypoints_2d for i in range(6)]
    for source, mode in ((PhotoFolder(6), "image"), (ListSource(6), "video"), (PhotoFolder(6), "image")):
        est.modes.clear()
        seen = []
        with LiveRuntime(source, est, max_frames=6, on_result=seen.append) as rt:
            assert wait_for(lambda: rt.finished)
        assert set(est.modes) == {mode}
        moved = [not np.allclose(r.hands[0].keypoints_2d, kp) for r, kp in zip(seen, raw)]
        if mode == "image":  # separate scenes: each photo's hands as found, not smoothed toward the last
            assert not any(moved)
        else:  # a stream: the One Euro filter pulls each frame's keypoints toward the last ones
            assert any(moved)
    rt = LiveRuntime(ListSource(3), None)
    rt.set_estimator(est)  # a model chosen while a video plays runs in video mode too
    assert est.mode == "video"
