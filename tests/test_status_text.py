"""The live status bar's texts per mode, from fake statistics (no Qt, no threads)."""
from __future__ import annotations

from handpose_live.frame_queue import RateMeter
from handpose_live.gui.status_text import DASH, LiveView, hands_header, status_fields
from handpose_live.runtime import RuntimeStats


def stats(**kw) -> RuntimeStats:
    base = dict(camera_fps=25.0, inference_fps=12.5, latency_ms=400.0, dropped=7, captured=100, processed=90)
    return RuntimeStats(**{**base, **kw})


def test_camera_shows_rates_and_display_latency():
    f = status_fields(stats(camera_fps=29.97), LiveView("camera", lossless=False, has_model=True,
                                                        display_latency_ms=48.4))
    assert f == {"source": "Camera 30.0 fps", "inference": "Inference 12.5 fps", "latency": "Latency 48 ms",
                 "dropped": "Dropped 7"}


def test_paced_file_paused_and_ended():
    view = LiveView("video", lossless=False, has_model=True, display_latency_ms=60.0)
    assert status_fields(stats(), view)["source"] == "Video 25.0 fps"
    view.paused = True
    paused = status_fields(stats(), view)
    assert paused["source"] == "Video paused" and paused["latency"] == f"Latency {DASH}"
    view.paused = False
    ended = status_fields(stats(finished=True), view)
    assert ended["source"] == "Video ended" and ended["latency"] == f"Latency {DASH}"


def test_lossless_file_shows_processing_rate_not_queueing_as_latency():
    # --max-frames: frames wait for the model on purpose; 400 ms in the queue is not latency
    f = status_fields(stats(latency_ms=400.0), LiveView("video", lossless=True, has_model=True, total=240,
                                                        display_latency_ms=400.0))
    assert f == {"source": "Video 90/240 frames · processing", "inference": "Processing 12.5 fps",
                 "latency": f"Latency {DASH}", "dropped": f"Dropped {DASH}"}


def test_image_folder_counts_images():
    f = status_fields(stats(processed=3, finished=True, inference_fps=0.0),
                      LiveView("images", lossless=True, has_model=True, total=3))
    assert f["source"] == "Images 3/3 · ended" and f["inference"] == f"Processing {DASH}"


def test_no_model_has_no_inference_rate_or_latency():
    paced = status_fields(stats(camera_fps=25.0, inference_fps=1234.8),
                          LiveView("video", lossless=False, has_model=False, display_latency_ms=0.0))
    assert paced == {"source": "Video 25.0 fps", "inference": f"Inference {DASH}", "latency": f"Latency {DASH}",
                     "dropped": "Dropped 7"}
    lossless = status_fields(stats(inference_fps=1293.4), LiveView("video", lossless=True, has_model=False))
    assert lossless["inference"] == "Reading 1293.4 fps" and lossless["latency"] == f"Latency {DASH}"


def test_hands_header_counts_the_frame_and_earlier_frames_apart():
    assert hands_header(2, 0, 0) == "3D pose (m, from the wrist) · 2 hands"
    assert hands_header(2, 1, 0) == "3D pose (m, from the wrist) · 2 hands · 1 from earlier frames"
    assert hands_header(0, 1, 1).endswith("no hand in this frame · 1 from earlier frames (1 grey)")
    assert hands_header(0, 0, 0, has_model=False) == "3D pose · no model loaded"


def test_rate_meter_counts_batches_once_and_goes_stale():
    meter = RateMeter(window_s=2.0)
    t = 100.0
    for k in range(10):  # batches of 4 frames every 0.4 s = 10 frames/s
        for _ in range(4):
            meter.tick(t + 0.4 * k)
    assert abs(meter.rate_at(t + 3.6) - 10.0) < 1.0
    assert meter.rate_at(t + 3.6 + 2.5) == 0.0  # nothing for 2.5 s: stalled, not "10 fps"
    one = RateMeter()
    for _ in range(4):
        one.tick(5.0)  # one batch alone: no time has passed, no rate
    assert one.rate_at(5.0) == 0.0


def test_a_lost_camera_shows_no_stale_rates():
    f = status_fields(stats(camera_fps=20.3, inference_fps=7.6), LiveView("camera", lossless=False, has_model=True,
                                                                       display_latency_ms=208.0, lost=True))
    assert f == {"source": "Camera lost", "inference": f"Inference {DASH}", "latency": f"Latency {DASH}",
                 "dropped": "Dropped 7"}
