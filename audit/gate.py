"""The policy gate: pure functions from measured evidence to pass/fail checks.

Each explainer gets its own checks (faithfulness score, additivity where promised, stability for
sampling methods, the model-randomisation sanity check, per-metric minimums). The gate passes when at
least ``policy.min_explainers_passing`` explainers pass all of theirs, every explainer the policy
marks ``required`` passes, and the global checks (protected-attribute influence) pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.config import Policy

__all__ = ["Check", "Gate", "ExplainerEvidence", "evaluate"]


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
    metric_scores: dict[str, float | None] = field(default_factory=dict)
    uninformative_metrics: tuple[str, ...] = ()


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
        ok = ev.randomisation_similarity <= t
        checks.append(Check(f"randomisation:{ev.name}", ok, ev.randomisation_similarity, t,
                            f"rank correlation with explanations of the randomised model "
                            f"({ev.randomisation_method or 'refit on permuted labels'}) "
                            f"{ev.randomisation_similarity:.3f} {'<=' if ok else '>'} {t} "
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


def evaluate(policy: Policy, evidence: list[ExplainerEvidence], protected_shares: dict[str, float] | None = None) -> Gate:
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
