import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("HANDPOSE_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A model folder with random 'tiny' weights (fast)."""
    import torch

    from handpose_live.checkpoint import build_networks, save_model
    from handpose_live.model_config import preset

    torch.manual_seed(0)
    config = preset("tiny")
    config.name = "random-tiny"
    return save_model(tmp_path_factory.mktemp("models") / "tiny", config, build_networks(config))


def pytest_configure(config):
    """Share OpenGL contexts, as the app does, so several GL widgets can live in one test
    process (pyqtgraph caches shader programs per context). Must precede the QApplication."""
    try:
        from PyQt5.QtCore import QCoreApplication, Qt
    except ImportError:
        return
    QCoreApplication.setAttribute(Qt.AA_ShareOpenGLContexts)
