"""Torch datasets that render samples on the fly (sample dict contract: training/data/sample.py)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from training.data.paths import data_root
from training.render.scene import HandRenderer, RenderConfig


def worker_init(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: OpenCV and torch threads inside workers can deadlock or thrash."""
    cv2.setNumThreads(0)
    torch.set_num_threads(1)


def _config(size, config: RenderConfig | None) -> RenderConfig:
    config = config or RenderConfig()
    if size is not None:
        h, w = (size, size) if isinstance(size, int) else size
        config.height, config.width = int(h), int(w)
    return config


class _RendererHolder:
    def __init__(self, seed, size, mesh_dir, background_dir, config, pose_bank=None):
        self.seed = int(seed)
        self.pose_bank = pose_bank  # pose_fit.PoseBank or None (hand-set poses)
        self.mesh_dir = Path(mesh_dir) if mesh_dir is not None else data_root() / "hand_mesh"
        self.background_dir = Path(background_dir) if background_dir is not None else data_root() / "backgrounds"
        self.config = _config(size, config)
        self._renderer = None  # built lazily, once per worker process

    def __getstate__(self):  # workers build their own renderer; never ship one (and its photo cache)
        state = dict(self.__dict__)
        state["_renderer"] = None
        return state

    def renderer(self) -> HandRenderer:
        if self._renderer is None:
            self._renderer = HandRenderer(self.mesh_dir, self.background_dir, self.config, self.pose_bank)
        return self._renderer

    def render_index(self, index: int) -> dict:
        return self.renderer().render(np.random.default_rng(np.random.SeedSequence([self.seed, int(index)])))


class RenderedHands(Dataset, _RendererHolder):
    """``length`` rendered samples; sample ``i`` depends only on (``seed``, ``i``), in any worker.

    ``size``: int or (height, width) px. ``mesh_dir``/``background_dir`` default to
    ``$HANDPOSE_DATA/hand_mesh`` and ``$HANDPOSE_DATA/backgrounds`` (procedural backgrounds
    only if that folder is absent).
    """

    def __init__(self, length: int = 10_000, seed: int = 0, size=320, mesh_dir=None, background_dir=None,
                 config: RenderConfig | None = None, pose_bank=None):
        if length <= 0:
            raise ValueError(f"length must be positive, got {length}")
        _RendererHolder.__init__(self, seed, size, mesh_dir, background_dir, config, pose_bank)
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {self.length} rendered samples")
        return self.render_index(index)


class StreamedHands(IterableDataset, _RendererHolder):
    """An endless stream of rendered samples; worker ``k`` of ``n`` renders indices k, k+n, ...

    Set ``epoch`` between epochs to get fresh samples while staying deterministic.
    """

    def __init__(self, seed: int = 0, size=320, mesh_dir=None, background_dir=None,
                 config: RenderConfig | None = None, epoch: int = 0):
        _RendererHolder.__init__(self, seed, size, mesh_dir, background_dir, config)
        self.epoch = epoch

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        index = worker
        while True:
            yield self.render_index(self.epoch * (1 << 40) + index)
            index += workers
