"""Reading a results.json written by ``audit run`` (for ``audit compare`` of two earlier audits)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.errors import InputError

# What audit compare reads from each file; a file without one of these is refused, naming it.
_NEEDED = ("model", "data", "gate", "explanations", "decisions")


def load_results_file(path: Path, option: str) -> dict[str, Any] | None:
    """The results.json at ``path`` as a dict, or None when the file is a model (not ``.json``, or an XGBoost
    JSON model). Any other ``.json`` is an InputError naming ``option``, the file and the keys it lacks, as
    is a results.json of another major version or one missing a key compare needs."""
    if path.suffix.lower() != ".json" or not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, json.JSONDecodeError) as exc:
        raise InputError(f"{option} {path}: not a results.json: not readable as JSON ({str(exc)[:120]}). Give the "
                         "results.json that `audit run` wrote, or a model file.") from None
    if isinstance(record, dict) and "learner" in record:
        return None  # an XGBoost model saved as JSON
    if not isinstance(record, dict) or "schema_version" not in record or "explanations" not in record:
        lacks = ["schema_version", *_NEEDED] if not isinstance(record, dict) else \
            [k for k in ("schema_version", *_NEEDED) if k not in record]
        what = f"a JSON {type(record).__name__}, not an object" if not isinstance(record, dict) else "a JSON object"
        raise InputError(f"{option} {path}: not a results.json ({what} without the keys "
                         f"{', '.join(repr(k) for k in lacks)}). Give the results.json that `audit run` wrote, "
                         "or a model file.")
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
    """The results.json at ``path`` (checked as :func:`load_results_file` checks it) and its bytes, for the
    commands that take nothing else (``audit docs``, ``audit attest``); anything else is an InputError."""
    if not path.is_file():
        raise InputError(f"{option} {path}: no such file. Give the results.json that `audit run` wrote.")
    record = load_results_file(path, option) if path.suffix.lower() == ".json" else None
    if record is None:
        raise InputError(f"{option} {path}: not a results.json (a .json file written by `audit run` is expected). "
                         "Give the results.json from the audit's output folder.")
    return record, path.read_bytes()
