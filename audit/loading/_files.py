"""Files read whole or hashed for ``audit attest`` and ``audit verify``: key files and the attested files."""

from __future__ import annotations

import hashlib
from pathlib import Path

from audit.errors import InputError

__all__ = ["sha256_file", "read_small_file"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str | None:
    """SHA-256 of the file at ``path`` read in 1 MiB chunks (a data file may be large), or None when there is no
    readable file there (the caller says what that means)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    return digest.hexdigest()


def read_small_file(path: Path, option: str, *, limit: int = 16 << 20) -> bytes:
    """A key or an envelope: the whole file (at most ``limit`` bytes), or one InputError naming ``option``."""
    if not path.is_file():
        raise InputError(f"{option} {path}: no such file. Check the path.")
    try:
        if path.stat().st_size > limit:
            raise InputError(f"{option} {path}: larger than {limit >> 20} MiB; not a key or an attestation.")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot be read ({exc.strerror}).") from None
