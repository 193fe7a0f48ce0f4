"""The policy gate: pure functions from measured evidence to pass/fail checks.

Each explainer gets its own checks (faithfulness score, additivity where promised, stability for
sampling methods, the model-randomisation sanity check, per-metric minimums). The gate passes when at
least ``policy.min_explainers_passing`` explainers pass all of theirs, every explainer the policy
marks ``required`` passes, and the global checks (protected-attribute influence, outcome fairness per
protected group, agreement, performance floors) pass. A fairness group too small to judge is a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from audit.config import ComparePolicy, Policy

__all__ = ["Check", "Gate", "threshold_check", "not_measured", "not_required", "STATUSES", "ExplainerEvidence", "ProtectedEvidence", "FairnessEvidence", "AgreementEvidence",
           "evaluate", "CompareEvidence", "evaluate_compare", "recourse_checks", "direction_checks", "stability_checks", "extend"]


@dataclass(frozen=True)
class Check:
    """One policy check: the measured value, the threshold applied, the verdict and whether a failure
    blocks the gate by itself (``blocking``) or only counts against its explainer (``explainer``)."""

    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str
    explainer: str | None = None
    blocking: bool = True
    higher_is_better: bool | None = None  # None: the check is not a comparison with a threshold
    status: Literal["measured", "not_measured", "not_required", "waived"] = "measured"
    interval: tuple[float, float] | None = None  # the measure's 95% interval, where it has one

    @property
    def verdict(self) -> str:
        """``pass``, ``fail`` (blocking) or ``finding`` for a measured check; otherwise its status."""
        if self.status != "measured":
            return self.status
        return "pass" if self.passed else ("fail" if self.blocking else "finding")

    @property
    def kind(self) -> str:
        """What is checked (``faithfulness``, ``randomisation``, ``protected_flip``, ...): the name before the
        first colon, the part a waiver names."""
        return self.name.split(":", 1)[0]

    @property
    def subject(self) -> str | None:
        """What it is checked on (an explainer, an attribute, a metric and explainer), if anything."""
        return self.name.split(":", 1)[1] if ":" in self.name else None

    @property
    def role(self) -> str:
        """Why a failure does or does not block, in words."""
        if self.blocking:
            return "blocks the gate when it fails"
        if self.explainer is None:
            return "is reported as a finding and does not block the gate"
        return f"counts against explainer {self.explainer}; blocks only through explainers_passing or required"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "value": self.value, "threshold": self.threshold,
                "message": self.message, "explainer": self.explainer, "blocking": self.blocking,
                "verdict": self.verdict, "higher_is_better": self.higher_is_better, "status": self.status,
                "interval": None if self.interval is None else list(self.interval)}


STATUSES = ("measured", "not_measured", "not_required", "waived")


def threshold_check(name: str, value: float, threshold: float, what: str, *, higher_is_better: bool,
                    explainer: str | None = None, blocking: bool = True, interval: tuple[float, float] | None = None,
                    decide_on: str = "estimate", fmt: str = ".3f", tfmt: str = "", shown: str | None = None,
                    detail: str = "", suffix: str = "") -> Check:
    """One comparison of a measured value with its threshold, in the one wording every check uses:
    ``"{what} {value}{detail} >= {threshold}{suffix}"`` (``<``, ``<=`` or ``>`` as the verdict is; ``shown``
    replaces the formatted value). With ``decide_on = "interval"`` and an interval, the conservative
    bound decides, and the message says so. A NaN value never passes.

    >>> threshold_check("x", 0.7, 0.5, "score", higher_is_better=True).message
    'score 0.700 >= 0.5'
    >>> c = threshold_check("x", 0.7, 0.5, "score", higher_is_better=True, interval=(0.4, 0.9), decide_on="interval")
    >>> c.passed, c.message
    (False, 'score 0.700 (decided on the lower 95% bound 0.400) < 0.5')
    """
    decided, note = value, ""
    if decide_on == "interval" and interval is not None:
        decided = interval[0] if higher_is_better else interval[1]
        note = f" (decided on the {'lower' if higher_is_better else 'upper'} 95% bound {decided:{fmt}})"
    ok = bool(decided == decided and (decided >= threshold if higher_is_better else decided <= threshold))
    sign = (">=" if ok else "<") if higher_is_better else ("<=" if ok else ">")
    text = f"{value:{fmt}}" if shown is None else shown
    return Check(name, ok, float(value), threshold, f"{what} {text}{detail}{note} {sign} {threshold:{tfmt}}{suffix}",
                 explainer, blocking=blocking, higher_is_better=higher_is_better, interval=interval)


def not_measured(name: str, threshold: float | None, why: str, *, explainer: str | None = None,
                 blocking: bool = True, higher_is_better: bool | None = None) -> Check:
    """A check whose measure could not be taken: never a pass (see the module docstring)."""
    return Check(name, False, None, threshold, f"not measured: {why}", explainer, blocking=blocking,
                 higher_is_better=higher_is_better, status="not_measured")


def not_required(name: str, threshold: float | None, why: str, *, explainer: str | None = None,
                 blocking: bool = True, higher_is_better: bool | None = None) -> Check:
    """A check the policy does not ask for in this run, saying why (not a pass)."""
    return Check(name, True, None, threshold, f"not required: {why}", explainer, blocking=blocking,
                 higher_is_better=higher_is_better, status="not_required")


def waived(check: Check, waive: list[str] | tuple[str, ...], reason: str | None) -> Check:
    """``check`` waived when it was not measured and the policy names it (its kind or its full name)."""
    if check.status != "not_measured" or not (check.kind in waive or check.name in waive):
        return check
    return replace(check, passed=True, status="waived",
                   message=f"{check.message}; waived by policy.waive ({check.kind}): {reason}")


@dataclass(frozen=True)
class Gate:
    passed: bool
    checks: tuple[Check, ...]
    passing_explainers: tuple[str, ...] = ()

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if the gate made one."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [c.to_json() for c in self.checks],
                "passing_explainers": list(self.passing_explainers)}


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
    """Outcome fairness of one protected attribute (see :mod:`audit.fairness`): each estimate with its 95% CI,
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
    """What was measured about protected attributes (see :mod:`audit.protected`)."""

    attributes: tuple[str, ...] = ()
    direct_inputs: tuple[str, ...] = ()
    input_action: str = "fail"  # "fail" | "finding", resolved from policy.protected_as_input
    flip_rates: dict[str, tuple[float, tuple[float, float], int]] = field(default_factory=dict)  # rate, CI, rows
    flip_not_measured: dict[str, str] = field(default_factory=dict)  # attribute -> why the flip test could not run
    strongest_proxy: dict[str, tuple[str, float]] = field(default_factory=dict)  # attribute -> (input, NMI)
    fairness: dict[str, FairnessEvidence] = field(default_factory=dict)  # attribute -> outcome fairness


@dataclass(frozen=True)
class AgreementEvidence:
    """Pairwise mean per-row Spearman and top-k overlap between explainers (see :mod:`audit.agreement`)."""

    methods: tuple[str, ...]
    spearman: tuple[tuple[float, ...], ...]
    topk: tuple[tuple[float, ...], ...]
    k: int = 3


@dataclass(frozen=True)
class CompareEvidence:
    """What ``audit compare`` measured between a baseline and a candidate (see :mod:`audit.compare`).
    A measure that could not be taken is None, with the reason in ``missing`` under the check's name."""

    performance: tuple[str, float, tuple[float | None, float | None]] | None = None  # measure, delta, CI
    method: str | None = None  # the reporting explainer both models were explained with
    importance_rank: float | None = None
    importance_topk: float | None = None
    reason_change: tuple[float, int] | None = None  # share of rows, rows compared
    faithfulness_delta: float | None = None
    flip_rate: tuple[float, int] | None = None  # share of rows, rows compared
    group_gaps: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # attribute -> gap, high, low
    adverse_flips: bool = True  # gaps are in flips to the adverse outcome (False: any flip, no favourable class)
    missing: dict[str, str] = field(default_factory=dict)  # check name -> why it could not be measured


def _drift_check(name: str, value: float | None, threshold: float, higher_is_better: bool, what: str,
                 missing: dict[str, str]) -> Check:
    """One blocking comparison with a threshold; a measure that could not be taken is not measured (blocking)."""
    if value is None:
        return not_measured(name, threshold, f"{what}: {missing.get(name, 'not available')}",
                            higher_is_better=higher_is_better)
    return threshold_check(name, float(value), threshold, what, higher_is_better=higher_is_better)


def evaluate_compare(policy: ComparePolicy, ev: CompareEvidence) -> Gate:
    """Apply ``[policy.compare]`` to the measured differences between two models; every check blocks, and a
    measure that could not be taken fails unless ``policy.compare.waive`` names it. Identical models measure
    zero change and pass.

    >>> evaluate_compare(ComparePolicy(), CompareEvidence(performance=("auc", 0.0, (0.0, 0.0)), method="shap",
    ...     importance_rank=1.0, importance_topk=1.0, reason_change=(0.0, 40), faithfulness_delta=0.0,
    ...     flip_rate=(0.0, 1000))).passed
    True
    """
    m, gone = ev.method or "the reporting method", ev.missing
    measure, delta, ci = ev.performance or ("performance", None, (None, None))
    perf = _drift_check("compare:performance", delta, -policy.max_performance_drop, True,
                        f"change in {measure} (candidate - baseline)", gone)
    if delta is not None and ci[0] is not None:
        perf = replace(perf, message=f"{perf.message} (paired bootstrap 95% CI {ci[0]:+.3f} to {ci[1]:+.3f})")
    checks = [perf,
              _drift_check("compare:importance_rank", ev.importance_rank, policy.min_importance_rank_correlation,
                           True, f"Spearman correlation of the two models' global importance ({m})", gone),
              _drift_check("compare:importance_topk", ev.importance_topk, policy.min_importance_topk_overlap, True,
                           f"share of the top global inputs in common ({m})", gone),
              _drift_check("compare:reason_change", ev.reason_change and ev.reason_change[0],
                           policy.max_reason_change_rate, False,
                           "share of the same rows whose principal reason changed"
                           + (f" ({ev.reason_change[1]} rows)" if ev.reason_change else ""), gone),
              _drift_check("compare:faithfulness", ev.faithfulness_delta, -policy.max_faithfulness_drop, True,
                           f"change in faithfulness score of {m} (candidate - baseline)", gone)]
    if ev.flip_rate is not None or "compare:flip_rate" in gone:
        checks.append(_drift_check("compare:flip_rate", ev.flip_rate and ev.flip_rate[0], policy.max_flip_rate,
                                   False, "share of decisions that flip"
                                   + (f" ({ev.flip_rate[1]} rows)" if ev.flip_rate else ""), gone))
    for attr, (gap, high, low) in ev.group_gaps.items():
        checks.append(_drift_check(f"compare:group_flip:{attr}", gap, policy.max_group_flip_gap, False,
                                   f"gap in the share of rows flipped{' to the adverse outcome' * ev.adverse_flips} "
                                   f"between {attr} groups {high!r} and {low!r}", gone))
    for name in gone:
        if name.startswith("compare:group_flip:") and name.split(":", 2)[2] not in ev.group_gaps:
            checks.append(_drift_check(name, None, policy.max_group_flip_gap, False,
                                       f"gap in flips between {name.split(':', 2)[2]} groups", gone))
    checks = [waived(c, policy.waive, policy.waive_reason) for c in checks]
    return Gate(passed=all(c.passed for c in checks if c.blocking), checks=tuple(checks))


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


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
                            detail=f" (95% CI {_fmt(ev.score_ci[0])}..{_fmt(ev.score_ci[1])})"))
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
    worst = signed if absolute is None else max(signed, absolute)
    both = f"{signed:.3f}" + ("" if absolute is None else f" (of |attribution|: {absolute:.3f})")
    c = threshold_check(name, worst, t, f"rank correlation with explanations of the randomised model "
                        f"({ev.randomisation_method or 'refit on permuted labels'})", higher_is_better=False,
                        explainer=ev.name, blocking=False, shown=both)
    return replace(c, message=c.message + (" (explanation depends on what the model learned)" if c.passed else
                                           " (explanation barely changes when the model is randomised)"))


_ECOA_NOTE = ("Under ECOA / Regulation B a prohibited basis may not be a factor in a credit decision (age only "
              "in an empirically derived, statistically sound system that does not score elderly applicants "
              "down, 12 CFR 1002.6(b)(2)). Remove it, or document the exemption and set "
              "policy.protected_as_input = 'finding'")


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
             + (_ECOA_NOTE if blocking
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
    return checks


def _ci_note(ci: tuple[float, float], t: float) -> str:
    return f" (95% CI {_fmt(ci[0])} to {_fmt(ci[1])}{'; the interval includes the threshold' if ci[0] <= t <= ci[1] else ''})"


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
        c = threshold_check(name, float(matrix[a][b]), t, f"least agreeing passing explainers {ev.methods[a]} and "
                            f"{ev.methods[b]}: {what}", higher_is_better=True)
        out.append(c if c.passed else replace(c, message=c.message + "; the explanations tell different stories "
                                                                      "and cannot all be accurate"))
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
    return Check("explainers_passing", len(counted) >= need, float(len(counted)), float(need),
                 f"{len(counted)} explainer(s) passed every check ({listed or 'none'}); need {need}",
                 higher_is_better=True)


def recourse_checks(policy: Policy, consistency: dict[str, tuple[float | None, int]]) -> list[Check]:
    """Reason-recourse consistency per explainer: the share of adverse decisions with verified recourse whose
    principal reasons name an input that a counterfactual changes (``consistency``: method -> (share, decisions)).
    A low share is a finding (non-blocking): the reasons point away from what would change the decision; no
    adverse decision with verified recourse leaves it not measured (a finding too).

    >>> [c.verdict for c in recourse_checks(Policy(), {"shap": (0.9, 10), "lime": (0.2, 10), "x": (None, 0)})]
    ['pass', 'finding', 'not_measured']
    """
    t = policy.min_reason_recourse_consistency
    checks = []
    for method, (share, n) in consistency.items():
        if share is None:
            checks.append(not_measured(f"recourse_consistency:{method}", t, f"no adverse decision had verified "
                                       f"recourse to compare {method}'s reasons with", blocking=False,
                                       higher_is_better=True))
            continue
        ok = share >= t
        checks.append(Check(f"recourse_consistency:{method}", ok, share, t,
                            f"{share:.0%} of {n} adverse decisions with verified recourse have a principal reason "
                            f"from {method} that a counterfactual changes {'>=' if ok else '<'} {t:.0%}"
                            + ("" if ok else "; the reasons point away from what would change the decision"),
                            blocking=False, higher_is_better=True))
    return [waived(c, policy.waive, policy.waive_reason) for c in checks]


def direction_checks(policy: Policy, summary: dict[str, Any]) -> list[Check]:
    """Direction words on the reported adverse reasons, verified by the model (:mod:`audit.directions`): the
    contradicted words the report prints must not exceed ``max_contradicted_reason_words`` (blocking); with no
    word to check the check is not required.

    >>> s = {"claims": 4, "confirmed": 3, "contradicted": 1, "non_monotone": 0, "accuracy": 0.75,
    ...      "contradicted_printed": 1, "printed_words": "typical"}
    >>> direction_checks(Policy(), s)[0].verdict
    'fail'
    """
    name, t = "reason_directions", float(policy.max_contradicted_reason_words)
    if not summary.get("claims"):
        return [not_required(name, t, "no adverse reason on a numeric input carries a direction word",
                             higher_is_better=False)]
    words = ("printed only where the model confirms them" if summary["printed_words"] == "verified"
             else "printed from the comparison with the typical value (report.direction_words = 'typical')")
    return [threshold_check(name, float(summary["contradicted_printed"]), t, "direction words the model contradicts, "
                            "printed on adverse reasons:", fmt=".0f", higher_is_better=False,
                            detail=f" (of {summary['claims']} worded reasons the model confirmed "
                                   f"{summary['confirmed']}, contradicted {summary['contradicted']}, found "
                                   f"{summary['non_monotone']} non-monotone; words {words})")]


def stability_checks(policy: Policy, record: dict[str, Any] | None, why_not: str) -> list[Check]:
    """Reason stability (:mod:`audit.reason_stability`): the share of adverse decisions' principal-reason sets
    unchanged when the background is redrawn, against ``min_reason_stability`` (a finding; blocking with
    ``reason_stability_blocks``)."""
    name, t, blocks = "reason_stability", policy.min_reason_stability, policy.reason_stability_blocks
    if record is None:
        return [not_required(name, t, why_not, higher_is_better=True, blocking=blocks)]
    return [threshold_check(name, record["share_unchanged"], t, f"share of {record['decisions']} adverse decisions x "
                            f"{record['redraws']} redrawn backgrounds whose principal reasons ({record['method']}) are "
                            "unchanged", higher_is_better=True, blocking=blocks,
                            suffix="" if record["share_unchanged"] >= t else
                            "; the reasons follow the random draw of the reference sample, not the model")]


def extend(gate: Gate, checks: list[Check]) -> Gate:
    """``gate`` with further global checks measured after it (they do not change which explainers passed)."""
    ok = gate.passed and all(c.passed for c in checks if c.blocking)
    return Gate(passed=ok, checks=(*gate.checks, *checks), passing_explainers=gate.passing_explainers)
