"""Which 3D poses to show: current hands, and lost hands kept briefly, greyed when stale. No Qt."""
from __future__ import annotations

from dataclasses import dataclass

from ..hand import Hand


@dataclass
class ShownHand:
    hand: Hand
    stale: bool  # lost for longer than the grace period: draw it grey
    key: int  # stable key for display items (the track id, or a slot for untracked hands)


class HandMemory:
    """Keeps each track's last pose for ``keep_s`` seconds after it disappears.

    A hand missing for less than ``grace_s`` is still shown normally (tracking flicker);
    afterwards it is shown stale until ``keep_s``, then dropped. Times are seconds on any
    monotonic clock.
    """

    def __init__(self, grace_s: float = 0.2, keep_s: float = 1.5):
        if not 0 <= grace_s <= keep_s:
            raise ValueError(f"need 0 <= grace_s <= keep_s, got {grace_s}, {keep_s}")
        self.grace_s, self.keep_s = grace_s, keep_s
        self._last: dict[int, tuple[Hand, float]] = {}

    def clear(self) -> None:
        self._last.clear()

    def update(self, hands: list[Hand], now_s: float) -> list[ShownHand]:
        """Record ``hands`` seen at ``now_s`` and return what to show, current hands first."""
        shown = []
        current = set()
        for slot, hand in enumerate(hands):
            key = hand.track_id if hand.track_id >= 0 else -1 - slot
            current.add(key)
            if hand.track_id >= 0:
                self._last[key] = (hand, now_s)
            shown.append(ShownHand(hand, False, key))
        for key, (hand, seen) in list(self._last.items()):
            if key in current:
                continue
            age = now_s - seen
            if age > self.keep_s or age < 0:
                del self._last[key]
            else:
                shown.append(ShownHand(hand, age > self.grace_s, key))
        return shown
