"""Replay timing: which frame of a session to show at a given moment. No Qt.

Frames advance by the recorded time between them (``t`` of ``keypoints.jsonl``) scaled by the
speed, so a camera session with dropped frames replays at its true pace; gaps longer than
``MAX_GAP_S`` (recording paused) are shortened, and frames without times step at ``1 / fps``.
"""
from __future__ import annotations

from typing import Callable

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
MAX_GAP_S = 0.5


class Playback:
    """Position, play/pause and speed over ``count`` frames.

    ``frame_time_s(k)`` gives frame ``k``'s recorded time in seconds, or None when unknown.
    ``advance(now_s)`` moves the position by the time passed since the last call (any
    monotonic clock) and returns the frame to show; playing stops at the last frame.
    """

    def __init__(self, count: int, fps: float, frame_time_s: Callable[[int], float | None]):
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.count, self.fps, self._time_of = count, float(fps), frame_time_s
        self.position = 0
        self.speed = 1.0
        self.playing = False
        self._budget_s = 0.0  # media time passed since the current frame was reached
        self._last_now: float | None = None

    @property
    def at_end(self) -> bool:
        return self.position >= self.count - 1

    def frame_step_s(self, k: int) -> float:
        """Media seconds from frame ``k`` to frame ``k + 1``."""
        t0, t1 = self._time_of(k), self._time_of(k + 1)
        if t0 is None or t1 is None or t1 <= t0:
            return 1.0 / self.fps
        return min(t1 - t0, MAX_GAP_S)

    def play(self, now_s: float) -> None:
        """Start playing from the current frame (from the first when at the end)."""
        if self.count == 0:
            return
        if self.at_end:
            self.position = 0
        self.playing, self._budget_s, self._last_now = True, 0.0, now_s

    def pause(self) -> None:
        self.playing, self._last_now = False, None

    def seek(self, k: int) -> int:
        """Jump to frame ``k`` (clamped to the session); returns the new position."""
        self.position = max(0, min(int(k), self.count - 1)) if self.count else 0
        self._budget_s = 0.0
        return self.position

    def set_speed(self, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = float(speed)

    def advance(self, now_s: float) -> int:
        """The frame to show at ``now_s``; stops playing after the last frame."""
        if not self.playing:
            return self.position
        if self._last_now is not None:
            self._budget_s += max(0.0, now_s - self._last_now) * self.speed
        self._last_now = now_s
        while self.position < self.count - 1:
            step = self.frame_step_s(self.position)
            if self._budget_s + 1e-9 < step:  # 1e-9: float sums of tick times
                break
            self._budget_s -= step
            self.position += 1
        if self.at_end:
            self.pause()
        return self.position
