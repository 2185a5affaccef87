"""Hand regions from segmentation probabilities (section 3.1 of the paper, extended to two hands).

The paper grows the region around the most confident pixel with 32 rounds of a 21x21 dilation
ANDed with the mask, which bridges gaps of ~10 px. Here: connected components of the mask
dilated by the same bridge radius, ANDed back with the mask — equivalent, and far cheaper.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .tracking import intersection_and_areas, overlap_of_smaller

LEFT, RIGHT = 1, 2  # mask labels and 3-class channel indices


@dataclass
class Region:
    """One hand region in segmentation-canvas pixels."""

    bbox: np.ndarray  # [4] x0, y0, x1, y1 (inclusive pixel extent + 1)
    confidence: float  # the region's highest hand probability
    area: int  # foreground pixels
    side: str | None  # "left"/"right" by majority vote (3-class), None for a 2-class model
    minority: float = 0.0  # the share of its pixels voting for the other side (3-class)


def find_regions(probs: np.ndarray, threshold: float = 0.5, bridge_px: int = 10,
                 min_area: int = 40, max_hands: int = 2,
                 exclude: np.ndarray | None = None,
                 bridge_threshold: float | None = None,
                 split_sides_frac: float | None = None) -> tuple[list[Region], np.ndarray]:
    """``probs`` ``[C, h, w]`` softmax output (C = 2: bg, hand; C = 3: bg, left, right).

    Returns up to ``max_hands`` regions ordered by their most confident pixel, and the label mask
    ``[h, w]`` uint8 (0 background, 1 left, 2 right; 2-class hands are labelled 1).
    ``exclude`` ``[K, 4]`` (x0, y0, x1, y1, canvas pixels): boxes whose pixels no region takes —
    hands already tracked there — so a new hand touching a tracked one is not merged into it. The
    label mask still shows them. ``bridge_threshold`` (below ``threshold``): pixels above it also
    join pieces into one region — a hand segmented in fragments, its fingertips and wrist above
    ``threshold`` and the palm between just below, becomes one region — but add no pixels.
    ``split_sides_frac`` (3-class): a region whose minority side holds at least this fraction of its
    pixels is taken as two hands touching — a left and a right hand held together, which the
    bridge joins — and becomes two regions, its left-labelled and its right-labelled pixels (each
    at least ``min_area``).
    """
    hand_prob = 1.0 - probs[0]
    fg = (hand_prob > threshold).astype(np.uint8)
    if probs.shape[0] == 3:
        labels_mask = np.where(probs[RIGHT] > probs[LEFT], RIGHT, LEFT).astype(np.uint8) * fg
    else:
        labels_mask = fg.copy()
    h, w = fg.shape
    low = None if bridge_threshold is None else (hand_prob > min(bridge_threshold, threshold)).astype(np.uint8)
    for x0, y0, x1, y1 in np.asarray([] if exclude is None else exclude, np.float32).reshape(-1, 4):
        rows = slice(max(0, int(np.floor(y0))), min(h, int(np.ceil(y1))))
        cols = slice(max(0, int(np.floor(x0))), min(w, int(np.ceil(x1))))
        fg[rows, cols] = 0
        if low is not None:
            low[rows, cols] = 0
    if not fg.any():
        return [], labels_mask
    if bridge_px > 0:
        k = 2 * bridge_px + 1
        grown = cv2.dilate(fg, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    else:
        grown = fg
    if low is not None:
        grown = grown | low
    n, comp = cv2.connectedComponents(grown, connectivity=8)
    comp = comp * fg  # AND with the mask: the bridge joins regions but adds no pixels
    flat_comp, flat_prob = comp.ravel(), hand_prob.ravel()
    areas = np.bincount(flat_comp, minlength=n)
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, flat_comp, flat_prob)
    three = probs.shape[0] == 3
    candidates = []  # regions, each with its most confident pixel
    for label in np.argsort(-peak):
        if len(candidates) >= max_hands and peak[label] < min(c.confidence for c in candidates):
            break  # every later component's peak is lower still: none can enter the best max_hands
        if label == 0 or areas[label] < min_area:
            continue
        ys, xs = np.nonzero(comp == label)
        side = None
        if three:
            is_right = labels_mask[ys, xs] == RIGHT
            votes_right = int(is_right.sum())
            minority = min(votes_right, len(ys) - votes_right)
            if (split_sides_frac is not None and minority >= split_sides_frac * len(ys)
                    and minority >= min_area):
                for part, name in ((~is_right, "left"), (is_right, "right")):
                    candidates.append(_region(xs[part], ys[part], hand_prob, name))
                continue
            side = "right" if votes_right * 2 > len(ys) else "left"
        candidates.append(_region(xs, ys, hand_prob, side, minority / len(ys) if three else 0.0))
    candidates.sort(key=lambda r: -r.confidence)
    return candidates[:max_hands], labels_mask


def _region(xs: np.ndarray, ys: np.ndarray, hand_prob: np.ndarray, side: str | None,
            minority: float = 0.0) -> Region:
    """The region of pixels ``(xs, ys)``: their bbox, highest hand probability and count."""
    bbox = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
    return Region(bbox=bbox, confidence=float(hand_prob[ys, xs].max()), area=int(len(xs)), side=side,
                  minority=minority)


def _inside(a: np.ndarray, b: np.ndarray) -> float:
    """The part of box ``a`` (x0, y0, x1, y1) that lies inside box ``b``, by ``a``'s area."""
    inter, area, _ = intersection_and_areas(a, b)
    return float(inter / area) if area > 0 else 0.0


def combine_scales(fine: list[Region], coarse: list[Region], limit: int, inside: float = 0.5,
                   apart: float = 0.1) -> list[Region]:
    """One frame's candidate regions from HandSegNet at two input sizes, bboxes in frame pixels.

    The larger input draws better outlines but joins two touching hands into one region more often
    than the smaller one does. So: each fine region stands, unless two or more coarse regions lie in
    it (each at least ``inside`` of its own box), which then stand for it; a coarse region that
    overlaps no fine region (by more than ``apart`` of the smaller box) is added. The first ``limit``
    by confidence are returned."""
    out: list[Region] = []
    for f in fine:
        held = [c for c in coarse if _inside(c.bbox, f.bbox) >= inside]
        out.extend(r for r in (held if len(held) >= 2 else [f]) if not any(r is o for o in out))
    for c in coarse:
        if any(c is o for o in out):
            continue
        if all(overlap_of_smaller(c.bbox, f.bbox) <= apart for f in fine):
            out.append(c)
    out.sort(key=lambda r: -r.confidence)
    return out[:limit]
