"""HandPoseEstimator: BGR frames in, hands with 2D and 3D keypoints out. No threads, no Qt.

Pipeline (Zimmermann & Brox 2017): HandSegNet on the letterboxed frame -> hand regions -> a
square crop per hand -> PoseNet score maps -> sub-pixel 2D keypoints -> PosePrior + ViewPoint
-> canonical pose and rotation -> 3D keypoints in metres. Video mode reuses each hand's last
keypoints as its next crop and runs segmentation only to (re)find hands.
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from . import crop as cropping
from . import onnx_backend
from .canonical import from_canonical, metric_scale
from .camera import DEFAULT_FOV_DEG, check_fov, intrinsics, ray_rotation
from .hand_size import check_palm_length
from .checkpoint import load_model
from .hand import Hand
from .heatmaps import decode, encode
from .model_config import ModelConfig
from .frame_check import WORK_MAX_SIDE
from .preprocess import normalise, validate_frames
from .detection import combine_scales
from .segmentation import segment_frames
from .models import HandSegNet, LandmarkNet, PoseNet, PosePrior, ViewPoint
from .models.landmark import INPUT_SIZE as LANDMARK_INPUT_SIZE
from .models.lifting import world_input
from .skeleton import RHD_MIDDLE_MCP, RHD_WRIST, rhd_to_user, user_to_rhd
from .tracking import Track, find_track, overlap_of_smaller, tracked_hand_box

log = logging.getLogger(__name__)

SIDES = ("left", "right")
# Video mode: weight of a track's running P(right) against the side head's reading of the new
# frame (an exponential average; a hand does not change side between frames).
SIDE_MEMORY = 0.8
# Video mode: a hand found again after its track was lost takes back that track's id when its
# centre lies within the lost track's crop window scaled by this (a fast hand, or a camera at a
# low frame rate, moves further than one window between frames; the track was lost for that).
LOST_TRACK_REACH = 2.0


# the convolutional networks: run channels_last on the CPU and under autocast at reduced precision
# (``HandPoseEstimator._amp``); the lifting nets run in fp32
CONV_NETS = ("handsegnet", "posenet", "landmark")


def hand_score(region_confidence: float, keypoint_scores: np.ndarray) -> float:
    """A hand's score: the geometric mean of HandSegNet's highest hand probability in its region
    and PoseNet's mean keypoint confidence (README, "What a hand's score means")."""
    return float(np.sqrt(max(region_confidence, 0.0) * float(np.mean(keypoint_scores))))


def keypoint_spread(keypoints: np.ndarray, box) -> float:
    """How far a hand's keypoints ``[21, 2]`` spread: their bbox diagonal over its crop box's side
    (``box`` = centre x, centre y, side). A hand fills much of its crop (real_hands dev: >= 0.64);
    PoseNet's keypoints bunched on a small shape (a printed logo) spread far less."""
    kp = np.asarray(keypoints, np.float64)
    return float(np.linalg.norm(kp.max(0) - kp.min(0)) / max(float(box[2]), 1e-6))


def spread_enough(keypoints: np.ndarray, box, min_spread: float | None) -> bool:
    """``detection.min_spread``'s test (always true when it is off)."""
    return min_spread is None or keypoint_spread(keypoints, box) >= min_spread


def drop_duplicates(ranked: list[int], keypoints: np.ndarray, max_overlap: float | None) -> list[int]:
    """``ranked``: candidate indices, best first; ``keypoints[k]`` ``[21, 2]`` each one's keypoints.
    The candidates kept when each one whose keypoints' bbox and an already kept one's overlap by at
    least ``max_overlap`` of the smaller box (``overlap_of_smaller``) is dropped as the same hand
    seen twice — e.g. a second, smaller crop inside the hand (``None``: all kept)."""
    if max_overlap is None or not ranked:
        return list(ranked)
    kept, boxes = [], []
    for k in ranked:
        box = np.concatenate([keypoints[k].min(0), keypoints[k].max(0)])
        if all(overlap_of_smaller(box, other) < max_overlap for other in boxes):
            kept.append(k)
            boxes.append(box)
    return kept


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` = the first CUDA GPU if there is one, else the CPU; ``cpu``, ``cuda``, ``cuda:N``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but no CUDA GPU is available; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA GPU(s) present")
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {device!r}; use auto, cpu, cuda or cuda:N")
    return dev


def _work_copy(frame: np.ndarray) -> np.ndarray:
    """``frame``, or a copy downscaled (area) so that its longer side is ``WORK_MAX_SIDE``."""
    h, w = frame.shape[:2]
    scale = WORK_MAX_SIDE / max(h, w)
    if scale >= 1:
        return frame
    size = (max(2, round(w * scale)), max(2, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def native_bf16() -> bool:
    """Whether this CPU has native bf16 instructions (AVX-512 bf16 or AMX), as oneDNN reports
    it. The one place that asks (torch has no public call for it); False if torch cannot say."""
    check = getattr(getattr(torch.ops, "mkldnn", None), "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


def resolve_precision(precision: str, device: torch.device, probe=None) -> torch.dtype | None:
    """``auto``: fp16 on CUDA; on a CPU with native bf16 support, bf16 only when ``probe`` (a
    callable timing the networks in a given dtype, see ``time_precisions``) finds it faster than
    fp32 (on AVX-512 CPUs without AMX it is slower), bf16 when there is no probe; else fp32 (None)."""
    table = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        if not native_bf16():
            return None
        if probe is None:
            return torch.bfloat16
        return torch.bfloat16 if probe(torch.bfloat16) < BF16_MARGIN * probe(None) else None
    if precision not in table:
        raise ValueError(f"unknown precision {precision!r}; use auto, fp32, bf16 or fp16")
    if precision == "fp16" and device.type == "cpu":
        raise ValueError("fp16 is for CUDA; on the CPU use bf16 or fp32")
    return table[precision]


# ``auto`` picks bf16 on a CPU only when it is clearly faster than fp32 (by 10 %).
BF16_MARGIN = 0.9
PRECISION_ROUNDS = 8  # alternated timing passes per precision when ``auto`` chooses (after 2 warm-ups each)


BACKENDS = ("auto", "torch", "onnxruntime")
# what the onnxruntime backend exports: these networks, never another module put in their place
EXPORTED = {"handsegnet": HandSegNet, "posenet": PoseNet, "landmark": LandmarkNet,
            "poseprior": PosePrior, "viewpoint": ViewPoint}


def _module_name(name: str) -> str:
    """The network behind an exported call: ``handsegnet_fine`` is HandSegNet at
    ``detection.fine_input_size``."""
    return "handsegnet" if name == "handsegnet_fine" else name


def resolve_backend(backend: str, device: torch.device, precision: str) -> str:
    """Which runtime runs the networks. ``auto``: ONNX Runtime on a CPU when it is installed and
    the precision is ``auto`` or ``fp32`` (fp32 there; a frame ~1.7x faster than with PyTorch's bf16
    on a 2-core CPU: BENCHMARKS.md), else PyTorch.
    ``onnxruntime`` asked for where it cannot run raises ``ValueError``."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use {', '.join(BACKENDS)}")
    fits = device.type == "cpu" and precision in ("auto", "fp32")
    if backend == "onnxruntime":
        if not fits:
            raise ValueError(f"the onnxruntime backend runs fp32 on the CPU, not {precision} on {device.type}")
        if not onnx_backend.available():
            raise ValueError("the onnxruntime backend needs the packages onnxruntime and onnx "
                             "(pip install onnxruntime onnx)")
        return backend
    if backend == "auto" and fits and onnx_backend.available():
        return "onnxruntime"
    return "torch"


def cast_networks(nets: dict, dtype: torch.dtype) -> dict:
    """``nets`` with each convolutional network (``CONV_NETS``) replaced by a copy whose Conv2d and
    Linear weights are stored in ``dtype`` (autocast would otherwise cast them again on every call;
    the same rounding, so the same outputs). The caller's networks keep their weights (another
    estimator may share them); the lifting nets stay as they are (fp32)."""
    out = dict(nets)
    for k in CONV_NETS:
        if k in out:
            out[k] = copy.deepcopy(out[k])
            for m in out[k].modules():
                if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                    m.to(dtype)
    return out


def _timing_pass(nets: dict, config: ModelConfig, device: torch.device, memory_format):
    """A callable running one HandSegNet pass on a frame and one PoseNet pass (and refiner pass,
    when the model has one) on two crops at the model's input sizes (HandSegNet's at the size that
    runs on every frame)."""
    h, w = config.segment_input_size
    s = config.posenet.input_size
    frame = torch.zeros(1, 3, h, w, device=device).to(memory_format=memory_format)
    crops = torch.zeros(2, 3, s, s, device=device).to(memory_format=memory_format)
    refiner = nets.get("landmark")
    upright = None
    if refiner is not None:
        upright = torch.zeros(2, 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE, device=device)
        upright = upright.to(memory_format=memory_format)

    def run():
        nets["handsegnet"](frame)
        nets["posenet"](crops)
        if refiner is not None:
            refiner(upright)
    return run


def _autocast(device: torch.device, dtype: torch.dtype | None):
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def time_precisions(variants: dict, config: ModelConfig, device: torch.device, memory_format,
                    rounds: int = PRECISION_ROUNDS) -> dict:
    """``variants``: dtype (None = fp32) -> networks as they would run in it (``cast_networks``).
    Median seconds of one pass of the networks (``_timing_pass``) for each, the variants alternated (ABBA)
    after two warm-up passes each, so neither a cold start (the first passes of a precision build
    its kernels) nor a busy moment of the machine falls on one side only."""
    import time

    runs = {d: _timing_pass(nets, config, device, memory_format) for d, nets in variants.items()}
    order = list(runs)
    times = {d: [] for d in runs}
    with torch.inference_mode():
        for i in range(rounds + 2):
            for d in (order if i % 4 in (0, 3) else order[::-1]):
                with _autocast(device, d):
                    t0 = time.perf_counter()
                    runs[d]()
                    if i >= 2:
                        times[d].append(time.perf_counter() - t0)
    return {d: float(np.median(t)) for d, t in times.items()}


@dataclass
class PoseNetOutput:
    """PoseNet's reading of N hands: keypoints ``[N, 21, 2]`` (RHD order, frame px) and their
    confidences ``[N, 21]``, score maps ``[N, 21, m, m]``, image features (or None), crop boxes
    ``[N, 3]``, the side chosen for each hand and P(right)."""

    keypoints: np.ndarray
    confidence: np.ndarray
    maps: torch.Tensor
    image: torch.Tensor | None
    boxes: torch.Tensor
    sides: list[str]
    p_right: list[float]


class HandPoseEstimator:
    """Batched hand pose estimation. Contract: ``process`` takes a list of ``HxWx3`` uint8 **BGR**
    frames of any sizes and returns, per frame, a list of ``Hand`` ordered by score, keypoints in
    user order (``skeleton.KEYPOINT_NAMES``). Gradients are never computed.

    ``mode="image"``: frames are independent; one batched pass per network.
    ``mode="video"``: frames are consecutive frames of one stream (one estimator per stream);
    hands are tracked by reusing their last keypoints as the next crop, and segmentation runs
    only when a track is lost or, every few frames, to look for new hands. ``reset()`` starts a
    new stream.
    """

    def __init__(self, config: ModelConfig, networks: dict, device: str = "auto",
                 precision: str = "auto", mode: str = "image", digests: dict | None = None,
                 flip_test: bool = False, backend: str = "auto"):
        if mode not in ("image", "video"):
            raise ValueError(f"mode must be 'image' or 'video', got {mode!r}")
        self.config = config
        self.mode = mode
        self.flip_test = flip_test  # PoseNet also on each mirrored crop, maps and side averaged
        self._device = resolve_device(device)
        self.model_name = config.name
        self.weights_sha256 = dict(digests or {})
        self.nets = {k: v.eval().to(self._device) for k, v in networks.items()}
        self._onnx: dict = {}  # network name -> (the PyTorch module it was exported from, OnnxNet)
        self._backend = resolve_backend(backend, self._device, precision)
        if self._backend == "onnxruntime":
            try:
                self._onnx = self._export_onnx()
            except Exception as e:  # an exporter or runtime that fails here: PyTorch runs them
                if backend == "onnxruntime":
                    raise RuntimeError(f"the onnxruntime backend failed to load the networks: {e}") from e
                log.warning("ONNX Runtime could not load the networks (%s); running them with PyTorch", e)
                self._backend = "torch"
                self._onnx = {}
        if self._backend == "onnxruntime":
            precision = "fp32"
        # PyTorch on the CPU: channels_last, the refiner 3x faster in fp32 here; ONNX Runtime takes
        # plain (NCHW) arrays, and exporting channels_last modules ran their first passes 3x slower
        cpu_torch = self._device.type == "cpu" and self._backend == "torch"
        fmt = torch.channels_last if cpu_torch else torch.contiguous_format
        for k in CONV_NETS:
            if k in self.nets:
                self.nets[k] = self.nets[k].to(memory_format=fmt)
        self._memory_format = fmt
        cast, timed = {}, {}

        def probe(dtype):  # auto on a bf16 CPU: both precisions timed together, as they will run
            if not timed:
                cast[torch.bfloat16] = cast_networks(self.nets, torch.bfloat16)
                timed.update(time_precisions({None: self.nets, torch.bfloat16: cast[torch.bfloat16]},
                                             config, self._device, fmt))
            return timed[dtype]

        self._amp_dtype = resolve_precision(precision, self._device, probe=probe)
        self.precision_timings_ms = {("fp32" if d is None else "bf16"): t * 1000 for d, t in timed.items()}
        if self._amp_dtype is not None:
            self.nets = cast.get(self._amp_dtype) or cast_networks(self.nets, self._amp_dtype)
        self._ids = itertools.count()
        self.last_masks: list[np.ndarray | None] = []
        self._fov_deg = DEFAULT_FOV_DEG
        self.reset()

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "auto",
                        precision: str = "auto", mode: str = "image",
                        palm_length_m: float | None = None, flip_test: bool = False,
                        camera_fov_deg: float | None = None, backend: str = "auto") -> "HandPoseEstimator":
        """Load a model folder (or a name under ``assets/models``; ``None`` = the shipped default).
        ``palm_length_m``: the user's hand size (see ``palm_length_m``; default: the model's, 0.10 m).
        ``camera_fov_deg``: the camera's horizontal field of view (see ``camera_fov_deg``).
        ``flip_test``: run PoseNet on every crop and on its mirror image and average the two (score
        maps mirrored back, side logits negated): about twice PoseNet's cost.
        ``backend``: what runs the networks (``resolve_backend``; ``auto`` = ONNX Runtime on a CPU
        when it is installed).
        Raises ``checkpoint.ModelNotFoundError`` / ``checkpoint.CorruptModelError``."""
        config, networks, digests = load_model(path)
        est = cls(config, networks, device=device, precision=precision, mode=mode, digests=digests,
                  flip_test=flip_test, backend=backend)
        if palm_length_m is not None:
            est.palm_length_m = palm_length_m
        if camera_fov_deg is not None:
            est.camera_fov_deg = camera_fov_deg
        return est

    @property
    def camera_fov_deg(self) -> float:
        """The camera's horizontal field of view in degrees (default ``camera.DEFAULT_FOV_DEG``):
        with lifting nets that give 3D in a crop's ray frame (``LiftingConfig.frame``) it sets the
        ray, and so how a hand away from the image centre is turned in ``keypoints_3d``; other
        models ignore it. ``ValueError`` outside ``camera.FOV_RANGE_DEG``."""
        return self._fov_deg

    @camera_fov_deg.setter
    def camera_fov_deg(self, value: float) -> None:
        self._fov_deg = check_fov(value)

    @property
    def palm_length_m(self) -> float:
        """The hand size that sets the metric scale of ``keypoints_3d``: the palm length in metres,
        on the back of the hand from the middle of the wrist crease to the middle finger's knuckle
        (each hand's wrist -> middle MCP distance is scaled to it). ``ValueError`` outside 4-16 cm."""
        return self.config.palm_length_m

    @palm_length_m.setter
    def palm_length_m(self, value: float) -> None:
        self.config.palm_length_m = check_palm_length(value)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def precision(self) -> str:
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self._amp_dtype]

    @property
    def backend(self) -> str:
        """What runs the networks: ``"onnxruntime"`` (each network exported at load; a module put
        in ``nets`` afterwards, or an input of another size, runs in PyTorch) or ``"torch"``."""
        return self._backend

    def _export_onnx(self) -> dict:
        """Each network exported to ONNX Runtime (``onnx_backend.OnnxNet``) for the inputs and
        keyword arguments the stages give it: name -> (the module, its ``OnnxNet``). Stand-ins for
        the model's own classes are left to PyTorch, and the lifting nets with a stand-in PoseNet."""
        h, w = self.config.handsegnet.input_size
        s = self.config.posenet.input_size
        calls = {"handsegnet": ((h, w), {}), "posenet": ((s, s), self._posenet_kwargs())}
        if self.config.detection.fine_input_size is not None:  # HandSegNet's second size
            calls["handsegnet_fine"] = (self.config.detection.fine_input_size, {})
        if "landmark" in self.nets:
            calls["landmark"] = ((LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE), {})
        out = {}
        for name, (size, kwargs) in calls.items():
            net = self.nets[_module_name(name)]
            if type(net) is EXPORTED[_module_name(name)]:  # never a stand-in (a test's fake may hold Python logic)
                out[name] = (net, onnx_backend.OnnxNet(net, torch.zeros(1, 3, *size), **kwargs))
        if "posenet" not in out or any(type(self.nets[k]) is not EXPORTED[k] for k in ("poseprior", "viewpoint")):
            return out
        # the lifting nets read PoseNet's maps (or maps of its size), the side, and what the model
        # adds: PoseNet's image features, the refiner's world landmarks. Their shapes: the exported
        # PoseNet's answer to an empty batch (no pass is run)
        posenet_out = out["posenet"][1](torch.zeros(0, 3, s, s), **self._posenet_kwargs())
        posenet_out = list(posenet_out) if isinstance(posenet_out, tuple) else [posenet_out]
        args = [torch.zeros(1, *posenet_out[0][-1].shape[1:]), torch.zeros(1, 2)]
        if self.config.lifting_image_channels > 0:
            args.append(torch.zeros(1, *posenet_out[-1].shape[1:]))
        extra = {"world": torch.zeros(1, 21, 3)} if self.config.poseprior.world else {}
        for name in ("poseprior", "viewpoint"):
            net = self.nets[name]
            out[name] = (net, onnx_backend.OnnxNet(net, *args, **extra))
        return out

    def _net(self, name: str):
        """The callable that runs network ``name``: its ONNX Runtime session, unless ``self.nets``
        now holds another module than the one exported (tests swap in stand-ins)."""
        module = self.nets[_module_name(name)]
        exported = self._onnx.get(name)
        if exported is not None and exported[0] is module:
            return exported[1]
        return module

    def _posenet_kwargs(self) -> dict:
        """The outputs asked of PoseNet besides its maps: the side logit when it has the head, the
        image features when the lifting nets read them."""
        return {**({"side": True} if self.config.posenet.side_head else {}),
                **({"features": True} if self.config.lifting_image_channels > 0 else {})}

    @property
    def num_classes(self) -> int:
        return self.config.handsegnet.num_classes

    def reset(self) -> None:
        """Forget all tracks (video mode): the next frame starts a new stream."""
        self._tracks: list[Track] = []
        self._lost: list[Track] = []
        self._since_detect = 0
        self._frame_hw: tuple[int, int] | None = None

    # ------------------------------------------------------------------ public entry point
    @torch.inference_mode()
    def process(self, frames, hand_sides=None) -> list[list[Hand]]:
        """Hands in each frame. ``hand_sides`` (required by a model that cannot tell left from
        right — 2-class HandSegNet, no PoseNet side head — an optional override
        otherwise): per frame ``"left"``/``"right"``, applied to every hand of that frame."""
        frames = validate_frames(frames)
        sides = self._check_sides(hand_sides, len(frames))
        if not frames:
            self.last_masks = []
            return []
        with self._torch_threads():
            return self._process(frames, sides)

    @contextlib.contextmanager
    def _torch_threads(self):
        """With ONNX Runtime running the networks, PyTorch's own work in a frame (lifting, maps,
        crops) runs on the calling thread alone, and the previous setting comes back after:
        PyTorch's worker threads and the runtime's busy-waiting threads would fight over the cores
        (2-core CPU, image mode: 24 ms a frame with both at 2 threads, 12.6 ms so)."""
        if self._backend != "onnxruntime" or torch.get_num_threads() == 1:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _process(self, frames: list[np.ndarray], sides: list[str | None]) -> list[list[Hand]]:
        sizes = [f.shape[:2] for f in frames]
        frames = [_work_copy(f) for f in frames]  # a 9000x6000 photo: work on a 4096 px copy
        if self.mode == "image":
            results = self._process_images(frames, sides)
        else:
            results, masks = [], []
            for frame, side in zip(frames, sides):
                hands, mask = self._process_video_frame(frame, side)
                results.append(hands)
                masks.append(mask)
            self.last_masks = masks
        for i, (size, frame) in enumerate(zip(sizes, frames)):
            if frame.shape[:2] != size:  # back to the frame's own pixels
                sx, sy = frame.shape[1] / size[1], frame.shape[0] / size[0]
                results[i] = [h.rescaled(1 / sx, 1 / sy) for h in results[i]]
                if self.last_masks[i] is not None:
                    self.last_masks[i] = cv2.resize(self.last_masks[i], (size[1], size[0]),
                                                    interpolation=cv2.INTER_NEAREST)
        return results

    @property
    def estimates_side(self) -> bool:
        """Whether the model tells left from right by itself (a 3-class HandSegNet or a
        PoseNet side head); a model that cannot needs ``hand_sides``."""
        return self.num_classes == 3 or self.config.posenet.side_head

    def _check_sides(self, hand_sides, n: int) -> list[str | None]:
        if hand_sides is None:
            if not self.estimates_side:
                raise ValueError("this model cannot tell left from right (2-class, no side head): "
                                 "pass hand_sides, e.g. ['right'] * len(frames)")
            return [None] * n
        if isinstance(hand_sides, str):
            hand_sides = [hand_sides] * n
        hand_sides = list(hand_sides)
        if len(hand_sides) != n or any(s not in SIDES for s in hand_sides):
            raise ValueError(f"hand_sides must be 'left' or 'right' per frame ({n} frames), got {hand_sides!r}")
        return hand_sides

    @torch.inference_mode()
    def keypoints_in_boxes(self, frames, boxes: list[np.ndarray], sides: list[list[str | None]],
                           return_sides: bool = False):
        """PoseNet + lifting on given crop boxes, without segmentation (evaluation on
        ground-truth crops). ``boxes[i]`` ``[n_i, 3]`` (cx, cy, side) frame px, ``sides[i]`` one
        side per box (``None``: the side head decides; needs one). Returns per box
        ``(keypoints_2d [21,2] px, scores [21], xyz [21,3] m)`` in **RHD order** (for comparison
        with RHD-order labels), with ``return_sides`` also the side used and P(right)."""
        frames = validate_frames(frames)
        flat = [s for per_frame in sides for s in per_frame]
        if None in flat and not self.config.posenet.side_head:
            raise ValueError("this model has no PoseNet side head: give a side for every box")
        with self._torch_threads():
            out = self._pose(frames, [np.asarray(b, np.float32).reshape(-1, 3) for b in boxes], flat,
                             ["right"] * len(flat))
        return out if return_sides else [o[:3] for o in out]

    # ------------------------------------------------------------------ stages
    def _amp(self):
        if self._amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self._device.type, dtype=self._amp_dtype)

    def _segment(self, frames: list[np.ndarray], exclude: list[np.ndarray | None] | None = None):
        """Regions (bbox in frame px) and frame-sized label masks for each BGR frame; no region takes
        pixels inside ``exclude[i]`` (boxes ``[K, 4]`` in frame px)."""
        det = self.config.detection

        def at(size, name, idx):
            return segment_frames(self._net(name), [frames[i] for i in idx], size, det, self._device, self._amp,
                                  self._memory_format, exclude=None if exclude is None else [exclude[i] for i in idx],
                                  bgr=True)

        if det.fine_input_size is None:
            return at(self.config.handsegnet.input_size, "handsegnet", range(len(frames)))
        out = at(det.fine_input_size, "handsegnet_fine", range(len(frames)))
        # the model's own size: where the fine regions may hold two hands joined (or on every frame)
        idx = [i for i, (regions, _) in enumerate(out) if det.coarse_minority is None
               or any(r.minority >= det.coarse_minority for r in regions)]
        if idx:
            for i, (coarse, _) in zip(idx, at(self.config.handsegnet.input_size, "handsegnet", idx)):
                out[i] = (combine_scales(out[i][0], coarse, det.candidates), out[i][1])
        return out

    def _pose(self, frames: list[np.ndarray], boxes: list[np.ndarray], sides: list[str | None],
              fallback: list[str], priors: list[float | None] | None = None):
        """PoseNet, the keypoint refiner and lifting for every hand; ``boxes[i]`` ``[n_i, 3]``
        crop boxes in frame i (``_posenet`` and ``_finish``). Returns per hand:
        (keypoints_2d RHD [21,2] frame px, confidence [21], xyz RHD [21,3] m, side, P(right))."""
        poses = self._posenet(frames, boxes, sides, fallback, priors)
        if poses is None:
            return []
        hand_frames = [frame for frame, b in zip(frames, boxes) for _ in range(len(b))]
        return self._finish(hand_frames, poses, list(range(len(hand_frames))))

    def _posenet(self, frames: list[np.ndarray], boxes: list[np.ndarray], sides: list[str | None],
                 fallback: list[str], priors: list[float | None] | None = None) -> PoseNetOutput | None:
        """PoseNet on each hand's crop (``boxes[i]`` ``[n_i, 3]`` in frame i); None without hands.

        Per hand, its side is ``sides[k]`` when given (the caller's override); otherwise the
        PoseNet side head's P(right), averaged with ``priors[k]`` (a track's running estimate) when
        there is one; without a side head, ``fallback[k]`` (the segmentation's vote)."""
        size = self.config.posenet.input_size
        crops = [cropping.crop_frame(frame, b, size) for frame, b in zip(frames, boxes) if len(b)]
        if not crops:
            return None
        all_boxes = torch.as_tensor(np.concatenate([b for b in boxes if len(b)]), device=self._device)
        rgb = torch.from_numpy(np.concatenate(crops)).to(self._device)
        x = normalise(rgb.permute(0, 3, 1, 2)).contiguous(memory_format=self._memory_format)
        head = self.config.posenet.side_head
        reads_image = self.config.lifting_image_channels > 0
        n = x.shape[0]
        if self.flip_test:
            x = torch.cat([x, x.flip(-1)])
        with self._amp():
            out = self._net("posenet")(x, **self._posenet_kwargs())
        out = list(out) if isinstance(out, tuple) else [out]
        maps = out.pop(0)[-1].float()
        logit = out.pop(0) if head else None
        image = out.pop(0)[:n].float() if reads_image else None
        if self.flip_test:  # a mirrored hand keeps its keypoints' names and swaps its side
            maps = (maps[:n] + maps[n:].flip(-1)) / 2
            logit = None if logit is None else (logit[:n] - logit[n:]) / 2
        kp_crop, conf = decode(maps, size)
        kp_frame = cropping.crop_to_frame(kp_crop, all_boxes, size).cpu().numpy()
        p_right = torch.sigmoid(logit.float()).cpu().numpy() if head else None
        chosen, probs = [], []
        for k, (given, fall) in enumerate(zip(sides, fallback)):
            if given is not None:
                p = 1.0 if given == "right" else 0.0
            elif p_right is not None:
                p = float(p_right[k])
                if priors is not None and priors[k] is not None:
                    p = SIDE_MEMORY * priors[k] + (1 - SIDE_MEMORY) * p
            else:
                p = 1.0 if fall == "right" else 0.0
            chosen.append(given or ("right" if p >= 0.5 else "left"))
            probs.append(p)
        return PoseNetOutput(kp_frame, conf.cpu().numpy(), maps, image, all_boxes, chosen, probs)

    def _finish(self, hand_frames: list[np.ndarray], poses: PoseNetOutput, idx: list[int]) -> list[tuple]:
        """The hands ``idx`` of ``poses`` (``hand_frames``: each one's frame) to the end: the
        keypoint refiner (when the model has one) and the lifting nets, run only on these — image
        and video modes pass only the hands they will keep. With the refiner's world head as the 3D
        (``LandmarkConfig.world == "3d"``) a hand it sees takes its 3D from there and skips the
        lifting nets; with ``"lifting"`` the lifting nets read it. Returns per hand: (keypoints_2d RHD
        [21,2] frame px, confidence [21], xyz RHD [21,3] m, side, P(right))."""
        if not idx:
            return []
        kp = poses.keypoints[idx]
        world = None
        if "landmark" in self.nets:
            kp, world = self._refine(hand_frames, kp)
        xyz = [None] * len(idx)
        direct = self.config.landmark is not None and self.config.landmark.world == "3d"
        for i, w in enumerate(world if direct else []):
            if w is not None:  # the refiner's world landmarks, wrist-relative, the palm scaled to the setting
                xyz[i] = (world_input(torch.from_numpy(w)[None])[0] * self.config.palm_length_m).numpy().astype(
                    np.float32)
        lift = [i for i, v in enumerate(xyz) if v is None]
        if lift:
            reads = None if world is None else [world[i] for i in lift]
            shapes = [hand_frames[i].shape[:2] for i in lift]
            for i, v in zip(lift, self._lift(poses, [idx[i] for i in lift], kp[lift], reads, shapes)):
                xyz[i] = v
        return list(zip(kp, poses.confidence[idx], xyz, [poses.sides[k] for k in idx],
                        [poses.p_right[k] for k in idx]))

    def _lift(self, poses: PoseNetOutput, idx: list[int], kp: np.ndarray, world: list | None = None,
              frame_shapes: list[tuple[int, int]] | None = None) -> np.ndarray:
        """PosePrior + ViewPoint on the hands ``idx`` of ``poses`` whose reported keypoints are
        ``kp`` ``[N, 21, 2]`` (RHD, frame px) and, for nets that read them, whose refiner's world
        landmarks are ``world`` (per hand ``[21, 3]`` or None): their 3D keypoints ``[N, 21, 3]``
        (RHD, metres, wrist-relative, the camera's frame). Nets giving 3D in the crop's ray frame
        (``LiftingConfig.frame``) need each hand's frame ``(height, width)`` in ``frame_shapes``."""
        sel = torch.as_tensor(idx, device=self._device)
        boxes = poses.boxes[sel]
        if self.config.poseprior.maps == "keypoints":  # maps drawn from the reported keypoints
            size = self.config.posenet.input_size
            kp_crop = cropping.frame_to_crop(torch.from_numpy(kp).to(boxes), boxes, size)
            maps = encode(kp_crop, torch.ones(kp_crop.shape[:2], dtype=torch.bool, device=self._device), size,
                          poses.maps.shape[-1])
        else:
            maps = poses.maps[sel]
        one_hot = torch.zeros(len(idx), 2, device=self._device)
        is_right = torch.tensor([poses.sides[k] == "right" for k in idx], device=self._device)
        one_hot[torch.arange(len(idx)), is_right.long()] = 1.0
        inputs = (maps, one_hot) if poses.image is None else (maps, one_hot, poses.image[sel])
        extra = {}
        if self.config.poseprior.world:  # zeros for a hand the refiner saw no hand in (as in training)
            rows = [np.zeros((21, 3)) if w is None else w for w in (world or [None] * len(idx))]
            extra["world"] = world_input(torch.as_tensor(np.stack(rows), dtype=torch.float32, device=self._device))
        canonical = self._net("poseprior")(*inputs, **extra)
        rotation = self.nets["viewpoint"].to_matrix(self._net("viewpoint")(*inputs, **extra))
        xyz = from_canonical(canonical, rotation, is_right, metric_scale(canonical, self.config.palm_length_m))
        xyz = xyz - xyz[:, :1]  # exactly wrist-relative, whatever the prior put at the wrist
        if self.config.viewpoint.frame == "ray":  # the crop's ray frame -> the camera's (row vectors: x @ R^T)
            if frame_shapes is None:
                raise ValueError("lifting nets in the ray frame need the hands' frame sizes")
            K = torch.from_numpy(np.stack([intrinsics(h, w, self._fov_deg) for h, w in frame_shapes]))
            turn = ray_rotation(K, boxes[:, :2].double().cpu()).to(xyz)
            xyz = xyz @ turn.transpose(1, 2)
        return xyz.cpu().numpy()

    def _refine(self, hand_frames: list[np.ndarray], kp_rhd: np.ndarray) -> tuple[np.ndarray, list | None]:
        """The keypoint refiner's 2D keypoints (RHD order, frame px) for hands whose PoseNet
        keypoints are ``kp_rhd`` ``[N, 21, 2]``: each hand's upright crop (from those keypoints'
        box, ``LandmarkConfig.crop_scale``) through the landmark network, mapped back; a hand
        whose crop the network sees no hand in (presence < ``min_presence``) keeps ``kp_rhd``.
        Returns ``(keypoints [N, 21, 2], world)``: ``world`` None without the world head, else per
        hand its world landmarks ``[21, 3]`` (RHD, metres, the frame's axes) or None where unseen."""
        cfg = self.config.landmark
        crops, maps = [], []
        for frame, kp in zip(hand_frames, kp_rhd):
            angle = cropping.upright_angle(kp[RHD_WRIST], kp[RHD_MIDDLE_MCP]) if cfg.upright else 0.0
            centre, side, to_frame = cropping.rotated_keypoint_box(kp, angle, cfg.crop_scale)
            crop, m = cropping.crop_rotated(frame, centre, side, to_frame, LANDMARK_INPUT_SIZE)
            crops.append(crop)
            maps.append(m)
        rgb = torch.from_numpy(np.stack(crops)).to(self._device)
        x = normalise(rgb.permute(0, 3, 1, 2)).contiguous(memory_format=self._memory_format)
        with self._amp():
            res = self._net("landmark")(x)
        lm = res["landmarks"][..., :2].float().cpu().numpy().astype(np.float64)
        seen = torch.sigmoid(res["presence"].float()).cpu().numpy() >= cfg.min_presence
        m = np.stack(maps)
        out = user_to_rhd(cropping.rotated_crop_to_frame(lm, m)).astype(np.float32)
        world = None
        if "world" in res:  # the crop's axes -> the frame's
            w = cropping.world_to_frame(res["world"].float().cpu().numpy().astype(np.float64), m)
            world = [user_to_rhd(w[i]) if seen[i] else None for i in range(len(w))]
        return np.where(seen[:, None, None], out, kp_rhd), world

    def _make_hand(self, frame_hw, side, kp_rhd, conf_rhd, xyz_rhd, region_conf, track_id, box) -> Hand:
        kp = rhd_to_user(kp_rhd).astype(np.float32)
        conf = rhd_to_user(conf_rhd, axis=0).astype(np.float32)
        h, w = frame_hw
        x0, y0 = np.clip(kp.min(0), 0, [w - 1, h - 1])
        x1, y1 = np.clip(kp.max(0), 0, [w - 1, h - 1])
        score = hand_score(region_conf, conf)
        corners = cropping.box_corners(box)[0]
        return Hand(side=side, score=score, bbox=(float(x0), float(y0), float(x1), float(y1)),
                    keypoints_2d=kp, keypoint_scores=conf,
                    keypoints_3d=rhd_to_user(xyz_rhd).astype(np.float32), track_id=track_id,
                    crop_box=tuple(float(v) for v in corners))

    def _keypoint_box(self, kp_frame_rhd: np.ndarray) -> np.ndarray:
        """A tracked hand's next crop box from its keypoints ``[21, 2]``: the box training makes."""
        return cropping.keypoint_box(kp_frame_rhd)[0]

    # ------------------------------------------------------------------ modes
    def _process_images(self, frames, sides) -> list[list[Hand]]:
        segmented = self._segment(frames)
        self.last_masks = [mask for _, mask in segmented]
        boxes, hand_sides, meta = [], [], []
        for i, (regions, _) in enumerate(segmented):
            b = self.config.detection.region_box(np.array([r.bbox for r in regions]).reshape(-1, 4))
            boxes.append(b)
            for r, box in zip(regions, b):
                hand_sides.append(sides[i])
                meta.append((i, r.side, r.confidence, box))
        det = self.config.detection
        results: list[list[Hand]] = [[] for _ in frames]
        poses = self._posenet(frames, boxes, hand_sides, [m[1] for m in meta])
        if poses is None:
            return results
        picked: list[list[tuple]] = [[] for _ in frames]  # (score, candidate) per frame
        for k, m in enumerate(meta):
            score = hand_score(m[2], poses.confidence[k])
            if score >= det.min_score and spread_enough(poses.keypoints[k], m[3], det.min_spread):
                picked[m[0]].append((score, k))
        for cands in picked:  # the best max_hands of the examined candidates, each hand once
            cands.sort(key=lambda c: -c[0])
            unique = set(drop_duplicates([k for _, k in cands], poses.keypoints, det.duplicate_overlap))
            cands[:] = [c for c in cands if c[1] in unique][:det.max_hands]
        kept = [k for cands in picked for _, k in cands]
        outputs = self._finish([frames[meta[k][0]] for k in kept], poses, kept)
        for k, (kp, conf, xyz, side, _) in zip(kept, outputs):
            i, _, rconf, box = meta[k]
            results[i].append(self._make_hand(frames[i].shape[:2], side, kp, conf, xyz, rconf, next(self._ids),
                                              box[None]))
        return results

    def _process_video_frame(self, frame: np.ndarray, side_hint: str | None):
        det = self.config.detection
        if self._frame_hw != frame.shape[:2]:
            self.reset()
            self._frame_hw = frame.shape[:2]
        hands: list[Hand] = []
        kept: list[Track] = []
        if self._tracks:
            tracks = self._tracks
            poses = self._posenet([frame], [np.stack([t.box for t in tracks])], [side_hint] * len(tracks),
                                  [t.side for t in tracks], [t.p_right for t in tracks])
            held = []
            for k, t in enumerate(tracks):
                if poses.confidence[k].mean() < det.track_min_confidence:
                    self._lost.append(t)
                else:
                    held.append(k)
            outputs = self._finish([frame] * len(held), poses, held)
            for k, (kp, conf, xyz, side, p_right) in zip(held, outputs):
                t = tracks[k]
                hand = self._make_hand(frame.shape[:2], side, kp, conf, xyz,
                                       t.region_confidence, t.track_id, t.box[None])
                t.box, t.bbox = self._keypoint_box(kp), np.asarray(hand.bbox, np.float32)
                t.side, t.p_right = side, p_right
                kept.append(t)
                hands.append(hand)
        self._since_detect += 1
        lost_one = len(kept) < len(self._tracks)
        searching = len(kept) < det.max_hands and self._since_detect >= det.redetect_interval
        mask = None
        if not kept or lost_one or searching:
            self._since_detect = 0
            # tracked hands' pixels are left out of the search, so a new hand touching one of them
            # is found on its own instead of merged with it into one region
            held = [tracked_hand_box(t.bbox) for t in kept]
            (regions, mask), = self._segment([frame], exclude=[np.stack(held) if held else None])
            fresh = [r for r in regions if find_track(r.bbox, kept) < 0]
            fresh = fresh[: det.candidates - len(kept)]
            boxes = self.config.detection.region_box(np.array([r.bbox for r in fresh]).reshape(-1, 4))
            poses = self._posenet([frame], [boxes], [side_hint] * len(fresh), [r.side for r in fresh])
            found = []  # (score, candidate) of the candidates that pass, best first
            for k, r in enumerate(fresh):
                conf = poses.confidence[k]
                score = hand_score(r.confidence, conf)
                if (score >= det.min_score and conf.mean() >= det.track_min_confidence
                        and spread_enough(poses.keypoints[k], boxes[k], det.min_spread)):
                    found.append((score, k))
            found.sort(key=lambda f: -f[0])
            found = drop_duplicates([k for _, k in found], None if poses is None else poses.keypoints,
                                    det.duplicate_overlap)[: det.max_hands - len(kept)]
            outputs = self._finish([frame] * len(found), poses, found)
            for k, (kp, conf, xyz, side, p_right) in zip(found, outputs):
                r, box = fresh[k], boxes[k]
                # a lost track's last window may have shrunk with the keypoints that lost it: the
                # window is taken at least as wide as the new hand's own crop box
                j = find_track(r.bbox, self._lost, reach=LOST_TRACK_REACH, min_side=float(box[2]))
                track_id = self._lost.pop(j).track_id if j >= 0 else next(self._ids)
                hand = self._make_hand(frame.shape[:2], side, kp, conf, xyz, r.confidence, track_id, box[None])
                kept.append(Track(track_id, side, self._keypoint_box(kp), np.asarray(hand.bbox, np.float32),
                                  r.confidence, p_right))
                hands.append(hand)
            self._lost = self._lost[-4:]  # remember a few lost tracks to give their ids back
        self._tracks = kept
        hands = [h for h in hands if h.score >= det.min_score]
        hands.sort(key=lambda h: -h.score)
        return hands, mask
