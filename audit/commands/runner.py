"""The only orchestrator: load, adapt, explain, score, gate, assemble the result.

Every measurement lives in its own box (``audit.faithfulness``, ``audit.measures.agreement``,
``audit.measures.protected``, ``audit.measures.decisions``, ``audit.gate``); this module only calls them in order.

>>> # run_audit(Path("model.skops"), Path("data.csv"), config=AuditConfig(target="risk"))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.commands.lda import lda_for_session
from audit.commands.session import AuditSession, prepare
from audit.config import AuditConfig
from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness.evaluate import (
    EvaluationSettings,
    ExplainedGroup,
    controls_record,
    evaluate_explainer,
    randomised_model,
)
from audit.faithfulness.oracle import known_oracle
from audit.gate import (
    Gate,
    direction_checks,
    evaluate,
    evidence_checks,
    explanation_parity_checks,
    extend,
    stability_checks,
)
from audit.measures.agreement import agreement, agreement_evidence
from audit.measures.decisions import decisions, primary_explainer
from audit.measures.directions import direction_summary
from audit.measures.evidence import measure_evidence
from audit.measures.fairness import measure_fairness
from audit.measures.protected import measure_protected, protected_evidence
from audit.measures.reason_reference import basis_record, reference_values
from audit.measures.reason_stability import reason_agreement
from audit.progress import Clock, Progress
from audit.provenance import created_at, data_record, model_record, reproducibility_record, setup_warnings
from audit.records import (
    ChallengerRecord,
    ExplanationParityRecord,
    PerformanceRecord,
    ReasonDirectionsRecord,
    ScoreDisparityRecord,
    ValidationRecord,
)
from audit.recourse import attach_recourse
from audit.results import AuditResult, RowOutcomes
from audit.types import Dataset
from audit.version import __version__

__all__ = ["run_audit", "Progress"]


def run_audit(model_path: Path, data_path: Path, *, config: AuditConfig, config_text: str = "",
              trust_model: bool = False, model_class: str | None = None, progress: Progress | None = None,
              command_line: str | None = None, oracle: Callable[[Any, Any], Any] | None = None,
              reference_data: Path | None = None) -> AuditResult:
    """Run a whole audit and return its :class:`AuditResult` (nothing is written here).

    ``oracle``: the exact attribution of a known generating function (validation on synthetic data),
    called as ``oracle(rows, background)`` with DataFrames of raw input values and returning one value
    per row and model input (an array in the data's column order, or a DataFrame with those columns).
    It replaces the model's own reference as the upper control of every faithfulness metric.
    ``reference_data``: the development or training sample population stability is measured against.
    """
    clock = Clock(progress or Progress())
    session = prepare(model_path, data_path, config=config, trust_model=trust_model, model_class=model_class,
                      clock=clock, reference_data=reference_data)
    config, ds, adapter, background = session.config, session.dataset, session.adapter, session.background
    favorable = session.favorable
    groups = _groups(adapter, ds, session.explain_rows, config)
    with clock("controls", "Measuring controls (random and oracle attributions)"):
        baseline = _measure_controls(groups, ds, background, config, oracle)
    evaluations = _explain_and_score(list(session.explainers), groups, ds, adapter, background, config, clock)
    results = [e.result for e in evaluations]
    combined = {e.result.method: e.attribution for e in evaluations}
    performance, challenger = _performance(adapter, ds, session.scores, session.labels, config, clock)
    with clock("protected", "Protected attributes: flip test, proxies and outcome fairness"):
        gate, protected, agreed = _gate(config, evaluations, combined, ds, adapter,
                                        (session.scores, session.labels, favorable), performance)
        protected.update(protected_source=session.protected_source, inferred_bases=session.inferred_bases)
    typical = reference_values(session.reference, background, ds.X)
    reasons = decisions(ds, session.explain_rows, session.scores, session.labels, adapter, favorable,
                        primary_explainer(results, gate.passing_explainers), combined,
                        max_reasons=config.report.max_reasons, typical=typical)
    with clock("recourse", "Recourse: counterfactuals for the adverse decisions, verified by the model"):
        reasons, gate, recourse = attach_recourse(reasons, gate, ds, adapter, favorable, config)
    directions, gate, protected["explanation_parity"] = _reason_checks(session, groups, reasons, favorable, gate, clock)
    evidence, gate = _validator_evidence(session, results, gate, clock)
    with clock("lda", "Less discriminatory alternatives: refitting and measuring the searched family"):
        lda = lda_for_session(session)
    clock.timings["total_before_report"] = elapsed = time.perf_counter() - clock.start
    return _with_trace(config, AuditResult(
        tool_version=__version__, created_at=created_at(),
        model=model_record(session.loaded, adapter, explained_class=groups[0].adapter.explained_class,
                           per_row=len(groups) > 1, favorable=favorable, device=getattr(adapter, "device", "cpu"),
                           favorable_configured=config.favorable_class is not None),
        data=data_record(ds, _classes(adapter), session.explain_rows, len(background), role=config.data_role),
        config=config.model_dump(mode="json", by_alias=True), gate=gate, explanations=tuple(results),
        controls=controls_record(groups, baseline.kind, config.random_controls), decisions=tuple(reasons),
        agreement=agreed, performance=performance, challenger=challenger, protected=protected,
        reproducibility=reproducibility_record(config, config_text, command_line, adapter.counter, clock.timings,
                                               session.plan),
        warnings=_warnings(session, challenger, reasons, elapsed),
        attributions=combined, background=background, typical=typical, recourse=recourse,
        outcomes=RowOutcomes(ds, session.scores, session.labels), reason_directions=directions,
        reason_reference=session.reference.record(len(background), ds.n_rows), validation=evidence, lda=lda,
        reasons_basis=basis_record(ds.feature_names, background, typical),
    ))


def _with_trace(config: AuditConfig, result: AuditResult) -> AuditResult:
    """``result`` with its regulation trace (``report_templates/_trace.toml``): the clauses each of its checks,
    the measures and the sections the configured template renders support, among the regimes it keeps."""
    from dataclasses import replace

    from report_templates import load_template
    from report_templates.trace import load_trace

    template = load_template(config.report.template)
    return replace(result, trace=load_trace().record(result.to_json(), template.sections, template.trace_clauses))


def _classes(adapter: Adapter) -> list[str] | None:
    """The model's classes as text (None for a regressor)."""
    return [str(c) for c in adapter.classes] if adapter.classes is not None else None


def _reason_checks(session: AuditSession, groups: list[ExplainedGroup], reasons: list[Any], favorable: Any,
                   gate: Gate, clock: Clock) -> tuple[ReasonDirectionsRecord, Gate, ExplanationParityRecord]:
    """The reported reasons' direction words, their stability under redrawn backgrounds and the explanation
    parity of the explainer giving them, as checks."""
    config = session.config
    directions = direction_summary(reasons, printed_words=config.report.direction_words)
    with clock("reason_stability", "Reason stability: principal reasons with redrawn backgrounds"):
        stability, why_not, per_row = _reason_stability(list(session.explainers), groups, session, reasons, favorable)
    with clock("explanation_parity", "Explanation parity: faithfulness and reason stability per protected group"):
        parity = _explanation_parity(session, groups, reasons, per_row)
    gate = extend(gate, [*direction_checks(config.policy, directions),
                         *stability_checks(config.policy, stability, why_not),
                         *explanation_parity_checks(config.policy, parity)])
    return {**directions, "stability": stability,
            "between_explainers": reason_agreement(reasons, gate.passing_explainers)}, gate, parity


def _explanation_parity(session: AuditSession, groups: list[ExplainedGroup], reasons: list[Any],
                        per_row: tuple[np.ndarray, np.ndarray] | None) -> ExplanationParityRecord:
    """Faithfulness and reason stability per protected group for the explainer that gives the reasons, each
    scored row normalised by its explained group's controls (:meth:`FaithfulnessContext.row_scores`)."""
    from audit.measures.explanation_parity import measure_explanation_parity

    policy = session.config.policy
    method = reasons[0].method if reasons else None
    scored, parts = [], []
    for g in groups if method is not None else []:
        if method in g.attributions and g.ctx is not None:
            scored.append(g.rows[g.scored_positions])
            parts.append(g.ctx.row_scores(g.attributions[method].values[g.scored_positions]))
    row_scores = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}
    return measure_explanation_parity(
        session.dataset, method, np.concatenate(scored) if scored else np.zeros(0, dtype=int), row_scores, per_row,
        protected=policy.protected_attributes, bins=policy.group_bins, intersections=policy.intersections,
        min_group_size=policy.min_group_size, why_not="no decision has principal reasons, so no explainer gives them")


def _validator_evidence(session: AuditSession, results: list[Any], gate: Gate,
                        clock: Clock) -> tuple[ValidationRecord, Gate]:
    """Calibration, discrimination, population stability, expected directions and effect curves of the
    inputs the reporting explainer ranks highest (:mod:`audit.measures.evidence`), with their checks."""
    primary = primary_explainer(results, gate.passing_explainers) if results else None
    importance = next((r.global_importance for r in results if r.method == primary), {})
    top = sorted(importance, key=lambda k: -importance[k])
    with clock("validation", "The validator's evidence: calibration, discrimination, stability, effect curves"):
        record = measure_evidence(session.adapter, session.dataset, session.explain_rows, session.favorable,
                                  session.config, top_inputs=top, reference=session.development,
                                  reference_adapter=session.development_adapter).record()
    return record, extend(gate, evidence_checks(session.config.policy, record))


def _warnings(session: AuditSession, challenger: ChallengerRecord | None, reasons: list[Any],
              elapsed: float) -> tuple[str, ...]:
    """Every warning of the run, in the order stdout and results.json list them."""
    config, plan = session.config, session.plan
    overrun = ([f"wall-clock limit exceeded: the audit took {elapsed:.0f} s on this machine, over time_limit_s = "
                f"{config.time_limit_s:g} s. Nothing measured was changed by it (the work is counted, never timed); "
                "raise the limit, or lower audit_budget_s or rows"]
               if config.time_limit_s is not None and elapsed > config.time_limit_s else [])
    return (*session.dataset.warnings, *_protected_warning(config, session.protected_source, session.inferred_bases),
            *setup_warnings(config, session.adapter), *(f"explainer skipped: {s}" for s in session.skipped),
            *filter(None, [(challenger or {}).get("overfitting_warning"), plan and plan.finding]),
            *_uncovered_reasons(config, reasons), *overrun)


def _protected_warning(config: AuditConfig, source: str, bases: dict[str, str]) -> list[str]:
    """The line that says protected attributes were inferred from column names (stdout and results.json)."""
    if source != "inferred":
        return []
    if not bases:
        return ["no protected attribute inferred: no column of DATA is named after a prohibited basis (sex, age, race, "
                "colour, ethnicity, religion, national origin, marital status); set policy.protected_attributes to "
                "name them, or [] to declare none"]
    return [f"protected attributes inferred from column names ({config.report.template} template): "
            + ", ".join(f"{c} ({b})" for c, b in bases.items())
            + ". Set policy.protected_attributes to choose them, or [] to declare none."]


def _reason_stability(explainers: list[Any], groups: list[ExplainedGroup], session: AuditSession, reasons: list[Any],
                      favorable: Any) -> tuple[dict[str, Any] | None, str, tuple[np.ndarray, np.ndarray] | None]:
    """The reporting explainer's principal reasons re-derived with backgrounds redrawn from the reference's rows,
    or why not measured."""
    from audit.measures.reason_stability import measure_reason_stability

    config, ds = session.config, session.dataset

    if favorable is None or len(groups) != 1 or not reasons:
        return None, "no favourable class with a single explained class: there are no adverse reasons to redraw", None
    if config.reason_stability_rows == 0:
        return None, "reason_stability_rows = 0", None
    ex = next(e for e in explainers if e.name == reasons[0].method)
    adapter = groups[0].adapter
    sign = 1.0 if str(adapter.explained_class) == str(favorable) else -1.0
    record, per_row = measure_reason_stability(ex, adapter, ds.X, reasons, background_rows=len(session.background),
                                      direction=-sign, max_reasons=config.report.max_reasons,
                                      rows=config.reason_stability_rows, seed=config.seed, reference=session.reference)
    return record, "no adverse decision among the explained rows has a principal reason", per_row


def _uncovered_reasons(config: AuditConfig, reasons: list[Any]) -> list[str]:
    """A finding naming the inputs that appear as an adverse decision's principal reason but have no text of
    their own in the template's ``[reason_codes]`` (they are worded by its generic default)."""
    from report_templates import load_template

    template = load_template(config.report.template)
    missing = sorted({r["feature"] for d in reasons if d.adverse for r in d.reasons if not template.has_text(r["feature"])})
    if not missing:
        return []
    return [f"reason coverage: {len(missing)} input(s) appear as principal reasons for adverse decisions without a "
            f"text of their own in the report template's [reason_codes] ({', '.join(missing[:20])}"
            f"{', ...' if len(missing) > 20 else ''}); they are worded by its default. Add a code and a text for each."]


def _performance(adapter: Adapter, ds: Dataset, score_all: np.ndarray, labels_all: np.ndarray,
                 config: AuditConfig, clock: Clock) -> tuple[PerformanceRecord | None, ChallengerRecord | None]:
    """Performance and the interpretable challenger, when there is a target."""
    if ds.target is None:
        return None, None
    with clock("performance", "Model performance and interpretable challenger"):
        from audit.measures.performance import challenger_benchmark, model_performance

        performance = model_performance(adapter, ds, score_all, labels_all, role=config.data_role)
        return performance, challenger_benchmark(adapter, ds, performance, seed=config.seed)


def _measure_controls(groups: list[ExplainedGroup], ds: Dataset, background: np.ndarray, config: AuditConfig,
                      oracle: Callable[[Any, Any], Any] | None) -> Baseline:
    """Each group's scoring context on its scoring sample (``score_rows`` in all, shared in proportion to
    the groups' sizes): the shared probes and the random and reference controls."""
    baseline = Baseline.from_background(background, ds.space.categorical_mask, config.baseline, seed=config.seed)
    rng = np.random.default_rng(config.seed + 31)
    total = sum(len(g.rows) for g in groups)
    for g in groups:
        share = len(g.rows) if total <= config.score_rows else max(1, round(config.score_rows * len(g.rows) / total))
        X = ds.X[g.sample(share, rng)]
        ref, kind = known_oracle(oracle, ds, X, background) if oracle is not None else (None, None)
        g.ctx = FaithfulnessContext(g.adapter.predict, X, baseline, seed=config.seed, n_random=config.random_controls,
                                    n_bootstrap=config.bootstrap, oracle=ref, oracle_kind=kind)
    return baseline


def _gate(config: AuditConfig, evaluations: list[Any], combined: dict[str, Any], ds: Dataset, adapter: Adapter,
          decided: tuple[np.ndarray, np.ndarray, Any], performance: dict[str, Any] | None
          ) -> tuple[Gate, dict[str, Any], dict[str, Any]]:
    """The protected-attribute measures (``decided``: every row's score and decision, and the favourable class),
    outcome fairness and method agreement, then the policy over all evidence."""
    policy = config.policy
    score_all, labels_all, favorable = decided
    classifier = adapter.classes is not None
    protected = measure_protected(ds, combined, policy.protected_attributes,
                                  decide=adapter.predict_label if classifier else adapter.predict,
                                  tolerance=None if classifier else 0.1 * float(np.std(score_all)),
                                  rows=config.protected_rows, seed=config.seed)
    settled = config.protected_input  # policy.protected_as_input, "auto" settled by the report template
    protected["input_action"] = settled.action
    protected["outcome_fairness"] = measure_fairness(
        ds, labels_all, classes=adapter.classes, favorable=favorable, protected=policy.protected_attributes,
        favorable_source="config" if config.favorable_class is not None else "assumed", bins=policy.group_bins,
        min_group_size=policy.min_group_size, n_bootstrap=config.bootstrap, seed=config.seed,
        intersections=policy.intersections)
    protected["score_disparity"] = _score_disparity(config, ds, adapter, labels_all, favorable)
    agreed = agreement(combined)
    gate = evaluate(policy, [e.evidence for e in evaluations],
                    {k: v["share"] for k, v in protected.get("by_explainer", {}).items()},
                    protected=protected_evidence(protected, settled.action, settled.fail_note),
                    agreement=agreement_evidence(agreed), performance=performance)
    return gate, protected, agreed


def _score_disparity(config: AuditConfig, ds: Dataset, adapter: Adapter, labels: np.ndarray,
                     favorable: Any) -> ScoreDisparityRecord:
    """The adverse impact ratio by score band and the score's standardized mean difference per protected group."""
    from audit.measures.reason_reference import favorable_scores
    from audit.measures.score_disparity import measure_score_disparity

    policy = config.policy
    binary = adapter.task == "binary" and favorable is not None
    scores = favorable_scores(adapter, ds.X, favorable) if binary else None
    return measure_score_disparity(
        ds, scores, np.asarray(labels).astype(str) == str(favorable), protected=policy.protected_attributes,
        bins=policy.group_bins, intersections=policy.intersections, min_group_size=policy.min_group_size,
        n_bootstrap=config.bootstrap, seed=config.seed,
        why_not="" if binary else "only a binary classifier with a favourable class has a favourable score to band")


def _explain_and_score(explainers: list[Any], groups: list[ExplainedGroup], ds: Dataset, adapter: Adapter,
                       background: np.ndarray, config: AuditConfig, clock: Clock) -> list[Any]:
    """Each explainer on every group's rows, then its evaluation."""
    randomised, randomised_note = randomised_model(adapter, ds, config.seed)
    settings = EvaluationSettings.from_config(config)
    out = []
    for ex in explainers:
        with clock(f"explain:{ex.name}", f"Explaining {sum(len(g.rows) for g in groups)} rows with {ex.name}"):
            t0 = time.perf_counter()
            for g in groups:
                g.attributions[ex.name] = ex.explain(g.adapter, ds.X[g.rows], background=background, seed=config.seed)
            seconds = time.perf_counter() - t0
        with clock(f"faithfulness:{ex.name}", f"Scoring faithfulness of {ex.name}"):
            out.append(evaluate_explainer(ex, groups, ds.X, background, settings, randomised=randomised,
                                          randomised_note=randomised_note, seconds=seconds))
    return out


def _groups(adapter: Adapter, ds: Dataset, rows: np.ndarray, config: AuditConfig) -> list[ExplainedGroup]:
    """One group, or for a multiclass model without ``class``, one group per predicted class."""
    if adapter.task != "multiclass" or config.explained_class is not None:
        label = adapter.explained_class
        return [ExplainedGroup(adapter, rows, "output" if label is None else str(label))]
    predicted = np.argmax(adapter.predict_all(ds.X[rows]), axis=1)
    return [ExplainedGroup(adapter.for_class(int(k)), rows[predicted == k], str(adapter.classes[k]))
            for k in np.unique(predicted)]
