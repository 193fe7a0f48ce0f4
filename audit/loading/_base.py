"""What every model loader shares: the loaded-model record, the load request, the registry entry type
and the small helpers (reading and hashing bytes, shortening an exception, naming missing user code).

Kept apart from the loaders so that each format module (``_model``, ``_native``, ``_onnx``, ``_torch``,
``_skops``) depends on this one module and never on another loader: the registry in
``audit/loading/__init__.py`` is the only place that knows them all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import InputError, ModelError
from audit.loading._files import sha256_file

__all__ = ["LoadedModel", "LoadRequest", "Loader", "sha256_bytes", "read_bytes", "short", "user_code_missing",
           "require_extra", "WAY_OUT"]

WAY_OUT = (
    "If you trust this file completely, re-run with --trust-model; better, save the model with "
    "skops (skops.io.dump) or as a plain scikit-learn estimator/pipeline."
)


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


@dataclass(frozen=True)
class LoadRequest:
    """One model file to load: its hashed bytes and the user's options, handed to a loader whole so that
    every loader has one signature whatever it needs."""

    data: bytes
    path: Path
    digest: str
    fmt: str | None  # what the loader's content sniff found; None when chosen by suffix only
    trust_model: bool = False
    model_class: str | None = None
    max_model_bytes: int | None = None

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


@dataclass(frozen=True)
class Loader:
    """One model file format. A loader is chosen by content first (the first ``sniff`` that names a format,
    whatever the suffix), then by suffix; ``load`` gets the request and returns the checked model."""

    name: str
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes, str], str | None] | None
    load: Callable[[LoadRequest], LoadedModel]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_input(path: Path, what: str) -> str:
    """SHA-256 of a whole input file, read in chunks (e.g. to tie a model file to a results.json); a file that
    cannot be read is one InputError naming ``what``."""
    digest = sha256_file(path)
    if digest is None:
        raise InputError(f"{what} {path}: {'is a directory, expected a file' if path.is_dir() else 'file not found'}"
                         ". Check the path.")
    return digest


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


def short(exc: BaseException, limit: int = 200) -> str:
    """One line of an exception's text, cut to ``limit`` characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def require_extra(module: str, path: Path) -> Any:
    """Import an optional library a format needs; exit 2 naming the extra (onnxruntime's included)."""
    from audit.extras import require

    return require(module, f"model {path}")


def user_code_missing(exc: BaseException, path: Path) -> ModelError | None:
    """The error for a pickle that names the user's own class or module, absent here (for example a
    class defined in the training script, which pickle records as ``__main__.Clip``); None otherwise."""
    text = str(exc)
    found = re.search(r"Can't get attribute '([^']+)' on <module '([^']+)'", text)
    if isinstance(exc, AttributeError) and found:
        name, module = found.groups()
    elif isinstance(exc, ModuleNotFoundError) and exc.name:
        name, module = None, exc.name
    else:
        return None
    what = f"{name} in module {module}" if name else f"module {module}"
    where = " (the training script that was run, not an importable module)" if module == "__main__" else ""
    return ModelError(
        f"model {path}: the file refers to {what}{where}, which cannot be imported here. Define "
        f"{name or 'that code'} in an importable module (for example mypkg/transforms.py, imported by the "
        f"training script), fit and save the model again, and load it with --trust-model with that module on "
        f"PYTHONPATH; or save it with skops.io.dump."
    )
