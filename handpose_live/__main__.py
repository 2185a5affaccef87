"""handpose-live: ``handpose-live`` (or ``python -m handpose_live``, or ``python main.py`` in a
clone) opens the window (camera 0, or the demo clip without one).

``--help`` lists every mode: the window, ``--replay DIR`` (a recorded session), ``--headless``
and ``--export-csv`` (without a window, ``handpose_live.batch``).
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from handpose_live.cli import wants_batch

    if wants_batch(argv):
        from handpose_live import batch

        return batch.main(argv)
    from handpose_live.gui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
