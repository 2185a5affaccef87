"""A drawn test clip whose true keypoints are known: a right hand moving in a room.

The tests' fake estimator returns ``demo_keypoints_2d(k)`` for frame ``k``, so overlays can be
checked without trained weights. The hand is a 2D kinematic skeleton (wrist, palm, five
three-segment fingers) whose fingers curl with foreshortening, painted as shaded skin over a
blurred interior with a little sensor noise. (It was the app's demo clip before the renderer
made ``assets/demo/demo.mp4``.) Write it with ``python tests/placeholder_demo.py --out PATH``.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import cv2
import numpy as np

OUT_PATH = Path("placeholder_demo.mp4")
WIDTH, HEIGHT, FPS, SS = 640, 480, 30, 2  # SS: supersampling of the hand layer
SKIN_BGR = np.array([120, 150, 205], np.float32)
SLEEVE_BGR = np.array([90, 60, 40], np.float32)

# Hand-local layout (palm-width units, y up): finger base x, base y, direction (deg from up),
# segment lengths, width.  Order: thumb, index, middle, ring, little.  A right hand, palm to camera.
FINGERS = (
    (0.50, 0.30, 50.0, (0.42, 0.36, 0.30), 0.27),
    (0.33, 1.00, 7.0, (0.48, 0.30, 0.24), 0.21),
    (0.09, 1.05, 0.0, (0.53, 0.33, 0.25), 0.22),
    (-0.15, 1.00, -6.0, (0.49, 0.31, 0.24), 0.20),
    (-0.37, 0.90, -14.0, (0.38, 0.24, 0.21), 0.18),
)
PALM = ((-0.42, 0.0), (0.38, 0.0), (0.58, 0.45), (0.45, 1.02), (-0.48, 0.92), (-0.50, 0.35))


def make_background(rng: np.random.Generator) -> np.ndarray:
    """A softly lit room: wall, window, shelf with books, desk edge; blurred like a webcam's."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    wall = np.array([175, 190, 200], np.float32) * (0.75 + 0.25 * (1 - yy / HEIGHT))[..., None]
    img = wall * (0.9 + 0.1 * np.cos((xx - 450) / 500.0))[..., None]
    img = img.astype(np.uint8)
    cv2.rectangle(img, (400, 40), (600, 250), (235, 228, 215), cv2.FILLED)  # window
    cv2.rectangle(img, (400, 40), (600, 250), (120, 120, 125), 6)
    cv2.line(img, (500, 40), (500, 250), (120, 120, 125), 5)
    cv2.rectangle(img, (30, 150), (230, 160), (60, 85, 110), cv2.FILLED)  # shelf
    x = 40
    while x < 220:
        w, h = int(rng.integers(10, 22)), int(rng.integers(45, 80))
        color = tuple(int(c) for c in rng.integers(40, 200, 3))
        cv2.rectangle(img, (x, 150 - h), (x + w, 150), color, cv2.FILLED)
        x += w + 2
    cv2.rectangle(img, (0, 400), (WIDTH, HEIGHT), (70, 100, 135), cv2.FILLED)  # desk
    cv2.line(img, (0, 400), (WIDTH, 400), (50, 70, 95), 3)
    img = cv2.GaussianBlur(img, (0, 0), 3.0)
    return img


def finger_flex(t: float) -> np.ndarray:
    """Curl 0 (straight) .. 1 (fist) per finger at time ``t`` s: open, count down, fist, open."""
    cycle = t % 6.0
    flex = np.zeros(5)
    for f in range(5):
        start = 1.0 + 0.35 * (4 - f)  # little finger folds first, thumb last
        flex[f] = np.clip((cycle - start) / 0.5, 0, 1) * np.clip((5.2 - cycle) / 0.6, 0, 1)
    return flex


def hand_points(t: float) -> tuple[np.ndarray, list[np.ndarray], float]:
    """Palm outline, finger joint chains (frame px) and pixels per palm width at time ``t``."""
    cx = WIDTH * 0.5 + 110 * math.sin(2 * math.pi * t / 6.0)
    cy = HEIGHT * 0.62 + 30 * math.sin(2 * math.pi * t / 3.0)
    scale = 95 * (1.0 + 0.12 * math.sin(2 * math.pi * t / 4.0))
    angle = math.radians(12 * math.sin(2 * math.pi * t / 5.0))
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])

    def to_px(p):
        q = rot @ np.asarray(p, np.float64)
        return np.array([cx + scale * q[0], cy - scale * q[1]])

    flex = finger_flex(t)
    chains = []
    for f, (bx, by, direction, lengths, _) in enumerate(FINGERS):
        d = math.radians(direction)
        axis = np.array([math.sin(d), math.cos(d)])
        side = np.array([axis[1], -axis[0]])
        pos, bend = np.array([bx, by]), 0.0
        chain = [to_px(pos)]
        for k, length in enumerate(lengths):
            bend += flex[f] * (1.35 if f else 0.8) * (1.0 if k else 0.8)
            if f == 0:  # the thumb folds across the palm
                pos = pos + length * (math.cos(bend) * axis - math.sin(bend) * side * 0.9)
            else:
                pos = pos + length * (math.cos(bend) * axis - 0.08 * math.sin(bend) * side)
            chain.append(to_px(pos))
        chains.append(np.array(chain))
    palm = np.array([to_px(p) for p in PALM])
    return palm, chains, scale


def demo_keypoints_2d(frame_index: int) -> np.ndarray:
    """Keypoints ``[21, 2]`` (frame px, user order) of the drawn hand in frame ``frame_index``:
    the wrist (middle of the palm's base) and each finger base to tip. For tests and checks."""
    palm, chains, _ = hand_points(frame_index / FPS)
    wrist = (palm[0] + palm[1]) / 2
    return np.vstack([wrist[None]] + [c for c in chains]).astype(np.float32)


def paint_hand(frame: np.ndarray, t: float) -> np.ndarray:
    """The hand, forearm and sleeve composited over ``frame`` with simple shading."""
    palm, chains, scale = hand_points(t)
    h, w = HEIGHT * SS, WIDTH * SS
    layer = np.zeros((h, w), np.float32)  # shade 0..1, 0 = no hand
    alpha = np.zeros((h, w), np.uint8)
    sleeve = np.zeros((h, w), np.uint8)

    def pts(a):
        return np.round(np.asarray(a) * SS).astype(np.int32)

    wrist = (palm[0] + palm[1]) / 2
    down = wrist - (palm[3] + palm[4]) / 2
    down /= np.linalg.norm(down) + 1e-9
    across = np.array([-down[1], down[0]]) * scale * 0.42
    arm = np.array([wrist + across, wrist - across, wrist - across * 1.15 + down * 900,
                    wrist + across * 1.15 + down * 900])
    cv2.fillPoly(alpha, [pts(arm)], 255, cv2.LINE_AA)
    cv2.fillPoly(layer, [pts(arm)], 0.8, cv2.LINE_AA)
    cuff = np.array([arm[0] + down * scale * 0.5, arm[1] + down * scale * 0.5, arm[2], arm[3]])
    cv2.fillPoly(sleeve, [pts(cuff)], 255, cv2.LINE_AA)
    cv2.fillPoly(alpha, [pts(palm)], 255, cv2.LINE_AA)
    cv2.fillPoly(layer, [pts(palm)], 0.95, cv2.LINE_AA)
    order = [1, 2, 3, 4, 0]
    for f in order:
        chain, width = chains[f], FINGERS[f][4] * scale * SS
        curled = chain[-1][1] > chain[1][1]  # tip below the knuckle: finger folded over the palm
        for k in range(len(chain) - 1):
            a, b = pts(chain[k]), pts(chain[k + 1])
            thick = max(2, int(width * (1.0 - 0.12 * k)))
            shade = 0.82 if curled else 1.0 - 0.04 * k
            cv2.line(layer, tuple(a), tuple(b), 0.55, thick + 2 * SS, cv2.LINE_AA)  # crease/outline
            cv2.line(alpha, tuple(a), tuple(b), 255, thick + 2 * SS, cv2.LINE_AA)
            cv2.line(layer, tuple(a), tuple(b), shade, thick, cv2.LINE_AA)
        tip = pts(chain[-1])
        cv2.circle(layer, tuple(tip), max(2, int(width * 0.32)), 1.08, cv2.FILLED, cv2.LINE_AA)
    # soft volume: brighter towards the middle of each part, darker at the silhouette
    dist = cv2.distanceTransform((alpha > 127).astype(np.uint8), cv2.DIST_L2, 5)
    volume = np.clip(dist / (0.18 * scale * SS), 0, 1) ** 0.5
    layer = cv2.GaussianBlur(layer, (0, 0), 1.2 * SS) * (0.7 + 0.3 * volume)
    small = lambda a: cv2.resize(a, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)  # noqa: E731
    a = small(alpha.astype(np.float32) / 255.0)[..., None]
    s = small(sleeve.astype(np.float32) / 255.0)[..., None]
    shade = small(layer)[..., None]
    color = SKIN_BGR * shade * (1 - s) + SLEEVE_BGR * (0.7 + 0.3 * shade) * s
    out = frame.astype(np.float32) * (1 - a) + color * a
    return np.clip(out, 0, 255).astype(np.uint8)


def render(out_path: Path = OUT_PATH, seconds: float = 6.0, seed: int = 0) -> Path:
    """Write the clip (mp4v, 640x480, 30 fps) and return its path."""
    rng = np.random.default_rng(seed)
    background = make_background(rng)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    vignette = 1.0 - 0.25 * (((xx - WIDTH / 2) / WIDTH) ** 2 + ((yy - HEIGHT / 2) / HEIGHT) ** 2)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out_path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {out_path} with the mp4v codec")
    for i in range(int(seconds * FPS)):
        frame = paint_hand(background, i / FPS).astype(np.float32) * vignette[..., None]
        frame += rng.normal(0, 2.0, frame.shape).astype(np.float32)
        writer.write(np.clip(frame, 0, 255).astype(np.uint8))
    writer.release()
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_PATH, help=f"output file (default {OUT_PATH})")
    parser.add_argument("--seconds", type=float, default=6.0, help="clip length in seconds")
    args = parser.parse_args(argv)
    path = render(args.out, args.seconds)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
