"""A bounded drop-oldest queue with a stop token, and a frame-rate meter. No Qt."""
from __future__ import annotations

import threading
import time
from collections import deque

STOP = object()  # the stop token: the capture thread puts it after the last frame


class DropOldestQueue:
    """A bounded FIFO. ``put(block=False)`` on a full queue drops the oldest item instead of waiting.

    ``dropped`` counts dropped items. ``put_stop()`` appends the stop token even when full, so a
    consumer always learns the end of the stream.
    """

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"maxsize must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self.dropped = 0
        self._items: deque = deque()
        self._cond = threading.Condition()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def put(self, item, block: bool = False, timeout: float | None = None) -> bool:
        """Add ``item``. Blocking puts wait for room (``False`` on timeout); others drop the oldest."""
        with self._cond:
            if block:
                if not self._cond.wait_for(lambda: len(self._items) < self.maxsize, timeout):
                    return False
            elif len(self._items) >= self.maxsize:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self._cond.notify_all()
            return True

    def put_stop(self) -> None:
        with self._cond:
            self._items.append(STOP)
            self._cond.notify_all()

    def get_batch(self, max_items: int, timeout: float | None = None) -> list:
        """Wait up to ``timeout`` s for an item, then take everything waiting (at most ``max_items``).

        A stop token ends the batch (it is returned as the last item). ``[]`` on timeout.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._items) > 0, timeout):
                return []
            batch = []
            while self._items and len(batch) < max_items:
                item = self._items.popleft()
                batch.append(item)
                if item is STOP:
                    break
            self._cond.notify_all()
            return batch


class RateMeter:
    """Events per second over the last ``window_s`` seconds of a monotonic clock.

    Events ticked at one instant (a batch of frames finished together) are one group. The rate is
    the events after the oldest group in the window over the time since that group, so a batch
    of 4 is not counted as 4 events in no time; it falls to 0 once no event has come for
    ``window_s`` (a stalled or ended stream shows 0, not its last rate)."""

    def __init__(self, window_s: float = 2.0, clock=time.monotonic):
        self.window_s = window_s
        self._clock = clock
        self._times: deque = deque()  # (time, count), one entry per instant

    def rate_at(self, now: float) -> float:
        times = [(t, n) for t, n in list(self._times) if now - t <= self.window_s]
        if len(times) < 2:
            return 0.0
        return sum(n for _, n in times[1:]) / max(now - times[0][0], times[-1][0] - times[0][0])

    @property
    def rate(self) -> float:
        return self.rate_at(self._clock())

    def tick(self, now: float, count: int = 1) -> None:
        if self._times and self._times[-1][0] == now:
            self._times[-1] = (now, self._times[-1][1] + count)
        else:
            self._times.append((now, count))
        while self._times and now - self._times[0][0] > self.window_s:
            self._times.popleft()
