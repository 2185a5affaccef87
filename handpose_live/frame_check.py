"""Which frames the estimator takes, judged one by one (no torch: sources use it to skip a bad
file without failing its neighbours)."""
from __future__ import annotations

# frames up to this side are accepted (a 9000x6000 phone photo is ordinary); the estimator works
# on a copy downscaled to WORK_MAX_SIDE and reports keypoints in the frame's own pixels
MAX_FRAME_SIDE = 32768
WORK_MAX_SIDE = 4096
MIN_FRAME_SIDE = 2


def frame_problem(frame) -> str:
    """Why ``frame`` cannot be processed ("" when it can): for sources that skip such frames."""
    if frame is None:
        return "cannot be decoded"
    if min(frame.shape[:2]) < MIN_FRAME_SIDE:
        return f"{frame.shape[1]}x{frame.shape[0]} is too small (at least {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE})"
    if max(frame.shape[:2]) > MAX_FRAME_SIDE:
        return f"{frame.shape[1]}x{frame.shape[0]} exceeds {MAX_FRAME_SIDE} px"
    return ""
