"""Builders of hostile and malformed model files (built at test time; no binaries are committed).

Each builder takes the folder to write into and the canary path a payload would create, and returns
the model file's path.
"""

from __future__ import annotations

import copy
import copyreg
import io
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import skops.io as sio

from tests.security.models import families

_F = families()


class Raw:
    """Pickles as exactly the reduce tuple it is given (how an attacker writes a pickle)."""

    def __init__(self, *reduce: object) -> None:
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


def _pkl(obj: object, folder: Path, name: str = "m.pkl") -> Path:
    path = folder / name
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def _with_tree_state(name: str, mutate: Callable[[dict], None]) -> object:
    """A copy of a fitted decision tree whose Tree holds mutated (unchecked) node arrays."""
    from sklearn.tree._tree import Tree

    est = copy.deepcopy(_F[name])
    t = est.tree_
    state = t.__getstate__()
    state = {**state, "nodes": state["nodes"].copy(), "values": state["values"].copy()}
    mutate(state)
    bad = Tree(t.n_features, np.asarray(t.n_classes, dtype=np.intp), t.n_outputs)
    bad.__setstate__(state)
    est.tree_ = bad
    return est


def sink_os_system(folder: Path, canary: Path) -> Path:
    return _pkl(Raw(os.system, (f"touch {canary}",)), folder)


def sink_eval(folder: Path, canary: Path) -> Path:
    return _pkl(Raw(eval, (f"open({str(canary)!r}, 'w')",)), folder)


def sink_getattr_gadget(folder: Path, canary: Path) -> Path:
    return _pkl(Raw(getattr, (Raw(__import__, ("os",)), "system")), folder)


def sink_nested_in_allowed(folder: Path, canary: Path) -> Path:
    est = copy.deepcopy(_F["tree"])
    est.__dict__["extra_"] = Raw(os.system, (f"touch {canary}",))
    return _pkl(est, folder)


def sink_in_joblib_object_array(folder: Path, canary: Path) -> Path:
    import joblib

    path = folder / "m.joblib"
    arr = np.array([Raw(os.system, (f"touch {canary}",)), 1], dtype=object)
    joblib.dump({"a": arr}, path)
    return path


def tree_child_out_of_range(folder: Path, canary: Path) -> Path:
    return _pkl(_with_tree_state("tree", lambda s: s["nodes"]["left_child"].__setitem__(0, 10**9)), folder)


def tree_feature_out_of_range(folder: Path, canary: Path) -> Path:
    return _pkl(_with_tree_state("tree", lambda s: s["nodes"]["feature"].__setitem__(0, 10**7)), folder)


def tree_root_own_child(folder: Path, canary: Path) -> Path:
    def loop(s: dict) -> None:
        s["nodes"]["left_child"][0] = 0
        s["nodes"]["right_child"][0] = 0

    return _pkl(_with_tree_state("tree", loop), folder)


def tree_in_skops(folder: Path, canary: Path) -> Path:
    est = _with_tree_state("tree", lambda s: s["nodes"]["right_child"].__setitem__(0, 10**9))
    path = folder / "m.skops"
    sio.dump(est, path)
    return path


def hgb_child_out_of_range(folder: Path, canary: Path) -> Path:
    est = copy.deepcopy(_F["hgb"])
    nodes = est._predictors[0][0].nodes
    nodes["left"][0] = 10**6
    return _pkl(est, folder)


def kdtree_index_out_of_range(folder: Path, canary: Path) -> Path:
    est = copy.deepcopy(_F["knn_kd"])
    state = list(est._tree.__getstate__())
    idx = np.array(state[1], copy=True)
    idx[0] = 10**9
    state[1] = idx
    est._tree.__setstate__(tuple(state))
    return _pkl(est, folder)


def dtype_field_offset(folder: Path, canary: Path) -> Path:
    from numpy._core.multiarray import _reconstruct

    hostile = Raw(np.dtype, ("V8", False, True), (3, "|", None, ("a",), {"a": (np.dtype("f8"), 10**12)}, 8, 1, 16))
    arr = Raw(_reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), hostile, False, b"\0" * 8))
    est = copy.deepcopy(_F["tree"])
    est.__dict__["classes_"] = arr
    return _pkl(est, folder)


def nested_tuple_key(folder: Path, canary: Path) -> Path:
    body = b"\x80\x04}" + b")" + b"\x85" * 1_000_000 + b"K\x01s."
    path = folder / "m.pkl"
    path.write_bytes(body)
    return path


def memo_doubling(folder: Path, canary: Path) -> Path:
    ops = bytearray(b"\x80\x04})")
    for i in range(40):
        ops += b"\x94h" + bytes([i]) + b"\x86"  # MEMOIZE, BINGET i, TUPLE2: t = (t, t)
    ops += b"K\x01s."
    path = folder / "m.pkl"
    path.write_bytes(bytes(ops))
    return path


def bytearray_bomb(folder: Path, canary: Path) -> Path:
    n = (5_000_000_000).to_bytes(5, "little")
    path = folder / "m.pkl"
    path.write_bytes(b"\x80\x02cbuiltins\nbytearray\n\x8a\x05" + n + b"\x85R.")
    return path


def _noise(n: int) -> bytes:
    """``n`` random-looking bytes, the same on every run (the corpus must not change between runs)."""
    return np.random.default_rng(n).bytes(n)


def bytearray8_declared(folder: Path, canary: Path) -> Path:
    path = folder / "m.pkl"
    path.write_bytes(b"\x80\x05\x96" + struct.pack("<Q", 5_000_000_000) + b"xyz.")
    return path


def joblib_declared_5gb(folder: Path, canary: Path) -> Path:
    from joblib.numpy_pickle import NumpyArrayWrapper

    wrapper = NumpyArrayWrapper(np.ndarray, (625_000_000,), "C", np.dtype("f8"))
    stream = pickle.dumps(wrapper, protocol=4) + _noise(5_000_000)
    path = folder / "m.joblib"
    path.write_bytes(zlib.compress(stream, 1))
    return path


def joblib_lz4(folder: Path, canary: Path) -> Path:
    path = folder / "m.joblib"
    path.write_bytes(b"\x04\x22\x4d\x18" + _noise(200))
    return path


def joblib_zf_magic(folder: Path, canary: Path) -> Path:
    path = folder / "m.joblib"
    path.write_bytes(b"ZF0x10" + zlib.compress(pickle.dumps([1, 2, 3])))
    return path


def skops_member_4gb(folder: Path, canary: Path) -> Path:
    path = folder / "m.skops"
    sio.dump(_F["tree"], path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith(".npy"))
    # patch the central directory's uncompressed size of one member to ~4 GB
    sig = b"PK\x01\x02"
    name = info.filename.encode()
    pos = 0
    while True:
        pos = raw.index(sig, pos)
        (name_len,) = struct.unpack("<H", raw[pos + 28:pos + 30])
        if raw[pos + 46:pos + 46 + name_len] == name:
            raw[pos + 24:pos + 28] = struct.pack("<I", 4_000_000_000)
            break
        pos += 4
    path.write_bytes(bytes(raw))
    return path


def skops_type_not_allowed(folder: Path, canary: Path) -> Path:
    from sklearn.cluster import KMeans

    path = folder / "m.skops"
    sio.dump(KMeans(n_clusters=2, n_init=1, random_state=0).fit(np.random.default_rng(0).normal(size=(20, 4))),
             path)
    return path


def empty_estimator(folder: Path, canary: Path) -> Path:
    from sklearn.linear_model import LogisticRegression

    return _pkl(Raw(copyreg._reconstructor, (LogisticRegression, object, None)), folder)


def predict_override(folder: Path, canary: Path) -> Path:
    est = copy.deepcopy(_F["pipeline"])
    est.__dict__["predict"] = np.exp
    est.__dict__["predict_proba"] = np.exp
    return _pkl(est, folder)


CASES: dict[str, Callable[[Path, Path], Path]] = {
    f.__name__: f for f in (
        sink_os_system, sink_eval, sink_getattr_gadget, sink_nested_in_allowed, sink_in_joblib_object_array,
        tree_child_out_of_range, tree_feature_out_of_range, tree_root_own_child, tree_in_skops,
        hgb_child_out_of_range, kdtree_index_out_of_range, dtype_field_offset, nested_tuple_key,
        memo_doubling, bytearray_bomb, bytearray8_declared, joblib_declared_5gb, joblib_lz4, joblib_zf_magic,
        skops_member_4gb, skops_type_not_allowed, empty_estimator, predict_override,
    )
}
