"""What ties a result to its inputs: the model, data and reproducibility records of results.json."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.loading import sha256_bytes
from audit.records import DataRecord, ModelRecord, ReproducibilityRecord
from audit.types import Dataset

__all__ = ["created_at", "package_versions", "model_record", "data_record", "class_balance", "reproducibility_record",
           "setup_warnings"]


def created_at() -> str:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds convention), as ISO 8601 UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec="seconds")
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scikit-learn", "shap", "lime", "reportlab", "pydantic", "torch", "captum", "skops"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _s(x: Any) -> Any:
    return None if x is None else str(x)


def model_record(loaded: Any, adapter: Adapter, *, explained_class: Any, per_row: bool, favorable: Any,
                 device: str, favorable_configured: bool = True) -> ModelRecord:
    """results.json's ``model``: identity, how it was loaded, task, classes and the explained class."""
    classes = [str(c) for c in adapter.classes] if adapter.classes is not None else None
    return {
        "path": loaded.path, "sha256": loaded.sha256, "framework": adapter.framework, "type": adapter.type_name,
        "task": adapter.task, "format": loaded.format, "loaded_with": loaded.how, "trusted": loaded.trusted,
        "output": adapter.output, "classes": classes,
        "explained_class": None if per_row else _s(explained_class),
        "explained_class_per_row": per_row, "favorable_class": _s(favorable), "device": device,
        "favorable_class_source": None if favorable is None else ("config" if favorable_configured else "assumed"),
        **{k: v for k, v in loaded.extra.items() if k in ("model_class", "spec_path", "spec_sha256")},
    }


def class_balance(ds: Dataset, classes: list[str] | None) -> dict[str, int] | None:
    from audit.measures.performance import class_labels

    if ds.target is None:
        return None
    vals, counts = np.unique(class_labels(ds.target, classes), return_counts=True)
    return {str(v): int(c) for v, c in zip(vals, counts)} if len(vals) <= 20 else None


def data_record(ds: Dataset, classes: list[str] | None, explain_rows: np.ndarray, n_background: int, *,
                role: str = "unknown") -> DataRecord:
    """results.json's ``data``: identity, columns, gaps, class balance, the rows explained, where the target
    came from (``given``, ``inferred`` or ``none``) and the data's role (``holdout``, ``training``, ``unknown``)."""
    return {"target_source": ds.target_source, "role": role,
        "path": ds.path, "sha256": ds.sha256, "rows": ds.n_rows, "features": list(ds.feature_names),
        "categorical": {k: [str(c) for c in v] for k, v in ds.space.categories.items()},
        "target": ds.target_name, "ignored_columns": list(ds.ignored_columns),
        "missing_values": {name: int(np.isnan(ds.X[:, j]).sum()) for j, name in enumerate(ds.feature_names)},
        "class_balance": class_balance(ds, classes), "explained_rows": [int(r) + 1 for r in explain_rows],
        "background_rows": int(n_background),
    }


def reproducibility_record(config: Any, config_text: str, command_line: str | None, counter: Any,
                           timings: dict[str, float], plan: Any = None) -> ReproducibilityRecord:
    """results.json's ``reproducibility``. Through the Python API the text ``parse_config`` was given is
    recorded (with its overrides), and the command line is None: only a CLI run has one."""
    source_text, overrides = config.source
    text = config_text or source_text
    return {
        "command_line": command_line, "entry_point": "cli" if command_line else "python api",
        "seed": config.seed, "config_sha256": sha256_text(text), "config_text": text,
        "config_overrides": overrides,
        "package_versions": package_versions(), "platform": platform.platform(), "timings_seconds": timings,
        "model_calls_total": counter.calls, "model_rows_total": counter.rows,
        "audit_plan": plan.record() if plan is not None else None,
    }


def sha256_text(text: str) -> str:

    return sha256_bytes(text.encode())


def setup_warnings(config: Any, adapter: Adapter) -> tuple[str, ...]:
    """What the user left unset that the report would otherwise have to guess."""
    out = []
    if adapter.task == "binary" and config.favorable_class is None:
        classes = [str(c) for c in adapter.classes]
        out.append(f"favorable_class is not set: outcomes are labelled neutrally ({', '.join(f'outcome {c}' for c in classes)}) "
                   f"and class {classes[-1]!r} is assumed favourable only to order the reasons. Set favorable_class "
                   "(and [report.outcomes]) in audit.toml.")
    if not config.report.organisation:
        out.append("report.organisation is not set: the report names no organisation. Set it in audit.toml [report].")
    if not config.report.review_contact:
        out.append("report.review_contact is not set: decision pages name no contact for human review. Set it in "
                   "audit.toml [report].")
    return tuple(out)
