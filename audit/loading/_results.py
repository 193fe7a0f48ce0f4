"""Reading a results.json written by ``audit run`` (for ``audit compare`` of two earlier audits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.errors import InputError

# What audit compare reads from each file; a file without one of these is refused, naming it.
_NEEDED = ("model", "data", "gate", "explanations", "decisions")


def read_results_file(path: Path, what: str = "RESULTS") -> dict[str, Any]:
    """The results.json at ``path`` as a dict (``audit render``): a missing file, another file type, another
    major schema version or an incomplete record is an InputError naming ``what``, the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}: {'a folder, not a file' if path.is_dir() else 'no such file'}. Give the results.json that `audit run` wrote.")
    if path.suffix.lower() != ".json":
        raise InputError(f"{what} {path}: not a results.json (the name does not end in .json). Give the "
                         "results.json that `audit run` wrote.")
    record = load_results_file(path, what, or_else="")
    if record is None:
        raise InputError(f"{what} {path}: a model file saved as JSON, not a results.json. Give the results.json "
                         "that `audit run` wrote.")
    return record


def load_results_file(path: Path, option: str, *, or_else: str = ", or a model file") -> dict[str, Any] | None:
    """The results.json at ``path`` as a dict, or None when the file is a model (not ``.json``, or an XGBoost
    JSON model). Any other ``.json`` is an InputError naming ``option``, the file and the keys it lacks, as
    is a results.json of another major version or one missing a key compare needs."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise InputError(f"{option} {path}: not a results.json: not readable as JSON ({str(exc)[:120]}). Give the "
                         f"results.json that `audit run` wrote{or_else}.") from None
    if isinstance(record, dict) and "learner" in record:
        return None  # an XGBoost model saved as JSON
    if not isinstance(record, dict) or "schema_version" not in record or "explanations" not in record:
        lacks = ["schema_version", *_NEEDED] if not isinstance(record, dict) else \
            [k for k in ("schema_version", *_NEEDED) if k not in record]
        what = f"a JSON {type(record).__name__}, not an object" if not isinstance(record, dict) else "a JSON object"
        raise InputError(f"{option} {path}: not a results.json ({what} without the keys "
                         f"{', '.join(repr(k) for k in lacks)}). Give the results.json that `audit run` wrote"
                         f"{or_else}.")
    version = str(record["schema_version"])
    if not version.startswith("1."):
        raise InputError(f"{option} {path}: results.json schema_version {version!r}; this tool reads 1.x. Re-run "
                         "`audit run` with this version of the tool.")
    missing = [k for k in _NEEDED if not isinstance(record.get(k), (dict, list))]
    if missing:
        raise InputError(f"{option} {path}: not a complete results.json (no {missing[0]!r}). Give the "
                         "results.json that `audit run` wrote, unedited.")
    return record


def read_results(path: Path, option: str) -> tuple[dict[str, Any], bytes]:
    """The results.json at ``path`` (checked as :func:`read_results_file` checks it) and its bytes, for the
    commands that sign or describe the file itself (``audit docs``, ``audit attest``)."""
    record = read_results_file(Path(path), option)
    return record, Path(path).read_bytes()
