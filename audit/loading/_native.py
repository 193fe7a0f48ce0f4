"""Gradient-boosted tree models in their libraries' own, non-executable formats.

- XGBoost JSON (``.json``) and UBJSON (``.ubj``), loaded with ``Booster.load_model``;
- LightGBM text (``.txt``/``.lgb``), loaded with ``Booster(model_str=...)``;
- CatBoost (``.cbm``), loaded with ``CatBoost.load_model(blob=...)``.

Nothing here unpickles. The format is told by content (JSON keys, UBJSON markers, LightGBM's
``tree`` header, CatBoost's ``CBM1`` magic), not only by suffix. Before a library parses a file, its
structure is checked here, bounded: tree and node counts, array lengths against declared sizes, child
indices (always forward, so no cycles), split features against the declared width. A file that fails
is refused with exit 2 before the library allocates from its declared sizes.

A model may come with a preprocessing spec ``<model stem>.spec.json`` in the torch spec format (see
``audit.adapters._native``): feature order, categories (one-hot or the library's own categorical
codes), scaling, task and class labels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from audit.errors import AuditError, InputError, ModelError, UnsafeModelError
from audit.loading._base import LoadedModel, LoadRequest, require_extra, sha256_bytes

__all__ = ["NATIVE_SUFFIXES", "sniff_format", "sniff_native", "load_native", "load_native_request", "catboost_info",
           "MAX_TREES", "MAX_NODES"]

NATIVE_SUFFIXES = (".json", ".ubj", ".txt", ".lgb", ".cbm", ".onnx")
MAX_TREES = 100_000
MAX_NODES = 20_000_000  # over all trees
MAX_TREE_NODES = 1 << 22
MAX_FEATURES = 1_000_000
MAX_CLASSES = 10_000
MAX_NATIVE_BYTES = 2 << 30


def _refuse(path: Path, what: str) -> UnsafeModelError:
    return UnsafeModelError(f"model {path}: {what}; refused before loading. Re-save the model with its library "
                            "(save_model) or check the file is not damaged.")


def sniff_format(data: bytes) -> str | None:
    """The native format of ``data`` by content, or None.

    >>> sniff_format(b'{"learner": {}, "version": [3, 0, 0]}'), sniff_format(b"tree\\nversion=v4\\n")
    ('xgboost-json', 'lightgbm')
    """
    head = data[:4096]
    if head.startswith(b"CBM1"):
        return "catboost"
    if head.startswith(b"tree\n") or head.startswith(b"tree\r\n"):
        return "lightgbm"
    if head[:1] == b"{" and head[1:2] in (b"i", b"U", b"I", b"l", b"L", b"#", b"$") and b"learner" in head[:64]:
        return "xgboost-ubj"
    if head.lstrip()[:1] == b"{" and b'"learner"' in head:
        return "xgboost-json"
    if head[:1] == b"\x08" and (b"ai.onnx" in head or b"onnx" in head[:128].lower()):
        return "onnx"
    return None


def sniff_native(data: bytes, suffix: str) -> str | None:
    """The registry's content sniff: a native format by content, whatever the suffix, or ONNX by suffix."""
    return sniff_format(data) or ("onnx" if suffix == ".onnx" else None)


def load_native_request(req: LoadRequest) -> LoadedModel:
    """The registry's entry: a file with a native suffix must hold a native model by content."""
    if req.fmt is None:
        raise InputError(f"model {req.path}: the content is not an XGBoost JSON/UBJSON, LightGBM text, CatBoost "
                         f"(.cbm) or ONNX model, which {req.suffix!r} files must be. Give the file saved by the "
                         "library's save_model, or the right suffix.")
    return load_native(req.data, req.path, req.digest, req.fmt, max_bytes=req.max_model_bytes)


def read_native_spec(path: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The optional preprocessing spec beside the model, and its provenance for results.json."""
    spec_path = path.with_name(path.name.split(".")[0] + ".spec.json")
    if not spec_path.is_file():
        return None, {}
    raw = spec_path.read_bytes()
    if len(raw) > 16 << 20:
        raise InputError(f"spec {spec_path}: {len(raw):,} bytes; a preprocessing spec is at most 16 MiB.")
    try:
        spec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"spec {spec_path}: not valid JSON ({str(exc)[:200]}). Fix the spec file.") from None
    if not isinstance(spec, dict):
        raise InputError(f"spec {spec_path}: expected a JSON object with 'features', got {type(spec).__name__}.")
    return spec, {"spec_path": str(spec_path), "spec_sha256": sha256_bytes(raw)}


def load_native(data: bytes, path: Path, digest: str, fmt: str, *, max_bytes: int | None = None) -> LoadedModel:
    """Check and load a native model file whose format ``sniff_format`` found."""
    limit = max_bytes or MAX_NATIVE_BYTES
    if len(data) > limit:
        raise _refuse(path, f"{len(data):,} bytes, over the {limit:,}-byte limit (max_model_bytes)")
    spec, spec_extra = read_native_spec(path)
    try:
        if fmt in ("xgboost-json", "xgboost-ubj"):
            obj, info = _load_xgboost(data, path, fmt)
        elif fmt == "lightgbm":
            obj, info = _load_lightgbm(data, path)
        elif fmt == "catboost":
            obj, info = _load_catboost(data, path)
        elif fmt == "onnx":
            from audit.loading._onnx import load_onnx

            obj, info = load_onnx(data, path)
        else:  # pragma: no cover - sniff_format returns only the above
            raise InputError(f"model {path}: unknown native format {fmt!r}.")
    except AuditError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise _refuse(path, f"{type(exc).__name__} while checking its structure") from None
    except Exception as exc:  # noqa: BLE001 - the library rejected the file: bad input, not a bug
        text = " ".join(str(exc).split())[:300]
        raise ModelError(f"model {path}: the {fmt} file could not be loaded ({type(exc).__name__}: {text}). "
                         "Re-save it with the library's save_model.") from None
    extra = {"spec": spec, **spec_extra, "native": info}
    return LoadedModel(obj=obj, path=str(path), sha256=digest, format=fmt, trusted=False,
                       how=info.pop("how"), extra=extra)


# -- XGBoost ---------------------------------------------------------------------------------------
def _load_xgboost(data: bytes, path: Path, fmt: str) -> tuple[Any, dict[str, Any]]:
    if fmt == "xgboost-json":
        try:
            doc = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"model {path}: not valid XGBoost JSON ({str(exc)[:200]}).") from None
    else:
        from audit.loading._ubjson import UbjError, read_ubjson

        try:
            doc = read_ubjson(data)
        except UbjError as exc:
            raise _refuse(path, f"not well-formed UBJSON ({exc})") from None
    info = check_xgboost_document(doc, path)
    xgb = require_extra("xgboost", path)
    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    info["how"] = f"xgboost.Booster.load_model ({'JSON' if fmt == 'xgboost-json' else 'UBJSON'}), structure checked"
    return booster, info


def _get(obj: Any, *keys: str, path: Path) -> Any:
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            raise InputError(f"model {path}: not an XGBoost model (no {'.'.join(keys)}).")
        obj = obj[k]
    return obj


def _int(value: Any, what: str, path: Path, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip("[]"))
    except ValueError:
        raise _refuse(path, f"{what} is {str(value)[:40]!r}, not an integer") from None
    if not lo <= n <= hi:
        raise _refuse(path, f"{what} is {n:,}, outside [{lo:,}, {hi:,}]")
    return n


def check_xgboost_document(doc: Any, path: Path) -> dict[str, Any]:
    """Check a parsed XGBoost model's declared sizes against its arrays; summarise it."""
    learner = _get(doc, "learner", path=path)
    params = _get(learner, "learner_model_param", path=path)
    n_feat = _int(params.get("num_feature", 0), "num_feature", path, 1, MAX_FEATURES)
    n_class = _int(params.get("num_class", 0), "num_class", path, 0, MAX_CLASSES)
    gb = _get(learner, "gradient_booster", path=path)
    name = gb.get("name")
    if name == "dart":
        gb = _get(gb, "gbtree", path=path)
    elif name != "gbtree":
        raise InputError(f"model {path}: an XGBoost {name!r} booster; only tree boosters (gbtree, dart) are supported.")
    trees = _get(gb, "model", "trees", path=path)
    if not isinstance(trees, list) or len(trees) > MAX_TREES:
        raise _refuse(path, f"{len(trees) if isinstance(trees, list) else '?'} trees (at most {MAX_TREES:,})")
    total = 0
    for i, tree in enumerate(trees):
        total += _check_xgb_tree(tree, i, n_feat, path)
        if total > MAX_NODES:
            raise _refuse(path, f"more than {MAX_NODES:,} tree nodes in all")
    names = learner.get("feature_names") or []
    objective = str(_get(learner, "objective", "name", path=path))
    return {"library": "xgboost", "objective": objective, "num_class": n_class, "num_feature": n_feat,
            "feature_names": [str(n) for n in names] or None, "trees": len(trees), "nodes": total}


def _check_xgb_tree(tree: Any, i: int, n_feat: int, path: Path) -> int:
    if not isinstance(tree, dict) or "tree_param" not in tree:
        raise _refuse(path, f"tree {i} is not a tree object")
    n = _int(tree["tree_param"].get("num_nodes"), f"tree {i}'s num_nodes", path, 1, MAX_TREE_NODES)
    arrays = {}
    for key in ("left_children", "right_children", "split_indices", "split_conditions", "default_left"):
        arr = np.asarray(tree.get(key, []))
        if arr.shape != (n,):
            raise _refuse(path, f"tree {i} declares {n:,} nodes but its {key} has {arr.size:,} entries")
        arrays[key] = arr
    left = arrays["left_children"].astype(np.int64)
    right = arrays["right_children"].astype(np.int64)
    ids = np.arange(n)
    inner = left >= 0
    if (inner != (right >= 0)).any() or (left[inner] <= ids[inner]).any() or (right[inner] <= ids[inner]).any() \
            or (left >= n).any() or (right >= n).any() or (left < -1).any() or (right < -1).any():
        raise _refuse(path, f"tree {i} has child indices that are out of range or point backwards")
    feats = arrays["split_indices"].astype(np.int64)
    if (feats[inner] < 0).any() or (feats[inner] >= n_feat).any():
        raise _refuse(path, f"tree {i} splits on a feature outside the model's {n_feat} features")
    nodes, segs, sizes = (np.asarray(tree.get(k, []), dtype=np.int64) for k in
                          ("categories_nodes", "categories_segments", "categories_sizes"))
    cats = np.asarray(tree.get("categories", []))
    if not (len(nodes) == len(segs) == len(sizes)) or (nodes < 0).any() or (nodes >= n).any() or \
            (segs < 0).any() or (sizes < 0).any() or (segs + sizes > len(cats)).any():
        raise _refuse(path, f"tree {i} has inconsistent categorical split tables")
    return n


# -- LightGBM --------------------------------------------------------------------------------------
_LGB_ARRAYS = {"split_feature": -1, "threshold": -1, "decision_type": -1, "left_child": -1, "right_child": -1,
               "leaf_value": 0}


def _load_lightgbm(data: bytes, path: Path) -> tuple[Any, dict[str, Any]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(path, f"a LightGBM text model that is not UTF-8 (byte {exc.start})") from None
    info = check_lightgbm_text(text, path)
    lgb = require_extra("lightgbm", path)
    booster = lgb.Booster(model_str=text)
    info["how"] = "lightgbm.Booster(model_str=...) (text format), structure checked"
    return booster, info


def _kv(block: str) -> dict[str, str]:
    out = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value
    return out


def check_lightgbm_text(text: str, path: Path) -> dict[str, Any]:
    """Check a LightGBM text model's declared sizes against its arrays; summarise it."""
    start = text.find("\nTree=")
    header = _kv(text[: start if start >= 0 else len(text)])
    if "version" not in header or "max_feature_idx" not in header:
        raise InputError(f"model {path}: not a LightGBM text model (no version/max_feature_idx header).")
    n_feat = _int(header["max_feature_idx"], "max_feature_idx", path, 0, MAX_FEATURES - 1) + 1
    n_class = _int(header.get("num_class", "1"), "num_class", path, 1, MAX_CLASSES)
    per_iter = _int(header.get("num_tree_per_iteration", "1"), "num_tree_per_iteration", path, 1, MAX_CLASSES)
    end = text.find("\nend of trees")
    body = text[start + 1 : end if end >= 0 else len(text)] if start >= 0 else ""
    blocks = [b for b in re.split(r"\n(?=Tree=)", body) if b.strip()]
    if len(blocks) > MAX_TREES:
        raise _refuse(path, f"{len(blocks):,} trees (at most {MAX_TREES:,})")
    sizes = header.get("tree_sizes")
    if sizes is not None:
        declared = sizes.split()
        if len(declared) != len(blocks):
            raise _refuse(path, f"tree_sizes lists {len(declared)} trees but the file holds {len(blocks)}")
        offset = start + 1
        for i, s in enumerate(declared):
            size = _int(s, f"tree_sizes[{i}]", path, 1, len(text))
            if not text.startswith("Tree=", offset):
                raise _refuse(path, f"tree_sizes does not match the position of tree {i}")
            offset += size
    total = 0
    for i, block in enumerate(blocks):
        total += _check_lgb_tree(_kv(block), i, n_feat, path)
        if total > MAX_NODES:
            raise _refuse(path, f"more than {MAX_NODES:,} tree nodes in all")
    _check_lgb_parameters(text, path)
    names = header.get("feature_names", "").split()
    return {"library": "lightgbm", "objective": header.get("objective", "").split(" ")[0], "num_class": n_class,
            "num_tree_per_iteration": per_iter, "num_feature": n_feat, "feature_names": names or None,
            "trees": len(blocks), "nodes": total}


_LGB_PARAMETER = re.compile(r"\[[A-Za-z0-9_]+: .*\]")


def _check_lgb_parameters(text: str, path: Path) -> None:
    """Every line of the ``parameters:`` section is ``[name: value]``: LightGBM 4 crashes the process
    (segmentation fault) on a line cut short there, as a truncated download leaves it (found by fuzzing)."""
    start = text.find("\nparameters:")
    if start < 0:
        return
    end = text.find("\nend of parameters", start)
    for line in text[start + len("\nparameters:") : end if end >= 0 else len(text)].splitlines():
        if line.strip() and not _LGB_PARAMETER.fullmatch(line.strip()):
            raise _refuse(path, f"its parameters section holds a malformed line {line.strip()[:40]!r} (a cut or "
                                "damaged file)")


def _check_lgb_tree(kv: dict[str, str], i: int, n_feat: int, path: Path) -> int:
    leaves = _int(kv.get("num_leaves", "0"), f"tree {i}'s num_leaves", path, 1, MAX_TREE_NODES)
    n_cat = _int(kv.get("num_cat", "0"), f"tree {i}'s num_cat", path, 0, leaves)
    if leaves == 1:
        return 1
    arrays = {}
    for key, extra in _LGB_ARRAYS.items():
        parts = kv.get(key, "").split()
        if len(parts) != leaves + extra:
            raise _refuse(path, f"tree {i} declares {leaves:,} leaves but its {key} has {len(parts):,} entries")
        arrays[key] = parts
    try:
        left, right, feat = (np.array(arrays[k], dtype=np.int64) for k in ("left_child", "right_child", "split_feature"))
    except ValueError:
        raise _refuse(path, f"tree {i} has non-integer child or feature indices") from None
    inner = leaves - 1
    ids = np.arange(inner)
    for child in (left, right):
        bad_inner = (child >= 0) & ((child >= inner) | (child <= ids))
        bad_leaf = (child < 0) & (~child >= leaves)
        if bad_inner.any() or bad_leaf.any():
            raise _refuse(path, f"tree {i} has child indices that are out of range or point backwards")
    if (feat < 0).any() or (feat >= n_feat).any():
        raise _refuse(path, f"tree {i} splits on a feature outside the model's {n_feat} features")
    if n_cat:
        try:
            bounds = np.array(kv.get("cat_boundaries", "").split(), dtype=np.int64)
            words = kv.get("cat_threshold", "").split()
        except ValueError:
            raise _refuse(path, f"tree {i} has a malformed categorical split table") from None
        if len(bounds) != n_cat + 1 or bounds[0] != 0 or (np.diff(bounds) < 0).any() or bounds[-1] != len(words):
            raise _refuse(path, f"tree {i} has inconsistent categorical split tables")
    return 2 * leaves - 1


# -- CatBoost --------------------------------------------------------------------------------------
def _load_catboost(data: bytes, path: Path) -> tuple[Any, dict[str, Any]]:
    if len(data) < 8:
        raise _refuse(path, "a CatBoost file shorter than its header")
    core = int.from_bytes(data[4:8], "little")
    if core <= 0 or 8 + core > len(data):
        raise _refuse(path, f"its CatBoost header declares a {core:,}-byte model core in a {len(data):,}-byte file")
    cb = require_extra("catboost", path)
    model = cb.CatBoost()
    model.load_model(blob=data)
    info = catboost_info(model)
    if info["trees"] > MAX_TREES:
        raise _refuse(path, f"{info['trees']:,} trees (at most {MAX_TREES:,})")
    return model, {**info, "how": "catboost.CatBoost.load_model(blob=...) (.cbm), header checked"}


def catboost_info(model: Any) -> dict[str, Any]:
    """What the adapter needs of a CatBoost model (loaded from .cbm, or a trusted pickle of any of its classes)."""
    params = model.get_all_params() if hasattr(model, "get_all_params") else {}
    loss = str(params.get("loss_function", "")).split(":")[0]
    seen = getattr(model, "classes_", None)
    classes = list(seen) if seen is not None and loss in ("Logloss", "CrossEntropy", "MultiClass") else []
    return {"library": "catboost", "objective": loss, "num_class": len(classes),
            "classes": [c.item() if hasattr(c, "item") else c for c in classes],
            "num_feature": len(model.feature_names_), "feature_names": list(model.feature_names_),
            "cat_features": [model.feature_names_[i] for i in model.get_cat_feature_indices()],
            "trees": int(model.tree_count_)}
