"""The only orchestrator: load, adapt, explain, score, gate, assemble the result.

Every measurement lives in its own box (``audit.faithfulness``, ``audit.agreement``,
``audit.protected``, ``audit.decisions``, ``audit.gate``); this module only calls them in order.

>>> # run_audit(Path("model.skops"), Path("data.csv"), config=AuditConfig(target="risk"))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from audit.adapters import Adapter, describe_model, first_predictions, make_adapter
from audit.agreement import agreement, agreement_evidence
from audit.budget import budgeted, sample
from audit.config import AuditConfig
from audit.decisions import decisions, favorable_class, primary_explainer
from audit.directions import direction_summary
from audit.fairness import measure_fairness
from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness.evaluate import (
    EvaluationSettings,
    ExplainedGroup,
    controls_record,
    evaluate_explainer,
    randomised_model,
)
from audit.faithfulness.oracle import known_oracle
from audit.gate import Gate, direction_checks, evaluate, extend, stability_checks
from audit.loading import load_data, load_model
from audit.progress import Clock, Progress
from audit.protected import check_protected_names, measure_protected, protected_evidence, settle_protected
from audit.provenance import created_at, data_record, model_record, reproducibility_record, setup_warnings
from audit.reason_reference import (
    Reference,
    choose_reference,
    default_method,
    favorable_scores,
    reference_values,
)
from audit.reason_stability import reason_agreement
from audit.recourse import attach_recourse, check_recourse_names, data_columns
from audit.results import AuditResult, RowOutcomes
from audit.types import Dataset
from audit.version import __version__
from explainers import check_names, select

__all__ = ["run_audit", "Progress"]


def run_audit(model_path: Path, data_path: Path, *, config: AuditConfig, config_text: str = "",
              trust_model: bool = False, model_class: str | None = None, progress: Progress | None = None,
              command_line: str | None = None, oracle: Callable[[Any, Any], Any] | None = None) -> AuditResult:
    """Run a whole audit and return its :class:`AuditResult` (nothing is written here).

    ``oracle``: the exact attribution of a known generating function (validation on synthetic data),
    called as ``oracle(rows, background)`` with DataFrames of raw input values and returning one value
    per row and model input (an array in the data's column order, or a DataFrame with those columns).
    It replaces the model's own reference as the upper control of every faithfulness metric.
    """
    clock = Clock(progress or Progress())
    check_names(config.policy.explainers, "[policy.explainers.{name}]")
    with clock("load", f"Loading model {model_path.name}"):
        loaded = load_model(model_path, trust_model=trust_model, model_class=model_class,
                            max_model_bytes=config.max_model_bytes)
        spec = describe_model(loaded.obj, loaded.extra)
    with clock("load", f"Reading data {data_path.name}"):
        ds = load_data(data_path, spec, target=config.target, infer_target=config.infer_target,
                       keep=lambda columns, target: settle_protected(config, columns, target)[0].policy.protected_attributes)
        config, protected_source, bases = settle_protected(config, _columns(ds), ds.target_name)
        check_protected_names(config.policy.protected_attributes, ds, bins=config.policy.group_bins)
        check_recourse_names(config, ds.space, data_columns(ds))
        adapter = make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": config.device},
                               explained_class=config.explained_class)
        adapter.prepare(ds.X)
        score_all = first_predictions(adapter, ds)
        labels_all = adapter.predict_label(ds.X)

    with clock("plan", "Counting the model-agnostic work against audit_budget_s"):
        config, plan = budgeted(adapter, ds, config, select(adapter, config.explainers, top_level=config.top_level(),
                                                             settings=config.explainer_settings)[0])
    favorable = favorable_class(adapter, config.favorable_class)
    reference = _reference(config, adapter, ds, labels_all, favorable)
    explain_rows, background = sample(ds, config, reference)
    groups = _groups(adapter, ds, explain_rows, config)
    explainers, skipped = select(adapter, config.explainers, top_level=config.top_level(),
                                 settings=config.explainer_settings)
    with clock("controls", "Measuring controls (random and oracle attributions)"):
        baseline = _measure_controls(groups, ds, background, config, oracle)
    evaluations = _explain_and_score(explainers, groups, ds, adapter, background, config, clock)
    results = [e.result for e in evaluations]
    combined = {e.result.method: e.attribution for e in evaluations}
    performance, challenger = _performance(adapter, ds, score_all, labels_all, config, clock)
    with clock("protected", "Protected attributes: flip test, proxies and outcome fairness"):
        gate, protected, agreed = _gate(config, evaluations, combined, ds, adapter, (score_all, labels_all, favorable),
                                        performance)
        protected.update(protected_source=protected_source, inferred_bases=bases)
    typical = reference_values(reference, background, ds.X)
    reasons = decisions(ds, explain_rows, score_all, labels_all, adapter, favorable,
                        primary_explainer(results, gate.passing_explainers), combined,
                        max_reasons=config.report.max_reasons, typical=typical)
    with clock("recourse", "Recourse: counterfactuals for the adverse decisions, verified by the model"):
        reasons, gate, recourse = attach_recourse(reasons, gate, ds, adapter, favorable, config)
    directions = direction_summary(reasons, printed_words=config.report.direction_words)
    with clock("reason_stability", "Reason stability: principal reasons with redrawn backgrounds"):
        stability, why_not = _reason_stability(explainers, groups, ds, reasons, (reference, len(background)),
                                               favorable, config)
    gate = extend(gate, [*direction_checks(config.policy, directions),
                         *stability_checks(config.policy, stability, why_not)])
    directions = {**directions, "stability": stability,
                  "between_explainers": reason_agreement(reasons, gate.passing_explainers)}
    clock.timings["total_before_report"] = elapsed = time.perf_counter() - clock.start
    overrun = ([f"wall-clock limit exceeded: the audit took {elapsed:.0f} s on this machine, over time_limit_s = "
                f"{config.time_limit_s:g} s. Nothing measured was changed by it (the work is counted, never timed); "
                "raise the limit, or lower audit_budget_s or rows"]
               if config.time_limit_s is not None and elapsed > config.time_limit_s else [])
    classes = [str(c) for c in adapter.classes] if adapter.classes is not None else None
    return AuditResult(
        tool_version=__version__, created_at=created_at(),
        model=model_record(loaded, adapter, explained_class=groups[0].adapter.explained_class,
                           per_row=len(groups) > 1, favorable=favorable, device=getattr(adapter, "device", "cpu"),
                           favorable_configured=config.favorable_class is not None),
        data=data_record(ds, classes, explain_rows, len(background), role=config.data_role),
        config=config.model_dump(mode="json", by_alias=True), gate=gate, explanations=tuple(results),
        controls=controls_record(groups, baseline.kind, config.random_controls), decisions=tuple(reasons),
        agreement=agreed, performance=performance, challenger=challenger, protected=protected,
        reproducibility=reproducibility_record(config, config_text, command_line, adapter.counter, clock.timings, plan),
        warnings=(*ds.warnings, *_protected_warning(config, protected_source, bases), *setup_warnings(config, adapter), *(f"explainer skipped: {s}" for s in skipped),
                  *filter(None, [(challenger or {}).get("overfitting_warning"), plan and plan.finding]),
                  *_uncovered_reasons(config, reasons), *overrun),
        attributions=combined, background=background, typical=typical, recourse=recourse,
        outcomes=RowOutcomes(ds, score_all, labels_all), reason_directions=directions,
        reason_reference=reference.record(len(background), ds.n_rows),
    )


def _columns(ds: Dataset) -> list[str]:
    """Every column of DATA: the model's inputs, the target and the ignored ones."""
    return [*ds.feature_names, *([ds.target_name] if ds.target_name else []), *ds.ignored_columns]


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


def _reference(config: AuditConfig, adapter: Adapter, ds: Dataset, labels: np.ndarray, favorable: Any) -> Reference:
    """The rows principal reasons are measured against (``[reasons] reference``, Regulation B's commentary)."""
    method = config.reasons.reference or default_method(config.report.template)
    passed = None if favorable is None else np.asarray([str(v) == str(favorable) for v in labels])
    scores = favorable_scores(adapter, ds.X, favorable) if method == "near_cutoff" else None
    return choose_reference(method, scores, passed, band_width=config.reasons.near_cutoff_band,
                            min_rows=config.reasons.min_reference_rows)


def _reason_stability(explainers: list[Any], groups: list[ExplainedGroup], ds: Dataset, reasons: list[Any],
                      background: tuple[Reference, int], favorable: Any,
                      config: AuditConfig) -> tuple[dict[str, Any] | None, str]:
    """The reporting explainer's principal reasons re-derived with redrawn backgrounds, or why not measured."""
    from audit.reason_stability import measure_reason_stability

    if favorable is None or len(groups) != 1 or not reasons:
        return None, "no favourable class with a single explained class: there are no adverse reasons to redraw"
    if config.reason_stability_rows == 0:
        return None, "reason_stability_rows = 0"
    ex = next(e for e in explainers if e.name == reasons[0].method)
    adapter = groups[0].adapter
    sign = 1.0 if str(adapter.explained_class) == str(favorable) else -1.0
    reference, background_rows = background
    record = measure_reason_stability(ex, adapter, ds.X, reasons, background_rows=background_rows, direction=-sign,
                                      max_reasons=config.report.max_reasons, rows=config.reason_stability_rows,
                                      seed=config.seed, reference=reference)
    return record, "no adverse decision among the explained rows has a principal reason"


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
                 config: AuditConfig, clock: Clock) -> tuple[Any, Any]:
    """Performance and the interpretable challenger, when there is a target."""
    if ds.target is None:
        return None, None
    with clock("performance", "Model performance and interpretable challenger"):
        from audit.performance import challenger_benchmark, model_performance

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
    action = policy.protected_as_input
    if action == "auto":
        action = "fail" if config.report.template == "credit_decision" else "finding"
    protected["input_action"] = action
    protected["outcome_fairness"] = measure_fairness(
        ds, labels_all, classes=adapter.classes, favorable=favorable, protected=policy.protected_attributes,
        favorable_source="config" if config.favorable_class is not None else "assumed", bins=policy.group_bins,
        min_group_size=policy.min_group_size, n_bootstrap=config.bootstrap, seed=config.seed)
    agreed = agreement(combined)
    gate = evaluate(policy, [e.evidence for e in evaluations],
                    {k: v["share"] for k, v in protected.get("by_explainer", {}).items()},
                    protected=protected_evidence(protected, action), agreement=agreement_evidence(agreed),
                    performance=performance)
    return gate, protected, agreed


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
