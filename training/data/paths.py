"""Where the shared training material lives (never copied into the repository)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """``$HANDPOSE_DATA`` if set, else ``<repo>/../shared/data``."""
    env = os.environ.get("HANDPOSE_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"
