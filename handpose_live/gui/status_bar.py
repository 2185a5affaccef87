"""The status bar: a message on the left, live figures on the right."""
from __future__ import annotations

from PyQt5.QtWidgets import QLabel, QStatusBar

from ..runtime import RuntimeStats


class StatusBar(QStatusBar):
    """``show_stats`` refreshes camera fps, inference fps, latency, dropped frames, device, model;
    ``set_message`` holds a persistent message (``showMessage`` still works for short notes)."""

    FIELDS = ("recording", "camera", "inference", "latency", "dropped", "device", "model")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = QLabel()
        self.addWidget(self.message, 1)
        self.source_label = "Camera"  # "Video" / "Images" for files
        self.labels = {}
        for name in self.FIELDS:
            label = QLabel()
            label.setObjectName(f"status_{name}")
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
            self.labels[name] = label
        self.labels["recording"].setStyleSheet("color:#e03030; font-weight:bold;")
        self.labels["camera"].setToolTip("Frames per second delivered by the source")
        self.labels["inference"].setToolTip("Frames per second through the model")
        self.labels["latency"].setToolTip("Capture to result, for the newest frame")
        self.labels["dropped"].setToolTip("Frames dropped because the model was busy")

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)

    def show_stats(self, stats: RuntimeStats, device: str, model: str, paused: bool) -> None:
        cam = "paused" if paused else f"{stats.camera_fps:4.1f} fps"
        self.labels["camera"].setText(f"{self.source_label} {cam}")
        self.labels["inference"].setText(f"Inference {stats.inference_fps:4.1f} fps")
        self.labels["latency"].setText(f"Latency {stats.latency_ms:4.0f} ms")
        self.labels["dropped"].setText(f"Dropped {stats.dropped}")
        self.labels["device"].setText(device)
        self.labels["model"].setText(f"Model: {model}")

    def show_recording(self, frames: int | None) -> None:
        self.labels["recording"].setText("" if frames is None else f"● REC {frames}")
