"""An :class:`~audit.results.AuditResult` rebuilt from its results.json record (``audit render``).

The reports read only what results.json holds (the records, the gate's checks, the explanations and the
decisions); what it does not hold (the attributions, the background rows, every row's score, the recourse
search's support) is left empty, and no section reads it. Rendering the rebuilt result gives the same PDF bytes
as the run that wrote the file (tests/report/test_render.py).

>>> from audit.gate import Check
>>> check_from_json(Check("x", True, 0.5, 0.2, "ok", interval=(0.4, 0.6)).to_json()).interval
(0.4, 0.6)
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from audit.gate import Check, Gate
from audit.results import AuditResult, Decision, ExplanationResult

__all__ = ["result_from_json", "check_from_json"]


def _float(x: Any) -> float:
    """A float field written as None for NaN (results.json holds no NaN) back to NaN."""
    return math.nan if x is None else float(x)


def check_from_json(c: dict[str, Any]) -> Check:
    interval = c.get("interval")
    return Check(c["name"], c["passed"], c["value"], c["threshold"], c["message"], explainer=c.get("explainer"),
                 blocking=c.get("blocking", True), higher_is_better=c.get("higher_is_better"),
                 status=c.get("status", "measured"), interval=None if interval is None else tuple(interval))


def _explanation(e: dict[str, Any]) -> ExplanationResult:
    ci = e.get("faithfulness_score_ci95") or [None, None]
    return ExplanationResult(
        method=e["method"], kind=e["kind"], rows_explained=e["rows_explained"], seconds=e["seconds"],
        global_importance=e["global_importance"], faithfulness=e["faithfulness"],
        faithfulness_score=_float(e["faithfulness_score"]), faithfulness_score_ci=(_float(ci[0]), _float(ci[1])),
        algorithm=e["algorithm"], output_space=e["output_space"], stability=e.get("stability_topk_jaccard"),
        max_sensitivity=e.get("max_sensitivity"), additivity_error=e.get("additivity_error"),
        randomisation=e.get("randomisation_check"), mean_local_r2=e.get("mean_local_r2"),
        findings=tuple(e.get("findings") or ()), faithfulness_summary=e.get("faithfulness_summary") or {})


def _decision(d: dict[str, Any]) -> Decision:
    return Decision(row=d["row"], prediction=d["prediction"], outcome=d["outcome"], adverse=d["adverse"],
                    reasons=tuple(d["reasons"]), method=d["method"], values=d.get("applicant_values") or {},
                    rule=d.get("decision_path"),
                    reasons_by_method={k: tuple(v) for k, v in (d.get("reasons_by_method") or {}).items()},
                    recourse=d.get("recourse"))


def result_from_json(record: dict[str, Any]) -> AuditResult:
    """The :class:`AuditResult` a results.json record describes (as far as the record holds it)."""
    from audit.recourse.search import RecourseRun

    g = record["gate"]
    gate = Gate(g["passed"], tuple(check_from_json(c) for c in g["checks"]), tuple(g.get("passing_explainers") or ()))
    recourse = record.get("recourse")
    typed = dict(
        tool_version=record["tool_version"], created_at=record["created_at"], model=record["model"],
        data=record["data"], config=record["config"], gate=gate,
        explanations=tuple(_explanation(e) for e in record["explanations"]), controls=record["controls"],
        decisions=tuple(_decision(d) for d in record["decisions"]), agreement=record["agreement"],
        protected=record["protected_attributes"], reproducibility=record["reproducibility"],
        warnings=tuple(record.get("warnings") or ()),
        recourse=RecourseRun(recourse, None) if recourse is not None else None)
    # Every other field is a JSON record stored under its own name (performance, validation, trace, ...).
    plain = {f.name: record.get(f.name) for f in fields(AuditResult) if f.name not in typed and f.name in record}
    return AuditResult(**typed, **plain)
