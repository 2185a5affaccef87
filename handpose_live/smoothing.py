"""One Euro filtering of keypoints over time (Casiez, Roussel & Vogel, CHI 2012), per track.

The filter is a first-order low-pass whose cutoff rises with speed: still hands lose their
jitter, fast hands keep little lag. ``min_cutoff`` (Hz) sets smoothing at rest, ``beta``
(1 / signal unit) how quickly the cutoff opens with speed, ``d_cutoff`` (Hz) smooths the speed.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .hand import Hand


def _alpha(cutoff_hz, dt_s: float):
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, np.float64))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """One Euro filter over arrays of any fixed shape, applied element-wise."""

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0):
        if min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
            raise ValueError(
                f"need min_cutoff > 0, d_cutoff > 0, beta >= 0; got {min_cutoff}, {d_cutoff}, {beta}")
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x, t_s: float) -> np.ndarray:
        """Filtered value of sample ``x`` taken at time ``t_s`` (seconds, increasing)."""
        x = np.asarray(x, np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t_s
            return x.copy()
        dt = t_s - self._t
        if dt <= 0:  # repeated or out-of-order timestamp: assume 30 fps
            dt = 1.0 / 30.0
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._dx = self._dx + a_d * (dx - self._dx)
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, dt)
        self._x = self._x + a * (x - self._x)
        self._t = t_s
        return self._x.copy()


@dataclasses.dataclass
class SmoothingConfig:
    """Defaults tuned for 2D pixels (beta per px/s) and 3D metres (beta per m/s)."""

    min_cutoff_2d: float = 1.5
    beta_2d: float = 0.02
    min_cutoff_3d: float = 1.0
    beta_3d: float = 8.0
    d_cutoff: float = 1.0
    forget_after_s: float = 0.5  # a track unseen this long starts afresh


class HandSmoother:
    """Smooths ``keypoints_2d`` and ``keypoints_3d`` of each hand per ``track_id``.

    Hands without a track (``track_id < 0``) pass unchanged. Inputs are never modified; call it
    with the hands of each frame in order: ``smoothed = smoother(hands, t_s)``.
    """

    def __init__(self, config: SmoothingConfig | None = None):
        self.config = config or SmoothingConfig()
        self._tracks: dict[int, tuple[str, OneEuroFilter, OneEuroFilter, float]] = {}

    def reset(self) -> None:
        self._tracks.clear()

    def __call__(self, hands: list[Hand], t_s: float) -> list[Hand]:
        c = self.config
        out = []
        for hand in hands:
            if hand.track_id < 0:
                out.append(hand)
                continue
            entry = self._tracks.get(hand.track_id)
            if entry is None or entry[0] != hand.side or not 0 <= t_s - entry[3] <= c.forget_after_s:
                entry = (hand.side, OneEuroFilter(c.min_cutoff_2d, c.beta_2d, c.d_cutoff),
                         OneEuroFilter(c.min_cutoff_3d, c.beta_3d, c.d_cutoff), t_s)
            side, f2d, f3d, _ = entry
            self._tracks[hand.track_id] = (side, f2d, f3d, t_s)
            out.append(dataclasses.replace(
                hand,
                keypoints_2d=f2d(hand.keypoints_2d, t_s).astype(np.float32),
                keypoints_3d=f3d(hand.keypoints_3d, t_s).astype(np.float32)))
        stale = [k for k, v in self._tracks.items() if t_s - v[3] > c.forget_after_s or t_s < v[3]]
        for k in stale:
            del self._tracks[k]
        return out
