"""scikit-learn-like model files (pickle, joblib, skops), loaded so that it fails closed.

``audit.loading.load_model`` reads the bytes once and hashes them; the hashed bytes (``LoadRequest``)
are what gets loaded here, through the registry's ``pickle`` and ``skops`` entries. Pickles (plain or
joblib) go through an unpickler whose ``find_class`` admits only exact allow-listed pairs, checked
before anything is imported; a refused name is replaced by an inert marker so that *every* refused
global can be reported, and the load then fails. skops files are loaded with an explicit trusted list
built from the same allow-list, after every type in the file has been checked against it.

Loading is bounded (see ``audit.loading._limits``) and every loaded object is validated structurally
before anything predicts with it (``audit.loading._validate``). Any failure is an
:class:`~audit.errors.AuditError` (exit 2): a hostile file is bad input, never a crash.
"""

from __future__ import annotations

import io
import pickle
import pickletools
from pathlib import Path
from typing import Any

from audit.errors import AuditError, ModelError, UnsafeModelError, name_some
from audit.loading._allowlist import allowed_pairs
from audit.loading._base import WAY_OUT as _WAY_OUT
from audit.loading._base import LoadedModel, LoadRequest, short, user_code_missing
from audit.loading._limits import Limits, limits_for
from audit.loading._skops import load_skops
from audit.loading._unpickler import BoundedReader, Refusal, check_partial, joblib_unpickler, plain_unpickler
from audit.loading._validate import validate_model

__all__ = ["load_pickled", "PICKLE_SUFFIXES", "SKOPS_SUFFIXES"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
SKOPS_SUFFIXES = (".skops",)
# joblib's compressed containers start with these magic numbers.
_COMPRESSED_MAGIC = (b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"\x04\x22\x4d\x18", b"ZF")


def _scan_plain_pickle(data: bytes, path: Path) -> None:
    """Check every opcode parses and nothing follows STOP, before anything is unpickled."""
    try:
        end = 0
        for op, _arg, pos in pickletools.genops(data):
            end = pos + 1
            if op.name == "STOP":
                break
    except Exception as exc:  # noqa: BLE001 - any parse failure means refuse
        raise UnsafeModelError(
            f"model {path}: not a well-formed pickle ({exc}); refused without loading. {_WAY_OUT}"
        ) from None
    if end != len(data):
        raise UnsafeModelError(
            f"model {path}: {len(data) - end} bytes of trailing data after the pickle's end; "
            f"refused without loading. {_WAY_OUT}"
        )


def _is_joblib(data: bytes, path: Path) -> bool:
    return path.suffix == ".joblib" or data.startswith(_COMPRESSED_MAGIC) or b"NumpyArrayWrapper" in data[:65536]


def _joblib_stream(data: bytes, path: Path, limits: Limits) -> BoundedReader:
    """The decompressed joblib stream, bounded; unsupported containers refused by name."""
    from joblib.compressor import _COMPRESSORS
    from joblib.numpy_pickle_utils import _buffered_read_file, _detect_compressor

    raw = io.BytesIO(data)
    name = _detect_compressor(raw)
    if name == "compat":
        raise UnsafeModelError(f"model {path}: a joblib file from before joblib 0.10 (ZF format), which keeps "
                               "arrays in separate files; not supported. Re-save it with a current joblib or "
                               f"skops. {_WAY_OUT}")
    if name in _COMPRESSORS:
        try:
            stream = _buffered_read_file(_COMPRESSORS[name].decompressor_file(raw))
        except (ValueError, ImportError, OSError) as exc:
            raise UnsafeModelError(f"model {path}: a joblib file compressed with {name!r}, which cannot be "
                                   f"read here ({short(exc)}). Re-save it with compress=3 (zlib) or "
                                   "without compression.") from None
    else:
        stream = raw
    return BoundedReader(stream, limits.max_bytes)


def _load_restricted_pickle(data: bytes, path: Path, limits: Limits) -> Any:
    if _is_joblib(data, path):
        stream = _joblib_stream(data, path, limits)
        unpickler = joblib_unpickler(stream, limits, str(path))
        obj, error = _run_load(unpickler)
        trailing = b"" if error else _run_read1(stream)
    else:
        _scan_plain_pickle(data, path)
        unpickler = plain_unpickler(BoundedReader(io.BytesIO(data), limits.max_bytes), limits)
        obj, error = _run_load(unpickler)
        trailing = b""
    if unpickler.refused:
        names = sorted(set(unpickler.refused))
        raise UnsafeModelError(
            f"model {path}: refused to load; it references {len(names)} name(s) outside the "
            f"allow-list: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}. Nothing was "
            f"imported or called for them. {_WAY_OUT}"
        )
    if error is not None:
        raise UnsafeModelError(f"model {path}: the pickle could not be loaded safely ({error}). {_WAY_OUT}")
    if trailing:
        raise UnsafeModelError(f"model {path}: trailing data after the pickle; refused. {_WAY_OUT}")
    return obj


def _run_read1(stream: BoundedReader) -> bytes:
    try:
        return stream.read(1)
    except Exception:  # noqa: BLE001 - a damaged compressed tail is trailing garbage too
        return b"?"


def _run_load(unpickler: Any) -> tuple[Any, str | None]:
    try:
        return unpickler.load(), None
    except Refusal as exc:
        return None, f"refused: {exc}"
    except RecursionError:
        return None, "refused: nested too deeply"
    except MemoryError:
        return None, "refused: it asks for more memory than is available"
    except Exception as exc:  # noqa: BLE001 - reported with refusals or as a parse error
        return None, f"{type(exc).__name__}: {short(exc)}"


def _check_callable_params(obj: Any, path: Path) -> None:
    """Refuse estimators whose parameters hold callables that are not on the allow-list.

    A function is matched by its own module and name; a ``functools.partial`` by the function it wraps
    (a reference-only validation function, with plain-data arguments); any other callable object by
    its class (an admitted, validated class such as ``make_column_selector``).
    """
    import functools
    import types

    import numpy as np

    get_params = getattr(obj, "get_params", None)
    if get_params is None:
        return
    pairs = allowed_pairs()
    bad = []
    try:
        params = get_params(deep=True)
    except Exception as exc:  # noqa: BLE001 - a damaged estimator state is the file's fault
        raise ModelError(f"model {path}: the {type(obj).__name__} in it has incomplete or damaged parameters "
                         f"({type(exc).__name__}: {short(exc)}). Re-save the fitted model.") from None
    for key, value in params.items():
        if not callable(value) or hasattr(value, "get_params") or isinstance(value, type):
            continue
        if isinstance(value, functools.partial):
            try:
                check_partial(value.func, value.args, value.keywords, vars(value) or None)
            except Refusal:
                bad.append(f"{key}=functools.partial({getattr(value.func, '__qualname__', '?')!s:.60})")
            continue
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, np.ufunc)) or \
                isinstance(getattr(value, "__name__", None), str):  # functions and numpy's dispatchers
            pair = (getattr(value, "__module__", None) or "numpy", value.__name__)
        else:
            pair = (type(value).__module__, type(value).__qualname__)
        if pair not in pairs:
            bad.append(f"{key}={pair[0]}.{pair[1]}")
    if bad:
        raise UnsafeModelError(
            f"model {path}: parameters hold callables outside the allow-list: {name_some(bad)}. {_WAY_OUT}"
        )


def load_pickled(req: LoadRequest) -> LoadedModel:
    """Load a pickle, joblib or skops file; ``trust_model`` lifts the allow-list for files the user vouches
    for. ``max_model_bytes`` raises or lowers the byte budget of a load (default: from
    ``XAI_AUDIT_MAX_MODEL_BYTES``, else derived from the file size; see ``audit.loading._limits``)."""
    path = req.path
    obj, fmt, how, trusted = _checked_load(req)
    if not (hasattr(obj, "predict") or hasattr(obj, "predict_proba")):
        raise ModelError(
            f"model {path}: loaded a {type(obj).__name__}, which has no predict method. "
            "Save the fitted estimator or pipeline itself."
        )
    _check_supported_kind(obj, path)
    return LoadedModel(obj=obj, path=str(path), sha256=req.digest, format=fmt, trusted=trusted, how=how)


def _checked_load(req: LoadRequest) -> tuple[Any, str, str, bool]:
    """The loaded and (unless trusted) structurally validated object; every failure an AuditError."""
    path = req.path
    limits = limits_for(len(req.data), req.max_model_bytes)
    try:
        obj, fmt, how, trusted = _load_sklearn_like(req.data, path, req.suffix, req.trust_model, limits)
        if not trusted:
            _check_callable_params(obj, path)
            validate_model(obj, path)
    except AuditError:
        raise
    except Refusal as exc:
        raise UnsafeModelError(f"model {path}: refused: {exc}. {_WAY_OUT}") from None
    except (RecursionError, MemoryError) as exc:
        raise UnsafeModelError(f"model {path}: refused: {type(exc).__name__} while loading; the file is "
                               f"nested too deeply or asks for too much memory. {_WAY_OUT}") from None
    except Exception as exc:  # noqa: BLE001 - any other failure on a user's file is bad input, not a bug
        missing = user_code_missing(exc, path)
        if missing is not None:
            raise missing from None
        raise ModelError(f"model {path}: could not be loaded ({type(exc).__name__}: {short(exc)}). "
                         "Re-save the fitted model with this scikit-learn version.") from None
    return obj, fmt, how, trusted


_UNSUPPORTED_KINDS = {"clusterer": "a clusterer", "outlier_detector": "an outlier detector",
                      "density_estimator": "a density estimator"}


def _check_supported_kind(obj: Any, path: Path) -> None:
    """Refuse scikit-learn models whose ``predict`` is not a score to explain (cluster labels, outlier
    flags): every class of ``all_estimators()`` loads, but only classifiers and regressors are audited."""
    from sklearn.base import BaseEstimator

    if not isinstance(obj, BaseEstimator):
        return
    from sklearn.utils import get_tags

    try:
        kind = get_tags(obj).estimator_type
    except Exception:  # noqa: BLE001 - tags of a third-party estimator; the adapter decides
        return
    if kind in _UNSUPPORTED_KINDS:
        raise ModelError(f"model {path}: loaded a {type(obj).__name__}, {_UNSUPPORTED_KINDS[kind]}; the audit "
                         "explains classifiers and regressors. Save the fitted classifier or regressor (or a "
                         "Pipeline ending in one).")


def _load_sklearn_like(data: bytes, path: Path, suffix: str, trust_model: bool,
                       limits: Limits) -> tuple[Any, str, str, bool]:
    if suffix in SKOPS_SUFFIXES:
        return load_skops(data, path, limits), "skops", "skops.io with the explicit allow-list", False
    if trust_model:
        if _is_joblib(data, path):
            import joblib

            obj = joblib.load(io.BytesIO(data))
        else:
            obj = pickle.loads(data)  # noqa: S301 - the user passed --trust-model
        return obj, suffix.lstrip("."), "unrestricted unpickling (--trust-model)", True
    obj = _load_restricted_pickle(data, path, limits)
    fmt = "joblib" if _is_joblib(data, path) else "pickle"
    return obj, fmt, "restricted unpickler, exact allow-list", False
