"""Loss and metric curves: appended to a CSV as training runs, plotted to PNG with matplotlib."""
from __future__ import annotations

import csv
from pathlib import Path


class CurveLog:
    """Append rows ``{iteration, name: value, ...}`` to ``curves.csv`` (header from the first row)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fields: list[str] | None = None
        if self.path.exists():
            with open(self.path) as f:
                self._fields = next(csv.reader(f), None)

    def append(self, row: dict) -> None:
        if self._fields is None:
            self._fields = list(row)
            with open(self.path, "w", newline="") as f:
                csv.writer(f).writerow(self._fields)
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in self._fields])


def plot_curves(csv_path: Path, png_path: Path, title: str = "") -> None:
    """One panel per column (log scale for losses), against the iteration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    names = [k for k in rows[0] if k not in ("iteration", "lr", "seconds")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    x = [int(r["iteration"]) for r in rows]
    for ax, name in zip(axes[0], names):
        pts = [(i, float(r[name])) for i, r in zip(x, rows) if r.get(name) not in ("", None)]
        if pts:
            ax.plot(*zip(*pts), lw=1.2)
        ax.set_title(name)
        ax.set_xlabel("iteration")
        if name.startswith("loss") and pts and min(v for _, v in pts) > 0:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png_path, dpi=90)
    plt.close(fig)
