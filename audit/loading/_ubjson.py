"""A bounded UBJSON reader for XGBoost's ``.ubj`` models, so their structure is checked before XGBoost
parses them.

Every declared count is checked against the bytes that remain before anything is allocated (an
element takes at least one byte), nesting is limited, and any malformed input raises
:class:`UbjError`. Typed numeric arrays come back as numpy arrays (read-only views are copied).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

__all__ = ["UbjError", "read_ubjson"]

_INT = {b"i": (">i1", 1), b"U": (">u1", 1), b"I": (">i2", 2), b"l": (">i4", 4), b"L": (">i8", 8)}
_FLOAT = {b"d": (">f4", 4), b"D": (">f8", 8)}
_FIXED = {**_INT, **_FLOAT}
MAX_DEPTH = 32


class UbjError(ValueError):
    """The bytes are not well-formed (or not bounded) UBJSON."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.buf = memoryview(data)
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise UbjError(f"declares {n} bytes at offset {self.pos}, past the end of the file")
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def marker(self) -> bytes:
        while True:
            m = bytes(self.take(1))
            if m != b"N":  # no-op
                return m

    def integer(self, m: bytes) -> int:
        if m not in _INT:
            raise UbjError(f"expected an integer marker at offset {self.pos - 1}, found {m!r}")
        dtype, size = _INT[m]
        return int(np.frombuffer(self.take(size), dtype=dtype)[0])

    def count(self) -> int:
        n = self.integer(self.marker())
        if n < 0 or n > len(self.buf) - self.pos:
            raise UbjError(f"declares {n:,} elements at offset {self.pos} with {len(self.buf) - self.pos:,} bytes left")
        return n

    def string(self) -> str:
        n = self.count()
        try:
            return bytes(self.take(n)).decode("utf-8")
        except UnicodeDecodeError:
            raise UbjError(f"a string at offset {self.pos - n} is not UTF-8") from None

    def value(self, m: bytes, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UbjError(f"nested more than {MAX_DEPTH} deep")
        if m in _INT:
            return self.integer(m)
        if m in _FLOAT:
            dtype, size = _FLOAT[m]
            return float(np.frombuffer(self.take(size), dtype=dtype)[0])
        if m == b"S" or m == b"H":
            return self.string()
        if m == b"C":
            return bytes(self.take(1)).decode("latin-1")
        if m == b"T":
            return True
        if m == b"F":
            return False
        if m == b"Z":
            return None
        if m == b"[":
            return self.array(depth)
        if m == b"{":
            return self.object(depth)
        raise UbjError(f"unknown marker {m!r} at offset {self.pos - 1}")

    def _container_header(self) -> tuple[bytes | None, int | None]:
        """($type, #count) of an optimised container, or (None, None)."""
        typ = n = None
        nxt = bytes(self.buf[self.pos : self.pos + 1])
        if nxt == b"$":
            self.take(1)
            typ = bytes(self.take(1))
            if bytes(self.take(1)) != b"#":
                raise UbjError(f"a typed container without a count at offset {self.pos}")
            n = self.count()
        elif nxt == b"#":
            self.take(1)
            n = self.count()
        return typ, n

    def array(self, depth: int) -> Any:
        typ, n = self._container_header()
        if typ in _FIXED:
            dtype, size = _FIXED[typ]
            if n * size > len(self.buf) - self.pos:
                raise UbjError(f"an array of {n:,} x {size} bytes at offset {self.pos} runs past the end of the file")
            return np.frombuffer(self.take(n * size), dtype=dtype).astype(dtype[1:])
        if n is not None:
            return [self.value(typ or self.marker(), depth + 1) for _ in range(n)]
        out = []
        while True:
            m = self.marker()
            if m == b"]":
                return out
            out.append(self.value(m, depth + 1))

    def object(self, depth: int) -> dict[str, Any]:
        typ, n = self._container_header()
        out: dict[str, Any] = {}
        if n is not None:
            for _ in range(n):
                key = self.string()
                out[key] = self.value(typ or self.marker(), depth + 1)
            return out
        while True:
            nxt = bytes(self.buf[self.pos : self.pos + 1])
            if nxt == b"}":
                self.take(1)
                return out
            key = self.string()
            out[key] = self.value(self.marker(), depth + 1)


def read_ubjson(data: bytes) -> Any:
    """Parse one UBJSON value that fills ``data`` exactly.

    >>> read_ubjson(b"{i\\x01a[$l#i\\x02\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x02}")["a"].tolist()
    [1, 2]
    """
    reader = _Reader(data)
    try:
        out = reader.value(reader.marker(), 0)
    except struct.error as exc:  # pragma: no cover - numpy reads above, kept for safety
        raise UbjError(str(exc)) from None
    if reader.pos != len(data):
        raise UbjError(f"{len(data) - reader.pos} bytes of trailing data after the model")
    return out
