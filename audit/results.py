"""The audit's result value and its results.json form (stable keys: add freely, never rename)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.gate import Gate

__all__ = ["SCHEMA_VERSION", "ExplanationResult", "Decision", "AuditResult", "to_jsonable"]

SCHEMA_VERSION = "1.2"  # 1.2: protected_attributes.outcome_fairness


@dataclass(frozen=True)
class ExplanationResult:
    method: str
    kind: str
    rows_explained: int
    seconds: float
    global_importance: dict[str, float]
    faithfulness: dict[str, Any]
    faithfulness_score: float
    faithfulness_score_ci: tuple[float, float]
    algorithm: dict[str, Any]
    output_space: str
    stability: float | None = None
    max_sensitivity: float | None = None
    additivity_error: float | None = None
    randomisation: dict[str, Any] | None = None
    mean_local_r2: float | None = None
    findings: tuple[str, ...] = ()
    faithfulness_summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method, "kind": self.kind, "rows_explained": self.rows_explained,
            "seconds": round(self.seconds, 4), "global_importance": self.global_importance,
            "faithfulness": self.faithfulness, "faithfulness_score": self.faithfulness_score,
            "faithfulness_score_ci95": list(self.faithfulness_score_ci),
            "faithfulness_summary": self.faithfulness_summary, "algorithm": self.algorithm,
            "output_space": self.output_space, "stability_topk_jaccard": self.stability,
            "max_sensitivity": self.max_sensitivity, "additivity_error": self.additivity_error,
            "randomisation_check": self.randomisation, "mean_local_r2": self.mean_local_r2,
            "findings": list(self.findings),
        }


@dataclass(frozen=True)
class Decision:
    row: int
    prediction: float
    outcome: str
    adverse: bool
    reasons: tuple[dict[str, Any], ...]
    method: str
    values: dict[str, str] = field(default_factory=dict)
    rule: str | None = None
    reasons_by_method: dict[str, tuple[dict[str, Any], ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "prediction": self.prediction, "outcome": self.outcome, "adverse": self.adverse,
                "reasons": list(self.reasons), "method": self.method, "applicant_values": self.values,
                "decision_path": self.rule,
                "reasons_by_method": {k: list(v) for k, v in self.reasons_by_method.items()}}


@dataclass(frozen=True)
class AuditResult:
    tool_version: str
    created_at: str
    model: dict[str, Any]
    data: dict[str, Any]
    config: dict[str, Any]
    gate: Gate
    explanations: tuple[ExplanationResult, ...]
    controls: dict[str, Any]
    decisions: tuple[Decision, ...]
    agreement: dict[str, Any]
    performance: dict[str, Any] | None
    challenger: dict[str, Any] | None
    protected: dict[str, Any]
    reproducibility: dict[str, Any]
    warnings: tuple[str, ...] = ()
    attributions: dict[str, Any] = field(default_factory=dict, repr=False)
    background: Any = field(default=None, repr=False)  # the encoded background rows (not in results.json)
    typical: Any = field(default=None, repr=False)  # each input's median over DATA (reasons say high / low)

    def to_json(self) -> dict[str, Any]:
        return to_jsonable({
            "schema_version": SCHEMA_VERSION, "tool_version": self.tool_version, "created_at": self.created_at,
            "model": self.model, "data": self.data, "config": self.config, "gate": self.gate.to_json(),
            "explanations": [e.to_json() for e in self.explanations], "controls": self.controls,
            "decisions": [d.to_json() for d in self.decisions], "agreement": self.agreement,
            "performance": self.performance, "challenger": self.challenger, "protected_attributes": self.protected,
            "reproducibility": self.reproducibility, "warnings": list(self.warnings),
        })

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False, allow_nan=False)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
