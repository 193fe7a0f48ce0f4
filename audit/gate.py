"""The policy gate: pure functions from measured evidence to pass/fail checks.

Each explainer gets its own checks (faithfulness score, additivity where promised, stability for
sampling methods, the model-randomisation sanity check, per-metric minimums). The gate passes when at
least ``policy.min_explainers_passing`` explainers pass all of theirs, every explainer the policy
marks ``required`` passes, and the global checks (protected-attribute influence, outcome fairness per
protected group, agreement, performance floors) pass. A fairness group too small to judge is a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.config import ComparePolicy, Policy

__all__ = ["Check", "Gate", "ExplainerEvidence", "ProtectedEvidence", "FairnessEvidence", "AgreementEvidence",
           "evaluate", "CompareEvidence", "evaluate_compare", "recourse_checks", "extend"]


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

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else ("fail" if self.blocking else "finding")

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
                "verdict": self.verdict, "higher_is_better": self.higher_is_better}


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
    """One blocking comparison with a threshold; a measure that could not be taken is a finding saying why."""
    if value is None:
        return Check(name, False, None, threshold, f"{what} not measured: {missing.get(name, 'not available')}",
                     blocking=False, higher_is_better=higher_is_better)
    ok = value >= threshold if higher_is_better else value <= threshold
    sign = (">=" if ok else "<") if higher_is_better else ("<=" if ok else ">")
    return Check(name, ok, float(value), threshold, f"{what} {value:.3f} {sign} {threshold}",
                 higher_is_better=higher_is_better)


def evaluate_compare(policy: ComparePolicy, ev: CompareEvidence) -> Gate:
    """Apply ``[policy.compare]`` to the measured differences between two models; every measured check
    blocks. Identical models measure zero change and pass.

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
        perf = Check(perf.name, perf.passed, perf.value, perf.threshold,
                     f"{perf.message} (paired bootstrap 95% CI {ci[0]:+.3f} to {ci[1]:+.3f})",
                     higher_is_better=True)
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
    return Gate(passed=all(c.passed for c in checks if c.blocking), checks=tuple(checks))


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def explainer_checks(policy: Policy, ev: ExplainerEvidence) -> list[Check]:
    """All checks for one explainer, thresholds from the policy (per-explainer overrides first)."""
    own = policy.explainers.get(ev.name)

    def pick(attr: str) -> Any:
        value = getattr(own, attr, None) if own is not None else None
        return getattr(policy, attr) if value is None else value

    checks = []
    t = pick("min_faithfulness_score")
    ok = ev.score == ev.score and ev.score >= t
    checks.append(Check(f"faithfulness:{ev.name}", ok, ev.score, t,
                        f"faithfulness score {_fmt(ev.score)} (95% CI {_fmt(ev.score_ci[0])}..{_fmt(ev.score_ci[1])}) "
                        f"{'>=' if ok else '<'} {t}", ev.name, blocking=False, higher_is_better=True))
    if ev.additivity_error is not None:
        t = pick("max_additivity_error")
        ok = ev.additivity_error <= t
        checks.append(Check(f"additivity:{ev.name}", ok, ev.additivity_error, t,
                            f"mean additivity error {ev.additivity_error:.2e} of the output's spread "
                            f"{'<=' if ok else '>'} {t}", ev.name, blocking=False, higher_is_better=False))
    if ev.stability is not None:
        t = pick("min_stability")
        ok = ev.stability >= t
        checks.append(Check(f"stability:{ev.name}", ok, ev.stability, t,
                            f"top-k Jaccard across seeds {ev.stability:.3f} {'>=' if ok else '<'} {t}", ev.name,
                            blocking=False, higher_is_better=True))
    if ev.randomisation_similarity is not None:
        t = policy.max_randomisation_similarity
        signed, absolute = ev.randomisation_similarity, ev.randomisation_similarity_abs
        worst = signed if absolute is None else max(signed, absolute)
        ok = worst <= t
        both = f"{signed:.3f}" + ("" if absolute is None else f" (of |attribution|: {absolute:.3f})")
        checks.append(Check(f"randomisation:{ev.name}", ok, worst, t,
                            f"rank correlation with explanations of the randomised model "
                            f"({ev.randomisation_method or 'refit on permuted labels'}) "
                            f"{both} {'<=' if ok else '>'} {t} "
                            f"({'explanation depends on what the model learned' if ok else 'explanation barely changes when the model is randomised'})",
                            ev.name, blocking=False, higher_is_better=False))
    elif policy.require_randomisation_check:
        checks.append(Check(f"randomisation:{ev.name}", False, None, policy.max_randomisation_similarity,
                            f"randomisation check required but not run: {ev.randomisation_note or 'no target column'}",
                            ev.name, blocking=False, higher_is_better=False))
    minimums = {**policy.metric_minimums, **(own.metric_minimums if own else {})}
    for metric, t in minimums.items():
        value = ev.metric_scores.get(metric)
        ok = value is not None and value >= t
        if metric in ev.uninformative_metrics:
            message = (f"normalised {metric} cannot show the minimum {t} is met: the metric is uninformative on "
                       f"this model (its reference barely beats random)")
        else:
            message = f"normalised {metric} {_fmt(value)} {'>=' if ok else '<'} {t}"
        checks.append(Check(f"metric:{metric}:{ev.name}", ok, value, t, message, ev.name,
                            blocking=False, higher_is_better=True))
    return checks


def protected_checks(policy: Policy, ev: ProtectedEvidence) -> list[Check]:
    """Direct use, the flip test and proxies, for each protected attribute (all blocking except a direct
    input under ``input_action = "finding"``)."""
    checks = []
    for attr in ev.attributes:
        direct = attr in ev.direct_inputs
        blocking = ev.input_action == "fail"
        checks.append(Check(
            f"protected_input:{attr}", not direct, 1.0 if direct else 0.0, 0.0,
            (f"{attr!r} is a direct model input and the policy marks it protected. "
             + ("Under ECOA / Regulation B a prohibited basis may not be a factor in a credit decision (age only "
                "in an empirically derived, statistically sound system that does not score elderly applicants "
                "down, 12 CFR 1002.6(b)(2)). Remove it, or document the exemption and set "
                "policy.protected_as_input = 'finding'" if blocking
                else "Reported as a finding, not a blocker: policy.protected_as_input is 'finding'")
             if direct else f"{attr!r} is not a model input"), blocking=blocking or not direct,
            higher_is_better=False))
        if attr in ev.flip_rates:
            rate, ci, rows = ev.flip_rates[attr]
            t = policy.max_protected_flip_rate
            ok = rate <= t
            checks.append(Check(f"protected_flip:{attr}", ok, rate, t,
                                f"changing only {attr!r} on {rows} real rows changes {rate:.1%} of decisions "
                                f"(95% CI {ci[0]:.1%} to {ci[1]:.1%}) {'<=' if ok else '>'} {t:.1%}",
                                higher_is_better=False))
        if attr in ev.strongest_proxy and policy.max_proxy_association is not None:
            feature, nmi = ev.strongest_proxy[attr]
            t = policy.max_proxy_association
            ok = nmi <= t
            checks.append(Check(f"protected_proxy:{attr}", ok, nmi, t,
                                f"strongest proxy of {attr!r} among the model inputs: {feature!r}, normalised mutual "
                                f"information {nmi:.3f} {'<=' if ok else '>'} {t}", higher_is_better=False))
        if attr in ev.fairness:
            checks += fairness_checks(policy, attr, ev.fairness[attr])
    return checks


def _ci_note(ci: tuple[float, float], t: float) -> str:
    return f" (95% CI {_fmt(ci[0])} to {_fmt(ci[1])}{'; the interval includes the threshold' if ci[0] <= t <= ci[1] else ''})"


def fairness_checks(policy: Policy, attr: str, ev: FairnessEvidence) -> list[Check]:
    """Group sizes (a too-small group is a finding, never a pass), the four-fifths rule on the point estimate
    of the selection-rate ratio (blocking), and the optional equalised-odds and equal-opportunity limits
    (blocking; without a target they cannot be measured and fail). Too few judged groups: a finding."""
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
        checks.append(Check(f"selection_rate_ratio:{attr}", False, None, t, unjudged, blocking=False,
                            higher_is_better=True))
    else:
        value, ci, low, high = ev.selection_rate_ratio
        ok = value >= t
        checks.append(Check(f"selection_rate_ratio:{attr}", ok, value, t,
                            f"selection-rate ratio of {attr!r} (group {low!r} over group {high!r}) {_fmt(value)}"
                            f"{_ci_note(ci, t)} {'>=' if ok else '<'} {t} (four-fifths rule)", higher_is_better=True))
    for key, what, limit in (("equalized_odds_difference", "equalised-odds difference (largest gap in true- or "
                              "false-positive rate)", policy.max_equalized_odds_difference),
                             ("equal_opportunity_difference", "equal-opportunity difference (gap in true-positive "
                              "rate)", policy.max_equal_opportunity_difference)):
        if limit is None:
            continue
        measured = getattr(ev, key)
        if not ev.with_target:
            checks.append(Check(f"{key}:{attr}", False, None, limit, f"{what} of {attr!r} cannot be checked: "
                                "no target column", higher_is_better=False))
        elif measured is None:
            checks.append(Check(f"{key}:{attr}", False, None, limit, f"{what}: {unjudged}", blocking=False,
                                higher_is_better=False))
        else:
            value, ci = measured
            ok = value <= limit
            checks.append(Check(f"{key}:{attr}", ok, value, limit, f"{what} of {attr!r} {_fmt(value)}"
                                f"{_ci_note(ci, limit)} {'<=' if ok else '>'} {limit}", higher_is_better=False))
    return checks


def agreement_checks(policy: Policy, ev: AgreementEvidence, passing: list[str]) -> list[Check]:
    """Least pairwise agreement between the explainers that passed their own checks (Krishna et al. 2022);
    fewer than two: not assessed, which the message says."""
    names = [m for m in ev.methods if m in passing]
    if len(names) < 2:
        note = f"fewer than two explainers passed ({', '.join(names) or 'none'}): agreement not assessed"
        return [Check("agreement:rank", True, None, policy.min_method_agreement, note, higher_is_better=True),
                Check("agreement:topk", True, None, policy.min_topk_agreement, note, higher_is_better=True)]
    idx = [ev.methods.index(m) for m in names]
    pairs = [(a, b) for i, a in enumerate(idx) for b in idx[i + 1:]]
    out = []
    for name, matrix, t, what in (("agreement:rank", ev.spearman, policy.min_method_agreement,
                                   "mean per-row Spearman rank correlation"),
                                  ("agreement:topk", ev.topk, policy.min_topk_agreement,
                                   f"mean top-{ev.k} overlap")):
        a, b = min(pairs, key=lambda p: matrix[p[0]][p[1]])
        value = float(matrix[a][b])
        ok = value >= t
        out.append(Check(name, ok, value, t,
                         f"least agreeing passing explainers {ev.methods[a]} and {ev.methods[b]}: {what} "
                         f"{value:.3f} {'>=' if ok else '<'} {t}"
                         + ("" if ok else "; the explanations tell different stories and cannot all be accurate"),
                         higher_is_better=True))
    return out


def performance_checks(policy: Policy, performance: dict[str, Any] | None) -> list[Check]:
    """Optional floors on the model's own performance (``min_auc``, ``min_accuracy``, ``min_r2``); a floor
    that cannot be measured (no target, or the measure does not apply to the task) fails, saying why."""
    checks = []
    for key, floor in (("auc", policy.min_auc), ("accuracy", policy.min_accuracy), ("r2", policy.min_r2)):
        if floor is None:
            continue
        value = (performance or {}).get(key)
        role = (performance or {}).get("data_role", "unknown")
        if value is None:
            why = "no target column" if performance is None else f"{key} does not apply to this model's task"
            checks.append(Check(f"performance:{key}", False, None, floor,
                                f"{key} floor {floor} cannot be checked: {why}", higher_is_better=True))
            continue
        ok = value >= floor
        checks.append(Check(f"performance:{key}", ok, float(value), floor,
                            f"{key} {value:.3f} on the audited data (role: {role}) {'>=' if ok else '<'} {floor}",
                            higher_is_better=True))
    return checks


def evaluate(policy: Policy, evidence: list[ExplainerEvidence], protected_shares: dict[str, float] | None = None,
             *, protected: ProtectedEvidence | None = None, agreement: AgreementEvidence | None = None,
             performance: dict[str, Any] | None = None) -> Gate:
    """Apply the policy to the evidence of every explainer.

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
        ok = share <= policy.max_protected_share
        checks.append(Check(f"protected:{name}", ok, share, policy.max_protected_share,
                            f"share of attribution mass on protected attribute(s) {share:.1%} "
                            f"{'<=' if ok else '>'} {policy.max_protected_share:.0%} (explainer {name})", name,
                            higher_is_better=False))
    if protected is not None:
        checks += protected_checks(policy, protected)
    if agreement is not None:
        checks += agreement_checks(policy, agreement, passing)
    checks += performance_checks(policy, performance)
    need = policy.min_explainers_passing
    ok = len(passing) >= need
    checks.append(Check("explainers_passing", ok, float(len(passing)), float(need),
                        f"{len(passing)} explainer(s) passed every check ({', '.join(passing) or 'none'}); need {need}",
                        higher_is_better=True))
    required = [n for n, p in policy.explainers.items() if p.required]
    for name in required:
        checks.append(Check(f"required:{name}", name in passing, None, None,
                            f"required explainer {name} {'passed' if name in passing else 'did not pass'} its checks", name))
    global_ok = all(c.passed for c in checks if c.blocking)
    return Gate(passed=global_ok, checks=tuple(checks), passing_explainers=tuple(passing))


def recourse_checks(policy: Policy, consistency: dict[str, tuple[float | None, int]]) -> list[Check]:
    """Reason-recourse consistency per explainer: the share of adverse decisions with verified recourse whose
    principal reasons name an input that a counterfactual changes (``consistency``: method -> (share, decisions)).
    A low share is a finding (non-blocking): the reasons point away from what would change the decision.

    >>> [c.verdict for c in recourse_checks(Policy(), {"shap": (0.9, 10), "lime": (0.2, 10)})]
    ['pass', 'finding']
    """
    t = policy.min_reason_recourse_consistency
    checks = []
    for method, (share, n) in consistency.items():
        if share is None:
            checks.append(Check(f"recourse_consistency:{method}", True, None, t,
                                f"not assessed for {method}: no adverse decision had verified recourse",
                                blocking=False, higher_is_better=True))
            continue
        ok = share >= t
        checks.append(Check(f"recourse_consistency:{method}", ok, share, t,
                            f"{share:.0%} of {n} adverse decisions with verified recourse have a principal reason "
                            f"from {method} that a counterfactual changes {'>=' if ok else '<'} {t:.0%}"
                            + ("" if ok else "; the reasons point away from what would change the decision"),
                            blocking=False, higher_is_better=True))
    return checks


def extend(gate: Gate, checks: list[Check]) -> Gate:
    """``gate`` with further global checks measured after it (they do not change which explainers passed)."""
    ok = gate.passed and all(c.passed for c in checks if c.blocking)
    return Gate(passed=ok, checks=(*gate.checks, *checks), passing_explainers=gate.passing_explainers)
