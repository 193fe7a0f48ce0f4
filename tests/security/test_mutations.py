"""Mutated valid model pickles: the loader answers with a model or an AuditError, nothing else."""

from __future__ import annotations

import pickle
import pickletools
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.errors import AuditError
from audit.loading import load_model
from tests.security.models import families

_F = families()
SEEDS = [pickle.dumps(_F[n], protocol=p) for n, p in (("tree", 4), ("pipeline", 2), ("knn_kd", 5), ("svc", 4))]
GLOBALS = [(m, n) for m, n in (("builtins", "bytearray"), ("numpy", "ndarray"), ("numpy", "dtype"),
                               ("sklearn.tree._tree", "Tree"), ("copyreg", "_reconstructor"),
                               ("numpy._core.multiarray", "_reconstruct"), ("builtins", "set"),
                               ("numpy.random._pickle", "__randomstate_ctor"), ("builtins", "frozenset"))]
OPCODES = sorted({op.code.encode("latin-1") for op in pickletools.opcodes})


def _mutate(data: bytes, kind: int, pos: int, value: int, extra: bytes) -> bytes:
    pos %= len(data)
    if kind == 0:  # flip one byte (opcode or argument)
        return data[:pos] + bytes([value]) + data[pos + 1:]
    if kind == 1:  # replace with a random opcode
        return data[:pos] + OPCODES[value % len(OPCODES)] + data[pos + 1:]
    if kind == 2:  # swap a global for another allow-listed one
        m, n = GLOBALS[value % len(GLOBALS)]
        for needle in (b"\x8c\x0bLogisticReg", b"\x8c\x04Tree", b"\x8c\x06KDTree"):
            i = data.find(needle)
            if i >= 0:
                return data[:i] + b"\x8c" + bytes([len(n)]) + n.encode() + data[i + len(needle):]
        return data + m.encode()
    if kind == 3:  # corrupt a 4- or 8-byte length
        width = 4 if value % 2 else 8
        return data[:pos] + (value * 7919).to_bytes(8, "little")[:width] + data[pos + width:]
    if kind == 4:  # insert bytes
        return data[:pos] + extra + data[pos:]
    return data[:pos] + data[pos + 1 + value % 64:]  # delete a run


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(range(len(SEEDS))), kind=st.integers(0, 5), pos=st.integers(0, 1 << 20),
       value=st.integers(0, 255), extra=st.binary(max_size=12))
def test_mutated_pickles_never_crash(tmp_path_factory, seed, kind, pos, value, extra):
    path: Path = tmp_path_factory.getbasetemp() / "mut.pkl"
    path.write_bytes(_mutate(SEEDS[seed], kind, pos, value, extra))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_model(path)
        except AuditError:
            pass
