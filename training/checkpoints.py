"""Stage checkpoints: weights, optimizer, iteration, RNG, the full config and the command line.

Saved with ``torch.save`` as plain tensors and builtins, loaded with ``weights_only=True`` (no
arbitrary objects are ever unpickled). Writes go to a temp file then ``os.replace``.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from handpose_live.model_config import ModelConfig


def save(path: Path, *, stage: str, nets: dict, optimizer, scheduler, iteration: int,
         config: ModelConfig, args: dict, argv: list[str]) -> None:
    state = {
        "stage": stage,
        "iteration": iteration,
        "networks": {k: _unwrap(v).state_dict() for k, v in nets.items()},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "config": config.to_dict(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in args.items()},
        "argv": list(argv),
        "torch_rng": torch.get_rng_state(),
    }
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load(path: Path, map_location="cpu") -> dict:
    """A checkpoint written by ``save`` (tensors and builtins only), or a model folder such as
    ``assets/models/default`` (its ``config`` and ``networks``, as a checkpoint of iteration 0),
    so that training continues from what was committed as readily as from ``runs/``."""
    if Path(path).is_dir():
        return _from_model_folder(Path(path))
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except Exception as e:  # truncated or foreign file
        raise ValueError(f"checkpoint {path} cannot be read ({type(e).__name__}: {e})") from None


def _from_model_folder(folder: Path) -> dict:
    from handpose_live.checkpoint import CorruptModelError, ModelNotFoundError, load_model

    try:
        config, networks, _ = load_model(folder)
    except (ModelNotFoundError, CorruptModelError) as e:
        raise ValueError(f"model folder {folder} cannot be used: {e}") from None
    return {"stage": None, "iteration": 0, "config": config.to_dict(),
            "networks": {k: {n: t.float() if t.is_floating_point() else t for n, t in net.state_dict().items()}
                         for k, net in networks.items()}}


def _unwrap(net: torch.nn.Module) -> torch.nn.Module:
    return net.module if hasattr(net, "module") else net
