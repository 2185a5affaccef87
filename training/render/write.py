"""Render N samples to disk: ``python -m training.render.write --out DIR --n N --seed S``.

Default: our layout (training/data/written.py: JPEG/PNG images, PNG masks, one JSON per sample).
``--rhd-layout``: RHD's exact layout, pickle included — only for the RHD reader's test fixtures.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training.data.paths import data_root
from training.data.written import make_layout, write_sample
from training.render.rhd_layout import write_rhd_layout
from training.render.scene import HandRenderer, RenderConfig


def render_many(n: int, seed: int, size: int, mesh_dir=None, background_dir=None, with_rhd_mask=False,
                progress: bool = False):
    """Yield ``n`` samples; sample i uses SeedSequence([seed, i]) exactly like RenderedHands."""
    root = data_root()
    renderer = HandRenderer(mesh_dir or root / "hand_mesh", background_dir or root / "backgrounds",
                            RenderConfig(height=size, width=size))
    for i in tqdm(range(n), disable=not progress, unit="sample"):
        yield renderer.render(np.random.default_rng(np.random.SeedSequence([seed, i])), with_rhd_mask)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="output folder (created)")
    ap.add_argument("--n", type=int, required=True, help="number of samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=320, help="image height and width, px")
    ap.add_argument("--png", action="store_true", help="lossless PNG images instead of JPEG (our layout)")
    ap.add_argument("--rhd-layout", action="store_true", help="RHD's layout (color/, mask/, anno_<split>.pickle)")
    ap.add_argument("--split", default="training", help="RHD split folder name (with --rhd-layout)")
    ap.add_argument("--mesh-dir", type=Path, default=None, help="folder with left.glb/right.glb")
    ap.add_argument("--backgrounds", type=Path, default=None, help="folder of background photos")
    args = ap.parse_args(argv)
    if args.n <= 0:
        ap.error(f"--n must be positive, got {args.n}")
    samples = render_many(args.n, args.seed, args.size, args.mesh_dir, args.backgrounds,
                          with_rhd_mask=args.rhd_layout, progress=True)
    if args.rhd_layout:
        count = write_rhd_layout(args.out, samples, args.split)
    else:
        make_layout(args.out, {"n": args.n, "seed": args.seed, "size": args.size, "generator": "training.render"})
        count = 0
        for i, s in enumerate(samples):
            write_sample(args.out, i, s, "png" if args.png else "jpg")
            count += 1
    print(f"wrote {count} samples to {args.out}")


if __name__ == "__main__":
    main()
