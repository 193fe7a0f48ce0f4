"""The audit's result value and its results.json form (stable keys: add freely, never rename)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from audit.gate import Gate
from audit.records import (
    AgreementRecord,
    AvailabilityRecord,
    ChallengerRecord,
    CompareDataRecord,
    ComparePerformanceRecord,
    CompareReproducibilityRecord,
    CompareSideRecord,
    ControlsRecord,
    DataRecord,
    DecisionRecourseRecord,
    ExplanationDriftRecord,
    FaithfulnessSummaryRecord,
    FlipsRecord,
    JSONObject,
    LdaRecord,
    MetricRecord,
    ModelRecord,
    PerformanceRecord,
    ProtectedRecord,
    RandomisationRecord,
    ReasonChangeRecord,
    ReasonDirectionsRecord,
    ReasonRecord,
    ReasonReferenceRecord,
    ReasonsBasisRecord,
    ReproducibilityRecord,
    TraceRecord,
    ValidationRecord,
)
from audit.types import Attribution, Dataset

if TYPE_CHECKING:  # audit.recourse imports this module; its search module does not, but its package does
    from audit.recourse.search import RecourseRun

__all__ = ["SCHEMA_VERSION", "COMPARE_SCHEMA_VERSION", "ExplanationResult", "Decision", "RowOutcomes", "AuditResult",
           "CompareResult", "to_jsonable"]

SCHEMA_VERSION = "1.7"  # 1.7: trace (the regulation trace of checks, measures and sections), reasons_basis (background and typical values, for audit reasons --audit), protected_attributes.score_disparity, explanation_parity, outcome fairness on policy.intersections, lda; 1.6: validation (calibration, discrimination, score bands, population stability, expected directions, effect curves); 1.5: reason_reference (Regulation B reference), reason_directions.between_explainers; 1.4: checks' status (not_measured / not_required / waived) and interval, protected_source, the audit plan in model evaluations; 1.3: reproducibility.audit_plan; 1.2: decisions[].recourse, the recourse record, protected_attributes.outcome_fairness


@dataclass(frozen=True)
class ExplanationResult:
    method: str
    kind: str
    rows_explained: int
    seconds: float
    global_importance: dict[str, float]
    faithfulness: dict[str, MetricRecord]
    faithfulness_score: float
    faithfulness_score_ci: tuple[float, float]
    algorithm: JSONObject  # the explainer's own meta (third-party explainers write their own keys)
    output_space: str
    stability: float | None = None
    max_sensitivity: float | None = None
    additivity_error: float | None = None
    randomisation: RandomisationRecord | None = None
    mean_local_r2: float | None = None
    findings: tuple[str, ...] = ()
    faithfulness_summary: FaithfulnessSummaryRecord = field(default_factory=dict)  # type: ignore[arg-type]

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
    reasons: tuple[ReasonRecord, ...]
    method: str
    values: dict[str, str] = field(default_factory=dict)
    rule: str | None = None
    reasons_by_method: dict[str, tuple[ReasonRecord, ...]] = field(default_factory=dict)
    recourse: DecisionRecourseRecord | None = None  # counterfactuals verified by the model (adverse decisions searched)

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "prediction": self.prediction, "outcome": self.outcome, "adverse": self.adverse,
                "reasons": list(self.reasons), "method": self.method, "applicant_values": self.values,
                "decision_path": self.rule,
                "reasons_by_method": {k: list(v) for k, v in self.reasons_by_method.items()},
                "recourse": self.recourse}


@dataclass(frozen=True, eq=False)
class RowOutcomes:
    """Every row of DATA as the audit saw it: the validated data, the explained score and the decided label
    (not in results.json; ``audit compare`` pairs two models' rows with it)."""

    dataset: Dataset
    score: np.ndarray
    label: np.ndarray


@dataclass(frozen=True)
class AuditResult:
    tool_version: str
    created_at: str
    model: ModelRecord
    data: DataRecord
    config: JSONObject  # the validated AuditConfig as JSON
    gate: Gate
    explanations: tuple[ExplanationResult, ...]
    controls: ControlsRecord
    decisions: tuple[Decision, ...]
    agreement: AgreementRecord
    performance: PerformanceRecord | None
    challenger: ChallengerRecord | None
    protected: ProtectedRecord
    reproducibility: ReproducibilityRecord
    warnings: tuple[str, ...] = ()
    attributions: dict[str, Attribution] = field(default_factory=dict, repr=False)
    # the encoded background rows, and each input's typical value (reasons say high / low); not in results.json
    background: np.ndarray | None = field(default=None, repr=False)
    typical: np.ndarray | None = field(default=None, repr=False)
    outcomes: RowOutcomes | None = field(default=None, repr=False)  # every row's score and label
    recourse: RecourseRun | None = None  # the search's record and the data's support
    reason_directions: ReasonDirectionsRecord | None = None  # the reported reasons' direction words checked
    reason_reference: ReasonReferenceRecord | None = None  # what the reasons measure against
    validation: ValidationRecord | None = None  # audit.measures.evidence.ValidationEvidence.record: the validator's evidence
    trace: TraceRecord | None = None  # report_templates.trace: the clauses each check, measure and section supports
    lda: LdaRecord | None = None  # the less-discriminatory-alternative search ([lda] enabled), else None
    reasons_basis: ReasonsBasisRecord | None = None  # the background and typical values, for audit reasons --audit

    def to_json(self) -> dict[str, Any]:
        return to_jsonable({
            "schema_version": SCHEMA_VERSION, "tool_version": self.tool_version, "created_at": self.created_at,
            "model": self.model, "data": self.data, "config": self.config, "gate": self.gate.to_json(),
            "explanations": [e.to_json() for e in self.explanations], "controls": self.controls,
            "decisions": [d.to_json() for d in self.decisions], "agreement": self.agreement,
            "performance": self.performance, "challenger": self.challenger, "protected_attributes": self.protected,
            "reproducibility": self.reproducibility, "warnings": list(self.warnings),
            "recourse": self.recourse.record if self.recourse is not None else None,
            "reason_directions": self.reason_directions, "reason_reference": self.reason_reference,
            "validation": self.validation, "lda": self.lda, "trace": self.trace,
            "reasons_basis": self.reasons_basis,
        })

    def dumps(self) -> str:
        """results.json's text: indented, with one decision per line (a portfolio run has one per explained row,
        and the indenting encoder is pure Python: 30,000 decisions took seconds more)."""
        record = self.to_json()
        decisions, mark = record["decisions"], "\u0001decisions\u0001"
        record["decisions"] = mark
        text = json.dumps(record, indent=2, sort_keys=False, allow_nan=False)
        rows = ",\n".join("    " + json.dumps(d, allow_nan=False) for d in decisions)
        return text.replace(json.dumps(mark), "[\n" + rows + "\n  ]" if decisions else "[]", 1)


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


COMPARE_SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class CompareResult:
    """``audit compare``: a candidate model against its baseline (compare.json; stable keys, add freely).

    ``audits`` holds the two :class:`AuditResult` values when both models were audited here (not in
    compare.json; each is written as its own results.json)."""

    tool_version: str
    created_at: str
    mode: str  # "models" (both audited on DATA) or "results" (two results.json files)
    baseline: CompareSideRecord
    candidate: CompareSideRecord
    data: CompareDataRecord
    gate: Gate
    availability: dict[str, AvailabilityRecord]
    performance: ComparePerformanceRecord | None
    explanation_drift: ExplanationDriftRecord
    reasons: ReasonChangeRecord | None
    flips: FlipsRecord | None
    policy: JSONObject  # the validated [policy.compare] as JSON
    reproducibility: CompareReproducibilityRecord
    report: JSONObject = field(default_factory=dict)  # [report] as JSON: organisation, title, outcome labels
    warnings: tuple[str, ...] = ()
    audits: tuple[AuditResult, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        return to_jsonable({
            "compare_schema_version": COMPARE_SCHEMA_VERSION, "tool_version": self.tool_version,
            "created_at": self.created_at, "mode": self.mode, "baseline": self.baseline,
            "candidate": self.candidate, "data": self.data, "gate": self.gate.to_json(),
            "availability": self.availability, "performance": self.performance,
            "explanation_drift": self.explanation_drift, "reasons": self.reasons, "flips": self.flips,
            "policy": self.policy, "reproducibility": self.reproducibility, "report": self.report,
            "warnings": list(self.warnings),
        })

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False, allow_nan=False)
