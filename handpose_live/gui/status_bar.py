"""The status bar: a message on the left, live figures on the right."""
from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QSizePolicy, QStatusBar

from ..runtime import RuntimeStats
from .status_text import LiveView, status_fields


class StatusBar(QStatusBar):
    """``show_stats`` refreshes the source, inference, latency and dropped-frame figures
    (``status_text.status_fields``: what each means per mode), device and model;
    ``set_message`` holds a persistent message, elided to the room left (the whole text in its
    tooltip), so a long message never widens the window (``showMessage`` still works for short
    notes)."""

    FIELDS = ("recording", "camera", "inference", "latency", "dropped", "device", "model")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = QLabel()
        self.message.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.message.setMinimumWidth(40)
        self._message_text = ""
        self.addWidget(self.message, 1)
        self.labels = {}
        for name in self.FIELDS:
            label = QLabel()
            label.setObjectName(f"status_{name}")
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
            self.labels[name] = label
        self.labels["recording"].setStyleSheet("color:#e03030; font-weight:bold;")
        self.labels["camera"].setToolTip("Frames per second the source delivers over the last seconds; "
                                         "when every frame is processed, the position in the source")
        self.labels["inference"].setToolTip("Frames per second through the model (— without a model)")
        self.labels["latency"].setToolTip("Capture to display of the newest frame shown (— where frames wait "
                                          "for the model on purpose, or without a model)")
        self.labels["dropped"].setToolTip("Frames dropped because the model was busy")

    def set_message(self, text: str) -> None:
        self._message_text = text
        self.message.setToolTip(text)
        self._elide()

    def _elide(self) -> None:
        width = max(self.message.width() - 4, 10)
        self.message.setText(self.message.fontMetrics().elidedText(self._message_text, Qt.ElideRight, width))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._elide()

    def show_stats(self, stats: RuntimeStats, view: LiveView, device: str, model: str) -> None:
        fields = status_fields(stats, view)
        self.labels["camera"].setText(fields["source"])
        self.labels["inference"].setText(fields["inference"])
        self.labels["latency"].setText(fields["latency"])
        self.labels["dropped"].setText(fields["dropped"])
        self.labels["device"].setText(device)
        self.labels["model"].setText(f"Model: {model}")

    def show_recording(self, frames: int | None) -> None:
        self.labels["recording"].setText("" if frames is None else f"● REC {frames}")
