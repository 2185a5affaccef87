"""Rendering speed: ``python -m training.render.benchmark [--n 400] [--workers 2] [--size 320]``.

Prints samples/s over a torch DataLoader with ``--workers`` processes (0 = in this process),
and the machine's load average, since the number depends on what else runs.
"""
from __future__ import annotations

import argparse
import os
import time

from torch.utils.data import DataLoader

from training.render.dataset import RenderedHands, worker_init


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=400, help="samples to time (after a warm-up)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--size", type=int, default=320, help="image height and width, px")
    args = ap.parse_args()
    data = RenderedHands(length=args.n + 16 * max(1, args.workers), seed=0, size=args.size)
    loader = DataLoader(data, batch_size=8, num_workers=args.workers, worker_init_fn=worker_init,
                        persistent_workers=False, prefetch_factor=4 if args.workers else None)
    load_before = os.getloadavg()
    it = iter(loader)
    for _ in range(2 * max(1, args.workers)):  # warm up: imports, mesh loading, photo cache
        next(it)
    start = time.perf_counter()
    count = 0
    for batch in it:
        count += len(batch["side"])
    elapsed = time.perf_counter() - start
    print(f"{count / elapsed:.1f} samples/s at {args.size}x{args.size} with {args.workers} worker(s) "
          f"({count} samples in {elapsed:.1f} s); load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
