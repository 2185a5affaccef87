"""Hand articulation: gestures and random poses within anatomical limits, as local joint angles.

Angles are degrees in the *right* hand's convention: about the joint's local X (flexion is
negative), Y (abduction; + moves a finger toward the thumb) and Z (twist). ``local_angles_rad``
mirrors them for the left mesh, whose joint frames are the mirror image with X reversed.
"""
from __future__ import annotations

import numpy as np

from training.render.mesh import FINGER_JOINTS, JOINT_INDEX, JOINT_NAMES
from training.render.skinning import posed_globals

GESTURES = ("open", "fist", "point", "pinch", "thumbs_up", "count", "random")
GESTURE_WEIGHTS = np.array([0.14, 0.12, 0.1, 0.12, 0.08, 0.14, 0.3])
LONG_FINGERS = ("index", "middle", "ring", "little")

# Anatomical limits, degrees of flexion (positive = toward the palm).
MCP_FLEX = (-20.0, 90.0)
PIP_FLEX = (-5.0, 100.0)
DIP_FLEX = (-5.0, 80.0)
ABDUCTION = 15.0
# Thumb limits: CMC across the palm (X), CMC palmar abduction (Y, - = in front of the palm),
# CMC twist (Z), MCP and IP flexion.
THUMB_LIMITS = {"cmc_x": (-45.0, 35.0), "cmc_y": (-55.0, 15.0), "cmc_z": (-25.0, 25.0),
                "mcp": (-10.0, 60.0), "ip": (-20.0, 80.0)}
_SPREAD_DIRECTION = {"index": 1.0, "middle": 0.15, "ring": -0.6, "little": -1.0}


def _finger_curl(rng: np.random.Generator, gesture: str) -> tuple[dict, dict]:
    """Per-finger curl in [0, 1] and a thumb state for ``gesture``."""
    bent = lambda: rng.uniform(0.8, 1.0)       # noqa: E731 — tiny local samplers read best inline
    straight = lambda: rng.uniform(0.0, 0.15)  # noqa: E731
    thumb_in = {"cmc_x": rng.uniform(-40, -20), "cmc_y": rng.uniform(-45, -25), "cmc_z": rng.uniform(-10, 15),
                "mcp": rng.uniform(25, 55), "ip": rng.uniform(20, 60)}
    thumb_out = {"cmc_x": rng.uniform(0, 30), "cmc_y": rng.uniform(-15, 10), "cmc_z": rng.uniform(-10, 10),
                 "mcp": rng.uniform(-5, 15), "ip": rng.uniform(-15, 15)}
    if gesture == "open":
        return {f: straight() for f in LONG_FINGERS}, thumb_out
    if gesture == "fist":
        return {f: bent() for f in LONG_FINGERS}, thumb_in
    if gesture == "point":
        curl = {f: bent() for f in LONG_FINGERS}
        curl["index"] = straight()
        return curl, thumb_in if rng.random() < 0.7 else thumb_out
    if gesture == "thumbs_up":
        return {f: bent() for f in LONG_FINGERS}, thumb_out
    if gesture == "pinch":
        curl = {f: (straight() if rng.random() < 0.5 else bent()) for f in LONG_FINGERS}
        curl["index"] = rng.uniform(0.3, 0.6)
        return curl, {"cmc_x": rng.uniform(-20, 0), "cmc_y": rng.uniform(-45, -25), "cmc_z": rng.uniform(0, 20),
                      "mcp": rng.uniform(5, 30), "ip": rng.uniform(0, 30), "pinch": 1.0}
    if gesture == "count":
        count = int(rng.integers(1, 6))
        order = ["index", "middle", "ring", "little"]
        up = set(order[:count]) if count < 5 else set(order)
        if count == 3 and rng.random() < 0.4:  # the thumb-index-middle variant
            up = {"index", "middle"}
        curl = {f: straight() if f in up else bent() for f in LONG_FINGERS}
        thumb = thumb_out if count == 5 or (count == 3 and len(up) == 2) else thumb_in
        return curl, thumb
    # random: correlated flexion — neighbouring fingers pull toward each other
    raw = rng.beta(0.6, 0.6, size=4)
    smooth = raw.copy()
    smooth[1:-1] = 0.6 * raw[1:-1] + 0.2 * raw[:-2] + 0.2 * raw[2:]
    smooth[2] = 0.5 * smooth[2] + 0.5 * smooth[3]  # the ring finger follows the little finger
    thumb = {k: rng.uniform(lo, hi) for k, (lo, hi) in THUMB_LIMITS.items()}
    return dict(zip(LONG_FINGERS, smooth)), thumb


def sample_pose_deg(rng: np.random.Generator, gesture: str | None = None) -> tuple[np.ndarray, str]:
    """Local joint angles (J, 3) in degrees, right-hand convention, and the gesture used."""
    if gesture is None:
        gesture = str(rng.choice(GESTURES, p=GESTURE_WEIGHTS))
    if gesture not in GESTURES:
        raise ValueError(f"unknown gesture {gesture!r}; expected one of {GESTURES}")
    curl, thumb = _finger_curl(rng, gesture)
    angles = np.zeros((len(JOINT_NAMES), 3))
    spread = rng.uniform(-0.2, 1.0) if gesture != "fist" else rng.uniform(-0.2, 0.2)
    for f in LONG_FINGERS:
        chain = FINGER_JOINTS[f]
        c = curl[f]
        style = rng.uniform(-0.35, 0.35)  # hook (PIP-led) vs tabletop (MCP-led) grasps
        mcp = np.clip(c * 85 * (1 + style) + rng.normal(0, 5), *MCP_FLEX)
        pip = np.clip(c * 100 * (1 - style) + rng.normal(0, 5), *PIP_FLEX)
        dip = np.clip(pip * rng.uniform(0.55, 0.8) + rng.normal(0, 4), *DIP_FLEX)
        abd = np.clip(spread * _SPREAD_DIRECTION[f] * 14 * (1 - 0.7 * c) + rng.normal(0, 3), -ABDUCTION, ABDUCTION)
        angles[JOINT_INDEX[chain[1]]] = (-mcp, abd, rng.normal(0, 3))
        angles[JOINT_INDEX[chain[2]]] = (-pip, 0.0, 0.0)
        angles[JOINT_INDEX[chain[3]]] = (-dip, 0.0, 0.0)
    cup = np.mean([curl[f] for f in LONG_FINGERS])
    angles[JOINT_INDEX["ring-finger-metacarpal"], 0] = -6 * cup * rng.uniform(0.5, 1.5)
    angles[JOINT_INDEX["pinky-finger-metacarpal"], 0] = -12 * cup * rng.uniform(0.5, 1.5)
    lim = THUMB_LIMITS
    t = FINGER_JOINTS["thumb"]
    angles[JOINT_INDEX[t[0]]] = (np.clip(thumb["cmc_x"], *lim["cmc_x"]), np.clip(thumb["cmc_y"], *lim["cmc_y"]),
                                 np.clip(thumb["cmc_z"], *lim["cmc_z"]))
    angles[JOINT_INDEX[t[1]], 0] = -np.clip(thumb["mcp"], *lim["mcp"])
    angles[JOINT_INDEX[t[2]], 0] = -np.clip(thumb["ip"], *lim["ip"])
    return angles, gesture


def close_pinch(mesh, angles_deg: np.ndarray, rng: np.random.Generator, rounds=(20.0, 10.0, 5.0),
                tries: int = 16) -> np.ndarray:
    """Move the thumb and index (within their limits) so the two fingertips nearly touch.

    A small random search: each round perturbs the best pose so far with a shrinking spread (deg).
    """
    t = [JOINT_INDEX[n] for n in FINGER_JOINTS["thumb"]]
    ix = [JOINT_INDEX[n] for n in FINGER_JOINTS["index"]]
    lo = np.array([THUMB_LIMITS[k][0] for k in ("cmc_x", "cmc_y", "cmc_z")])
    hi = np.array([THUMB_LIMITS[k][1] for k in ("cmc_x", "cmc_y", "cmc_z")])

    def gap(a):
        g = posed_globals(mesh, local_angles_rad(a, mesh.side))
        return np.linalg.norm(g[t[3], :3, 3] - g[ix[4], :3, 3])

    best, best_d = angles_deg, gap(angles_deg)
    for spread in rounds:
        for _ in range(tries):
            cand = best.copy()
            cand[t[0]] = np.clip(cand[t[0]] + rng.normal(0, spread, 3), lo, hi)
            cand[t[1], 0] = -np.clip(-cand[t[1], 0] + rng.normal(0, spread), *THUMB_LIMITS["mcp"])
            cand[t[2], 0] = -np.clip(-cand[t[2], 0] + rng.normal(0, spread), *THUMB_LIMITS["ip"])
            cand[ix[1], 0] = -np.clip(-cand[ix[1], 0] + rng.normal(0, spread / 2), *MCP_FLEX)
            cand[ix[2], 0] = -np.clip(-cand[ix[2], 0] + rng.normal(0, spread / 2), *PIP_FLEX)
            d = gap(cand)
            if d < best_d:
                best, best_d = cand, d
    return best


def local_angles_rad(angles_deg: np.ndarray, side: str) -> np.ndarray:
    """Right-hand-convention degrees -> radians for the ``side`` mesh (mirror Y and Z for the left)."""
    out = np.radians(angles_deg)
    if side == "left":
        out[:, 1:] *= -1
    return out
