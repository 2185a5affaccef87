"""Skin-coloured distractors (behind the hands) and occluders (in front of them), drawn in 2D."""
from __future__ import annotations

import cv2
import numpy as np


def _fill_shaded(rng, image: np.ndarray, shape_mask: np.ndarray, colour_rgb: np.ndarray) -> None:
    """Paint ``shape_mask`` in ``image`` with a colour under a soft linear shading gradient."""
    ys, xs = np.nonzero(shape_mask)
    if len(ys) == 0:
        return
    a = rng.uniform(0, 2 * np.pi)
    t = (np.cos(a) * xs + np.sin(a) * ys) / max(shape_mask.shape)
    dx, dy = xs - xs.mean(), ys - ys.mean()
    r2 = (dx * dx / (dx.var() + 1) + dy * dy / (dy.var() + 1)) / 6.0  # ~1 at a blob's rim: rounded look
    gain = 1.0 + rng.uniform(0.1, 0.5) * (t - t.mean()) - rng.uniform(0.0, 0.35) * np.minimum(r2, 1.5)
    image[ys, xs] = np.clip(gain[:, None] * colour_rgb[None], 0, 255).astype(np.uint8)


def draw_distractors(rng: np.random.Generator, image: np.ndarray, skin_rgb: np.ndarray) -> None:
    """Draw 0-2 skin-coloured faces/arms into ``image`` (RGB uint8, in place)."""
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(1, 3))):
        m = np.zeros((h, w), np.uint8)
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:  # face-like ellipse
            ax = int(rng.uniform(0.1, 0.4) * w)
            cv2.ellipse(m, c, (ax, int(ax * rng.uniform(1.1, 1.5))), rng.uniform(-20, 20), 0, 360, 1, -1)
        else:  # arm-like thick segment
            end = (int(rng.integers(-w // 2, w + w // 2)), int(rng.integers(-h // 2, h + h // 2)))
            cv2.line(m, c, end, 1, int(rng.uniform(0.06, 0.18) * w))
        colour = np.clip(skin_rgb * rng.uniform(0.8, 1.2, 3), 0, 255)
        _fill_shaded(rng, image, m, colour)


def sample_occluders(rng: np.random.Generator, height: int, width: int, box_xyxy: np.ndarray,
                     texture: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """1-2 shapes over the hand box: returns (colour RGB uint8 HxWx3, mask HxW bool).

    Shapes: a pen/stick (thick line), an ellipse or a polygon (a cup, a phone, a ball),
    each covering part of ``box_xyxy`` (x0, y0, x1, y1 px). ``texture``: optional RGB image
    of the same size to fill some of them with.
    """
    colour = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    x0, y0, x1, y1 = box_xyxy
    size = max(x1 - x0, y1 - y0, 8.0)
    for _ in range(int(rng.integers(1, 3))):
        m = np.zeros((height, width), np.uint8)
        cx = rng.uniform(x0, x1)
        cy = rng.uniform(y0, y1)
        kind = rng.integers(3)
        if kind == 0:
            a = rng.uniform(0, np.pi)
            d = np.array([np.cos(a), np.sin(a)]) * size * rng.uniform(0.4, 1.2)
            cv2.line(m, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])), 1,
                     max(2, int(size * rng.uniform(0.04, 0.12))))
        elif kind == 1:
            ax = (max(2, int(size * rng.uniform(0.1, 0.35))), max(2, int(size * rng.uniform(0.1, 0.35))))
            cv2.ellipse(m, (int(cx), int(cy)), ax, rng.uniform(0, 180), 0, 360, 1, -1)
        else:
            n = int(rng.integers(3, 7))
            ang = np.sort(rng.uniform(0, 2 * np.pi, n))
            r = size * rng.uniform(0.1, 0.35, n)
            pts = np.stack([cx + r * np.cos(ang), cy + r * np.sin(ang)], 1).astype(np.int32)
            cv2.fillPoly(m, [pts], 1)
        sel = m.astype(bool)
        if texture is not None and rng.random() < 0.5:
            colour[sel] = texture[sel]
        else:
            _fill_shaded(rng, colour, m, rng.uniform(0, 255, 3))
        mask |= m
    return colour, mask.astype(bool)
