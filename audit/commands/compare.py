"""``audit compare``: a candidate model against its baseline, on the same rows, gated by ``[policy.compare]``.

Two modes, and what each can measure (``availability`` in compare.json says it per run):

- **Two models and DATA**: both are audited by :func:`audit.commands.runner.run_audit` with one configuration and
  seed, so they explain the same rows with the same background. Everything is measured: performance
  deltas with paired bootstrap CIs (the same resampled rows for both), global-importance drift (rank
  correlation and top-k overlap), the faithfulness delta, the principal-reason change rate on the same
  explained rows, and decision flips on every row of DATA, by protected group.
- **Two results.json files**: there are no rows to re-predict. Global-importance drift, faithfulness
  deltas and performance deltas (point values, no CI) are measured; the principal-reason change and
  flips only on the decisions both files show, when both audited the same data; flips by protected
  group and paired CIs are not available.

Measures are taken by the pure functions of their own boxes (:mod:`audit.measures.agreement`,
:mod:`audit.measures.performance`, :mod:`audit.gate`); this module pairs the two audits' records and rows.

>>> # compare_models(Path("v1.skops"), Path("v2.skops"), Path("data.csv"), config=AuditConfig(target="risk"))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audit.commands.budget import MINIMUMS as BUDGETED
from audit.config import AuditConfig
from audit.errors import DataError
from audit.gate import CompareEvidence, evaluate_compare
from audit.measures.agreement import importance_agreement
from audit.measures.grouping import as_categorical, attribute_groups, holds
from audit.measures.performance import headline_measure, paired_deltas
from audit.progress import Progress
from audit.provenance import created_at, package_versions, sha256_text
from audit.records import (
    ComparePerformanceRecord,
    CompareReproducibilityRecord,
    CompareSideRecord,
    ExplanationDriftRecord,
    FlipsRecord,
    GroupFlipsRecord,
    JSONObject,
    ReasonChangeRecord,
)
from audit.results import CompareResult, RowOutcomes
from audit.types import Dataset
from audit.version import __version__

__all__ = ["compare_models", "compare_results", "decision_flips", "group_labels",
           "reason_change", "explanation_drift", "AVAILABILITY"]

_MODELS_ONLY = "needs the rows: compare two models on DATA"
AVAILABILITY = {
    "models": {k: (True, "measured") for k in ("performance", "performance_ci", "importance_drift",
                                               "faithfulness_delta", "reason_change", "flips", "flips_by_group")},
    "results": {"performance": (True, "point values from each file's performance"),
                "performance_ci": (False, f"a paired CI {_MODELS_ONLY}"),
                "importance_drift": (True, "from each file's global importance"),
                "faithfulness_delta": (True, "from each file's faithfulness score"),
                "reason_change": (True, "on the decisions both files show, when they audited the same data"),
                "flips": (True, "on the decisions both files show (the explained sample), not on every row"),
                "flips_by_group": (False, f"results.json holds no protected group columns; {_MODELS_ONLY}")},
}


def compare_models(baseline: Path, candidate: Path, data: Path, *, config: AuditConfig, config_text: str = "",
                   trust_model: bool = False, model_class: str | None = None, progress: Progress | None = None,
                   command_line: str | None = None) -> CompareResult:
    """Audit both models on DATA with one configuration and seed, then compare them."""
    from audit.commands.runner import run_audit

    def audit(path: Path, settings: AuditConfig) -> Any:
        return run_audit(path, data, config=settings, config_text=config_text, trust_model=trust_model,
                         model_class=model_class, progress=progress, command_line=command_line)

    first = audit(baseline, config)
    # the candidate explains the rows the baseline's time budget chose (audit.commands.budget), so both see the same rows
    counts = {k: first.config[k] for k in BUDGETED}
    audits = (first, audit(candidate, config.model_copy(update=counts)))
    base, cand = (a.to_json() for a in audits)
    _same_task(base, cand)
    rows = (audits[0].outcomes, audits[1].outcomes)
    return _compare(base, cand, rows, config, "models", command_line, audits)


def compare_results(baseline: Mapping[str, Any], candidate: Mapping[str, Any], *, config: AuditConfig,
                    command_line: str | None = None) -> CompareResult:
    """Compare two earlier audits from their results.json records (see the module docstring for what
    this mode cannot measure)."""
    _same_task(baseline, candidate)
    return _compare(dict(baseline), dict(candidate), None, config, "results", command_line, ())


def _same_task(base: Mapping[str, Any], cand: Mapping[str, Any]) -> None:
    """Two models are comparable when they have the same task and classes."""
    for key in ("task", "classes"):
        if base["model"].get(key) != cand["model"].get(key):
            raise DataError(f"baseline and candidate differ in {key} ({base['model'].get(key)!r} against "
                            f"{cand['model'].get(key)!r}): compare two versions of the same kind of model.")


def _compare(base: dict[str, Any], cand: dict[str, Any], rows: tuple[RowOutcomes, RowOutcomes] | None,
             config: AuditConfig, mode: str, command_line: str | None, audits: tuple) -> CompareResult:
    """Every measure, the evidence for the gate, and the result."""
    policy = config.policy.compare
    same_data = base["data"]["sha256"] == cand["data"]["sha256"]
    drift = explanation_drift(base, cand)
    method = drift["method"]
    reasons = reason_change(base["decisions"], cand["decisions"]) if same_data else None
    performance = _performance(base, cand, rows, config)
    flips = _flips(base, cand, rows, config) if base["model"]["task"] != "regression" and same_data else None
    missing = _missing(base, performance, method, reasons, flips, same_data, config.policy.protected_attributes)
    evidence = _evidence(base, performance, drift, reasons, flips, missing)
    return CompareResult(
        tool_version=__version__, created_at=created_at(), mode=mode, baseline=_side(base), candidate=_side(cand),
        data={"path": base["data"]["path"], "sha256": base["data"]["sha256"], "rows": base["data"]["rows"],
              "candidate_sha256": cand["data"]["sha256"], "same_data": same_data},
        gate=evaluate_compare(policy, evidence),
        availability={k: {"available": ok, "note": note} for k, (ok, note) in AVAILABILITY[mode].items()},
        performance=performance, explanation_drift=drift, reasons=reasons, flips=flips,
        policy=policy.model_dump(mode="json"), reproducibility=_reproducibility(config, command_line),
        report=_report(config, base),
        warnings=tuple(_warnings(base, cand, same_data)), audits=audits)


def _evidence(base: Mapping[str, Any], performance: dict[str, Any] | None, drift: dict[str, Any],
              reasons: dict[str, Any] | None, flips: dict[str, Any] | None, missing: dict[str, str]) -> CompareEvidence:
    """The gate's view of the measures: the headline performance delta, the reporting method's drift, the
    principal-reason change, the flip rate and each protected attribute's gap."""
    measure = (performance or {}).get("measure")
    delta = (performance or {}).get("values", {}).get(measure)
    gated = drift["by_method"].get(drift["method"], {})
    return CompareEvidence(
        performance=(measure, delta["delta"], tuple(delta["delta_ci95"])) if delta else None,
        method=drift["method"], importance_rank=gated.get("spearman"), importance_topk=gated.get("topk_overlap"),
        reason_change=(reasons["principal_change_rate"], reasons["rows"]) if reasons else None,
        faithfulness_delta=gated.get("faithfulness", {}).get("delta"),
        flip_rate=(flips["rate"], flips["rows"]) if flips else None,
        group_gaps={a: (g["gap"], g["high"], g["low"]) for a, g in ((flips or {}).get("by_group") or {}).items()
                    if g["gap"] is not None},
        adverse_flips=base["model"].get("favorable_class") is not None, missing=missing)


def _side(record: Mapping[str, Any]) -> CompareSideRecord:
    """What compare.json keeps of one audit: its identity, its own verdict and its explainers."""
    m = record["model"]
    return {"path": m["path"], "sha256": m["sha256"], "type": m["type"], "task": m["task"],
            "features": record["data"].get("features", []), "gate_passed": record["gate"]["passed"],
            "explainers": [e["method"] for e in record["explanations"]],
            "reporting_method": record["decisions"][0]["method"] if record["decisions"] else None,
            "favorable_class": m.get("favorable_class"), "created_at": record.get("created_at")}


def _report(config: AuditConfig, base: Mapping[str, Any]) -> JSONObject:
    """``[report]`` of the configuration, its unset values (organisation, outcome labels...) taken from the
    baseline audit's own configuration (what a results.json carries)."""
    own = config.report.model_dump(mode="json")
    audited = (base.get("config") or {}).get("report") or {}
    return {k: v if v or k not in audited else audited[k] for k, v in own.items()}


def _reproducibility(config: AuditConfig, command_line: str | None) -> CompareReproducibilityRecord:
    text, overrides = config.source
    return {"seed": config.seed, "config_sha256": sha256_text(text), "config_text": text,
            "config_overrides": overrides, "command_line": command_line, "package_versions": package_versions()}


def _warnings(base: Mapping[str, Any], cand: Mapping[str, Any], same_data: bool) -> list[str]:
    out = []
    if not same_data:
        out.append("the two audits used different data (SHA-256 differs): reasons and flips are not compared, "
                   "and the other measures compare audits of different rows")
    if base["model"].get("favorable_class_source") == "assumed":
        out.append(f"favorable_class is not set: flips to the adverse outcome assume class "
                   f"{base['model']['favorable_class']!r} is favourable. Set favorable_class in audit.toml.")
    b, c = (r.get("reproducibility", {}).get("seed") for r in (base, cand))
    if b != c:
        out.append(f"the two audits used different seeds ({b} and {c}): they explained different rows")
    return out


def explanation_drift(base: Mapping[str, Any], cand: Mapping[str, Any], k: int = 3) -> ExplanationDriftRecord:
    """Per explainer both audits ran: rank correlation and top-``k`` overlap of global importance, and the
    faithfulness delta. ``method`` is the one the gate judges: the baseline's reporting method (the one its
    reasons come from) when the candidate ran it too, else the first explainer both ran.

    >>> e = {"method": "shap", "global_importance": {"x": 3.0, "y": 2.0, "z": 1.0}, "faithfulness_score": 0.8}
    >>> base = {"explanations": [e], "decisions": [{"method": "shap"}]}
    >>> cand = {"explanations": [{**e, "global_importance": {"x": 3.0, "z": 1.0}, "faithfulness_score": 0.7}]}
    >>> d = explanation_drift(base, cand, k=2)["by_method"]["shap"]
    >>> d["topk_overlap"], d["only_baseline"], round(d["faithfulness"]["delta"], 2)
    (0.5, ['y'], -0.1)
    """
    other = {e["method"]: e for e in cand["explanations"]}
    by_method = {}
    for e in base["explanations"]:
        o = other.get(e["method"])
        if o is None:
            continue
        a, b = e.get("faithfulness_score"), o.get("faithfulness_score")
        by_method[e["method"]] = {
            **importance_agreement(e["global_importance"], o["global_importance"], k),
            "faithfulness": {"baseline": a, "candidate": b, "delta": None if a is None or b is None else b - a,
                             "baseline_ci95": e.get("faithfulness_score_ci95"),
                             "candidate_ci95": o.get("faithfulness_score_ci95")},
            "baseline_importance": e["global_importance"], "candidate_importance": o["global_importance"]}
    reporting = [d["method"] for d in base["decisions"][:1]] + list(by_method)
    return {"method": next((m for m in reporting if m in by_method), None), "by_method": by_method,
            "only_baseline": [e["method"] for e in base["explanations"] if e["method"] not in other],
            "only_candidate": [m for m in other if m not in by_method]}


def _principal(reasons: Sequence[Mapping[str, Any]]) -> str | None:
    return reasons[0]["feature"] if reasons else None


def reason_change(base: Sequence[Mapping[str, Any]], cand: Sequence[Mapping[str, Any]], *,
                  examples: int = 10) -> ReasonChangeRecord | None:
    """On the rows both audits explained: the share whose principal (first) reason changed and the share
    whose set of reasons changed, for the reasons each audit reports (what an applicant would be told)
    and for every explainer both ran. None when no row is shared.

    >>> a = [{"row": 1, "outcome": "0", "method": "m", "reasons": [{"feature": "x"}, {"feature": "y"}]}]
    >>> b = [{"row": 1, "outcome": "0", "method": "m", "reasons": [{"feature": "y"}, {"feature": "x"}]}]
    >>> r = reason_change(a, b)
    >>> r["principal_change_rate"], r["reason_set_change_rate"]
    (1.0, 0.0)
    """
    other = {d["row"]: d for d in cand}
    pairs = [(d, other[d["row"]]) for d in base if d["row"] in other]
    if not pairs:
        return None

    def rates(get: Any) -> tuple[float, float]:
        principal = np.mean([_principal(get(a)) != _principal(get(b)) for a, b in pairs])
        sets = np.mean([{r["feature"] for r in get(a)} != {r["feature"] for r in get(b)} for a, b in pairs])
        return float(principal), float(sets)

    principal, sets = rates(lambda d: d["reasons"])
    methods = [m for m in pairs[0][0].get("reasons_by_method", {}) if m in pairs[0][1].get("reasons_by_method", {})]
    by_method = {m: dict(zip(("principal_change_rate", "reason_set_change_rate"),
                             rates(lambda d, m=m: d["reasons_by_method"][m]))) for m in methods}
    changed = [{"row": a["row"], "baseline_outcome": a["outcome"], "candidate_outcome": b["outcome"],
                "baseline_reason": _principal(a["reasons"]), "candidate_reason": _principal(b["reasons"])}
               for a, b in pairs if _principal(a["reasons"]) != _principal(b["reasons"])]
    return {"rows": len(pairs), "principal_changed": len(changed), "principal_change_rate": principal,
            "reason_set_change_rate": sets, "baseline_method": pairs[0][0]["method"],
            "candidate_method": pairs[0][1]["method"], "by_method": by_method, "examples": changed[:examples]}


def _performance(base: Mapping[str, Any], cand: Mapping[str, Any], rows: tuple[RowOutcomes, RowOutcomes] | None,
                 config: AuditConfig) -> ComparePerformanceRecord | None:
    """Paired deltas on DATA's rows (two models), or the difference of the two files' figures."""
    m = base["model"]
    measure = headline_measure(m["task"])
    if rows is not None:
        ds = rows[0].dataset
        if ds.target is None:
            return None
        values = paired_deltas(m["task"], m.get("classes"), m.get("explained_class"), ds.target,
                               (rows[0].score, rows[0].label), (rows[1].score, rows[1].label),
                               n_bootstrap=config.bootstrap, seed=config.seed)
        return {"measure": measure, "paired_bootstrap": config.bootstrap, "rows": ds.n_rows, "values": values}
    a, b = base.get("performance"), cand.get("performance")
    if not a or not b:
        return None
    values = {k: {"baseline": v, "candidate": b[k], "delta": b[k] - v, "delta_ci95": [None, None]}
              for k, v in a.items() if isinstance(v, float) and isinstance(b.get(k), float)}
    return {"measure": measure, "paired_bootstrap": 0, "rows": a.get("rows"), "values": values}


def _flips(base: Mapping[str, Any], cand: Mapping[str, Any], rows: tuple[RowOutcomes, RowOutcomes] | None,
           config: AuditConfig) -> dict[str, Any] | None:
    """Flips on every row (two models, by protected group) or on the decisions both files show."""
    favorable = base["model"].get("favorable_class")
    if rows is not None:
        bins = config.policy.group_bins
        groups = {a: group_labels(a, rows[0].dataset, rows[1].dataset, edges=bins.get(a))
                  for a in config.policy.protected_attributes}
        return decision_flips(rows[0].label, rows[1].label, favorable,
                              {a: g for a, g in groups.items() if g is not None},
                              min_rows=config.policy.compare.min_group_rows)
    other = {d["row"]: d["outcome"] for d in cand["decisions"]}
    shared = [(d["outcome"], other[d["row"]]) for d in base["decisions"] if d["row"] in other]
    if not shared:
        return None
    a, b = (np.array(x, dtype=str) for x in zip(*shared))
    return decision_flips(a, b, favorable, {}, min_rows=config.policy.compare.min_group_rows)


def decision_flips(base: np.ndarray, cand: np.ndarray, favorable: str | None, groups: Mapping[str, Any], *,
                   min_rows: int) -> dict[str, Any]:
    """Rows whose decision differs between the two models: how many, in which direction (to the adverse
    outcome: from the favourable class to another; to the favourable one: the reverse), and per group of
    each protected attribute (``groups``: one label per row, an array or an ordered Categorical). A group of fewer than ``min_rows`` rows is
    reported as too small, with no counts or rates. ``gap``: the largest difference between rated groups
    in the share flipped to the adverse outcome (any flip without a favourable class).

    >>> f = decision_flips(np.array(["1", "1", "0", "0"]), np.array(["0", "1", "1", "0"]), "1",
    ...                    {"sex": np.array(["f", "f", "m", "m"])}, min_rows=2)
    >>> f["to_adverse"], f["to_favourable"], f["by_group"]["sex"]["gap"], f["by_group"]["sex"]["high"]
    (1, 1, 0.5, 'f')
    """
    a, b = np.asarray(base).astype(str), np.asarray(cand).astype(str)
    flipped = a != b
    adverse = flipped & (a == str(favorable)) if favorable is not None else flipped
    pairs, counts = np.unique(np.char.add(np.char.add(a[flipped], " -> "), b[flipped]), return_counts=True)
    out: FlipsRecord = {"rows": int(len(a)), "flipped": int(flipped.sum()), "rate": float(flipped.mean()),
                           "favorable_class": favorable, "transitions": dict(zip(pairs.tolist(), counts.tolist())),
                           "min_group_rows": min_rows}
    if favorable is not None:
        out["to_adverse"] = int(adverse.sum())
        out["to_favourable"] = int((flipped & (b == str(favorable))).sum())
    out["by_group"] = {attr: _group_flips(labels, flipped, adverse, min_rows) for attr, labels in groups.items()}
    return out


def _group_flips(labels: Any, flipped: np.ndarray, adverse: np.ndarray, min_rows: int) -> GroupFlipsRecord:
    """Counts and rates per group (in the categories' order), and the gap between the rated groups."""
    import pandas as pd

    labels = pd.Categorical(labels)
    groups = []
    for g in labels.categories:
        mask = np.asarray(labels == g)
        n = int(mask.sum())
        small = n < min_rows
        groups.append({"group": str(g), "rows": n, "too_small": small,
                       "flipped": None if small else int(flipped[mask].sum()),
                       "to_adverse": None if small else int(adverse[mask].sum()),
                       "rate": None if small else float(flipped[mask].mean()),
                       "adverse_rate": None if small else float(adverse[mask].mean())})
    rated = [g for g in groups if not g["too_small"]]
    if len(rated) < 2:
        return {"groups": groups, "gap": None, "high": None, "low": None,
                "note": f"fewer than two groups of at least {min_rows} rows: no gap measured"}
    ranked = sorted(rated, key=lambda g: g["adverse_rate"])  # stable: equal rates keep the groups' order
    low, high = ranked[0], ranked[-1]
    return {"groups": groups, "gap": high["adverse_rate"] - low["adverse_rate"], "high": high["group"],
            "low": low["group"]}


def group_labels(attr: str, *datasets: Dataset, edges: Sequence[float] | None = None) -> Any:
    """Each row's group for a protected attribute (an ordered ``pandas.Categorical``), from the first
    dataset that holds the column (a model input or a kept column), grouped as the fairness section groups
    it (:mod:`audit.measures.grouping`; ``edges``: the attribute's ``policy.group_bins``). None when no dataset holds it.

    >>> from audit.types import Dataset, FeatureSpace
    >>> ds = Dataset("d.csv", "", np.arange(12.0).reshape(12, 1), FeatureSpace(("age",), {}))
    >>> list(group_labels("age", ds).categories), list(group_labels("age", ds, edges=[6]).categories)
    (['< 2.75', '2.75 to < 5.5', '5.5 to < 8.25', '>= 8.25'], ['< 6', '>= 6'])
    """
    for ds in datasets:
        if holds(ds, attr):
            labels, order, _how = attribute_groups(ds, attr, edges)
            return as_categorical(labels, order)
    return None


def _missing(base: Mapping[str, Any], performance: dict[str, Any] | None, method: str | None,
             reasons: dict[str, Any] | None, flips: dict[str, Any] | None, same_data: bool,
             protected: Sequence[str]) -> dict[str, str]:
    """Why each measure the gate asks for could not be taken (check name -> reason)."""
    out = {}
    measure = headline_measure(base["model"]["task"])
    if performance is None:
        out["compare:performance"] = "no target column (--target), so performance was not measured"
    elif measure not in performance["values"]:
        out["compare:performance"] = f"{measure} could not be measured on this data"
    if method is None:
        why = "the two audits ran no explainer in common (--explainers)"
        out.update({f"compare:{k}": why for k in ("importance_rank", "importance_topk", "faithfulness")})
    rows_why = "the two audits used different data" if not same_data else "the two audits explained no row in common"
    if reasons is None:
        out["compare:reason_change"] = rows_why
    if flips is None and base["model"]["task"] != "regression":
        out["compare:flip_rate"] = rows_why
    groups = (flips or {}).get("by_group", {})
    for attr in protected:
        if attr in groups and groups[attr]["gap"] is None:
            out[f"compare:group_flip:{attr}"] = groups[attr]["note"]
    return out
