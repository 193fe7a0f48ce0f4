"""Writing output files atomically: one way for every command.

Files are written into a temporary folder beside their destination and moved into place only when
the whole block that writes them completed, so a failed or interrupted run never leaves a half-written
file that looks complete, nor a mix of old and new outputs. The temporary folder is removed whatever
happens. ``report`` (results.json, the PDF, JUnit) and ``reasons`` (the streamed reasons file and its
``.meta.json``) both write through here.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from audit.errors import InputError

__all__ = ["atomic_outputs", "atomic_file"]


@contextmanager
def atomic_outputs(targets: Mapping[str, Path], *, beside: Path, prefix: str = ".audit-tmp-",
                   what: str | None = None) -> Iterator[dict[str, Path]]:
    """Temporary paths to write, one per target (key -> destination), in a folder created beside ``beside``;
    when the block completes, each is moved to its destination (its folder created), in ``targets``' order.

    ``what`` (for example ``"--out results/"``) turns a folder that cannot be written into one
    :class:`InputError` naming it; without it the ``OSError`` propagates.
    """
    parent = Path(beside).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as exc:
        if what is None:
            raise
        raise InputError(f"{what}: cannot write there ({exc.strerror}). Choose a writable folder.") from None
    try:
        staged: dict[str, Path] = {}
        for i, (key, target) in enumerate(targets.items()):
            name = Path(target).name
            staged[key] = tmp / (name if tmp / name not in staged.values() else f"{i}-{name}")
        yield staged
        for key, target in targets.items():
            _place(staged[key], Path(target))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_file(target: Path, *, prefix: str = ".audit-tmp-") -> Iterator[Path]:
    """One file: a temporary path to write (or stream into) that replaces ``target`` when the block completes."""
    with atomic_outputs({"file": target}, beside=target, prefix=prefix) as staged:
        yield staged["file"]


def _place(src: Path, dst: Path) -> None:
    """Move a finished file into place: an atomic rename on one file system, a move across two."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(src), dst)
