"""A vectorised z-buffer triangle rasteriser in numpy (CPU, headless).

Pixel centres sit at integer coordinates (the OpenCV convention), so a point projected
with K lands on the pixel ``round(u), round(v)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FRAG_BITS = 24
_NEAR_M = 0.02


@dataclass
class Raster:
    """Visible surface per pixel. Pixels not covered have ``triangle == -1``, depth inf."""

    depth_m: np.ndarray       # (H, W) float32 camera z of the visible surface
    triangle: np.ndarray      # (H, W) int64 index into the triangles passed in, -1 = nothing
    covered: np.ndarray       # (P,) int64 flat pixel indices that are covered
    bary: np.ndarray          # (P, 3) float32 perspective-correct barycentric weights


def rasterize(xy_px: np.ndarray, z_m: np.ndarray, triangles: np.ndarray, height: int, width: int,
              cull_back: bool = True) -> Raster:
    """Rasterise ``triangles`` (T,3) over vertices at image points ``xy_px`` (N,2) and depths ``z_m`` (N,).

    Triangles counter-clockwise seen from outside the surface are front-facing; with
    ``cull_back`` the others are dropped. Triangles with a vertex nearer than 2 cm are dropped.
    """
    xy = np.asarray(xy_px, np.float64)
    tri = np.asarray(triangles, np.int64)
    a, b, c = xy[tri[:, 0]], xy[tri[:, 1]], xy[tri[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    zt = z_m[tri]
    keep = (zt.min(axis=1) > _NEAR_M) & (np.abs(area) > 1e-9)
    if cull_back:
        keep &= area < 0  # image y points down: a face counter-clockwise from outside has area < 0
    lo = np.floor(np.minimum(np.minimum(a, b), c)) + 1
    hi = np.floor(np.maximum(np.maximum(a, b), c))
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, [width - 1, height - 1])
    keep &= (hi[:, 0] >= lo[:, 0]) & (hi[:, 1] >= lo[:, 1])
    ids = np.nonzero(keep)[0]
    depth = np.full((height, width), np.inf, np.float32)
    owner = np.full((height, width), -1, np.int64)
    if len(ids) == 0:
        return Raster(depth, owner, np.zeros(0, np.int64), np.zeros((0, 3), np.float32))
    a, b, c, area, zt = a[ids], b[ids], c[ids], area[ids], zt[ids]
    x0, y0 = lo[ids, 0].astype(np.int64), lo[ids, 1].astype(np.int64)
    w = hi[ids, 0].astype(np.int64) - x0 + 1
    h = hi[ids, 1].astype(np.int64) - y0 + 1
    counts = w * h
    t = np.repeat(np.arange(len(ids)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    wt = w[t]
    px = x0[t] + k % wt
    py = y0[t] + k // wt
    # Edge functions: weight of vertex i = signed area opposite to it / total area, linear in (x, y).
    inv = 1.0 / area
    coef = []
    for p, q in ((b, c), (c, a), (a, b)):
        ax = (p[:, 1] - q[:, 1]) * inv
        ay = (q[:, 0] - p[:, 0]) * inv
        a0 = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]) * inv
        coef.append((ax, ay, a0))
    b0, b1, b2 = (ax[t] * px + ay[t] * py + a0[t] for ax, ay, a0 in coef)
    inside = np.nonzero((b0 >= -1e-7) & (b1 >= -1e-7) & (b2 >= -1e-7))[0]
    t, px, py = t[inside], px[inside], py[inside]
    inv_z = np.stack([b0[inside], b1[inside], b2[inside]], axis=1) / zt[t]
    inv_depth = inv_z[:, 0] + inv_z[:, 1] + inv_z[:, 2]
    frag_z = 1.0 / inv_depth
    pix = py * width + px
    zq = np.minimum(frag_z * (1 << 20), (1 << (62 - _FRAG_BITS)) - 1).astype(np.int64)
    key = (zq << _FRAG_BITS) | np.arange(len(pix), dtype=np.int64)
    if len(pix) >= (1 << _FRAG_BITS):
        raise ValueError(f"too many fragments ({len(pix)}) for one raster; lower the image size")
    best = np.full(height * width, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(best, pix, key)
    covered = np.nonzero(best != np.iinfo(np.int64).max)[0]
    win = best[covered] & ((1 << _FRAG_BITS) - 1)
    depth.ravel()[covered] = frag_z[win]
    owner.ravel()[covered] = ids[t[win]]
    persp = (inv_z[win] / inv_depth[win, None]).astype(np.float32)
    return Raster(depth, owner, covered, persp)
