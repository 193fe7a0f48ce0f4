"""ONNX graphs, read from the hashed bytes and run with onnxruntime (no Python code in the file runs).

Before onnxruntime sees the file, every tensor in the graph (initializers, constant attributes,
subgraphs) is checked: no external data (a path the file names would be read from disk, possibly
outside the model's folder; embed the weights instead), non-negative dims, and a declared size that
the file can hold. Operators must come from the standard domains (``""``/``ai.onnx``, ``ai.onnx.ml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from audit.errors import InputError, UnsafeModelError
from audit.loading._base import require_extra

__all__ = ["load_onnx", "MAX_TENSOR_ELEMENTS"]

MAX_TENSOR_ELEMENTS = 1 << 31
_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")


def _refuse(path: Path, what: str) -> UnsafeModelError:
    return UnsafeModelError(f"model {path}: {what}; refused before loading. Export the model again with its "
                            "weights embedded (onnx.save(model, path, save_as_external_data=False)).")


def _tensors(graph: Any) -> Any:
    """Every TensorProto in a graph and its subgraphs, with where it sits."""
    stack = [graph]
    while stack:
        g = stack.pop()
        for t in g.initializer:
            yield t, f"initializer {t.name!r}"
        for s in g.sparse_initializer:
            yield s.values, f"sparse initializer {s.values.name!r}"
        for node in g.node:
            for a in node.attribute:
                if a.HasField("t"):
                    yield a.t, f"attribute {a.name!r} of node {node.name or node.op_type!r}"
                for t in a.tensors:
                    yield t, f"attribute {a.name!r} of node {node.name or node.op_type!r}"
                if a.HasField("g"):
                    stack.append(a.g)
                stack.extend(a.graphs)


def check_onnx(model: Any, path: Path, size: int) -> None:
    """Refuse external data, impossible tensor sizes and non-standard operator domains."""
    from onnx import TensorProto, helper

    for opset in model.opset_import:
        if opset.domain not in _DOMAINS:
            raise _refuse(path, f"it needs operators from the custom domain {opset.domain!r}")
    for tensor, where in _tensors(model.graph):
        if tensor.data_location == TensorProto.EXTERNAL or tensor.external_data:
            location = next((e.value for e in tensor.external_data if e.key == "location"), "?")
            inside = (path.parent / location).resolve().is_relative_to(path.parent.resolve())
            raise _refuse(path, f"{where} keeps its data in an external file {location!r}"
                                f"{'' if inside else ' outside the model folder'}; external data is not read")
        dims = list(tensor.dims)
        if any(d < 0 for d in dims):
            raise _refuse(path, f"{where} declares negative dimensions {dims}")
        n = int(np.prod(dims, dtype=object)) if dims else 1
        if n > MAX_TENSOR_ELEMENTS:
            raise _refuse(path, f"{where} declares {n:,} elements (at most {MAX_TENSOR_ELEMENTS:,})")
        if tensor.data_type in (TensorProto.STRING, TensorProto.UNDEFINED):
            continue
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
        if n * itemsize > size * 8 + 1024 and not tensor.raw_data:  # typed fields pack at least 1 byte/8 elements
            raise _refuse(path, f"{where} declares {n * itemsize:,} bytes, more than a {size:,}-byte file can hold")
        if tensor.raw_data and len(tensor.raw_data) != n * itemsize:
            raise _refuse(path, f"{where} declares {n * itemsize:,} bytes but holds {len(tensor.raw_data):,}")


def load_onnx(data: bytes, path: Path) -> tuple[Any, dict[str, Any]]:
    """An onnxruntime session over the checked bytes, and what the graph says about its task."""
    onnx = require_extra("onnx", path)
    require_extra("onnxruntime", path)
    import onnxruntime as ort

    try:
        model = onnx.ModelProto.FromString(data)
    except Exception as exc:  # noqa: BLE001 - a protobuf parse error
        raise InputError(f"model {path}: not a readable ONNX file ({str(exc)[:200]}).") from None
    if not model.graph.node:
        raise InputError(f"model {path}: the ONNX graph has no nodes.")
    check_onnx(model, path, len(data))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    classes: list[Any] = []
    for node in model.graph.node:
        for a in node.attribute:
            if a.name in ("classlabels_int64s", "classlabels_ints") and not classes:
                classes = [int(v) for v in a.ints]
            elif a.name == "classlabels_strings" and not classes:
                classes = [v.decode() for v in a.strings]
    producer = f"{model.producer_name} {model.producer_version}".strip()
    return session, {"library": "onnx", "producer": producer, "classes": classes, "opset": [
        f"{o.domain or 'ai.onnx'}:{o.version}" for o in model.opset_import],
        "how": f"onnxruntime.InferenceSession from the checked bytes (producer: {producer or 'unknown'})"}
