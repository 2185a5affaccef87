"""A bounded drop-oldest queue with a stop token, and a frame-rate meter. No Qt."""
from __future__ import annotations

import threading
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
    """Events per second, smoothed exponentially over roughly the last ``window`` events."""

    def __init__(self, window: int = 15):
        self.alpha = 2.0 / (window + 1)
        self.rate = 0.0
        self._last: float | None = None

    def tick(self, now: float, count: int = 1) -> None:
        if self._last is not None and now > self._last:
            inst = count / (now - self._last)
            self.rate = inst if self.rate == 0.0 else self.rate + self.alpha * (inst - self.rate)
        self._last = now
