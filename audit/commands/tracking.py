"""MLflow logging of an audit (``audit run --mlflow``; needs the ``mlflow`` extra).

Logs to the active run, or else to a new run (mlflow's own ``MLFLOW_RUN_ID`` resumes a given run) in the
experiment named by ``MLFLOW_EXPERIMENT_NAME`` / ``MLFLOW_EXPERIMENT_ID``, by default ``xai-audit``; the
tracking server is mlflow's ``MLFLOW_TRACKING_URI``. What is logged:

- artifacts: ``report.pdf``, ``results.json`` (and the JUnit XML when written) under ``xai-audit/``;
- metrics: ``faithfulness_score/METHOD`` per explainer with a score, ``selection_rate_ratio/ATTR`` per
  protected attribute measured, and ``gate_passed`` (1 or 0);
- tags: ``xai_audit.gate`` (``passed`` / ``failed``), ``xai_audit.failed_checks`` (names of the checks
  that did not pass), ``xai_audit.version``, and the SHA-256 of the model, data and configuration and of
  each logged file (``xai_audit.sha256.model``, ``xai_audit.sha256.report.pdf``, ...).

A run this module starts (or resumes through ``MLFLOW_RUN_ID``) is ended; an active run is left open for
its owner. Metric names keep the characters MLflow accepts; any other character of a column name becomes ``_``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.errors import InputError
from audit.results import AuditResult

__all__ = ["DEFAULT_EXPERIMENT", "check_mlflow", "log_audit", "audit_metrics", "audit_tags"]

DEFAULT_EXPERIMENT = "xai-audit"
_TAG_LIMIT = 5000  # MLflow stores tag values up to 5,000 characters on every backend


def _mlflow() -> Any:
    try:
        import mlflow
    except ImportError:
        raise InputError("--mlflow needs MLflow, which is not installed. Install the extra: "
                         "pip install 'xai-audit[mlflow]'.") from None
    return mlflow


def check_mlflow() -> None:
    """Before the long work: MLflow is installed and its tracking store answers (one message, exit 2, if not)."""
    mlflow = _mlflow()
    try:
        if mlflow.active_run() is None and not os.environ.get("MLFLOW_RUN_ID"):
            _experiment(mlflow)
    except Exception as exc:  # noqa: BLE001 - any store failure is the user's setting to fix
        raise InputError(f"--mlflow: the tracking store {mlflow.get_tracking_uri()!r} cannot be used "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:300]}). Set MLFLOW_TRACKING_URI "
                         "to a reachable server or store, or run without --mlflow.") from None


def _experiment(mlflow: Any) -> str:
    """The experiment a new run goes to: mlflow's environment variables, else ``xai-audit`` (created if new)."""
    if os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return os.environ["MLFLOW_EXPERIMENT_ID"]
    return mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT).experiment_id


def _metric_name(text: str) -> str:
    """``text`` with the characters MLflow refuses in a metric name replaced by ``_``.

    >>> _metric_name("selection_rate_ratio/age (years)")
    'selection_rate_ratio/age _years_'
    """
    return re.sub(r"[^\w\-. /]", "_", text)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def audit_metrics(result: AuditResult) -> dict[str, float]:
    """The numbers logged as metrics.

    >>> from audit.gate import Gate
    >>> r = type("R", (), {"gate": Gate(True, ()), "explanations": (), "protected": {}})()
    >>> audit_metrics(r)
    {'gate_passed': 1.0}
    """
    out = {_metric_name(f"faithfulness_score/{e.method}"): float(e.faithfulness_score) for e in result.explanations
           if _finite(e.faithfulness_score)}
    fairness = (result.protected.get("outcome_fairness") or {}).get("attributes", {})
    out |= {_metric_name(f"selection_rate_ratio/{attr}"): float(a["selection_rate_ratio"]["value"])
            for attr, a in fairness.items()
            if a.get("selection_rate_ratio") and _finite(a["selection_rate_ratio"]["value"])}
    out["gate_passed"] = 1.0 if result.gate.passed else 0.0
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audit_tags(result: AuditResult, files: Mapping[str, Path]) -> dict[str, str]:
    """The verdict, the failed checks, the tool version and every SHA-256, as tags."""
    failed = ", ".join(c.name for c in result.gate.failed) or "none"
    if len(failed) > _TAG_LIMIT:
        failed = failed[: _TAG_LIMIT - 30].rsplit(", ", 1)[0] + ", ... (see results.json)"
    return {"xai_audit.gate": "passed" if result.gate.passed else "failed", "xai_audit.failed_checks": failed,
            "xai_audit.version": result.tool_version,
            "xai_audit.sha256.model": result.model["sha256"], "xai_audit.sha256.data": result.data["sha256"],
            "xai_audit.sha256.config": result.reproducibility["config_sha256"],
            **{f"xai_audit.sha256.{Path(path).name}": _sha256(Path(path)) for path in files.values()}}


def log_audit(result: AuditResult, files: Mapping[str, Path]) -> str:
    """Log ``result`` and its written ``files`` (name -> path, e.g. ``{"json": ..., "pdf": ...}``) to MLflow;
    returns the run id."""
    mlflow = _mlflow()
    active = mlflow.active_run()
    run = active or mlflow.start_run(experiment_id=None if os.environ.get("MLFLOW_RUN_ID") else _experiment(mlflow))
    try:
        for path in files.values():
            mlflow.log_artifact(str(path), artifact_path="xai-audit")
        mlflow.log_metrics(audit_metrics(result))
        mlflow.set_tags(audit_tags(result, files))
    except Exception as exc:  # noqa: BLE001 - the store failed after the report was written
        raise InputError(f"--mlflow: the report was written, but logging it to {mlflow.get_tracking_uri()!r} "
                         f"failed ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}). Check the tracking "
                         "store and log the files again, or run without --mlflow.") from None
    finally:
        if active is None:
            mlflow.end_run()
    return run.info.run_id
