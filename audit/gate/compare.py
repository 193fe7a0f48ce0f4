"""The compare policy: ``[policy.compare]`` applied to what ``audit compare`` measured between two models.

Every check blocks; a measure that could not be taken is not measured (a failure) unless
``policy.compare.waive`` names it. Identical models measure zero change and pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from audit.config import ComparePolicy
from audit.gate.checks import Check, Gate, not_measured, threshold_check, waived

__all__ = ["CompareEvidence", "evaluate_compare"]


@dataclass(frozen=True)
class CompareEvidence:
    """What ``audit compare`` measured between a baseline and a candidate (see :mod:`audit.commands.compare`).
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
