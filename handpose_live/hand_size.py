"""The user's hand size, which sets the metric scale of the 3D keypoints (no torch here: the
command line checks it)."""
from __future__ import annotations

# Hand size, as a user measures it: the palm length, on the back of the hand from the middle of
# the wrist crease to the middle finger's knuckle (keypoints wrist -> middle MCP). The default,
# 10.0 cm, is the median of MediaPipe's metric world landmarks over the 2,746 real_hands train
# hands (9.8 cm sld, 10.1 cm subhih); adult palms measure roughly 8.5-11.5 cm.
DEFAULT_PALM_LENGTH_M = 0.100
PALM_LENGTH_RANGE_M = (0.04, 0.16)  # accepted settings (a toddler's hand to a very large one)


def check_palm_length(palm_length_m: float) -> float:
    """``palm_length_m`` as a float, or ``ValueError`` outside ``PALM_LENGTH_RANGE_M``."""
    value = float(palm_length_m)
    lo, hi = PALM_LENGTH_RANGE_M
    if not lo <= value <= hi:
        raise ValueError(f"palm length must be {lo * 100:g}-{hi * 100:g} cm, got {value * 100:g} cm")
    return value
