"""Finding installed models and loading the estimator, with messages fit for the status bar."""
from __future__ import annotations

import logging

from ..checkpoint import CorruptModelError, ModelNotFoundError, list_models
from ..pipeline import HandPoseEstimator, resolve_device

log = logging.getLogger(__name__)

NO_MODEL_MESSAGE = ("No trained model installed — showing video only. Install weights under "
                    "assets/models/default or start with --model <folder>.")


class ModelLoadError(Exception):
    """A model the user asked for explicitly cannot be loaded; the message is user-facing."""


def installed_models() -> list[str]:
    """Names of model folders under ``assets/models`` (those with a ``config.json``)."""
    return list_models()


def check_device(device: str) -> str:
    """``device`` if usable here; ``ModelLoadError`` with a one-line reason otherwise."""
    try:
        resolve_device(device)
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
    return device


def load_estimator(model: str | None, device: str = "auto", precision: str = "auto"):
    """``(estimator, message)``. With ``model=None`` (the default model) a missing or broken
    model gives ``(None, message)`` so the app can still show video; an explicitly named model
    that fails raises ``ModelLoadError``."""
    try:
        est = HandPoseEstimator.from_pretrained(path=model or None, device=device,
                                                precision=precision, mode="video")
    except ModelNotFoundError as exc:
        if model:
            raise ModelLoadError(str(exc)) from None
        log.info("no default model: %s", exc)
        return None, NO_MODEL_MESSAGE
    except (CorruptModelError, ValueError, OSError, RuntimeError) as exc:
        log.exception("model load failed")
        if model:
            raise ModelLoadError(f"cannot load model {model}: {exc}") from None
        return None, f"The installed model cannot be loaded ({exc}) — showing video only."
    log.info("loaded model %s on %s (%s, %s)", est.model_name, est.device, getattr(est, "backend", "?"),
             getattr(est, "precision", "?"))
    return est, ""
