"""Loading ``.skops`` files under the same exact allow-list as pickles.

skops trusts every scikit-learn estimator, many numpy/scipy functions and builtins by default and
reports only the rest as untrusted, so checking ``get_untrusted_types`` alone would let through what
the pickle path refuses. Here the zip is checked first (member count, declared sizes against the byte
budget, every ``.npy`` header against its member's size), then every node of ``schema.json`` is
walked and each type it names must be on the allow-list (or a plain builtin container/literal), with
only data-building node kinds admitted (no methods or operator functions). A ``functools.partial``
node is admitted only as the pickle path admits one: around a reference-only function of the
allow-list (scikit-learn's ``check_array``) with plain-data arguments (JSON values, builtin
containers, numpy scalar types). Only then is ``skops.io.loads`` called, trusting exactly the types
seen; the loaded object is then validated like any other (``audit.loading._validate``).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from audit.errors import InputError, UnsafeModelError, name_some
from audit.loading._allowlist import allowed_pairs, reference_functions
from audit.loading._limits import Limits
from audit.loading._unpickler import Refusal, check_dtype

__all__ = ["load_skops"]

_WAY_OUT = "Save the model with scikit-learn estimators, numpy arrays and allow-listed functions only."
_LOADERS = frozenset({
    "DictNode", "ListNode", "SetNode", "TupleNode", "BytesNode", "BytearrayNode", "SliceNode", "FunctionNode",
    "TypeNode", "ObjectNode", "JsonNode", "NdArrayNode", "DTypeNode", "RandomStateNode", "RandomGeneratorNode",
    "LossNode", "TreeNode", "ReduceNode", "ConstructorFromReduceNode",
})
_PLAIN = frozenset(("builtins", n) for n in (
    "dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool", "bytes", "bytearray", "slice",
    "complex", "NoneType",
))
_PARTIAL = ("functools", "partial")
_PLAIN_LOADERS = frozenset({"JsonNode", "TupleNode", "ListNode", "DictNode"})
_MAX_MEMBERS = 200_000
_MAX_NODES = 5_000_000


def load_skops(data: bytes, path: Path, limits: Limits) -> Any:
    """Check, then load, a skops file; every type in it must be allow-listed."""
    try:
        import skops.io as sio
    except ImportError:  # pragma: no cover
        raise InputError("loading .skops files needs the 'skops' package: pip install skops") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            schema = _checked_schema(zf, limits)
    except Refusal as exc:
        raise UnsafeModelError(f"model {path}: refused: {exc}. {_WAY_OUT}") from None
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError,
            KeyError, EOFError, OSError) as exc:
        raise InputError(f"model {path}: not a readable skops file ({type(exc).__name__}).") from None
    types_seen, bad = _schema_types(schema)
    if bad:
        raise UnsafeModelError(
            f"model {path}: refused to load; the skops file uses type(s) outside the allow-list: "
            f"{name_some(sorted(bad), 10)}. {_WAY_OUT}"
        )
    return sio.loads(data, trusted=sorted(types_seen))


def _checked_schema(zf: zipfile.ZipFile, limits: Limits) -> Any:
    infos = zf.infolist()
    if len(infos) > _MAX_MEMBERS:
        raise Refusal(f"the zip has {len(infos):,} members")
    total = sum(i.file_size for i in infos)
    if total > limits.max_bytes:
        raise Refusal(f"the zip's members declare {total:,} bytes, over the {limits.max_bytes:,}-byte budget "
                      "(max_model_bytes)")
    names = {i.filename for i in infos}
    if "schema.json" not in names:
        raise ValueError("no schema.json")
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            raise Refusal(f"member {info.filename!r:.60} uses an unknown compression")
        if info.filename.endswith(".npy"):
            _check_npy_header(zf, info)
    return json.loads(zf.read("schema.json"))


def _check_npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """The array a ``.npy`` member declares must fit in the member (numpy sizes it from the header)."""
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in reader:
            raise Refusal(f"member {info.filename!r:.60}: unsupported .npy version {version}")
        shape, _fortran, dtype = reader[version](fh, max_header_size=10_000)
        check_dtype(dtype, f"member {info.filename!r:.60}")
        header = fh.tell()
    count = math.prod(shape)
    if count * max(dtype.itemsize, 1) > info.file_size - header and not dtype.hasobject:
        raise Refusal(f"member {info.filename!r:.60} declares a {shape} array larger than its "
                      f"{info.file_size:,} bytes")


def _schema_types(schema: Any) -> tuple[set[str], set[str]]:
    """Every ``module.class`` named by a node, and those that are not allowed (iterative walk)."""
    pairs = allowed_pairs() | _PLAIN
    seen: set[str] = set()
    bad: set[str] = set()
    todo = [schema]
    nodes = 0
    while todo:
        node = todo.pop()
        nodes += 1
        if nodes > _MAX_NODES:
            raise Refusal("schema.json has too many nodes")
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        if "__loader__" in node:
            loader, module, cls = node.get("__loader__"), node.get("__module__"), node.get("__class__")
            name = f"{module}.{cls}"
            if not isinstance(module, str) or not isinstance(cls, str):
                bad.add(f"{module!r:.40}.{cls!r:.40}")
            elif loader == "PartialNode" and (module, cls) == _PARTIAL:
                why = _partial_node_problem(node, pairs)
                if why:
                    bad.add(f"{name} ({why})")
                else:
                    seen.add(name)
            elif loader not in _LOADERS:
                bad.add(f"{name} (as {loader!s:.40})")
            elif (module, cls) not in pairs:
                bad.add(name)
            else:
                seen.add(name)
        todo.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return seen, bad


def _partial_node_problem(node: dict, pairs: frozenset[tuple[str, str]]) -> str | None:
    """Why a ``PartialNode`` is not a reference-only function with plain-data arguments (None if it is)."""
    content = node.get("content")
    if not isinstance(content, dict) or set(content) != {"func", "args", "kwds", "namespace"}:
        return "malformed"
    func = content["func"]
    if not isinstance(func, dict) or func.get("__loader__") != "FunctionNode" or \
            (func.get("__module__"), func.get("__class__")) not in reference_functions():
        return "wraps a function other than scikit-learn's validation functions"
    namespace = content["namespace"]
    if not (isinstance(namespace, dict) and namespace.get("__loader__") == "JsonNode"
            and namespace.get("content") in ("null", "{}")):
        return "carries attributes"
    todo = [content["args"], content["kwds"]]
    count = 0
    while todo:
        item = todo.pop()
        count += 1
        if count > 10_000:
            return "arguments too large"
        if isinstance(item, list):
            todo.extend(item)
            continue
        if not isinstance(item, dict):
            return "malformed"
        loader, pair = item.get("__loader__"), (item.get("__module__"), item.get("__class__"))
        if loader in _PLAIN_LOADERS and pair in _PLAIN:
            inner = item.get("content")
            if loader == "DictNode":  # content maps keys to nodes; key_types lists their types
                todo.append(list(inner.values()) if isinstance(inner, dict) else None)
                todo.append(item.get("key_types"))
            elif loader != "JsonNode":
                todo.append(inner)
        elif loader == "TypeNode" and (pair in _PLAIN or (pair[0] == "numpy" and pair in pairs)):
            continue
        else:
            return "arguments are not plain data"
    return None
