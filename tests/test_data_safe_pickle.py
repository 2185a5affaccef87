"""The RHD annotation unpickler runs no code: only numpy arrays, dicts and lists get through."""
import os
import pickle

import numpy as np
import pytest

from training.data.safe_pickle import RestrictedUnpickler, safe_load, safe_loads


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_refuses_a_pickle_that_calls_os_system():
    data = pickle.dumps({0: _Exploit()})
    with pytest.raises(pickle.UnpicklingError, match="system"):
        safe_loads(data)


@pytest.mark.parametrize("protocol", [2, 4])
def test_refuses_other_callables_such_as_eval_or_codecs(protocol):
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        safe_loads(pickle.dumps({"x": eval}, protocol=protocol))


def test_loads_dicts_of_numpy_arrays(tmp_path):
    anno = {0: {"uv_vis": np.arange(126, dtype=np.float32).reshape(42, 3), "xyz": np.zeros((42, 3)),
                "K": np.eye(3, dtype=np.float32)}, 1: {"list": [1, 2.5, "a"]}}
    path = tmp_path / "anno.pickle"
    path.write_bytes(pickle.dumps(anno, protocol=4))
    out = safe_load(path)
    np.testing.assert_array_equal(out[0]["uv_vis"], anno[0]["uv_vis"])
    assert out[0]["uv_vis"].dtype == np.float32 and out[1]["list"] == [1, 2.5, "a"]


def test_numpy_1_module_path_maps_to_numpy_2():
    import io

    found = RestrictedUnpickler(io.BytesIO(b"")).find_class("numpy.core.multiarray", "_reconstruct")
    assert callable(found)
