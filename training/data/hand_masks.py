"""Precomputed hand masks for ``real_hands``: MediaPipe's person segmentation cut down to each hand.

The real photos have keypoints but no masks. ``selfie_segmentation.tflite`` (MediaPipe 0.10.21,
Apache-2.0; fetched by ``training.pretrained.mediapipe_landmark.fetch_selfie_segmentation``) gives a
person mask; near each labelled hand it is the hand's outline. Per image a PNG label mask:
0 background, 1 left hand, 2 right hand, ``IGNORE`` (255) uncertain. Per hand (score >= 0.8, side
from ``real_hands.label_side``), with ``d`` the distance to the filled convex hull of its 21
keypoints and ``D`` the diagonal of their bounding box:

* hand    = person and ``d <= HAND_RADIUS * D`` (0.12: the selfie model's outline of a hand
  against the room lies inside it, fists included; more takes in forearm and cheek)
* ignore  = person and ``d <= CONTEXT_RADIUS * D``, not hand (the forearm, a face or the other
  arm next to the hand: skin that may or may not belong to it);
  plus ``d <= MISS_RADIUS * D`` and not person (hand pixels the selfie model may have missed, the
  gaps between fingers); 0.06 keeps the background right at a well-outlined hand's edge labelled.
  For a hand the selfie model did not see whole (``FULLY_SEEN`` of its bones) the missed parts may
  be whole fingers or a fist's knuckles: there ``HAND_RADIUS`` is used instead.
* background elsewhere. Where two hands' regions meet, a pixel goes to the nearer hand.

The person mask outlines a hand only where the hand meets the room. Two cases where it does not
(``build_mask``'s ``outline``): the selfie model missed the hand (fewer than ``MIN_SEEN`` of the
bones' pixels are person: ~14 % of the hands — large close-ups, hands held away from the body,
many ``sld`` photos), or the hand is in front of the body or face (more than ``MAX_RING`` of the
band ``RING`` x D around the hull is person: ~2 %), where "person near the hull" would paint the
shirt as hand. Such a hand is labelled by its keypoint core (``keypoint_core``: the coarse
keypoint mask eroded by ``CORE_ERODE`` x palm length, well inside the fingers), and the rest of
its ``HAND_RADIUS`` region is ignored.

An image is *trusted* as background only when every MediaPipe detection in it is a kept hand
(``real_hands.kept_hands``: no detection under 0.8, not an ``sld`` photo with two detections, at
least one hand). Untrusted images (and the unlabelled ones) are all ``IGNORE`` except their kept
hands, which keep their labels: a hand MediaPipe was unsure of must not be taught as background.
Hands MediaPipe missed without any detection cannot be told from the labels; in ``sld`` (one hand
per photo) there are none, in ``subhih`` a second hand missed next to a found one would be taught
as background.

    python -m training.data.hand_masks [--data ROOT] [--out data_cache/hand_masks]

writes ``<out>/real_hands/<source>/.../<stem>.png`` for every image of ``labels_mediapipe.jsonl``
(train, dev and val — val's are for evaluation, never trained on), ``<out>/index.jsonl`` (per image:
split, trusted, per hand its pixel counts) and ``<out>/meta.json`` (the constants, the model's
sha256, timings). ``real_hands.RealHandsDataset`` reads the masks when ``meta.json`` is there.
The cache is derived from the shared data: it stays under the git-ignored ``data_cache/``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from training.data.image_file import read_rgb
from training.data.paths import REPO_ROOT, data_root

IGNORE = 255
LEFT_LABEL, RIGHT_LABEL = 1, 2
PERSON_THRESHOLD = 0.5  # on the selfie model's sigmoid output
# Radii, as fractions of the diagonal of the hand's keypoint bounding box (see the module doc).
HAND_RADIUS = 0.12
CONTEXT_RADIUS = 0.40
MISS_RADIUS = 0.06  # hands the selfie model saw whole (FULLY_SEEN); HAND_RADIUS for the others
FULLY_SEEN = 0.9
MIN_DIAGONAL_PX = 4.0
# When the person mask does not outline a hand: it missed the hand (fewer than MIN_SEEN of the
# bones inside it) or the hand is in front of the body (more than MAX_RING of the band RING
# around the hand's hull inside it), the hand is labelled by its keypoint core (CORE_ERODE).
MIN_SEEN = 0.5
RING = (0.16, 0.28)
MAX_RING = 0.6
CORE_ERODE = 0.06
SELFIE_SIZE = 256
CACHE_ENV = "HANDPOSE_MASK_CACHE"
DEFAULT_CACHE = REPO_ROOT / "data_cache" / "hand_masks"
META = "meta.json"
INDEX = "index.jsonl"
MASK_VERSION = 1


def default_cache() -> Path:
    """``$HANDPOSE_MASK_CACHE`` if set, else ``<repo>/data_cache/hand_masks``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else DEFAULT_CACHE


def cache_ready(cache: str | Path | None, root: str | Path | None = None) -> bool:
    """Whether ``cache`` holds a complete run of this module (its ``meta.json`` is written last)
    and, with ``root``, one made from that data root (another root's photos share file names)."""
    if cache is None or not (Path(cache) / META).is_file():
        return False
    if root is None:
        return True
    made_from = json.loads((Path(cache) / META).read_text()).get("data_root")
    return made_from == str(Path(root).resolve())


def mask_file(cache: str | Path, file: str) -> Path:
    """Where the mask of ``file`` (``real_hands/...``, relative to the data root) lives."""
    return Path(cache) / Path(file).with_suffix(".png")


def read_mask(cache: str | Path, file: str, shape_hw: tuple[int, int]) -> np.ndarray:
    """The precomputed label mask of ``file``; raises when missing or of another size."""
    path = mask_file(cache, file)
    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise ValueError(f"no precomputed mask {path}; rerun python -m training.data.hand_masks "
                         f"(or unset {CACHE_ENV} / remove the cache to use coarse masks)")
    if mask.shape != tuple(shape_hw) or mask.dtype != np.uint8:
        raise ValueError(f"mask {path} is {mask.shape} {mask.dtype}, expected {tuple(shape_hw)} uint8")
    return mask


class SelfieSegmenter:
    """MediaPipe's ``selfie_segmentation.tflite`` through ``ai_edge_litert``: RGB uint8 image ->
    person probability at the image's size. The input is the image stretched to 256x256, RGB in
    [0, 1] (MediaPipe's graph stretches too: ``keep_aspect_ratio: false``)."""

    def __init__(self, model_path: str | Path | None = None, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        if model_path is None:
            from training.pretrained.mediapipe_landmark import fetch_selfie_segmentation

            model_path = fetch_selfie_segmentation()
        self.model_path = Path(model_path)
        self.interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        self.interpreter.allocate_tensors()
        (inp,), (out,) = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if tuple(inp["shape"]) != (1, SELFIE_SIZE, SELFIE_SIZE, 3) or inp["dtype"] != np.float32:
            raise ValueError(f"unexpected selfie model input {inp['shape']} {inp['dtype']}")
        self._in, self._out = inp["index"], out["index"]
        self.invoke_s = 0.0  # time spent in the interpreter, for timing

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        interp = cv2.INTER_AREA if min(h, w) > SELFIE_SIZE else cv2.INTER_LINEAR
        x = cv2.resize(rgb, (SELFIE_SIZE, SELFIE_SIZE), interpolation=interp).astype(np.float32) / 255.0
        t = time.perf_counter()
        self.interpreter.set_tensor(self._in, x[None])
        self.interpreter.invoke()
        prob = self.interpreter.get_tensor(self._out)[0, :, :, 0].copy()
        self.invoke_s += time.perf_counter() - t
        return cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR)


def hull_distance(kp: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    """Distance in px (float32, HxW) of every pixel to the filled convex hull of ``kp`` (N,2)."""
    inside = np.full(shape_hw, 255, np.uint8)
    hull = cv2.convexHull(np.round(np.asarray(kp, np.float64) * 4).astype(np.int32))
    cv2.fillConvexPoly(inside, hull, 0, lineType=cv2.LINE_8, shift=2)
    return cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def keypoint_diagonal(kp: np.ndarray) -> float:
    kp = np.asarray(kp, np.float64)
    return float(np.linalg.norm(kp.max(0) - kp.min(0)))


def bones_seen(person: np.ndarray, kp: np.ndarray) -> float:
    """Fraction of the hand's bones (lines between keypoints, user order) inside ``person``."""
    from handpose_live.skeleton import BONES

    lines = np.zeros(person.shape, np.uint8)
    pts = np.round(np.asarray(kp, np.float64) * 4).astype(np.int32)
    width = max(1, int(round(0.02 * keypoint_diagonal(kp))))
    for a, b in BONES:
        cv2.line(lines, tuple(map(int, pts[a])), tuple(map(int, pts[b])), 1, width, cv2.LINE_8, shift=2)
    on = lines.astype(bool)
    return float(person[on].mean()) if on.any() else 0.0


def keypoint_core(kp: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    """Pixels that are hand whatever its outline (bool HxW): the coarse keypoint mask
    (``coarse_mask.draw_coarse_mask``: palm polygon, bones ~0.22 x palm length wide) eroded by
    ``CORE_ERODE`` x palm length on every side, so a finger's core is well inside the finger even
    with the labels' few pixels of noise."""
    from training.data.coarse_mask import draw_coarse_mask

    coarse = np.zeros(shape_hw, np.uint8)
    draw_coarse_mask(coarse, kp, 1)
    kp = np.asarray(kp, np.float64)
    e = int(round(CORE_ERODE * np.linalg.norm(kp[9] - kp[0])))  # wrist -> middle MCP
    if e > 0:
        coarse = cv2.erode(coarse, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * e + 1, 2 * e + 1)))
    return coarse.astype(bool)


def build_mask(person: np.ndarray, hands: list[tuple[np.ndarray, int]], trusted: bool = True,
               fallback: bool = True) -> tuple[np.ndarray, list[dict]]:
    """The label mask (the module doc's rule) from a boolean person mask ``person`` (HxW) and
    ``hands``: (keypoints (21,2) px, user order, label 1 or 2) each. Returns the mask and per
    hand: ``hand`` (pixels labelled), ``missed`` (pixels in its miss radius, not person),
    ``seen`` (fraction of the hand's bones inside the person mask: near 0 when the selfie model
    missed the hand), ``ring`` (fraction of the band ``RING`` around the hand inside the person
    mask: near 1 when the hand is in front of the body, so the person mask has no outline there)
    and ``outline``: whether the person mask delineates the hand (``seen >= MIN_SEEN`` and
    ``ring <= MAX_RING``). With ``fallback``, a hand without outline is labelled by its
    ``keypoint_core`` instead and the rest of its ``HAND_RADIUS`` region is ignored."""
    shape = person.shape
    mask = np.zeros(shape, np.uint8) if trusted else np.full(shape, IGNORE, np.uint8)
    if not hands:
        return mask, []
    dist = np.stack([hull_distance(kp, shape) for kp, _ in hands])
    nearest = dist.argmin(0) if len(hands) > 1 else np.zeros(shape, np.intp)
    ignore = np.zeros(shape, bool)
    claims, stats = [], []
    for k, ((kp, label), d) in enumerate(zip(hands, dist)):
        diag = max(MIN_DIAGONAL_PX, keypoint_diagonal(kp))
        own = nearest == k
        seen = bones_seen(person, kp)
        near = d <= (MISS_RADIUS if seen >= FULLY_SEEN else HAND_RADIUS) * diag
        missed = ~person & near
        ignore |= (person & (d <= CONTEXT_RADIUS * diag)) | missed
        band = (d > RING[0] * diag) & (d <= RING[1] * diag)
        ring = float(person[band].mean()) if band.any() else 0.0
        outline = seen >= MIN_SEEN and ring <= MAX_RING
        if outline or not fallback:
            hand = person & own & (d <= HAND_RADIUS * diag)
        else:
            hand = keypoint_core(kp, shape) & own
            ignore |= d <= HAND_RADIUS * diag
        claims.append((hand, label))
        stats.append({"label": int(label), "hand": int(hand.sum()), "missed": int((missed & own).sum()),
                      "seen": round(seen, 4), "ring": round(ring, 4), "outline": bool(outline)})
    mask[ignore] = IGNORE
    for hand, label in claims:
        mask[hand] = label
    for st, (hand, _) in zip(stats, claims):
        st["hand"] = int((hand & (mask == st["label"])).sum())
    return mask, stats


def record_mask(rec: dict, person: np.ndarray) -> tuple[np.ndarray, bool, list[dict]]:
    """Mask, trusted flag and per-hand stats for one label record of ``labels_mediapipe.jsonl``."""
    from training.data.real_hands import kept_hands, label_side

    kept = kept_hands(rec)
    trusted = bool(rec["hands"]) and len(kept) == len(rec["hands"])
    hands = [(np.asarray(h["kp"], np.float64)[:, :2], RIGHT_LABEL if label_side(h) == "right" else LEFT_LABEL)
             for h in kept]
    mask, stats = build_mask(person, hands, trusted)
    return mask, trusted, stats


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_cache(root: Path, out: Path, threads: int = 1, limit: int | None = None, log=print) -> dict:
    """Run the selfie model on every real_hands image and write masks, index and meta; returns meta."""
    from training.data.real_hands import _read, split_files

    rows, _ = _read(root)
    rows = rows[:limit] if limit else rows
    split_of = {f: s for s, files in split_files(root).items() for f in files}
    seg = SelfieSegmenter(threads=threads)
    out.mkdir(parents=True, exist_ok=True)
    (out / META).unlink(missing_ok=True)  # incomplete until the end
    t0 = time.perf_counter()
    t_read = t_mask = t_write = 0.0
    index = []
    for i, rec in enumerate(rows):
        t = time.perf_counter()
        rgb = read_rgb(root / rec["file"])
        t_read += time.perf_counter() - t
        person = seg(rgb) > PERSON_THRESHOLD
        t = time.perf_counter()
        mask, trusted, stats = record_mask(rec, person)
        t_mask += time.perf_counter() - t
        t = time.perf_counter()
        path = mask_file(out, rec["file"])
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), mask):
            raise ValueError(f"could not write {path}")
        t_write += time.perf_counter() - t
        index.append({"file": rec["file"], "split": split_of.get(rec["file"]), "trusted": trusted,
                      "person": round(float(person.mean()), 4), "hands": stats})
        if (i + 1) % 500 == 0:
            log(f"{i + 1}/{len(rows)} images, {time.perf_counter() - t0:.1f} s")
    total = time.perf_counter() - t0
    (out / INDEX).write_text("".join(json.dumps(r) + "\n" for r in index))
    n = max(1, len(rows))
    hands = [h for r in index for h in r["hands"]]
    meta = {
        "data_root": str(Path(root).resolve()),
        "version": MASK_VERSION, "model": "mediapipe 0.10.21 selfie_segmentation.tflite",
        "model_sha256": _sha256(seg.model_path), "person_threshold": PERSON_THRESHOLD,
        "hand_radius": HAND_RADIUS, "context_radius": CONTEXT_RADIUS, "miss_radius": MISS_RADIUS,
        "fully_seen": FULLY_SEEN,
        "min_seen": MIN_SEEN, "ring": RING, "max_ring": MAX_RING, "core_erode": CORE_ERODE,
        "labels": {"background": 0, "left": LEFT_LABEL, "right": RIGHT_LABEL, "ignore": IGNORE},
        "images": len(rows), "trusted_images": sum(r["trusted"] for r in index), "hands": len(hands),
        "hands_outlined": sum(h["outline"] for h in hands),
        "hands_missed_by_selfie": sum(h["seen"] < MIN_SEEN for h in hands),
        "hands_in_front_of_body": sum(h["seen"] >= MIN_SEEN and h["ring"] > MAX_RING for h in hands),
        "timing_ms_per_image": {"total": round(1000 * total / n, 2), "selfie_invoke": round(1000 * seg.invoke_s / n, 2),
                                "read": round(1000 * t_read / n, 2), "mask_rule": round(1000 * t_mask / n, 2),
                                "write_png": round(1000 * t_write / n, 2)},
        "seconds": round(total, 1), "threads": threads,
    }
    (out / META).write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="shared data folder holding real_hands/ "
                    "(default $HANDPOSE_DATA or ../shared/data)")
    ap.add_argument("--out", type=Path, default=None,
                    help=f"cache folder (default ${CACHE_ENV} or data_cache/hand_masks)")
    ap.add_argument("--threads", type=int, default=1, help="interpreter threads")
    ap.add_argument("--limit", type=int, default=None, help="only the first N images (a quick try)")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    root = args.data if args.data is not None else data_root()
    out = args.out if args.out is not None else default_cache()
    try:
        meta = write_cache(root, out, args.threads, args.limit)
    except ValueError as e:
        ap.error(str(e))
    print(json.dumps(meta, indent=1))
    print(f"wrote {meta['images']} masks under {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
