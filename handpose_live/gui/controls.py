"""The window's actions (menu items, shortcuts) and the side panel of controls that shows them."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (QAction, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                             QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ..camera import FOV_RANGE_DEG
from ..hand_size import PALM_LENGTH_RANGE_M
from .settings import RESOLUTIONS

CAMERA_SLOTS = 4  # camera indices offered in the source picker


@dataclass
class Actions:
    open_video: QAction
    open_folder: QAction
    demo: QAction
    open_session: QAction
    play: QAction  # checked = running
    snapshot: QAction
    record: QAction
    sessions_dir: QAction
    quit: QAction
    smoothing: QAction
    mask: QAction
    crop: QAction
    mirror: QAction
    camera_mirrors: QAction
    reset_view: QAction
    conventions: QAction
    about: QAction


def make_actions(parent) -> Actions:
    def act(text, shortcut=None, checkable=False, tip=""):
        a = QAction(text, parent)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        a.setCheckable(checkable)
        shown = a.shortcut().toString(QKeySequence.NativeText)
        a.setToolTip(f"{tip or text.replace('…', '')}" + (f" ({shown})" if shown else ""))
        a.setShortcutContext(Qt.WindowShortcut)  # a replay window has its own Space, R, …
        return a

    return Actions(
        open_video=act("Open video…", "Ctrl+O", tip="Play a video file"),
        open_folder=act("Open image folder…", "Ctrl+Shift+O", tip="Process the images of a folder"),
        demo=act("Demo clip", "Ctrl+D", tip="Play the bundled demo clip"),
        open_session=act("Open session…", "Ctrl+Shift+R",
                         tip="Replay a recorded session with its 3D view"),
        play=act("Pause", "Space", True, "Start / pause"),
        snapshot=act("Snapshot", "S", tip="Save the annotated frame and its keypoints"),
        record=act("Record", "Ctrl+R", True, "Record a session (video + keypoints)"),
        sessions_dir=act("Sessions folder…", tip="Choose where recorded sessions are saved"),
        quit=act("Quit", "Ctrl+Q"),
        smoothing=act("Smoothing", "F", True, "One Euro smoothing of keypoints over time"),
        mask=act("Mask overlay", "K", True, "Tint the hand segmentation mask"),
        crop=act("Crop box", "C", True, "Show the crop each hand's pose comes from"),
        mirror=act("Mirror view", "M", True, "Show the picture mirrored like a selfie; sides stay "
                   "true to the person"),
        camera_mirrors=act("Camera already mirrors", None, True,
                           "The camera driver flips the image: swap the sides the model reports"),
        reset_view=act("Reset 3D view", "R"),
        conventions=act("Keypoint conventions", "F1"),
        about=act("About"),
    )


def _button(action: QAction) -> QToolButton:
    b = QToolButton()
    b.setDefaultAction(action)
    b.setToolButtonStyle(Qt.ToolButtonTextOnly)
    b.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
    return b


def _spin_box(value_range: tuple[float, float], decimals: int, step: float, suffix: str,
              tip: str) -> QDoubleSpinBox:
    """A number setting: its accepted range, shown with ``decimals`` and ``suffix``."""
    s = QDoubleSpinBox()
    s.setRange(*value_range)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setSuffix(suffix)
    s.setToolTip(tip)
    return s


class ControlPanel(QWidget):
    """Source, model and view controls. Combos are exposed for the window to connect."""

    def __init__(self, actions: Actions, parent=None):
        super().__init__(parent)
        self.source_combo = QComboBox()
        self.source_combo.setToolTip("Camera index, the demo clip, or the file opened last")
        for i in range(CAMERA_SLOTS):
            self.source_combo.addItem(f"Camera {i}", i)
        self.source_combo.addItem("Demo clip", "demo")
        self.resolution_combo = QComboBox()
        self.resolution_combo.addItems(RESOLUTIONS)
        self.resolution_combo.setToolTip("Camera capture size (the driver may choose the closest)")
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Model folder under assets/models (Default = assets/models/default)")
        self.device_combo = QComboBox()
        self.device_combo.setToolTip("Where the networks run")
        self.side_combo = QComboBox()
        self.side_combo.addItems(["right", "left"])
        self.side_combo.setToolTip("This model cannot tell left from right (2-class paper model, no side head): "
                                   "say which hand you show")

        lo, hi = PALM_LENGTH_RANGE_M
        self.hand_size_spin = _spin_box(
            (lo * 100, hi * 100), 1, 0.5, " cm",
            "Palm length: on the back of the hand, from the middle of the wrist crease to the middle "
            "finger's knuckle. Sets the scale of the 3D keypoints (adults: about 8.5-11.5 cm)")
        self.fov_spin = _spin_box(
            FOV_RANGE_DEG, 0, 5, "°",
            "The camera's horizontal field of view (webcams: about 55-70°). Turns the 3D of a hand away "
            "from the image centre the way the camera sees it")

        source = QGroupBox("Source")
        form = QFormLayout(source)
        form.addRow("Input", self.source_combo)
        form.addRow("Camera size", self.resolution_combo)
        row = QHBoxLayout()
        row.addWidget(_button(actions.open_video))
        row.addWidget(_button(actions.open_folder))
        form.addRow(row)

        model = QGroupBox("Model")
        form = QFormLayout(model)
        form.addRow("Model", self.model_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Hand side", self.side_combo)
        form.addRow("Hand size", self.hand_size_spin)
        form.addRow("Camera FOV", self.fov_spin)

        play = _button(actions.play)
        play.setObjectName("play")
        form.addRow(play)

        view = QGroupBox("View")  # short toggles two to a row, so the panel fits a 768 px screen
        box = QVBoxLayout(view)
        for pair in ((actions.smoothing, actions.mask), (actions.crop, actions.mirror)):
            row = QHBoxLayout()
            for a in pair:
                row.addWidget(_button(a))
            box.addLayout(row)
        for a in (actions.camera_mirrors, actions.reset_view):
            box.addWidget(_button(a))

        capture = QGroupBox("Capture")
        box2 = QVBoxLayout(capture)  # full width: while recording the button shows time and frames
        box2.addWidget(_button(actions.snapshot))
        self.record_button = _button(actions.record)
        box2.addWidget(self.record_button)

        layout = QVBoxLayout(self)
        for group in (source, model, view, capture):
            layout.addWidget(group)
        layout.addStretch(1)
        self.setStyleSheet(
            "QToolButton { padding: 3px; }"
            "QToolButton:checked { background: #2c6ecb; color: white; border: 1px solid #1d4f96;"
            " border-radius: 3px; }"
            "QToolButton#play:checked { background: none; color: palette(button-text);"
            " border: 1px solid palette(mid); }")
        self.setMinimumWidth(230)
        self.setMaximumWidth(300)

    def set_models(self, names: list[str], current: str) -> None:
        """Fill the model picker: "Default" (data "") then ``names``; select ``current``."""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem("Default", "")
        for name in names:
            if name != "default":
                self.model_combo.addItem(name, name)
        if current and self.model_combo.findData(current) < 0:
            self.model_combo.addItem(current.rstrip("/").split("/")[-1], current)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(current)))
        self.model_combo.blockSignals(False)

    def set_devices(self, devices: list[str], current: str) -> None:
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        self.device_combo.addItems(devices)
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findText(current)))
        self.device_combo.blockSignals(False)

    def show_source(self, key, label: str | None = None) -> None:
        """Select source ``key`` (camera index, "demo" or a path), adding it when new."""
        self.source_combo.blockSignals(True)
        index = self.source_combo.findData(key)
        if index < 0:
            self.source_combo.addItem(label or str(key), key)
            index = self.source_combo.count() - 1
        self.source_combo.setCurrentIndex(index)
        self.source_combo.blockSignals(False)
