"""The only box that reads input files: models (safely), data and configuration.

Model files go through ``LOADERS``, an ordered table like the adapters' ``HANDLERS``: each
:class:`Loader` names its suffixes, an optional content sniff and its load function. The bytes are
read once and hashed, and the hashed bytes are what the chosen loader loads. A loader is chosen by
content first (the first sniff that names a format wins, whatever the suffix), then by suffix.
"""

from __future__ import annotations

from pathlib import Path

from audit.errors import InputError
from audit.loading._base import LoadedModel, Loader, LoadRequest, read_bytes, sha256_bytes, sha256_input
from audit.loading._config import load_config_file
from audit.loading._data import load_data
from audit.loading._files import read_small_file, sha256_file
from audit.loading._imports import import_object
from audit.loading._model import PICKLE_SUFFIXES, SKOPS_SUFFIXES, load_pickled
from audit.loading._native import NATIVE_SUFFIXES, catboost_info, load_native_request, sniff_native
from audit.loading._results import load_results_file, read_results, read_results_file
from audit.loading._stream import is_parquet, iter_chunks, sample_file
from audit.loading._torch import TORCH_SUFFIXES, load_torch_request

__all__ = ["LoadedModel", "Loader", "LoadRequest", "LOADERS", "load_model", "load_data", "load_config_file",
           "sha256_bytes", "sha256_input", "import_object", "load_results_file", "read_results", "read_results_file", "sha256_file", "read_small_file", "catboost_info", "is_parquet", "iter_chunks",
           "sample_file"]

LOADERS: list[Loader] = [
    Loader("pickle", PICKLE_SUFFIXES, None, load_pickled),  # plain pickle and joblib, restricted unpickler
    Loader("skops", SKOPS_SUFFIXES, None, load_pickled),
    Loader("torch", TORCH_SUFFIXES, None, load_torch_request),
    Loader("native", NATIVE_SUFFIXES, sniff_native, load_native_request),  # XGBoost, LightGBM, CatBoost, ONNX
]


def _suffixes() -> tuple[str, ...]:
    return tuple(s for loader in LOADERS for s in loader.suffixes)


def _choose(data: bytes, suffix: str) -> tuple[Loader, str | None] | None:
    """The loader for a file, and the format its sniff found: by content first, then by suffix."""
    for loader in LOADERS:
        fmt = loader.sniff(data, suffix) if loader.sniff is not None else None
        if fmt is not None:
            return loader, fmt
    return next(((loader, None) for loader in LOADERS if suffix in loader.suffixes), None)


def load_model(path: Path, *, trust_model: bool = False, model_class: str | None = None,
               max_model_bytes: int | None = None) -> LoadedModel:
    """Load a model file safely; ``trust_model`` lifts the allow-list for files the user vouches for.

    ``max_model_bytes`` raises or lowers the byte budget of a load (default: from
    ``XAI_AUDIT_MAX_MODEL_BYTES``, else derived from the file size; see ``audit.loading._limits``).

    >>> load_model(Path("missing.pkl"))  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    audit.errors.InputError: model missing.pkl: file not found. Check the path.
    """
    suffix = path.suffix.lower()
    supported = _suffixes()
    data = read_bytes(path, "model") if suffix in supported or path.is_file() else b""
    chosen = _choose(data, suffix)
    if chosen is None:
        raise InputError(
            f"model {path}: unsupported file type {suffix or '(none)'!r}. Supported: {', '.join(supported)}."
        )
    loader, fmt = chosen
    data = data or read_bytes(path, "model")
    request = LoadRequest(data, path, sha256_bytes(data), fmt, trust_model=trust_model, model_class=model_class,
                          max_model_bytes=max_model_bytes)
    return loader.load(request)
