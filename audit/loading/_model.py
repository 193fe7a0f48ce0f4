"""Model loading that fails closed.

The bytes are read once, hashed, and the hashed bytes are what gets loaded. Pickles (plain or
joblib) go through an unpickler whose ``find_class`` admits only exact allow-listed pairs, checked
before anything is imported; a refused name is replaced by an inert marker so that *every* refused
global can be reported, and the load then fails. skops files are loaded with an explicit trusted list.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import pickletools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import InputError, ModelError, UnsafeModelError, name_some
from audit.loading._allowlist import allowed_pairs, allowed_type_names, is_allowed

__all__ = ["LoadedModel", "load_model", "sha256_bytes", "PICKLE_SUFFIXES"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
SKOPS_SUFFIXES = (".skops",)
TORCH_SUFFIXES = (".pt", ".pth", ".safetensors", ".pt2", ".ts", ".jit")
_WAY_OUT = (
    "If you trust this file completely, re-run with --trust-model; better, save the model with "
    "skops (skops.io.dump) or as a plain scikit-learn estimator/pipeline."
)
# joblib's compressed containers start with these magic numbers.
_COMPRESSED_MAGIC = (b"\x78", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x5d\x00\x00", b"\x04\x22\x4d\x18", b"ZF")


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model object plus where it came from and how it was loaded."""

    obj: Any
    path: str
    sha256: str
    format: str
    trusted: bool
    how: str
    extra: dict[str, Any] = field(default_factory=dict)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path, what: str) -> bytes:
    """Read a whole input file, turning OS errors into one clear message."""
    if not path.exists():
        raise InputError(f"{what} {path}: file not found. Check the path.")
    if path.is_dir():
        raise InputError(f"{what} {path}: is a directory, expected a file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot be read ({exc.strerror}).") from None
    if not data:
        raise InputError(f"{what} {path}: the file is empty. Give the saved model file.")
    return data


class _Refused:
    """Inert stand-in for a refused global: records nothing, calls nothing, absorbs arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _Guard:
    """Shared allow-list check for the plain and joblib unpicklers."""

    refused: list[str]

    def _guarded_find_class(self, module: str, name: str, parent_find_class: Any) -> Any:
        if is_allowed(module, name):
            return parent_find_class(module, name)
        self.refused.append(f"{module}.{name}")
        return _Refused


class _RestrictedUnpickler(pickle.Unpickler, _Guard):
    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file)
        self.refused = []

    def find_class(self, module: str, name: str) -> Any:
        return self._guarded_find_class(module, name, super().find_class)


def _restricted_joblib_unpickler() -> type:
    from joblib.numpy_pickle import NumpyUnpickler

    class _RestrictedNumpyUnpickler(NumpyUnpickler, _Guard):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.refused = []

        def find_class(self, module: str, name: str) -> Any:
            return self._guarded_find_class(module, name, super().find_class)

    return _RestrictedNumpyUnpickler


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


def _load_restricted_pickle(data: bytes, path: Path) -> Any:
    if _is_joblib(data, path):
        from joblib.numpy_pickle_utils import _validate_fileobject_and_memmap

        cls = _restricted_joblib_unpickler()
        raw = io.BytesIO(data)
        with _validate_fileobject_and_memmap(raw, str(path), None) as (fobj, _):
            unpickler = cls(str(path), fobj, True)
            obj, error = _run_load(unpickler)
            trailing = b"" if error else fobj.read(1)
    else:
        _scan_plain_pickle(data, path)
        unpickler = _RestrictedUnpickler(io.BytesIO(data))
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


def _run_load(unpickler: Any) -> tuple[Any, str | None]:
    try:
        return unpickler.load(), None
    except Exception as exc:  # noqa: BLE001 - reported with refusals or as a parse error
        return None, f"{type(exc).__name__}: {exc}"


def _load_skops(data: bytes, path: Path) -> Any:
    try:
        import skops.io as sio
    except ImportError:  # pragma: no cover
        raise InputError("loading .skops files needs the 'skops' package: pip install skops") from None
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"model {path}: not a readable skops file ({exc}).") from None
    allowed = set(allowed_type_names())
    refused = [t for t in untrusted if t not in allowed]
    if refused:
        raise UnsafeModelError(
            f"model {path}: refused to load; the skops file uses type(s) outside the allow-list: "
            f"{name_some(refused, 10)}. {_WAY_OUT}"
        )
    try:
        return sio.loads(data, trusted=list(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"model {path}: skops could not load it ({exc}).") from None


def _check_callable_params(obj: Any, path: Path) -> None:
    """Refuse estimators whose parameters hold callables that are not on the allow-list."""
    get_params = getattr(obj, "get_params", None)
    if get_params is None:
        return
    pairs = allowed_pairs()
    bad = []
    for key, value in get_params(deep=True).items():
        if callable(value) and not hasattr(value, "get_params") and not isinstance(value, type):
            pair = (getattr(value, "__module__", None) or "numpy", getattr(value, "__name__", repr(value)))
            if pair not in pairs:
                bad.append(f"{key}={pair[0]}.{pair[1]}")
    if bad:
        raise UnsafeModelError(
            f"model {path}: parameters hold callables outside the allow-list: {name_some(bad)}. {_WAY_OUT}"
        )


def load_model(path: Path, *, trust_model: bool = False, model_class: str | None = None) -> LoadedModel:
    """Load a model file safely; ``trust_model`` lifts the allow-list for files the user vouches for.

    >>> load_model(Path("missing.pkl"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    audit.errors.InputError: model missing.pkl: file not found. Check the path.
    """
    suffix = path.suffix.lower()
    supported = PICKLE_SUFFIXES + SKOPS_SUFFIXES + TORCH_SUFFIXES
    if suffix not in supported:
        raise InputError(
            f"model {path}: unsupported file type {suffix or '(none)'!r}. Supported: {', '.join(supported)}."
        )
    data = read_bytes(path, "model")
    digest = sha256_bytes(data)
    if suffix in TORCH_SUFFIXES:
        from audit.loading._torch import load_torch_model

        return load_torch_model(data, path, digest, trust_model=trust_model, model_class=model_class)
    if suffix in SKOPS_SUFFIXES:
        obj, fmt, how = _load_skops(data, path), "skops", "skops.io with the explicit allow-list"
        trusted = False
    elif trust_model:
        if _is_joblib(data, path):
            import joblib

            obj = joblib.load(io.BytesIO(data))
        else:
            obj = pickle.loads(data)  # noqa: S301 - the user passed --trust-model
        fmt, how, trusted = suffix.lstrip("."), "unrestricted unpickling (--trust-model)", True
    else:
        obj = _load_restricted_pickle(data, path)
        fmt, trusted = "joblib" if _is_joblib(data, path) else "pickle", False
        how = "restricted unpickler, exact allow-list"
    if not trusted:
        _check_callable_params(obj, path)
    if not (hasattr(obj, "predict") or hasattr(obj, "predict_proba")):
        raise ModelError(
            f"model {path}: loaded a {type(obj).__name__}, which has no predict method. "
            "Save the fitted estimator or pipeline itself."
        )
    return LoadedModel(obj=obj, path=str(path), sha256=digest, format=fmt, trusted=trusted, how=how)
