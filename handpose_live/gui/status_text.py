"""The live window's status figures as text, per mode. No Qt: unit-tested with fake statistics.

What each figure means, and where it means nothing ("—"):

* **source rate**: frames per second the source delivers over the last seconds — a camera's or a
  paced file's real frame rate. In the lossless modes (``--max-frames``, an image folder, a file
  without a frame rate) the source waits for the model, so its rate is the processing rate: it is
  shown once, as "processing", with the position in the source instead.
* **inference rate**: frames per second through the model; "—" without a model (in the lossless
  modes without a model: the rate frames are read, "Reading").
* **latency**: capture to display of the newest frame shown, for a camera and a paced file; "—"
  in the lossless modes (frames wait in a queue on purpose: that wait is not latency) and without
  a model (nothing is computed).
* **dropped**: frames dropped because the model was busy; lossless modes drop none ("—").
"""
from __future__ import annotations

from dataclasses import dataclass

DASH = "—"


@dataclass
class LiveView:
    """What the window knows beside the runtime's statistics."""

    kind: str  # "camera", "video" or "images" (the source's kind)
    lossless: bool  # every frame processed, the source waits for the model
    has_model: bool
    paused: bool = False
    display_latency_ms: float | None = None  # capture -> display of the newest frame shown
    total: int | None = None  # frames (or images) in the source, when known
    lost: bool = False  # a camera stopped delivering (the window tries to reconnect)


def _rate(value: float) -> str:
    return f"{value:.1f} fps" if value > 0 else DASH


def status_fields(stats, view: LiveView) -> dict[str, str]:
    """``{"source", "inference", "latency", "dropped"}`` texts for ``stats`` (a ``RuntimeStats``)."""
    label = {"video": "Video", "images": "Images"}.get(view.kind, "Camera")
    if view.lossless:
        done = stats.processed
        position = f"{done}/{view.total}" if view.total else f"{done}"
        unit = "" if view.kind == "images" else " frames"
        state = "paused" if view.paused else "ended" if stats.finished else "processing"
        return {
            "source": f"{label} {position}{unit} · {state}",
            "inference": f"{'Processing' if view.has_model else 'Reading'} {_rate(stats.inference_fps)}",
            "latency": f"Latency {DASH}",
            "dropped": f"Dropped {DASH}",
        }
    if view.lost:
        return {"source": f"{label} lost", "inference": f"Inference {DASH}", "latency": f"Latency {DASH}",
                "dropped": f"Dropped {stats.dropped}"}
    source = "paused" if view.paused else "ended" if stats.finished else _rate(stats.camera_fps)
    live = view.has_model and not view.paused and not stats.finished
    latency = view.display_latency_ms if live else None
    return {
        "source": f"{label} {source}",
        "inference": f"Inference {_rate(stats.inference_fps) if view.has_model else DASH}",
        "latency": f"Latency {DASH if latency is None else f'{latency:.0f} ms'}",
        "dropped": f"Dropped {stats.dropped}",
    }


def hands_header(current: int, kept: int, stale: int, has_model: bool = True) -> str:
    """The 3D panel's header: the hands of the frame shown, and those drawn from earlier frames
    (a track lost for a moment is still drawn; ``stale`` of them grey)."""
    if not has_model:
        return "3D pose · no model loaded"
    what = f"{current} hand{'s' * (current != 1)}" if current else "no hand in this frame"
    if kept:
        what += f" · {kept} from earlier frames" + (f" ({stale} grey)" if stale else "")
    return f"3D pose (m, from the wrist) · {what}"
