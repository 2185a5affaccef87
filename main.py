"""handpose-live: ``python main.py`` opens the window (camera 0, or the demo clip without one).

``python main.py --help`` lists the window's flags (``--replay DIR`` opens a recorded session);
``--headless`` and ``--export-csv`` run without a window (``handpose_live.batch``).
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from handpose_live.cli import EXIT_USAGE, wants_batch

    if wants_batch(argv):
        try:
            from handpose_live import batch
        except ImportError as exc:
            sys.stderr.write(f"error: modes without a window are not available: {exc}\n")
            return EXIT_USAGE
        return batch.main(argv)
    from handpose_live.gui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
