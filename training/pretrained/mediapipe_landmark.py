"""MediaPipe Hands' landmark network (``hand_landmark_full.tflite``, Apache-2.0, Google) -> torch.

* ``fetch_tflite`` / ``fetch_selfie_segmentation``: the .tflite files, read out of the
  ``mediapipe==0.10.21`` wheel (``pip download``; the wheel is a zip) into a git-ignored cache.
  Installing mediapipe itself would pin numpy < 2, so we never do.
* ``read_tflite``: our reader of the TFLite flatbuffer (the ``tflite`` package is only the
  generated flatbuffer accessors): operators, tensors, constants; float16 weights that reach the
  graph through DEQUANTIZE are folded into float32 constants.
* ``MediaPipeLandmarkNet``: runs the whole graph op by op with torch ops (activations kept NCHW;
  TF "SAME" padding computed per input size). Input ``[B, 3, H, W]`` RGB in [0, 1] (224 px for
  the real thing); outputs 21 landmarks in crop px, hand presence, handedness, world landmarks.
* ``encoder_state_dict``: the stem and the blocks up to stride 16 as a state dict of
  ``MobileEncoder(LAYOUTS["mediapipe"])``, with MediaPipe's input ``z = rgb / 255`` folded into the
  stem so the encoder takes ours, ``x = rgb / 255 - 0.5 = z - 0.5`` (stem bias += 0.5 * sum of its
  weights; the stem pads with -0.5, MediaPipe's zero, so the padding is exact as well).

Training-time only (pyproject.toml's extra ``train``). Weights derived from this network are a derived
work of Google's Apache-2.0 model: see NOTICE and LICENSES/Apache-2.0.txt.

    python -m training.pretrained.mediapipe_landmark   # fetch, convert, print exactness numbers
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = REPO_ROOT / "data_cache" / "pretrained"  # git-ignored

MEDIAPIPE_VERSION = "0.10.21"
HAND_LANDMARK_FULL = "mediapipe/modules/hand_landmark/hand_landmark_full.tflite"
SELFIE_SEGMENTATION = "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite"
# sha256 of the files inside the 0.10.21 wheel (identical in every platform's wheel)
SHA256 = {
    HAND_LANDMARK_FULL: "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    SELFIE_SEGMENTATION: "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
}
INPUT_SIZE = 224
OUTPUT_NAMES = ("landmarks", "presence", "handedness", "world")  # the graph's outputs, in order
# the name each output's fully connected layer carries in the graph (checked when loading)
_OUTPUT_LAYERS = ("conv_landmarks", "conv_handflag", "conv_handedness", "conv_world_landmarks")

# pip's words for "the index could not be reached" (then a test may skip; any other failure is an error)
_OFFLINE_MARKERS = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name "
                    "resolution", "Name or service not known", "Network is unreachable", "No route to host",
                    "ConnectTimeout", "Connection refused", "Max retries exceeded", "Read timed out",
                    "ProxyError", "nodename nor servname")


class FetchError(RuntimeError):
    """The wheel could not be downloaded; ``offline`` is True when pip could not reach the index."""

    def __init__(self, message: str, offline: bool):
        super().__init__(message)
        self.offline = offline


# ---------------------------------------------------------------------------------------------
# Fetching the .tflite files


def fetch_wheel(cache_dir: str | os.PathLike = DEFAULT_CACHE) -> Path:
    """The ``mediapipe==0.10.21`` manylinux x86_64 cp311 wheel (35.6 MB), downloaded once into
    ``cache_dir/wheels`` with the running interpreter's pip (no dependencies, nothing installed)."""
    wheel_dir = Path(cache_dir) / "wheels"
    pattern = f"mediapipe-{MEDIAPIPE_VERSION}-cp311-cp311-manylinux*_x86_64.whl"
    found = sorted(wheel_dir.glob(pattern))
    if found:
        return found[0]
    tmp_dir = wheel_dir / f".download-{os.getpid()}"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
           "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--retries", "2",
           "--disable-pip-version-check", f"mediapipe=={MEDIAPIPE_VERSION}", "-d", str(tmp_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for wheel in tmp_dir.glob(pattern):  # complete files only ever appear under wheel_dir
        wheel.replace(wheel_dir / wheel.name)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    found = sorted(wheel_dir.glob(pattern))
    if proc.returncode != 0 or not found:
        log = proc.stdout + proc.stderr
        marker = next((m for m in _OFFLINE_MARKERS if m in log), None)
        why = f"the package index is unreachable ({marker})" if marker else f"rc {proc.returncode}"
        tail = "\n".join(line for line in log.splitlines() if "is ignored" not in line)[-2000:]
        raise FetchError(f"pip download mediapipe=={MEDIAPIPE_VERSION} failed: {why}\n{tail}", marker is not None)
    return found[0]


def _fetch_member(member: str, cache_dir: str | os.PathLike) -> Path:
    out = Path(cache_dir) / f"mediapipe-{MEDIAPIPE_VERSION}" / Path(member).name
    if out.exists() and hashlib.sha256(out.read_bytes()).hexdigest() == SHA256[member]:
        return out
    with zipfile.ZipFile(fetch_wheel(cache_dir)) as wheel:
        data = wheel.read(member)
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[member]:
        raise RuntimeError(f"{member} in the mediapipe {MEDIAPIPE_VERSION} wheel has sha256 {digest}, "
                           f"expected {SHA256[member]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)  # atomic: concurrent callers never see half a file
    return out


def fetch_tflite(cache_dir: str | os.PathLike = DEFAULT_CACHE) -> Path:
    """``hand_landmark_full.tflite`` (5.5 MB) out of the mediapipe 0.10.21 wheel, cached in
    ``cache_dir/mediapipe-0.10.21/``; checked against its sha256."""
    return _fetch_member(HAND_LANDMARK_FULL, cache_dir)


def fetch_selfie_segmentation(cache_dir: str | os.PathLike = DEFAULT_CACHE) -> Path:
    """``selfie_segmentation.tflite`` (250 KB) out of the same wheel, cached beside it."""
    return _fetch_member(SELFIE_SEGMENTATION, cache_dir)


# ---------------------------------------------------------------------------------------------
# Reading the graph


def _tflite():
    try:
        import tflite
    except ImportError:
        raise RuntimeError("reading .tflite files needs the training requirements: "
                           '.venv/bin/pip install -e ".[train]"') from None
    return tflite


_NUMPY_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "INT64": np.int64,
                "UINT8": np.uint8, "INT8": np.int8, "INT16": np.int16, "BOOL": np.bool_}
_ACTIVATIONS = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}


@dataclass
class TfliteOp:
    kind: str  # builtin operator name, e.g. "CONV_2D"
    inputs: tuple[int, ...]  # tensor indices (-1 = absent optional input)
    outputs: tuple[int, ...]
    options: dict = field(default_factory=dict)


@dataclass
class TfliteGraph:
    """Subgraph 0 of a .tflite model. ``constants``: tensor index -> float32/int array (float16
    weights already dequantized; DEQUANTIZE ops of constants are dropped from ``ops``)."""

    ops: list[TfliteOp]
    names: list[str]
    shapes: list[tuple[int, ...]]
    constants: dict[int, np.ndarray]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


def _enum_names(enum_cls) -> dict[int, str]:
    return {getattr(enum_cls, k): k for k in dir(enum_cls) if not k.startswith("_")}


def _options(tfl, op, kind: str) -> dict:
    table = op.BuiltinOptions()
    if table is None:
        return {}

    def load(cls_name):
        o = getattr(tfl, cls_name)()
        o.Init(table.Bytes, table.Pos)
        return o

    if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        o = load("Conv2DOptions" if kind == "CONV_2D" else "DepthwiseConv2DOptions")
        opts = {"padding": "SAME" if o.Padding() == tfl.Padding.SAME else "VALID",
                "stride": (o.StrideH(), o.StrideW()), "dilation": (o.DilationHFactor(), o.DilationWFactor()),
                "activation": o.FusedActivationFunction()}
        if kind == "DEPTHWISE_CONV_2D":
            opts["depth_multiplier"] = o.DepthMultiplier()
        return opts
    if kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        o = load("Pool2DOptions")
        return {"padding": "SAME" if o.Padding() == tfl.Padding.SAME else "VALID",
                "stride": (o.StrideH(), o.StrideW()), "filter": (o.FilterHeight(), o.FilterWidth()),
                "activation": o.FusedActivationFunction()}
    if kind in ("ADD", "MUL", "SUB"):
        o = load({"ADD": "AddOptions", "MUL": "MulOptions", "SUB": "SubOptions"}[kind])
        return {"activation": o.FusedActivationFunction()}
    if kind == "FULLY_CONNECTED":
        o = load("FullyConnectedOptions")
        return {"activation": o.FusedActivationFunction(), "keep_num_dims": bool(o.KeepNumDims()),
                "weights_format": o.WeightsFormat()}
    if kind == "MEAN":
        return {"keep_dims": bool(load("ReducerOptions").KeepDims())}
    if kind == "CONCATENATION":
        o = load("ConcatenationOptions")
        return {"axis": o.Axis(), "activation": o.FusedActivationFunction()}
    return {}


def read_tflite(path: str | os.PathLike) -> TfliteGraph:
    """Parse subgraph 0 of a float .tflite model (float32, or float16 weights behind DEQUANTIZE)."""
    tfl = _tflite()
    buf = Path(path).read_bytes()
    model = tfl.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() != 1:
        raise NotImplementedError(f"{path}: {model.SubgraphsLength()} subgraphs, expected 1")
    g = model.Subgraphs(0)
    op_names, type_names = _enum_names(tfl.BuiltinOperator), _enum_names(tfl.TensorType)

    names, shapes, constants = [], [], {}
    for t in range(g.TensorsLength()):
        tensor = g.Tensors(t)
        names.append(tensor.Name().decode())
        shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
        shapes.append(shape)
        buffer = model.Buffers(tensor.Buffer())
        if buffer.Offset() > 1:  # large models keep data after the flatbuffer
            raw = buf[buffer.Offset():buffer.Offset() + buffer.Size()]
        elif buffer.DataLength():
            raw = buffer.DataAsNumpy().tobytes()
        else:
            continue
        ttype = type_names[tensor.Type()]
        q = tensor.Quantization()
        if q is not None and q.ScaleLength():
            raise NotImplementedError(f"{path}: quantized constant {names[-1]!r} ({ttype}); only float models")
        constants[t] = np.frombuffer(raw, dtype=_NUMPY_TYPES[ttype]).reshape(shape).copy()

    ops = []
    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = op_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "CUSTOM")
        inputs = tuple(int(v) for v in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(v) for v in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        if kind == "DEQUANTIZE" and inputs[0] in constants:
            src = constants[inputs[0]]
            if src.dtype != np.float16:
                raise NotImplementedError(f"{path}: DEQUANTIZE of a {src.dtype} constant")
            constants[outputs[0]] = src.astype(np.float32)
            continue
        ops.append(TfliteOp(kind, inputs, outputs, _options(tfl, op, kind)))
    return TfliteGraph(ops, names, shapes, constants, tuple(int(v) for v in g.InputsAsNumpy()),
                       tuple(int(v) for v in g.OutputsAsNumpy()))


# ---------------------------------------------------------------------------------------------
# Running the graph with torch ops

_NCHW_FROM_NHWC_AXIS = (0, 2, 3, 1)  # NHWC axis a is NCHW axis _NCHW_FROM_NHWC_AXIS[a]


def _to_nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if x.dim() == 4 else x


def _from_nhwc(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


def _tf_pad(size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
            padding: str) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of TF's SAME padding (more after than before), or none (VALID)."""
    if padding == "VALID":
        return (0, 0, 0, 0)
    pads = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        k_eff = (k - 1) * d + 1
        total = max((-(-n // s) - 1) * s + k_eff - n, 0)
        pads.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = pads
    return (left, right, top, bottom)


def _activation(x: torch.Tensor, code: int) -> torch.Tensor:
    name = _ACTIVATIONS.get(code, f"#{code}")
    if name is None:
        return x
    if name == "RELU":
        return F.relu(x)
    if name == "RELU6":
        return F.relu6(x)
    if name == "RELU_N1_TO_1":
        return x.clamp(-1.0, 1.0)
    if name == "TANH":
        return torch.tanh(x)
    raise NotImplementedError(f"fused activation {name}")


class TfliteTorch(nn.Module):
    """Runs a ``TfliteGraph`` op by op with torch ops. 4D activations are kept NCHW (input too:
    ``[B, C, H, W]``); every other rank keeps TFLite's layout. Constants are buffers (frozen)."""

    def __init__(self, graph: TfliteGraph):
        super().__init__()
        self.graph = graph
        self._const = {}  # tensor index -> buffer name
        for i, op in enumerate(graph.ops):
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w = torch.from_numpy(graph.constants[op.inputs[1]])
                if op.kind == "CONV_2D":  # [O, H, W, I] -> [O, I, H, W]
                    w = w.permute(0, 3, 1, 2)
                else:  # [1, H, W, C * m] -> [C * m, 1, H, W]
                    w = w.permute(3, 0, 1, 2)
                self.register_buffer(f"op{i}_weight", w.contiguous().float())
                if len(op.inputs) > 2 and op.inputs[2] >= 0:
                    self.register_buffer(f"op{i}_bias", torch.from_numpy(graph.constants[op.inputs[2]]).float())
            elif op.kind == "FULLY_CONNECTED":
                if op.options.get("weights_format", 0) != 0:
                    raise NotImplementedError("FULLY_CONNECTED with shuffled weights")
                self.register_buffer(f"op{i}_weight", torch.from_numpy(graph.constants[op.inputs[1]]).float())
                if len(op.inputs) > 2 and op.inputs[2] >= 0:
                    self.register_buffer(f"op{i}_bias", torch.from_numpy(graph.constants[op.inputs[2]]).float())
            else:  # other float constants (ADD operands, ...) as buffers, in our layout
                for t in op.inputs:
                    arr = graph.constants.get(t)
                    if arr is not None and arr.dtype.kind == "f" and t not in self._const:
                        self._const[t] = f"const{t}"
                        self.register_buffer(f"const{t}", _from_nhwc(torch.from_numpy(arr).float()).contiguous())

    def _value(self, t: int, values: dict) -> torch.Tensor:
        if t in values:
            return values[t]
        if t in self._const:
            return getattr(self, self._const[t])
        raise KeyError(f"tensor {t} ({self.graph.names[t]}) has no value")

    def _binary(self, op: TfliteOp, values: dict, fn) -> torch.Tensor:
        a, b = (self._value(t, values) for t in op.inputs)
        # a lower-rank operand broadcasts against NHWC's trailing axes: make it NCHW-shaped
        if a.dim() == 4 and 0 < b.dim() < 4:
            b = _from_nhwc(b.reshape((1,) * (4 - b.dim()) + tuple(b.shape)))
        elif b.dim() == 4 and 0 < a.dim() < 4:
            a = _from_nhwc(a.reshape((1,) * (4 - a.dim()) + tuple(a.shape)))
        return _activation(fn(a, b), op.options.get("activation", 0))

    def run(self, x: torch.Tensor, keep: tuple[int, ...] = ()) -> dict[int, torch.Tensor]:
        """Values of the graph's outputs and of the tensors in ``keep`` (indices), for input ``x``."""
        g = self.graph
        values = {g.inputs[0]: x}
        needed = set(g.outputs) | set(keep)
        last_use = {}
        for i, op in enumerate(g.ops):
            for t in op.inputs:
                last_use[t] = i
        for i, op in enumerate(g.ops):
            y = self._apply(i, op, values)
            values[op.outputs[0]] = y
            for t in op.inputs:  # free activations nobody needs any more
                if last_use.get(t) == i and t not in needed:
                    values.pop(t, None)
        return {t: values[t] for t in needed}

    def _apply(self, i: int, op: TfliteOp, values: dict) -> torch.Tensor:
        g, kind, o = self.graph, op.kind, op.options
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x = self._value(op.inputs[0], values)
            w = getattr(self, f"op{i}_weight")
            b = getattr(self, f"op{i}_bias", None)
            groups = 1
            if kind == "DEPTHWISE_CONV_2D":
                if w.shape[0] != x.shape[1] * max(o.get("depth_multiplier", 1), 1):
                    raise NotImplementedError(f"op {i}: depthwise channel mismatch")
                groups = x.shape[1]
            pad = _tf_pad(x.shape[2:], w.shape[2:], o["stride"], o["dilation"], o["padding"])
            y = F.conv2d(F.pad(x, pad), w.to(x.dtype), None if b is None else b.to(x.dtype), o["stride"],
                         dilation=o["dilation"], groups=groups)
            return _activation(y, o["activation"])
        if kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            x = self._value(op.inputs[0], values)
            pad = _tf_pad(x.shape[2:], o["filter"], o["stride"], (1, 1), o["padding"])
            if kind == "MAX_POOL_2D":
                y = F.max_pool2d(F.pad(x, pad, value=float("-inf")), o["filter"], o["stride"])
            else:  # TF averages over the valid (unpadded) taps only
                ones = torch.ones_like(x[:1, :1])
                y = (F.avg_pool2d(F.pad(x, pad), o["filter"], o["stride"])
                     / F.avg_pool2d(F.pad(ones, pad), o["filter"], o["stride"]))
            return _activation(y, o["activation"])
        if kind == "ADD":
            return self._binary(op, values, torch.add)
        if kind == "MUL":
            return self._binary(op, values, torch.mul)
        if kind == "SUB":
            return self._binary(op, values, torch.sub)
        if kind == "PAD":
            x = self._value(op.inputs[0], values)
            p = g.constants[op.inputs[1]]  # [[before, after]] per NHWC axis
            if x.dim() == 4:
                p = p[[0, 3, 1, 2]]  # NHWC rows -> NCHW rows
            return F.pad(x, tuple(int(v) for pair in p[::-1] for v in pair))
        if kind == "MEAN":
            x = self._value(op.inputs[0], values)
            axes = sorted(int(a) % len(g.shapes[op.inputs[0]]) for a in np.atleast_1d(g.constants[op.inputs[1]]))
            if x.dim() == 4 and (o["keep_dims"] or axes == [1, 2]):
                return x.mean(dim=[_NCHW_FROM_NHWC_AXIS[a] for a in axes], keepdim=o["keep_dims"])
            return _from_nhwc(_to_nhwc(x).mean(dim=axes, keepdim=o["keep_dims"]))
        if kind == "FULLY_CONNECTED":
            x = _to_nhwc(self._value(op.inputs[0], values))
            w = getattr(self, f"op{i}_weight")
            b = getattr(self, f"op{i}_bias", None)
            lead = x.shape[:-1] if o["keep_num_dims"] else (-1,)
            y = F.linear(x.reshape(-1, w.shape[1]), w.to(x.dtype), None if b is None else b.to(x.dtype))
            return _from_nhwc(_activation(y.reshape(*lead, w.shape[0]), o["activation"]))
        if kind == "RESHAPE":
            x = _to_nhwc(self._value(op.inputs[0], values))
            shape = list(g.shapes[op.outputs[0]])
            shape[0] = -1  # batch
            return _from_nhwc(x.reshape(shape))
        if kind == "CONCATENATION":
            xs = [self._value(t, values) for t in op.inputs]
            axis = o["axis"] % xs[0].dim()
            if xs[0].dim() == 4:
                axis = _NCHW_FROM_NHWC_AXIS[axis]
            return _activation(torch.cat(xs, dim=axis), o["activation"])
        if kind == "LOGISTIC":
            return torch.sigmoid(self._value(op.inputs[0], values))
        if kind == "RELU":
            return F.relu(self._value(op.inputs[0], values))
        if kind == "RELU6":
            return F.relu6(self._value(op.inputs[0], values))
        if kind == "TANH":
            return torch.tanh(self._value(op.inputs[0], values))
        if kind == "HARD_SWISH":
            x = self._value(op.inputs[0], values)
            return x * F.relu6(x + 3.0) / 6.0
        raise NotImplementedError(f"op {i}: {kind} is not supported")


# ---------------------------------------------------------------------------------------------
# The landmark network and its encoder


@dataclass(frozen=True)
class EncoderOps:
    """Where ``MobileEncoder(LAYOUTS["mediapipe"])``'s convolutions sit in the graph (op indices)."""

    stem: int
    blocks: tuple[dict, ...]  # per block: {"expand": op or None, "depthwise": op, "project": op}
    stride16: int  # tensor index of the last stride-16 block's output


def encoder_ops(graph: TfliteGraph, max_stride: int = 16):
    """Read the mobile encoder out of the graph: the stem (3x3 stride-2 conv, ReLU6) and the chain
    of inverted residual blocks up to the last one at stride ``max_stride`` (16, or 32 for the
    deeper encoder). Returns ``(EncoderLayout, EncoderOps)``;
    raises ValueError where the graph does not have that shape."""
    from handpose_live.models.mobile import Block, EncoderLayout

    ops = graph.ops
    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(ops):
        for t in op.inputs:
            consumers.setdefault(t, []).append(i)

    def conv(i, kind, kernel=None, stride=1, act=3):
        op = ops[i]
        if op.kind != kind:
            raise ValueError(f"op {i}: expected {kind}, got {op.kind}")
        k = graph.shapes[op.inputs[1]][1:3]
        o = op.options
        if (kernel is not None and k != (kernel, kernel)) or o["stride"] != (stride, stride) or \
                o["dilation"] != (1, 1) or o["activation"] != act or o["padding"] != "SAME":
            raise ValueError(f"op {i} ({kind}): kernel {k}, options {o} do not fit the encoder")
        return op

    stem = conv(0, "CONV_2D", kernel=3, stride=2)
    if ops[0].inputs[0] != graph.inputs[0] or graph.shapes[ops[0].inputs[1]][3] != 3:
        raise ValueError("the graph does not start with a conv on the RGB input")
    x, ch, stride = stem.outputs[0], graph.shapes[stem.inputs[1]][0], 2
    blocks, where, stride16 = [], [], None
    while True:
        nxt = [i for i in consumers.get(x, []) if ops[i].kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
        if len(nxt) != 1:
            break
        i = nxt[0]
        try:
            expand = None
            if ops[i].kind == "CONV_2D":
                expand = i
                conv(i, "CONV_2D", kernel=1)
                i = consumers[ops[i].outputs[0]][0]
            dw_op = ops[i]
            if dw_op.kind != "DEPTHWISE_CONV_2D" or dw_op.options.get("depth_multiplier", 1) != 1:
                raise ValueError(f"op {i}: no depthwise conv")
            s = dw_op.options["stride"][0]
            kernel = graph.shapes[dw_op.inputs[1]][1]
            conv(i, "DEPTHWISE_CONV_2D", kernel=kernel, stride=s)
            depthwise, i = i, consumers[dw_op.outputs[0]][0]
            conv(i, "CONV_2D", kernel=1, act=0)
            project = i
        except (ValueError, KeyError, IndexError):
            break  # the head (no projection) or anything else that is not a block
        out_t = ops[project].outputs[0]
        out_ch = graph.shapes[ops[project].inputs[1]][0]
        adds = [j for j in consumers.get(out_t, []) if ops[j].kind == "ADD" and set(ops[j].inputs) == {out_t, x}]
        residual = s == 1 and out_ch == ch
        if residual != bool(adds):
            raise ValueError(f"block at op {project}: residual {bool(adds)} in the graph, {residual} expected")
        if adds and ops[adds[0]].options.get("activation", 0) != 0:
            raise ValueError(f"op {adds[0]}: a fused activation after a residual add")
        block_out = ops[adds[0]].outputs[0] if adds else out_t
        expand_ch = graph.shapes[ops[expand].inputs[1]][0] if expand is not None else 0
        if stride * s > max_stride:
            break
        stride *= s
        blocks.append(Block(expand=expand_ch, kernel=kernel, stride=s, out=out_ch))
        where.append({"expand": expand, "depthwise": depthwise, "project": project})
        x, ch = block_out, out_ch
        if stride == 16:
            stride16 = x  # the last block at stride 16
    if stride16 is None:
        raise ValueError("the graph's blocks never reach stride 16")
    layout = EncoderLayout(stem=graph.shapes[stem.inputs[1]][0], blocks=tuple(blocks), stem_pad=-0.5)
    return layout, EncoderOps(stem=0, blocks=tuple(where), stride16=stride16)


def load_graph(tflite_path: str | os.PathLike | None = None) -> TfliteGraph:
    return read_tflite(tflite_path if tflite_path is not None else fetch_tflite())


class MediaPipeLandmarkNet(nn.Module):
    """The whole landmark network in torch. ``forward(z)``: ``z`` ``[B, 3, 224, 224]`` RGB in
    [0, 1] (NCHW), hand upright as MediaPipe crops it -> dict with ``landmarks`` ``[B, 21, 3]``
    (x, y in crop px, z relative, MediaPipe joint order), ``presence`` ``[B]`` and ``handedness``
    ``[B]`` (probabilities), ``world`` ``[B, 21, 3]`` (metres). ``stride16(z)``: the activation
    ``MobileEncoder(LAYOUTS["mediapipe"])`` reproduces (``[B, 112, H/16, W/16]``)."""

    def __init__(self, tflite_path: str | os.PathLike | None = None, graph: TfliteGraph | None = None):
        super().__init__()
        graph = graph if graph is not None else load_graph(tflite_path)
        if len(graph.outputs) != len(OUTPUT_NAMES):
            raise ValueError(f"expected {len(OUTPUT_NAMES)} outputs, the graph has {len(graph.outputs)}")
        producer = {op.outputs[0]: op for op in graph.ops}
        for t, layer in zip(graph.outputs, _OUTPUT_LAYERS):
            op = producer[t]
            if op.kind == "LOGISTIC":
                op = producer[op.inputs[0]]
            if op.kind != "FULLY_CONNECTED" or f"/{layer}/" not in graph.names[op.inputs[1]]:
                raise ValueError(f"output {graph.names[t]!r} does not come from {layer}")
        self.net = TfliteTorch(graph)
        self.layout, self.encoder_ops = encoder_ops(graph)

    @property
    def graph(self) -> TfliteGraph:
        return self.net.graph

    def forward(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.net.run(z)
        vals = [out[t] for t in self.graph.outputs]
        b = z.shape[0]
        return {"landmarks": vals[0].reshape(b, 21, 3), "presence": vals[1].reshape(b),
                "handedness": vals[2].reshape(b), "world": vals[3].reshape(b, 21, 3)}

    def stride16(self, z: torch.Tensor) -> torch.Tensor:
        t = self.encoder_ops.stride16
        return self.net.run(z, keep=(t,))[t]


def encoder_state_dict(tflite_path: str | os.PathLike | None = None, name: str = "mediapipe") -> dict[str, torch.Tensor]:
    """State dict (no ``encoder.`` prefix) of ``MobileEncoder(LAYOUTS[name])`` (``mediapipe``: to
    stride 16, ``mediapipe32``: to stride 32) from ``hand_landmark_full.tflite`` (fetched into the
    default cache when no path is given). The encoder takes our ``rgb / 255 - 0.5``; checks that the
    graph's encoder is that layout."""
    from handpose_live.models.mobile import LAYOUTS, MobileEncoder, layout_stride

    graph = load_graph(tflite_path)
    layout, where = encoder_ops(graph, max_stride=layout_stride(LAYOUTS[name]))
    if layout != LAYOUTS[name]:
        raise ValueError(f"the graph's encoder {layout} differs from LAYOUTS[{name!r}] {LAYOUTS[name]}")
    net = TfliteTorch(graph)

    def wb(i):
        return getattr(net, f"op{i}_weight").clone(), getattr(net, f"op{i}_bias").clone()

    out = {}
    w, b = wb(where.stem)
    out["stem.weight"] = w
    out["stem.bias"] = b + 0.5 * w.sum(dim=(1, 2, 3))  # z = x + 0.5
    for j, ops in enumerate(where.blocks):
        for part in ("expand", "depthwise", "project"):
            if ops[part] is not None:
                out[f"blocks.{j}.{part}.weight"], out[f"blocks.{j}.{part}.bias"] = wb(ops[part])
    MobileEncoder(layout).load_state_dict(out, strict=True)  # every key, every shape
    return out


def landmark_state_dict(tflite_path: str | os.PathLike | None = None, world: bool = True) -> dict[str, torch.Tensor]:
    """State dict of ``handpose_live.models.landmark.LandmarkNet``: the whole network (encoder to
    stride 32, the 1152-channel head, the landmark, presence and handedness layers, and with
    ``world`` the world-landmark layer, for ``LandmarkConfig(world="3d" or "lifting")``). Checks that the head
    is the shape the module has."""
    from handpose_live.models.landmark import LandmarkConfig, LandmarkNet

    graph = load_graph(tflite_path)
    out = {f"encoder.{k}": v for k, v in encoder_state_dict(tflite_path, "mediapipe32").items()}
    layout, where = encoder_ops(graph, max_stride=32)
    net = TfliteTorch(graph)
    last = max(i for b in where.blocks for i in b.values() if i is not None)
    convs = [i for i, op in enumerate(graph.ops) if i > last and op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D")]
    if [graph.ops[i].kind for i in convs] != ["CONV_2D", "DEPTHWISE_CONV_2D"]:
        raise ValueError(f"the head after the encoder is {[graph.ops[i].kind for i in convs]}, expected a 1x1 conv "
                         "and a depthwise conv")
    for i, name in zip(convs, ("head", "head_depthwise")):
        o = graph.ops[i].options
        if o["activation"] != 3 or o["stride"] != (1, 1) or o["padding"] != "SAME":
            raise ValueError(f"op {i} ({name}): options {o} do not fit the module")
        out[f"{name}.weight"] = getattr(net, f"op{i}_weight").clone()
        out[f"{name}.bias"] = getattr(net, f"op{i}_bias").clone()
    producer = {op.outputs[0]: i for i, op in enumerate(graph.ops)}
    for t, layer, name in zip(graph.outputs, _OUTPUT_LAYERS, ("landmarks", "presence", "handedness",
                                                              "world" if world else None)):
        i = producer[t]
        if graph.ops[i].kind == "LOGISTIC":
            i = producer[graph.ops[i].inputs[0]]
        if name is None:
            continue
        if graph.ops[i].options.get("activation", 0) != 0:
            raise ValueError(f"op {i} ({layer}): a fused activation the module does not have")
        out[f"{name}.weight"] = getattr(net, f"op{i}_weight").clone()
        out[f"{name}.bias"] = getattr(net, f"op{i}_bias").clone()
    LandmarkNet(LandmarkConfig(world="3d" if world else "off")).load_state_dict(out, strict=True)  # every key, every shape
    return out


# ---------------------------------------------------------------------------------------------


def _main() -> None:
    import time

    from handpose_live.models.mobile import LAYOUTS, MobileEncoder

    torch.set_num_threads(2)
    path = fetch_tflite()
    print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
    net = MediaPipeLandmarkNet(path).eval()
    layout = net.layout
    print(f"stem {layout.stem} ch; {len(layout.blocks)} blocks to stride 16:")
    for b in layout.blocks:
        print(f"  {b}")
    enc = MobileEncoder(LAYOUTS["mediapipe"]).eval()
    enc.load_state_dict(encoder_state_dict(path))
    gen = torch.Generator().manual_seed(0)
    for size in (128, 224, 256):
        z = torch.rand(2, 3, size, size, generator=gen)
        with torch.no_grad():
            ref = net.stride16(z)
            ours = enc(z - 0.5)[-1]
        print(f"encoder vs network at {size} px: max abs diff {(ours - ref).abs().max().item():.2e} "
              f"(activations up to {ref.abs().max().item():.1f})")
    with torch.no_grad():
        z = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE, generator=gen)
        net(z)
        t0 = time.perf_counter()
        for _ in range(10):
            net(z)
    print(f"whole network, 224 px, fp32: {(time.perf_counter() - t0) * 100:.1f} ms")


if __name__ == "__main__":
    _main()
