"""Help → Keypoint conventions, and Help → About."""
from __future__ import annotations

from html import escape

from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout

from ..skeleton import FINGER_COLORS_BGR, FINGER_OF, FINGERS, KEYPOINT_NAMES, WRIST_COLOR_BGR

APP_NAME = "handpose-live"


def _hex(bgr) -> str:
    return f"#{bgr[2]:02x}{bgr[1]:02x}{bgr[0]:02x}"


def conventions_html() -> str:
    """The keypoint table and the conventions of coordinates, sides and mirroring."""
    rows = []
    for i, name in enumerate(KEYPOINT_NAMES):
        f = FINGER_OF[i]
        color = _hex(WRIST_COLOR_BGR if f < 0 else FINGER_COLORS_BGR[f])
        finger = "—" if f < 0 else FINGERS[f]
        rows.append(f"<tr><td align=right>{i}</td><td><span style='color:{color}'>■</span> "
                    f"{escape(name)}</td><td>{finger}</td></tr>")
    return (
        "<h3>Keypoints (user order)</h3>"
        "<p>21 keypoints: the wrist, then each finger from its base to its tip "
        "(the MediaPipe / FreiHAND order). Bones are coloured per finger; joints take the colour "
        "of the hand's track and grow with the keypoint's confidence.</p>"
        "<table cellspacing=0 cellpadding=2><tr><th>#</th><th>name</th><th>finger</th></tr>"
        + "".join(rows) + "</table>"
        "<h3>Coordinates</h3><ul>"
        "<li><b>2D</b>: pixels of the raw (unmirrored) camera frame, x right, y down, origin at the "
        "top-left corner.</li>"
        "<li><b>3D</b>: metres relative to the wrist, camera axes x right, y down, z forward. The 3D "
        "panel shows them with z up so an upright hand stands upright.</li></ul>"
        "<h3>Left, right and mirroring</h3><ul>"
        "<li><b>Side</b> is the person's own hand.</li>"
        "<li><b>Mirror view</b> (selfie) only flips the picture; sides stay true to the person.</li>"
        "<li><b>Camera already mirrors</b>: for webcams whose driver flips the image; the model "
        "then sees a mirrored hand, so the reported sides are swapped back.</li></ul>")


def show_conventions(parent) -> None:
    dialog = QDialog(parent)
    dialog.setWindowTitle("Keypoint conventions")
    text = QTextBrowser(dialog)
    text.setHtml(conventions_html())
    buttons = QDialogButtonBox(QDialogButtonBox.Close, parent=dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.resize(520, 640)
    dialog.exec_()


def about_html(version: str, model: str, device: str, log_path: str) -> str:
    return (
        f"<h3>{APP_NAME} {escape(version)}</h3>"
        "<p>Live 3D hand pose from a webcam: HandSegNet → crop → PoseNet → PosePrior + ViewPoint "
        "(Zimmermann &amp; Brox, <i>Learning to Estimate 3D Hand Pose from Single RGB Images</i>, "
        "ICCV 2017).</p>"
        f"<p>Model: {escape(model)}<br>Device: {escape(device)}<br>"
        f"Log file: {escape(log_path)}</p>")


def show_about(parent, version: str, model: str, device: str, log_path: str) -> None:
    QMessageBox.about(parent, f"About {APP_NAME}", about_html(version, model, device, log_path))
