"""Export a session's keypoints as one CSV row per frame x hand x keypoint."""
from __future__ import annotations

import csv
import os
from pathlib import Path

from . import format as fmt
from .reader import SessionReader

CSV_COLUMNS = (
    "frame", "t", "source", "track_id", "side", "hand_score",
    "keypoint", "keypoint_name", "x_px", "y_px", "keypoint_score", "x_m", "y_m", "z_m",
)


def export_csv(session_dir: str | os.PathLike, out_path: str | os.PathLike | None = None,
               skipped: list[int] | None = None) -> Path:
    """Write ``keypoints.csv`` (default: into the session) and return its path.

    Columns: ``CSV_COLUMNS``. ``x_px, y_px`` are raw-frame pixels, ``x_m, y_m, z_m`` metres
    relative to the wrist in camera axes. Frames without hands produce no rows; damaged lines of
    ``keypoints.jsonl`` are skipped, and their 0-based line numbers appended to ``skipped``. The
    file is written to a temporary name and renamed, so a failed export leaves no partial CSV.
    """
    with SessionReader(session_dir) as reader:
        out = Path(out_path) if out_path is not None else reader.folder / fmt.CSV_FILE
        names = reader.keypoint_names
        tmp = out.with_name(out.name + ".tmp")
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                rows = csv.writer(f)
                rows.writerow(CSV_COLUMNS)
                for rec in reader:
                    if rec.damaged:
                        if skipped is not None:
                            skipped.append(rec.index)
                        continue
                    t = "" if rec.t is None else rec.t
                    source = "" if rec.source is None else rec.source
                    for hand in rec.hands:
                        head = [rec.frame, t, source, hand.track_id, hand.side, round(hand.score, 4)]
                        for k, name in enumerate(names):
                            x, y = hand.keypoints_2d[k]
                            xm, ym, zm = hand.keypoints_3d[k]
                            rows.writerow(head + [
                                k, name, round(float(x), 2), round(float(y), 2),
                                round(float(hand.keypoint_scores[k]), 4),
                                round(float(xm), 5), round(float(ym), 5), round(float(zm), 5),
                            ])
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return out
