"""Load RHD's annotation pickle without running arbitrary code.

A pickle can name any importable callable; this unpickler admits only what numpy arrays need
(plain dicts, lists, numbers and strings need no imports at all).
"""
from __future__ import annotations

import importlib
import io
import os
import pickle

# (module, name) pairs a pickle may import; numpy 2 moved numpy.core to numpy._core.
ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` admits ``ALLOWED_GLOBALS`` and nothing else."""

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: this pickle may only hold dicts, lists and numpy arrays"
            )
        if module == "numpy.core.multiarray":
            try:
                return getattr(importlib.import_module("numpy._core.multiarray"), name)
            except ImportError:  # numpy < 2
                pass
        return getattr(importlib.import_module(module), name)


def safe_load(path: str | os.PathLike):
    """Unpickle ``path`` (Python 2 pickles included) with ``RestrictedUnpickler``."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, encoding="latin1").load()


def safe_loads(data: bytes):
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()
