"""Disparity by score band: the adverse impact ratio at each decile cutoff of the favourable score, and the
standardized mean difference of the score between groups, per protected attribute.

- **Score**: each row's probability of the favourable class (``favorable_class``), on every row of DATA.
  Only binary classifiers with a favourable class have one; anything else is recorded as not measured.
- **Cutoffs**: the score's deciles over every row (10th to 90th percentile). At a cutoff ``c`` a row is
  approved when its score is at least ``c``; the **adverse impact ratio** (AIR) at ``c`` is the lowest over
  the highest judged group's approval rate, the same ratio the four-fifths rule reads at the model's own
  decision. The **policy cutoff** is the lowest favourable score the model approved (its decision
  threshold as seen in DATA); the AIR there is reported with the curve.
- **Groups**: as in the outcome-fairness section (:mod:`audit.measures.grouping`, ``policy.group_bins``,
  ``policy.intersections``); groups under ``min_group_size`` rows are left out of every comparison.
- **Standardized mean difference** (SMD): the mean score of the lowest-scoring judged group minus that of the
  highest-scoring one, over the standard deviation of the score on all judged rows (Cohen's d with a
  population SD, as credit disparity testing reports it; SolasAI flags |SMD| >= 0.3). Negative: the
  lowest group scores lower. Its 95% CI comes from a bootstrap that resamples rows within each group
  (seeded), with the two groups fixed by the point estimate.

Pure functions over arrays, apart from :func:`measure_score_disparity`, which reads the ``Dataset``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.measures.grouping import attribute_groups, crossed_groups, intersection_name
from audit.records import ScoreDisparityRecord
from audit.types import Dataset

__all__ = ["DECILES", "air_by_band", "standardized_mean_difference", "policy_cutoff", "measure_score_disparity"]

DECILES = tuple(round(0.1 * i, 1) for i in range(1, 10))


def _air_at(scores: np.ndarray, groups: np.ndarray, judged: Sequence[str], cutoff: float) -> tuple[float | None, str, str]:
    """The AIR (lowest / highest judged group approval rate) when rows with a score >= ``cutoff`` are approved."""
    rates = {g: float(np.mean(scores[groups == g] >= cutoff)) for g in judged}
    low, high = min(rates, key=rates.__getitem__), max(rates, key=rates.__getitem__)
    return (rates[low] / rates[high] if rates[high] > 0 else None), low, high


def air_by_band(scores: np.ndarray, groups: np.ndarray, order: Sequence[str], *, min_group_size: int,
                quantiles: Sequence[float] = DECILES) -> list[dict[str, Any]]:
    """The AIR at each quantile cutoff of ``scores`` over the groups with at least ``min_group_size`` rows
    (empty when fewer than two groups are that large).

    >>> s = np.array([0.9, 0.8, 0.3, 0.2, 0.7, 0.6, 0.5, 0.1])
    >>> g = np.array(["a"] * 4 + ["b"] * 4)
    >>> band = air_by_band(s, g, ["a", "b"], min_group_size=4, quantiles=[0.5])[0]
    >>> band["cutoff"], band["air"], band["lowest"]
    (0.55, 1.0, 'a')
    """
    judged = [g for g in order if np.sum(groups == g) >= min_group_size]
    if len(judged) < 2:
        return []
    out = []
    for q in quantiles:
        cutoff = float(np.quantile(scores, q))
        air, low, high = _air_at(scores, groups, judged, cutoff)
        out.append({"quantile": float(q), "cutoff": cutoff, "air": air, "lowest": low, "highest": high})
    return out


def standardized_mean_difference(scores: np.ndarray, groups: np.ndarray, order: Sequence[str], *, min_group_size: int,
                                 n_bootstrap: int, rng: np.random.Generator) -> dict[str, Any] | None:
    """The SMD of the score between the lowest- and highest-scoring judged groups, with a bootstrap 95% CI
    (None when fewer than two groups have ``min_group_size`` rows, or the score does not vary).

    >>> s = np.array([0.2, 0.4, 0.6, 0.8]); g = np.array(["a", "a", "b", "b"])
    >>> round(standardized_mean_difference(s, g, ["a", "b"], min_group_size=2, n_bootstrap=10,
    ...                                    rng=np.random.default_rng(0))["value"], 6)
    -1.788854
    """
    judged = [g for g in order if np.sum(groups == g) >= min_group_size]
    members = [scores[groups == g] for g in judged]
    pooled = np.concatenate(members) if members else np.zeros(0)
    if len(judged) < 2 or pooled.std() == 0:
        return None
    means = [m.mean() for m in members]
    low, high = int(np.argmin(means)), int(np.argmax(means))
    value = (means[low] - means[high]) / pooled.std()
    reps = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        drawn = [m[rng.integers(0, len(m), len(m))] for m in members]
        reps[b] = (drawn[low].mean() - drawn[high].mean()) / max(np.concatenate(drawn).std(), 1e-12)
    return {"value": float(value), "ci95": [float(np.percentile(reps, 2.5)), float(np.percentile(reps, 97.5))],
            "lowest": judged[low], "highest": judged[high]}


def policy_cutoff(scores: np.ndarray, approved: np.ndarray) -> float | None:
    """The lowest favourable score among the approved rows: the model's decision threshold as seen in DATA."""
    return float(scores[approved].min()) if approved.any() else None


def measure_score_disparity(ds: Dataset, scores: np.ndarray | None, approved: np.ndarray, *,
                            protected: Sequence[str], bins: Mapping[str, Sequence[float]],
                            intersections: Sequence[Sequence[str]], min_group_size: int, n_bootstrap: int,
                            seed: int, why_not: str = "") -> ScoreDisparityRecord:
    """AIR by decile cutoff and the SMD for every protected attribute (and intersection) that is a column of
    DATA; ``scores``: every row's favourable score (None: not measured, ``why_not`` says why)."""
    if not protected:
        return {"attributes": {}}
    if scores is None:
        return {"attributes": {}, "not_measured": why_not}
    rng = np.random.default_rng(seed + 104729)
    cutoff = policy_cutoff(scores, approved)
    out: ScoreDisparityRecord = {"attributes": {}, "rows": ds.n_rows, "quantiles": list(DECILES),
                                 "policy_cutoff": cutoff, "min_group_size": min_group_size, "bootstrap": n_bootstrap}
    sets = [((a,), attribute_groups(ds, a, bins.get(a))) for a in protected if a != ds.target_name]
    sets += [(tuple(c), crossed_groups(ds, c, bins)) for c in intersections if ds.target_name not in c]
    for attrs, (groups, order, how) in sets:
        judged = [g for g in order if np.sum(groups == g) >= min_group_size]
        at_policy = _air_at(scores, groups, judged, cutoff) if cutoff is not None and len(judged) > 1 else None
        out["attributes"][intersection_name(attrs)] = {
            "grouping": how, "air_by_band": air_by_band(scores, groups, order, min_group_size=min_group_size),
            "air_at_policy_cutoff": None if at_policy is None else at_policy[0],
            "smd": standardized_mean_difference(scores, groups, order, min_group_size=min_group_size,
                                                n_bootstrap=n_bootstrap, rng=rng)}
    return out
