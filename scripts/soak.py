"""Soak test: the window tracking the looping demo clip in real time with recording on, for N
minutes; every 30 s a line with memory (RSS), the frame rates, frames dropped, the frame queue's
length and the frames recorded. Run it under a display (``xvfb-run -a``); nothing else should
share the CPU.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/soak.py --minutes 10 [--model M]

Ends with exit 0 and the session folder checked (``SessionReader``: lines = frames recorded, the
status complete); exit 1 when the window or the recording failed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PyQt5.QtCore import QSettings, QTimer  # noqa: E402

from handpose_live.gui.app import make_app  # noqa: E402
from handpose_live.gui.model_choice import load_estimator  # noqa: E402
from handpose_live.gui.settings import AppSettings  # noqa: E402
from handpose_live.session import SessionReader  # noqa: E402
from handpose_live.sources import open_demo  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=30.0, help="seconds between report lines")
    ap.add_argument("--model", default=None, help="model name or folder (default: the shipped one)")
    ap.add_argument("--out", type=Path, default=None, help="session folder (default: a temporary one)")
    args = ap.parse_args()

    from handpose_live.gui.main_window import MainWindow

    app = make_app()
    tmp = Path(tempfile.mkdtemp(prefix="soak_"))
    out = args.out or tmp / "session"
    estimator, message = load_estimator(args.model, "auto", "auto")
    window = MainWindow(AppSettings(), QSettings(str(tmp / "settings.ini"), QSettings.IniFormat),
                        estimator, message, data_dir=tmp)
    window.show()
    window.start_source(open_demo(), "demo", record_dir=out)
    start = time.monotonic()
    print(f"soak: {args.minutes:g} min, model {getattr(estimator, 'model_name', 'none')}, recording to {out}")
    print(f"{'t s':>6} {'RSS MB':>7} {'video fps':>9} {'infer fps':>9} {'latency ms':>10} {'dropped':>8} "
          f"{'queue':>5} {'recorded':>8}", flush=True)
    failures: list[str] = []

    def report() -> None:
        rt = window.runtime
        stats = rt.stats()
        print(f"{time.monotonic() - start:6.0f} {rss_mb():7.0f} {stats.camera_fps:9.1f} {stats.inference_fps:9.1f} "
              f"{stats.latency_ms:10.0f} {stats.dropped:8d} {len(rt.queue):5d} {window.recorder.frames:8d}",
              flush=True)
        if stats.error:
            failures.append(stats.error)
        if window.recorder.error:
            failures.append(window.recorder.error)

    timer = QTimer()
    timer.timeout.connect(report)
    timer.start(int(args.every * 1000))
    QTimer.singleShot(int(args.minutes * 60_000), app.quit)
    app.exec_()
    report()
    window.stop_recording()  # the user's stop: status "complete"
    window.close()
    with SessionReader(out) as reader:
        lines, frames, status = len(reader), reader.info["frames"], reader.info["status"]
    print(f"session: {lines} lines, session.json frames {frames}, status {status}")
    if lines != frames or status != "complete":
        failures.append(f"session check failed: {lines} lines vs {frames} frames, status {status}")
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
