"""Explanation parity: is the explainer that gives the reasons as faithful, and its reasons as stable, for every
protected group?

An adverse-action reason must be as accurate for every applicant; an explanation faithful on average can be
less faithful for one group (OpenXAI's "fairness of explanations", Agarwal et al. 2022). For the explainer
that gives the reasons:

- **Faithfulness per group**: the faithfulness score restricted to the group's rows of the scoring sample
  (:func:`audit.faithfulness.scoring.subset_score`): every metric normalised against the controls and the
  reference of the whole sample, so the groups share one scale and the whole sample's value is the audit's
  score.
- **Reason stability per group**: the share of (adverse decision, redrawn background) pairs whose principal
  reasons are unchanged (:mod:`audit.measures.reason_stability`), over the group's decisions.
- **Groups**: as in the outcome-fairness section (:mod:`audit.measures.grouping`, ``policy.group_bins``,
  ``policy.intersections``); a group is compared only with at least ``min_group_size`` scored rows
  (decisions, for stability). The **gap** is the highest minus the lowest compared group's value (None with
  fewer than two); the gate compares it with ``policy.max_explanation_gap``.

Pure functions over arrays, apart from :func:`measure_explanation_parity`, which reads the ``Dataset``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from audit.faithfulness.scoring import subset_score
from audit.measures.grouping import attribute_groups, crossed_groups, intersection_name
from audit.records import ExplanationParityRecord, GroupExplanationRecord
from audit.types import Dataset

__all__ = ["group_parity", "measure_explanation_parity"]


def _gap(values: list[float | None]) -> float | None:
    seen = [v for v in values if v is not None and v == v]
    return float(max(seen) - min(seen)) if len(seen) > 1 else None


def group_parity(labels: np.ndarray, order: Sequence[str], scored_rows: np.ndarray, row_scores: Mapping[str, np.ndarray],
                 stability_rows: np.ndarray, unchanged: np.ndarray, *, min_group_size: int
                 ) -> tuple[list[GroupExplanationRecord], dict[str, float | None]]:
    """Per group of ``labels`` (every row's group): the faithfulness score of its ``scored_rows`` (0-based rows, in
    the order of ``row_scores``' values) and the mean of ``unchanged`` (each decision's share of unchanged
    redraws) over its ``stability_rows``; and the gaps between the groups large enough to compare."""
    scored_groups = labels[scored_rows] if len(scored_rows) else np.zeros(0, dtype=object)
    stable_groups = labels[stability_rows] if len(stability_rows) else np.zeros(0, dtype=object)
    out: list[GroupExplanationRecord] = []
    for g in order:
        mask, smask = scored_groups == g, stable_groups == g
        score = subset_score(dict(row_scores), mask) if mask.any() else float("nan")
        out.append({"group": str(g), "rows": int(mask.sum()), "judged": bool(mask.sum() >= min_group_size),
                    "faithfulness_score": None if score != score else score,
                    "reason_stability": float(unchanged[smask].mean()) if smask.any() else None,
                    "stability_decisions": int(smask.sum())})
    gaps = {"faithfulness": _gap([r["faithfulness_score"] for r in out if r["judged"]]),
            "reason_stability": _gap([r["reason_stability"] for r in out if r["stability_decisions"] >= min_group_size])}
    return out, gaps


def measure_explanation_parity(ds: Dataset, method: str | None, scored_rows: np.ndarray,
                               row_scores: Mapping[str, np.ndarray], stability: tuple[np.ndarray, np.ndarray] | None, *,
                               protected: Sequence[str], bins: Mapping[str, Sequence[float]],
                               intersections: Sequence[Sequence[str]], min_group_size: int,
                               why_not: str = "") -> ExplanationParityRecord:
    """Explanation parity of ``method`` (the explainer giving the reasons; None: not measured, ``why_not`` says
    why) per protected attribute and intersection. ``stability``: the redrawn decisions' 0-based rows and each
    one's share of unchanged redraws (None when reason stability was not measured)."""
    if not protected:
        return {"attributes": {}}
    if method is None:
        return {"attributes": {}, "not_measured": why_not}
    rows, unchanged = stability if stability is not None else (np.zeros(0, dtype=int), np.zeros(0))
    sets = [((a,), attribute_groups(ds, a, bins.get(a))) for a in protected if a != ds.target_name]
    sets += [(tuple(c), crossed_groups(ds, c, bins)) for c in intersections if ds.target_name not in c]
    out: ExplanationParityRecord = {"attributes": {}, "gaps": {}, "method": method, "min_group_size": min_group_size}
    for attrs, (labels, order, _how) in sets:
        name = intersection_name(attrs)
        out["attributes"][name], out["gaps"][name] = group_parity(
            labels, order, scored_rows, row_scores, rows, unchanged, min_group_size=min_group_size)
    return out
