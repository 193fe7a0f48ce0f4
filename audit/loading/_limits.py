"""Resource bounds for loading an untrusted model file.

A hostile file must not be able to make the loader allocate, decompress, hash or recurse without
limit. Every bound here is checked *before* the work it guards (an allocation is sized from its
declared shape before it happens, a read from its declared length before it starts). Exceeding any
bound refuses the file (exit 2).

- bytes: arrays, ``bytearray``/``bytes`` constructions and declared array headers together may
  allocate at most ``max_bytes``; a (decompressed) pickle stream may be read up to ``max_bytes``.
  ``max_bytes`` is ``max_model_bytes`` when the user sets it (``XAI_AUDIT_MAX_MODEL_BYTES``, or
  ``load_model(max_model_bytes=...)``), otherwise ``min(4 GiB, max(256 MiB, 100 x file size))``.
- objects: containers nested at most 200 deep; one container's fully expanded size (shared
  references counted each time they occur, as hashing or printing would) at most 10 million;
  hashing dict keys and set members at most 20 million element visits in total; at most 2 million
  containers and 2 million memo entries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from audit.errors import InputError

__all__ = ["Limits", "limits_for", "MAX_MODEL_BYTES_ENV"]

MAX_MODEL_BYTES_ENV = "XAI_AUDIT_MAX_MODEL_BYTES"
_CEILING = 4 << 30
_FLOOR = 256 << 20
_RATIO = 100


@dataclass(frozen=True)
class Limits:
    """The bounds one load runs under (see the module docstring)."""

    max_bytes: int
    max_depth: int = 200
    max_expanded: int = 10_000_000
    max_hash_work: int = 20_000_000
    max_containers: int = 2_000_000
    max_memo: int = 2_000_000


def limits_for(file_size: int, max_model_bytes: int | None = None) -> Limits:
    """Bounds for a file of ``file_size`` bytes; an explicit ``max_model_bytes`` wins.

    >>> limits_for(1000).max_bytes == 256 << 20
    True
    """
    if max_model_bytes is None:
        raw = os.environ.get(MAX_MODEL_BYTES_ENV, "").strip()
        if raw:
            try:
                max_model_bytes = int(float(raw))
            except ValueError:
                raise InputError(f"{MAX_MODEL_BYTES_ENV}={raw!r}: expected a number of bytes.") from None
    if max_model_bytes is not None:
        if max_model_bytes <= 0:
            raise InputError(f"max_model_bytes must be positive, got {max_model_bytes}.")
        return Limits(max_bytes=int(max_model_bytes))
    return Limits(max_bytes=min(_CEILING, max(_FLOOR, _RATIO * file_size)))
