"""The video panel: shows an annotated BGR frame, scaled to fit, with banner messages on top."""
from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QImage, QPainter
from PyQt5.QtWidgets import QSizePolicy, QWidget

BANNER_COLORS = {"info": QColor(30, 110, 200, 215), "warning": QColor(200, 120, 0, 225),
                 "error": QColor(190, 40, 40, 230)}


def bgr_to_qimage(frame_bgr: np.ndarray) -> QImage:
    """A QImage owning a copy of ``frame_bgr`` ([H, W, 3] uint8 BGR)."""
    frame = np.ascontiguousarray(frame_bgr)
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format_BGR888).copy()


class VideoView(QWidget):
    """Paints the latest frame letterboxed on black; ``set_banner`` shows a message strip on top,
    ``set_caption`` a small line at the bottom (source name, paused, end of video)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._image: QImage | None = None
        self._banner, self._banner_kind = "", "info"
        self._caption = ""
        self.frames_shown = 0

    def set_frame(self, frame_bgr: np.ndarray) -> None:
        self._image = bgr_to_qimage(frame_bgr)
        self.frames_shown += 1
        self.update()

    def set_banner(self, text: str, kind: str = "info") -> None:
        if (text, kind) != (self._banner, self._banner_kind):
            self._banner, self._banner_kind = text, kind
            self.update()

    def set_caption(self, text: str) -> None:
        if text != self._caption:
            self._caption = text
            self.update()

    def image_rect(self) -> QRectF:
        """Where the frame is drawn in widget coordinates (aspect ratio kept)."""
        if self._image is None:
            return QRectF(self.rect())
        iw, ih = self._image.width(), self._image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.black)
        if self._image is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform)
            p.drawImage(self.image_rect(), self._image)
        else:
            p.setPen(QColor(170, 170, 170))
            p.drawText(self.rect(), Qt.AlignCenter, "Waiting for frames…")
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, self.height() / 55))
        p.setFont(font)
        metrics = p.fontMetrics()
        if self._banner:
            pad = metrics.height() // 2
            flags = Qt.AlignCenter | Qt.TextWordWrap
            bound = p.boundingRect(self.rect().adjusted(2 * pad, pad, -2 * pad, 0), flags, self._banner)
            strip = QRectF(0, 0, self.width(), bound.height() + 2 * pad)
            p.fillRect(strip, BANNER_COLORS.get(self._banner_kind, BANNER_COLORS["info"]))
            p.setPen(Qt.white)
            p.drawText(strip.adjusted(2 * pad, 0, -2 * pad, 0), flags, self._banner)
        if self._caption:
            h = metrics.height() + 8
            strip = QRectF(0, self.height() - h, metrics.horizontalAdvance(self._caption) + 20, h)
            p.fillRect(strip, QColor(0, 0, 0, 150))
            p.setPen(QColor(235, 235, 235))
            p.drawText(strip, Qt.AlignCenter, self._caption)
        p.end()
