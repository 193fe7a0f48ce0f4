"""The audit policy: ``[policy]`` applied to each explainer's evidence and the global measures.

Each explainer gets its own checks (faithfulness score, additivity where promised, stability for
sampling methods, the model-randomisation sanity check, per-metric minimums). The gate passes when at
least ``policy.min_explainers_passing`` explainers pass all of theirs, every explainer the policy
marks ``required`` passes, and the global checks (protected-attribute influence, outcome fairness per
protected group, agreement, performance floors) pass. A fairness group too small to judge is a finding.
The checks on the reported reasons, measured after this gate, are in :mod:`audit.gate.reasons`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from audit.config import PROTECTED_INPUT_FAIL, Policy
from audit.gate.checks import (
    Check,
    Gate,
    format_value,
    meets,
    not_measured,
    not_required,
    threshold_check,
    waived,
)

__all__ = ["ExplainerEvidence", "FairnessEvidence", "ProtectedEvidence", "AgreementEvidence", "evaluate",
           "explainer_checks", "protected_checks", "fairness_checks", "agreement_checks", "performance_checks"]


@dataclass(frozen=True)
class ExplainerEvidence:
    name: str
    score: float
    score_ci: tuple[float, float]
    additivity_error: float | None = None
    stability: float | None = None
    randomisation_similarity: float | None = None
    randomisation_note: str | None = None
    randomisation_method: str | None = None
    randomisation_similarity_abs: float | None = None
    metric_scores: dict[str, float | None] = field(default_factory=dict)
    uninformative_metrics: tuple[str, ...] = ()
    identity_with_reference: bool = False  # the score holds by construction: reported, never counted as passing


@dataclass(frozen=True)
class FairnessEvidence:
    """Outcome fairness of one protected attribute (see :mod:`audit.measures.fairness`): each estimate with its 95% CI,
    over the groups with at least ``min_group_size`` rows; None when fewer than two groups are that large."""

    group_rows: tuple[tuple[str, int], ...]  # every group and its rows, judged or not
    min_group_size: int
    selection_rate_ratio: tuple[float, tuple[float, float], str, str] | None = None  # value, CI, lowest, highest
    equalized_odds_difference: tuple[float, tuple[float, float]] | None = None
    equal_opportunity_difference: tuple[float, tuple[float, float]] | None = None
    with_target: bool = False

    @property
    def too_small(self) -> tuple[tuple[str, int], ...]:
        return tuple((g, n) for g, n in self.group_rows if n < self.min_group_size)


@dataclass(frozen=True)
class ProtectedEvidence:
    """What was measured about protected attributes (see :mod:`audit.measures.protected`)."""

    attributes: tuple[str, ...] = ()
    direct_inputs: tuple[str, ...] = ()
    input_action: str = "fail"  # "fail" | "finding": the settled policy (AuditConfig.protected_input)
    input_note: str = PROTECTED_INPUT_FAIL  # the blocking check's advice: the template's, in a run
    flip_rates: dict[str, tuple[float, tuple[float, float], int]] = field(default_factory=dict)  # rate, CI, rows
    flip_not_measured: dict[str, str] = field(default_factory=dict)  # attribute -> why the flip test could not run
    strongest_proxy: dict[str, tuple[str, float]] = field(default_factory=dict)  # attribute -> (input, NMI)
    fairness: dict[str, FairnessEvidence] = field(default_factory=dict)  # attribute -> outcome fairness


@dataclass(frozen=True)
class AgreementEvidence:
    """Pairwise mean per-row Spearman and top-k overlap between explainers (see :mod:`audit.measures.agreement`)."""

    methods: tuple[str, ...]
    spearman: tuple[tuple[float, ...], ...]
    topk: tuple[tuple[float, ...], ...]
    k: int = 3


def explainer_checks(policy: Policy, ev: ExplainerEvidence) -> list[Check]:
    """All checks for one explainer, thresholds from the policy (per-explainer overrides first)."""
    own = policy.explainers.get(ev.name)
    decide_on = policy.decide_on

    def pick(attr: str) -> Any:
        value = getattr(own, attr, None) if own is not None else None
        return getattr(policy, attr) if value is None else value

    def check(name: str, value: float, t: float, what: str, **kw: Any) -> Check:
        return threshold_check(f"{name}:{ev.name}", value, t, what, explainer=ev.name, blocking=False,
                               decide_on=decide_on, **kw)

    checks = []
    t = pick("min_faithfulness_score")
    if ev.score == ev.score:
        checks.append(check("faithfulness", ev.score, t, "faithfulness score", higher_is_better=True,
                            interval=tuple(ev.score_ci),
                            detail=f" (95% CI {format_value(ev.score_ci[0])}..{format_value(ev.score_ci[1])})"))
    else:
        checks.append(not_measured(f"faithfulness:{ev.name}", t, "the faithfulness score is undefined (no metric "
                                   "could be normalised against its controls)", explainer=ev.name, blocking=False,
                                   higher_is_better=True))
    if ev.additivity_error is not None:
        checks.append(check("additivity", ev.additivity_error, pick("max_additivity_error"), "mean additivity error",
                            higher_is_better=False, fmt=".2e", detail=" of the output's spread"))
    if ev.stability is not None:
        checks.append(check("stability", ev.stability, pick("min_stability"), "top-k Jaccard across seeds",
                            higher_is_better=True))
    checks.append(_randomisation_check(policy, ev))
    minimums = {**policy.metric_minimums, **(own.metric_minimums if own else {})}
    for metric, t in minimums.items():
        value = ev.metric_scores.get(metric)
        if metric in ev.uninformative_metrics or value is None:
            why = ("the metric is uninformative on this model (its reference barely beats random), so it cannot show "
                   f"the minimum {t} is met" if metric in ev.uninformative_metrics else "no normalised value")
            checks.append(not_measured(f"metric:{metric}:{ev.name}", t, f"normalised {metric}: {why}",
                                       explainer=ev.name, blocking=False, higher_is_better=True))
        else:
            checks.append(check(f"metric:{metric}", value, t, f"normalised {metric}", higher_is_better=True))
    return [waived(c, policy.waive, policy.waive_reason) for c in checks]


def _randomisation_check(policy: Policy, ev: ExplainerEvidence) -> Check:
    """The model-randomisation sanity check: measured, not measured (required but impossible) or not required."""
    name, t = f"randomisation:{ev.name}", policy.max_randomisation_similarity
    if ev.randomisation_similarity is None:
        if not policy.require_randomisation_check:
            return not_required(name, t, "policy.require_randomisation_check is false"
                                + (f" (and it could not run: {ev.randomisation_note})" if ev.randomisation_note else ""),
                                explainer=ev.name, blocking=False, higher_is_better=False)
        return not_measured(name, t, f"randomisation check required but not run: "
                            f"{ev.randomisation_note or 'no target column'}", explainer=ev.name, blocking=False,
                            higher_is_better=False)
    signed, absolute = ev.randomisation_similarity, ev.randomisation_similarity_abs
    # the larger of the two; a NaN in either is unknown, never ignored (max(0.3, nan) would be 0.3)
    worst = signed if absolute is None else (math.nan if math.isnan(signed) or math.isnan(absolute)
                                             else max(signed, absolute))
    both = f"{signed:.3f}" + ("" if absolute is None else f" (of |attribution|: {absolute:.3f})")
    return threshold_check(name, worst, t, f"rank correlation with explanations of the randomised model "
                           f"({ev.randomisation_method or 'refit on permuted labels'})", higher_is_better=False,
                           explainer=ev.name, blocking=False, shown=both,
                           on_pass=" (explanation depends on what the model learned)",
                           on_fail=" (explanation barely changes when the model is randomised)")


def protected_checks(policy: Policy, ev: ProtectedEvidence) -> list[Check]:
    """Direct use, the flip test and proxies, for each protected attribute (all blocking except a direct
    input under ``input_action = "finding"``); a flip test that could not run is not measured."""
    checks = []
    for attr in ev.attributes:
        direct = attr in ev.direct_inputs
        blocking = ev.input_action == "fail"
        checks.append(Check(
            f"protected_input:{attr}", not direct, 1.0 if direct else 0.0, 0.0,
            (f"{attr!r} is a direct model input and the policy marks it protected. "
             + (ev.input_note if blocking
                else "Reported as a finding, not a blocker: policy.protected_as_input is 'finding'")
             if direct else f"{attr!r} is not a model input"), blocking=blocking or not direct,
            higher_is_better=False))
        if attr in ev.flip_rates:
            rate, ci, rows = ev.flip_rates[attr]
            checks.append(threshold_check(f"protected_flip:{attr}", rate, policy.max_protected_flip_rate,
                                          f"changing only {attr!r} on {rows} real rows changes", fmt=".1%",
                                          tfmt=".1%", detail=f" of decisions (95% CI {ci[0]:.1%} to {ci[1]:.1%})",
                                          higher_is_better=False, interval=tuple(ci), decide_on=policy.decide_on))
        elif attr in ev.flip_not_measured:
            checks.append(not_measured(f"protected_flip:{attr}", policy.max_protected_flip_rate,
                                       f"flip test of {attr!r}: {ev.flip_not_measured[attr]}", higher_is_better=False))
        if attr in ev.strongest_proxy and policy.max_proxy_association is not None:
            feature, nmi = ev.strongest_proxy[attr]
            checks.append(threshold_check(f"protected_proxy:{attr}", nmi, policy.max_proxy_association,
                                          f"strongest proxy of {attr!r} among the model inputs: {feature!r}, "
                                          "normalised mutual information", higher_is_better=False))
        if attr in ev.fairness:
            checks += fairness_checks(policy, attr, ev.fairness[attr])
    for crossed in (a for a in ev.fairness if a not in ev.attributes):  # policy.intersections: "sex x age"
        checks += fairness_checks(policy, crossed, ev.fairness[crossed])
    return checks


def _ci_note(ci: tuple[float, float], t: float) -> str:
    return f" (95% CI {format_value(ci[0])} to {format_value(ci[1])}{'; the interval includes the threshold' if ci[0] <= t <= ci[1] else ''})"


def fairness_checks(policy: Policy, attr: str, ev: FairnessEvidence) -> list[Check]:
    """Group sizes (a too-small group is a finding, never a pass), the four-fifths rule on the selection-rate
    ratio (blocking), and the optional equalised-odds and equal-opportunity limits (blocking). A measure that
    cannot be taken (too few judged groups, no target) is not measured, which blocks unless waived."""
    n = policy.min_group_size
    small = ev.too_small
    smallest = min((rows for _, rows in ev.group_rows), default=0)
    listed = ", ".join(f"{g!r} ({rows} rows)" for g, rows in small[:8]) + (f" and {len(small) - 8} more"
                                                                          if len(small) > 8 else "")
    checks = [Check(f"group_size:{attr}", not small, float(smallest), float(n),
                    f"groups of {attr!r} too small to judge (fewer than {n} rows): {listed}; reported, but left out "
                    "of the fairness comparisons" if small
                    else f"every group of {attr!r} has at least {n} rows (smallest: {smallest})",
                    blocking=False, higher_is_better=True)]
    if len(ev.group_rows) - len(small) < 2:
        unjudged = f"fewer than two groups of {attr!r} have at least {n} rows: cannot be judged"
    else:  # a rate with nothing to divide by in every judged group (nobody selected, or no positives)
        unjudged = (f"undefined for {attr!r}: no judged group has a favourable decision, or none has rows of the "
                    "true class the rate counts")
    t = policy.min_selection_rate_ratio
    if ev.selection_rate_ratio is None:
        checks.append(not_measured(f"selection_rate_ratio:{attr}", t, f"selection-rate ratio {unjudged}",
                                   higher_is_better=True))
    else:
        value, ci, low, high = ev.selection_rate_ratio
        checks.append(threshold_check(f"selection_rate_ratio:{attr}", value, t, f"selection-rate ratio of {attr!r} "
                                      f"(group {low!r} over group {high!r})", detail=_ci_note(ci, t),
                                      suffix=" (four-fifths rule)", higher_is_better=True, interval=tuple(ci),
                                      decide_on=policy.decide_on))
    for key, what, limit in (("equalized_odds_difference", "equalised-odds difference (largest gap in true- or "
                              "false-positive rate)", policy.max_equalized_odds_difference),
                             ("equal_opportunity_difference", "equal-opportunity difference (gap in true-positive "
                              "rate)", policy.max_equal_opportunity_difference)):
        if limit is None:
            continue
        measured = getattr(ev, key)
        if not ev.with_target:
            checks.append(not_measured(f"{key}:{attr}", limit, f"{what} of {attr!r} cannot be checked: no target "
                                       "column", higher_is_better=False))
        elif measured is None:
            checks.append(not_measured(f"{key}:{attr}", limit, f"{what}: {unjudged}", higher_is_better=False))
        else:
            value, ci = measured
            checks.append(threshold_check(f"{key}:{attr}", value, limit, f"{what} of {attr!r}",
                                          detail=_ci_note(ci, limit), higher_is_better=False, interval=tuple(ci),
                                          decide_on=policy.decide_on))
    return checks


def agreement_checks(policy: Policy, ev: AgreementEvidence, passing: list[str]) -> list[Check]:
    """Least pairwise agreement between the explainers that passed their own checks (Krishna et al. 2022);
    with fewer than two there is nothing to compare: not required, which the message says."""
    names = [m for m in ev.methods if m in passing]
    if len(names) < 2:
        note = f"fewer than two explainers passed ({', '.join(names) or 'none'}), so there is no pair to compare"
        return [not_required("agreement:rank", policy.min_method_agreement, note, higher_is_better=True),
                not_required("agreement:topk", policy.min_topk_agreement, note, higher_is_better=True)]
    idx = [ev.methods.index(m) for m in names]
    pairs = [(a, b) for i, a in enumerate(idx) for b in idx[i + 1:]]
    out = []
    for name, matrix, t, what in (("agreement:rank", ev.spearman, policy.min_method_agreement,
                                   "mean per-row Spearman rank correlation"),
                                  ("agreement:topk", ev.topk, policy.min_topk_agreement,
                                   f"mean top-{ev.k} overlap")):
        a, b = min(pairs, key=lambda p: matrix[p[0]][p[1]])
        out.append(threshold_check(name, float(matrix[a][b]), t, f"least agreeing passing explainers "
                                   f"{ev.methods[a]} and {ev.methods[b]}: {what}", higher_is_better=True,
                                   on_fail="; the explanations tell different stories and cannot all be accurate"))
    return out


def performance_checks(policy: Policy, performance: dict[str, Any] | None) -> list[Check]:
    """Optional floors on the model's own performance (``min_auc``, ``min_accuracy``, ``min_r2``); a floor
    that cannot be measured (no target, or the measure does not apply to the task) is not measured, saying why."""
    checks = []
    for key, floor in (("auc", policy.min_auc), ("accuracy", policy.min_accuracy), ("r2", policy.min_r2)):
        if floor is None:
            continue
        value = (performance or {}).get(key)
        role = (performance or {}).get("data_role", "unknown")
        if value is None:
            why = "no target column" if performance is None else f"{key} does not apply to this model's task"
            checks.append(not_measured(f"performance:{key}", floor, f"{key} floor {floor} cannot be checked: {why}",
                                       higher_is_better=True))
            continue
        checks.append(threshold_check(f"performance:{key}", float(value), floor, key,
                                      detail=f" on the audited data (role: {role})", higher_is_better=True))
    return checks


def evaluate(policy: Policy, evidence: list[ExplainerEvidence], protected_shares: dict[str, float] | None = None,
             *, protected: ProtectedEvidence | None = None, agreement: AgreementEvidence | None = None,
             performance: dict[str, Any] | None = None) -> Gate:
    """Apply the policy to the evidence of every explainer. An explainer whose score is an identity with the
    reference may pass its checks (and give reasons) but does not count toward ``min_explainers_passing``.

    >>> g = evaluate(Policy(require_randomisation_check=False), [ExplainerEvidence("x", 0.9, (0.8, 1.0))])
    >>> g.passed
    True
    """
    checks: list[Check] = []
    passing = []
    for ev in evidence:
        own = explainer_checks(policy, ev)
        checks += own
        if all(c.passed for c in own):
            passing.append(ev.name)
    for name, share in (protected_shares or {}).items():
        checks.append(threshold_check(f"protected:{name}", share, policy.max_protected_share,
                                      "share of attribution mass on protected attribute(s)", fmt=".1%", tfmt=".0%",
                                      suffix=f" (explainer {name})", explainer=name, higher_is_better=False))
    if protected is not None:
        checks += protected_checks(policy, protected)
    if agreement is not None:
        checks += agreement_checks(policy, agreement, passing)
    checks += performance_checks(policy, performance)
    checks.append(_explainers_passing(policy, evidence, passing))
    required = [n for n, p in policy.explainers.items() if p.required]
    for name in required:
        checks.append(Check(f"required:{name}", name in passing, None, None,
                            f"required explainer {name} {'passed' if name in passing else 'did not pass'} its checks", name))
    checks = [waived(c, policy.waive, policy.waive_reason) for c in checks]
    global_ok = all(c.passed for c in checks if c.blocking)
    return Gate(passed=global_ok, checks=tuple(checks), passing_explainers=tuple(passing))


def _explainers_passing(policy: Policy, evidence: list[ExplainerEvidence], passing: list[str]) -> Check:
    """How many explainers passed every check, identities with the reference not counted."""
    identity = {ev.name for ev in evidence if ev.identity_with_reference}
    counted = [n for n in passing if n not in identity]
    need = policy.min_explainers_passing
    listed = ", ".join(f"{n} (an identity with the reference: not counted)" if n in identity else n for n in passing)
    return Check("explainers_passing", meets(len(counted), need, higher_is_better=True), float(len(counted)),
                 float(need),
                 f"{len(counted)} explainer(s) passed every check ({listed or 'none'}); need {need}",
                 higher_is_better=True)
