"""Where the shipped files live: the model folders (``models/``), the demo clip (``demo/``) and the
model card.

In a clone (and an editable install) that is the repository's top-level ``assets/``; an installed
wheel carries the same files as package data under ``handpose_live/_assets/`` (``pyproject.toml``
maps ``assets/`` there). Nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """The folder holding ``models/`` and ``demo/``: the wheel's package data when installed, else
    the repository's ``assets/``."""
    installed = _PACKAGE / "_assets"
    return installed if installed.is_dir() else _PACKAGE.parent / "assets"


ASSETS_DIR = assets_dir()
MODELS_DIR = ASSETS_DIR / "models"
DEMO_DIR = ASSETS_DIR / "demo"
