"""Ctrl+C (SIGINT) and SIGTERM while Qt's event loop runs.

Python runs signal handlers only between bytecodes of the main thread, and Qt's event loop is
C++: a short no-op timer gives Python control a few times a second so the handler can run.
The handler only queues ``on_signal`` on the event loop; windows close (and stop recording)
as if the user had closed them.
"""
from __future__ import annotations

import signal
from typing import Callable

from PyQt5.QtCore import QObject, QTimer

WAKE_MS = 200
HANDLED = (signal.SIGINT, signal.SIGTERM)


def install_signal_handlers(parent: QObject, on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to ``on_signal(signum)`` on the GUI thread. Returns a function
    that restores the previous handlers (call it after the event loop ends)."""
    wake = QTimer(parent)
    wake.setInterval(WAKE_MS)
    wake.timeout.connect(lambda: None)
    wake.start()

    def handler(signum, _frame):
        QTimer.singleShot(0, lambda: on_signal(signum))

    previous = {s: signal.signal(s, handler) for s in HANDLED}

    def restore() -> None:
        wake.stop()
        for s, old in previous.items():
            signal.signal(s, old)
    return restore


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
