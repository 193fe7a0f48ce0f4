"""Checks on the reported reasons, measured after the audit gate and added to it with :func:`extend`:
reason-recourse consistency, direction words verified by the model, and reason stability.
"""

from __future__ import annotations

from typing import Any

from audit.config import Policy
from audit.gate.checks import Check, not_measured, not_required, threshold_check, waived

__all__ = ["recourse_checks", "direction_checks", "stability_checks", "explanation_parity_checks"]


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
        checks.append(threshold_check(f"recourse_consistency:{method}", share, t, "", tfmt=".0%",
                                      shown=f"{share:.0%} of {n} adverse decisions with verified recourse have a "
                                            f"principal reason from {method} that a counterfactual changes",
                                      on_fail="; the reasons point away from what would change the decision",
                                      blocking=False, higher_is_better=True))
    return [waived(c, policy.waive, policy.waive_reason) for c in checks]


def direction_checks(policy: Policy, summary: dict[str, Any]) -> list[Check]:
    """Direction words on the reported adverse reasons, verified by the model (:mod:`audit.measures.directions`): the
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
    """Reason stability (:mod:`audit.measures.reason_stability`): the share of adverse decisions' principal-reason sets
    unchanged when the background is redrawn, against ``min_reason_stability`` (a finding; blocking with
    ``reason_stability_blocks``)."""
    name, t, blocks = "reason_stability", policy.min_reason_stability, policy.reason_stability_blocks
    if record is None:
        return [not_required(name, t, why_not, higher_is_better=True, blocking=blocks)]
    return [threshold_check(name, record["share_unchanged"], t, f"share of {record['decisions']} adverse decisions x "
                            f"{record['redraws']} redrawn backgrounds whose principal reasons ({record['method']}) are "
                            "unchanged", higher_is_better=True, blocking=blocks,
                            on_fail="; the reasons follow the random draw of the reference sample, not the model")]


def explanation_parity_checks(policy: Policy, record: dict[str, Any]) -> list[Check]:
    """Explanation parity (:mod:`audit.measures.explanation_parity`): per protected attribute, the gap between the
    highest and lowest group's faithfulness score (``explanation_gap:ATTR``) and reason stability
    (``reason_stability_gap:ATTR``) of the explainer giving the reasons, against ``max_explanation_gap``: a
    finding by default, blocking when the policy sets the key. A gap with fewer than two groups large enough is
    not measured (blocking only when set); without a reasoning explainer, not required."""
    t, blocks = policy.max_explanation_gap, "max_explanation_gap" in policy.model_fields_set
    if not record.get("attributes"):
        why = record.get("not_measured", "no protected attributes were configured")
        return [not_required("explanation_gap", t, f"explanation parity: {why}", blocking=False,
                             higher_is_better=False)] if record.get("not_measured") else []
    checks = []
    for attr, gaps in record["gaps"].items():
        groups = record["attributes"][attr]
        for key, kind, what, unit in (("faithfulness", "explanation_gap", "faithfulness score", "scored rows"),
                                      ("reason_stability", "reason_stability_gap", "reason stability",
                                       "adverse decisions")):
            value = gaps.get(key)
            if value is None:
                checks.append(not_measured(f"{kind}:{attr}", t, f"{what} of {record['method']} per group of {attr!r}: "
                                           f"fewer than two groups have {record['min_group_size']} {unit}",
                                           blocking=blocks, higher_is_better=False))
                continue
            scores = {g["group"]: g[f"{key}_score" if key == "faithfulness" else key] for g in groups}
            seen = {g: v for g, v in scores.items() if v is not None}
            low, high = min(seen, key=seen.__getitem__), max(seen, key=seen.__getitem__)
            checks.append(threshold_check(
                f"{kind}:{attr}", value, t, f"gap in {what} of {record['method']} between groups of {attr!r} "
                f"({high!r} {seen[high]:.3f}, {low!r} {seen[low]:.3f})", higher_is_better=False, blocking=blocks,
                on_fail="; the explanations, and the reasons drawn from them, are less accurate for one group"))
    return [waived(c, policy.waive, policy.waive_reason) for c in checks]
