"""HandSegNet on whole frames: letterbox, segment, and hand regions in frame pixels.

Shared by the estimator and by training (PoseNet fine-tuned on HandSegNet's own crops).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from .detection import Region, find_regions
from .model_config import DetectionConfig
from .models import HandSegNet
from .preprocess import letterbox, normalise, unletterbox_mask


def segment_frames(net: HandSegNet, frames_rgb: list[np.ndarray], input_size: tuple[int, int],
                   detection: DetectionConfig, device: torch.device, amp=contextlib.nullcontext,
                   memory_format=torch.contiguous_format,
                   exclude: list[np.ndarray | None] | None = None,
                   bgr: bool = False) -> list[tuple[list[Region], np.ndarray]]:
    """For each ``HxWx3`` uint8 **RGB** frame (``bgr``: BGR frames, as cameras give them): up to
    ``detection.candidates`` regions (``bbox`` in frame pixels) and the frame-sized label mask (0
    background, 1 left, 2 right). ``input_size`` = (height, width) of the network's letterboxed
    input. ``exclude[i]`` ``[K, 4]``: boxes (frame pixels) of frame i that no region may take
    (``find_regions``)."""
    h, w = input_size
    canvases, boxes = zip(*(letterbox(f, (h, w)) for f in frames_rgb))
    if bgr:  # the channels turned on the small canvas: the same pixels as resizing an RGB view of the
        # frame, which OpenCV would first copy whole (~1 ms for 640x480)
        canvases = [c[:, :, ::-1] for c in canvases]
    batch = torch.from_numpy(np.stack(canvases)).to(device).permute(0, 3, 1, 2)
    x = normalise(batch).contiguous(memory_format=memory_format)
    with amp():
        logits = net(x)
    probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
    bridge = int(round(detection.bridge_px_at_240 * h / 240))
    min_area = max(1, int(detection.min_area_frac * h * w))
    out = []
    for i, (p, box, frame) in enumerate(zip(probs, boxes, frames_rgb)):
        skip = None
        if exclude is not None and exclude[i] is not None:
            skip = box.to_canvas(np.asarray(exclude[i]).reshape(-1, 2, 2)).reshape(-1, 4)
        regions, canvas_mask = find_regions(p, detection.mask_threshold, bridge, min_area, detection.candidates,
                                            exclude=skip, bridge_threshold=detection.bridge_threshold,
                                            split_sides_frac=detection.split_sides_frac)
        for r in regions:
            r.bbox = box.to_frame(r.bbox.reshape(2, 2)).reshape(4)
        out.append((regions, unletterbox_mask(canvas_mask, box, frame.shape[:2])))
    return out
