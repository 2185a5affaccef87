"""Model folders: ``config.json`` + one safetensors file per network.

Weights are read with safetensors (plain tensors only: nothing is unpickled), and each file's
sha256 is reported so recordings can name the exact weights they came from.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .assets import ASSETS_DIR, MODELS_DIR  # noqa: F401  (re-exported)
from .model_config import ModelConfig
from .models import HandSegNet, LandmarkNet, PosePrior, PoseNet, ViewPoint

DEFAULT_MODEL = "default"
NETWORKS = ("handsegnet", "posenet", "poseprior", "viewpoint")
HOW_TO_GET = ("Install the project's weights under assets/models/ (they ship with the repository), "
              "or train them: see training/README.md.")


class ModelNotFoundError(FileNotFoundError):
    """No model folder where one was asked for (e.g. no trained weights installed)."""


class CorruptModelError(ValueError):
    """A model folder exists but a file in it cannot be used."""


def build_networks(config: ModelConfig) -> dict[str, nn.Module]:
    """Fresh (randomly initialised) networks for ``config``: the four, and ``landmark`` when the
    config has a keypoint refiner."""
    nets = {
        "handsegnet": HandSegNet(config.handsegnet),
        "posenet": PoseNet(config.posenet),
        "poseprior": PosePrior(config.poseprior),
        "viewpoint": ViewPoint(config.viewpoint),
    }
    if config.landmark is not None:
        nets["landmark"] = LandmarkNet(config.landmark)
    return nets


def network_names(config: ModelConfig) -> tuple[str, ...]:
    """The networks (and safetensors files) a model folder with ``config`` holds."""
    return NETWORKS + (("landmark",) if config.landmark is not None else ())


def list_models() -> list[str]:
    """Names of the model folders under ``assets/models`` (those with a ``config.json``)."""
    if not MODELS_DIR.is_dir():
        return []
    return sorted(d.name for d in MODELS_DIR.iterdir() if (d / "config.json").is_file())


def resolve_model_dir(path: str | Path | None) -> Path:
    """``None`` = the shipped default; a name = a folder under ``assets/models``; else a folder."""
    if path is None:
        folder = MODELS_DIR / DEFAULT_MODEL
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(f"No trained model is installed (looked for {folder}). {HOW_TO_GET}")
        return folder
    p = Path(path)
    if not p.exists() and (MODELS_DIR / str(path)).exists():
        p = MODELS_DIR / str(path)
    if not p.is_dir():
        raise ModelNotFoundError(
            f"Model {str(path)!r} not found: not a folder, nor a name under {MODELS_DIR} "
            f"(installed: {', '.join(list_models()) or 'none'}). {HOW_TO_GET}")
    return p


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model(folder: str | Path, config: ModelConfig, networks: dict[str, nn.Module],
               dtype: torch.dtype = torch.float32) -> Path:
    """Write ``config.json`` and ``<network>.safetensors`` (weights cast to ``dtype``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in network_names(config):
        state = {k: v.detach().to("cpu", dtype if v.is_floating_point() else v.dtype).contiguous()
                 for k, v in networks[name].state_dict().items()}
        save_file(state, str(folder / f"{name}.safetensors"), metadata={"network": name})
    (folder / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    return folder


def load_model(path: str | Path | None = None) -> tuple[ModelConfig, dict[str, nn.Module], dict[str, str]]:
    """Rebuild a model from its folder. Returns ``(config, networks in eval mode, sha256 by file)``."""
    folder = resolve_model_dir(path)
    config_file = folder / "config.json"
    try:
        config = ModelConfig.from_dict(json.loads(config_file.read_text()))
    except FileNotFoundError:
        raise ModelNotFoundError(f"{config_file} is missing. {HOW_TO_GET}") from None
    except (ValueError, TypeError) as e:  # JSONDecodeError is a ValueError
        raise CorruptModelError(f"{config_file} is not a valid model config: {e}") from None
    networks = build_networks(config)
    digests = {"config.json": sha256_of(config_file)}
    for name in network_names(config):
        file = folder / f"{name}.safetensors"
        if not file.is_file():
            raise ModelNotFoundError(f"{file} is missing. {HOW_TO_GET}")
        try:
            state = load_file(str(file))
        except (SafetensorError, OSError, ValueError) as e:
            raise CorruptModelError(f"{file} is not a readable safetensors file ({e}). {HOW_TO_GET}") from None
        target = networks[name].state_dict()
        if set(state) != set(target) or any(state[k].shape != target[k].shape for k in state):
            raise CorruptModelError(f"{file} does not match the network described by {config_file}. {HOW_TO_GET}")
        networks[name].load_state_dict({k: v.to(target[k].dtype) for k, v in state.items()})
        networks[name].eval()
        digests[file.name] = sha256_of(file)
    return config, networks, digests
