"""ONNX Runtime for the networks on the CPU.

The model folder holds PyTorch weights (safetensors); on a CPU the estimator exports each of its
networks (HandSegNet, PoseNet, the keypoint refiner, PosePrior and ViewPoint) to ONNX in memory
when it loads, and runs them with ONNX Runtime. Same fp32 arithmetic as PyTorch's (network outputs
agree to ~1e-4), the three convolutional networks about 2.5x faster than with PyTorch's bf16 on a
2-core CPU, a whole frame about 1.7x (BENCHMARKS.md, "Session 23"). Nothing is written to disk and
nothing is downloaded.

An ``OnnxNet`` stands in for one network called with fixed keyword arguments: it takes and
returns what the PyTorch module does (tensors, in the same nesting of tuples, lists and dicts).
The exported graph has a fixed batch of one (the networks' adaptive pooling fixes its shapes at
export); a batch runs as one call per item.
"""
from __future__ import annotations

import io
import logging
import warnings

import numpy as np
import torch

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether ONNX Runtime and the ONNX exporter's dependency can be imported."""
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
        import onnxruntime  # noqa: F401
    except Exception:  # ImportError, or a broken install
        return False
    return True


_POOL: dict = {}  # the process's ONNX Runtime thread pool, made once: {"threads": n} or {"threads": None}


def _global_pool(threads: int) -> bool:
    """Whether every session can share one intra-op thread pool of ``threads`` (made on first use).
    Sessions with their own pools starve one another: each pool's threads busy-wait after a run
    while the next network's pool runs (2-core CPU: the three networks 7.4 ms a frame with their
    own pools and spinning off, 5.3 ms sharing one pool)."""
    import onnxruntime as ort

    if not _POOL:
        try:
            ort.set_global_thread_pool_sizes(threads, 1)
            _POOL["threads"] = threads
        except Exception as e:  # the runtime's environment already made elsewhere in the process
            log.info("ONNX Runtime: no shared thread pool (%s); one per network", e)
            _POOL["threads"] = None
    return _POOL["threads"] is not None


def _flatten(out, leaves: list) -> object:
    """The tensors of ``out`` (nested tuples, lists and dicts of tensors) appended to ``leaves``;
    returns the nesting's spec for ``_unflatten``."""
    if isinstance(out, torch.Tensor):
        leaves.append(out)
        return None
    if isinstance(out, dict):
        return ("dict", [(k, _flatten(out[k], leaves)) for k in sorted(out)])
    if isinstance(out, (tuple, list)):
        return (type(out).__name__, [_flatten(v, leaves) for v in out])
    raise TypeError(f"cannot export a network returning {type(out).__name__}")


def _unflatten(spec, leaves: list, pos: list):
    if spec is None:
        pos[0] += 1
        return leaves[pos[0] - 1]
    kind, items = spec
    if kind == "dict":
        return {k: _unflatten(s, leaves, pos) for k, s in items}
    values = [_unflatten(s, leaves, pos) for s in items]
    return tuple(values) if kind == "tuple" else values


class _Flat(torch.nn.Module):
    """``net(*inputs[:n_args], **{keys: the rest}, **constants)`` with its outputs as one flat tuple
    of tensors (what ONNX exports)."""

    def __init__(self, net: torch.nn.Module, n_args: int, keys: tuple, constants: dict):
        super().__init__()
        self.net = net
        self.n_args, self.keys, self.constants = n_args, keys, constants

    def call(self, *inputs):
        """The network's own answer (nested as it returns it) to the flat inputs."""
        return self.net(*inputs[:self.n_args], **dict(zip(self.keys, inputs[self.n_args:])), **self.constants)

    def forward(self, *inputs):
        leaves: list = []
        _flatten(self.call(*inputs), leaves)
        return tuple(leaves)


def _split(args: tuple, kwargs: dict) -> tuple[list, tuple, dict]:
    """(tensor inputs in order: positional then keyword by name, the keywords' names, the
    non-tensor keyword arguments)."""
    keys = tuple(sorted(k for k, v in kwargs.items() if isinstance(v, torch.Tensor)))
    constants = {k: v for k, v in kwargs.items() if not isinstance(v, torch.Tensor)}
    return list(args) + [kwargs[k] for k in keys], keys, constants


class OnnxNet:
    """``net`` exported to ONNX and run by ONNX Runtime (``threads`` intra-op threads), called as
    the module is: ``net(*tensors, **kwargs)``, each tensor ``[N, ...]`` of the shape of the
    example's items, the keyword arguments that are not tensors (``side=True``) fixed at export.
    Inputs of other shapes go to ``net`` itself. Raises whatever the export or the session raises
    (the caller falls back to PyTorch)."""

    def __init__(self, net: torch.nn.Module, *example, threads: int | None = None, **kwargs):
        import onnxruntime as ort

        self.net = net
        inputs, self._keys, self._constants = _split(example, kwargs)
        self._n_args = len(example)
        # copies: an inference-mode tensor cannot be traced
        inputs = [t[:1].detach().float().cpu().clone(memory_format=torch.contiguous_format) for t in inputs]
        flat = _Flat(net, self._n_args, self._keys, self._constants).eval()
        with torch.no_grad():
            leaves: list = []
            self._spec = _flatten(flat.call(*inputs), leaves)
        self._empty = [torch.zeros((0, *t.shape[1:]), dtype=torch.float32) for t in leaves]
        names = [f"x{i}" for i in range(len(inputs))]
        buf = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(flat, tuple(inputs), buf, dynamo=False, input_names=names, opset_version=17)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3  # errors only
        threads = int(threads or torch.get_num_threads())
        if _global_pool(threads):
            opts.use_per_session_threads = False
        else:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            # no busy-waiting between runs: one network's spinning threads starve the next one's
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(buf.getvalue(), opts, providers=["CPUExecutionProvider"])
        # the exporter drops inputs the graph does not use: feed only those it kept
        kept = {i.name for i in self._session.get_inputs()}
        self._feed = [(j, n) for j, n in enumerate(names) if n in kept]
        self.input_shapes = [tuple(t.shape[1:]) for t in inputs]

    def __call__(self, *args, **kwargs):
        inputs, keys, constants = _split(args, kwargs)
        if len(args) != self._n_args or keys != self._keys or constants != self._constants:
            raise ValueError(f"exported for {self._n_args} inputs, {self._keys} and {self._constants}; "
                             f"called with {len(args)}, {keys} and {constants}")
        shapes = [tuple(t.shape[1:]) for t in inputs]
        if shapes != self.input_shapes:  # not what was exported (a caller's other sizes): PyTorch runs it
            return self.net(*args, **kwargs)
        arrays = [t.detach().float().contiguous().cpu().numpy() for t in inputs]
        n = len(arrays[0]) if arrays else 0
        runs = [self._session.run(None, {name: arrays[j][i:i + 1] for j, name in self._feed}) for i in range(n)]
        if not runs:
            return _unflatten(self._spec, list(self._empty), [0])
        leaves = [torch.from_numpy(np.concatenate([r[j] for r in runs])) for j in range(len(runs[0]))]
        return _unflatten(self._spec, leaves, [0])
