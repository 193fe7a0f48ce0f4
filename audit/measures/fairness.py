"""Outcome fairness per protected group: selection rates, the four-fifths rule, equalised odds and
equal opportunity, each with a bootstrap 95% confidence interval.

- **Selected** means the model's decision is the favourable class (``favorable_class``; for a binary model
  without it, the last class, assumed and said so). Regression models make no decision to compare, and a
  multiclass model without ``favorable_class`` has no favourable outcome: both are recorded as not measured.
- **Rows**: every row of DATA (only the predictions are needed, which the audit already has).
- **Groups** (:mod:`audit.measures.grouping`, shared with the model comparison): a categorical attribute's
  categories; a numeric one with at most ``MAX_CATEGORIES`` distinct values is taken as categories too, a
  wider one is cut at ``policy.group_bins`` edges or, by default, at its quartiles. Missing values form the
  group ``missing``.
- **Too small to judge**: a group with fewer than ``policy.min_group_size`` rows is reported with its
  rates (without a confidence interval) but left out of every comparison, and the gate makes it a
  finding (never a pass).
- **Measures** over the judged groups: the selection-rate ratio (lowest over highest group selection
  rate; the four-fifths rule asks for at least 0.8), and with a target the equalised-odds difference
  (the larger of the gaps in true- and false-positive rate) and the equal-opportunity difference (the
  gap in true-positive rate). A "positive" is a row whose target is the favourable class. Point
  estimates come from fairlearn's ``MetricFrame``.
- **Confidence intervals**: a bootstrap stratified by group (and, with a target, by true class), so each
  replicate keeps the groups' sizes. Resampling a stratum of ``n`` rows of which ``k`` were selected
  draws Binomial(n, k/n) selections, which is what the row bootstrap does, in O(groups) per replicate.

Pure functions over arrays, apart from :func:`measure_fairness`, which reads the ``Dataset``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import ConfigError
from audit.gate import FairnessEvidence
from audit.measures.grouping import (
    MAX_CATEGORIES,
    attribute_groups,
    column_values,
    crossed_groups,
    group_labels,
    intersection_name,
)
from audit.records import OutcomeFairnessRecord
from audit.types import Dataset

__all__ = ["MAX_CATEGORIES", "group_labels", "outcome_fairness", "measure_fairness", "fairness_evidence",
           "check_group_bins"]

def _spread(selection: np.ndarray, tpr: np.ndarray | None, fpr: np.ndarray | None) -> dict[str, np.ndarray]:
    """The comparisons over the last axis (the judged groups): works on one estimate or on replicates."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        top = np.nanmax(selection, axis=-1)
        out = {"selection_rate_ratio": np.where(top > 0, np.nanmin(selection, axis=-1) / top, np.nan)}
        if tpr is not None:
            gap_t = np.nanmax(tpr, axis=-1) - np.nanmin(tpr, axis=-1)
            gap_f = np.nanmax(fpr, axis=-1) - np.nanmin(fpr, axis=-1)
            out["equalized_odds_difference"] = np.fmax(gap_t, gap_f)
            out["equal_opportunity_difference"] = gap_t
    return out


def _strata(groups: np.ndarray, order: list[str], selected: np.ndarray, positive: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and selections per (group, stratum): one stratum, or (positives, negatives) with a target."""
    masks = [np.ones(len(groups), bool)] if positive is None else [positive, ~positive]
    n = np.array([[np.sum((groups == g) & m) for m in masks] for g in order], dtype=np.int64)
    k = np.array([[np.sum((groups == g) & m & selected) for m in masks] for g in order], dtype=np.int64)
    return n, k


def _replicates(n: np.ndarray, k: np.ndarray, rng: np.random.Generator, n_bootstrap: int
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Bootstrap replicates (n_bootstrap x groups) of the selection, true- and false-positive rates."""
    p = np.divide(k, n, out=np.zeros(k.shape), where=n > 0)
    draws = rng.binomial(n[None], p[None], size=(n_bootstrap, *n.shape)).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        selection = draws.sum(-1) / n.sum(-1)
        if n.shape[1] == 1:
            return selection, None, None
        return selection, draws[..., 0] / n[:, 0], draws[..., 1] / n[:, 1]


def _ci(values: np.ndarray) -> list[float | None]:
    finite = values[np.isfinite(values)]
    return [float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5))] if len(finite) else [None, None]


def _point_rates(groups: np.ndarray, order: list[str], selected: np.ndarray, positive: np.ndarray | None
                 ) -> pd.DataFrame:
    """Per-group rows and rates by fairlearn's MetricFrame, in ``order``; a rate with no rows to divide by is NaN."""
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate

    metrics: dict[str, Any] = {"rows": count, "selection_rate": selection_rate}
    if positive is not None:
        metrics |= {"true_positive_rate": true_positive_rate, "false_positive_rate": false_positive_rate}
    truth = (positive if positive is not None else selected).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(metrics=metrics, y_true=truth, y_pred=selected.astype(int),
                            sensitive_features=pd.Series(groups, name="group")).by_group
    frame = frame.reindex(order)
    if positive is not None:
        pos = pd.Series(positive).groupby(groups).sum().reindex(order)
        frame.loc[pos.to_numpy() == 0, "true_positive_rate"] = np.nan
        frame.loc[(frame["rows"] - pos).to_numpy() == 0, "false_positive_rate"] = np.nan
    return frame


def outcome_fairness(groups: np.ndarray, order: list[str], selected: np.ndarray, positive: np.ndarray | None, *,
                     min_group_size: int, n_bootstrap: int, rng: np.random.Generator) -> dict[str, Any]:
    """Per-group selection rates and the comparisons between the groups with at least ``min_group_size`` rows.

    ``groups``: each row's group label; ``selected``: the decision is the favourable class; ``positive``:
    the target is the favourable class (None without a target).

    >>> g = np.array(["a"] * 50 + ["b"] * 50 + ["c"] * 3)
    >>> s = np.r_[np.ones(40), np.zeros(10), np.ones(20), np.zeros(30), np.ones(3)].astype(bool)
    >>> out = outcome_fairness(g, ["a", "b", "c"], s, None, min_group_size=30, n_bootstrap=50,
    ...                        rng=np.random.default_rng(0))
    >>> out["selection_rate_ratio"]["value"], out["too_small"]
    (0.5, ['c'])
    """
    selected = np.asarray(selected, bool)
    positive = None if positive is None else np.asarray(positive, bool)
    frame = _point_rates(groups, order, selected, positive)
    n, k = _strata(groups, order, selected, positive)
    boot_sel, boot_tpr, boot_fpr = _replicates(n, k, rng, n_bootstrap)
    judged = n.sum(1) >= min_group_size
    rows = [{"group": g, "rows": int(frame.loc[g, "rows"]), "judged": bool(judged[i]),
             "selection_rate": float(frame.loc[g, "selection_rate"]),
             "selection_rate_ci95": _ci(boot_sel[:, i]) if judged[i] else [None, None],
             **({} if positive is None else {
                 "positives": int(n[i, 0]), "negatives": int(n[i, 1]),
                 "true_positive_rate": _nan_none(frame.loc[g, "true_positive_rate"]),
                 "false_positive_rate": _nan_none(frame.loc[g, "false_positive_rate"])})}
            for i, g in enumerate(order)]
    out: dict[str, Any] = {"groups": rows, "too_small": [g for g, ok in zip(order, judged) if not ok],
                           "judged_groups": int(judged.sum())}
    if judged.sum() < 2:
        return out | {"selection_rate_ratio": None, "equalized_odds_difference": None,
                      "equal_opportunity_difference": None}
    cols = frame[judged]
    point = _spread(cols["selection_rate"].to_numpy(float),
                    *(None, None) if positive is None else (cols["true_positive_rate"].to_numpy(float),
                                                            cols["false_positive_rate"].to_numpy(float)))
    boot = _spread(boot_sel[:, judged], *(None, None) if positive is None else (boot_tpr[:, judged], boot_fpr[:, judged]))
    for key, value in point.items():
        out[key] = {"value": _nan_none(value), "ci95": _ci(boot[key])}
    rates = cols["selection_rate"]
    out["selection_rate_ratio"] |= {"lowest": str(rates.idxmin()), "highest": str(rates.idxmax())}
    out.setdefault("equalized_odds_difference", None)
    out.setdefault("equal_opportunity_difference", None)
    return out


def _nan_none(x: Any) -> float | None:
    x = float(x)
    return None if x != x else x


def check_group_bins(ds: Dataset, bins: Mapping[str, Sequence[float]]) -> None:
    """Bins only for numeric columns of DATA, or one ConfigError naming the attribute (checked before the long work)."""
    for attr in bins:
        if attr != ds.target_name and column_values(ds, attr)[1]:
            raise ConfigError(f"policy.group_bins.{attr}: {attr!r} is categorical in {ds.path}; bins group numeric "
                              "attributes only. Remove it from group_bins.")


def measure_fairness(ds: Dataset, labels: np.ndarray, *, classes: Sequence[Any] | None, favorable: Any,
                     favorable_source: str, protected: Sequence[str], bins: Mapping[str, Sequence[float]],
                     min_group_size: int, n_bootstrap: int, seed: int,
                     intersections: Sequence[Sequence[str]] = ()) -> OutcomeFairnessRecord:
    """Outcome fairness for every protected attribute that is a column of DATA (the target excepted), on
    every row; ``labels`` are the model's decisions for those rows. Each of ``intersections``
    (``policy.intersections``) is measured the same way on its crossed groups (:func:`crossed_groups`), under
    the key ``"sex x age"``, with the same small-group rule."""
    if not protected:
        return {"attributes": {}}
    if classes is None or favorable is None:
        why = ("a regression model makes no decision whose rate could be compared" if classes is None else
               "a multiclass model has no favourable outcome unless favorable_class is set in audit.toml")
        return {"attributes": {}, "not_measured": why}
    from audit.measures.performance import class_labels

    selected = np.asarray(labels).astype(str) == str(favorable)
    positive = None if ds.target is None else class_labels(ds.target, [str(c) for c in classes]) == str(favorable)
    rng = np.random.default_rng(seed + 7919)
    out: dict[str, Any] = {"rows": ds.n_rows, "favorable_class": str(favorable), "favorable_class_source": favorable_source,
                           "min_group_size": min_group_size, "bootstrap": n_bootstrap, "with_target": positive is not None,
                           "attributes": {}}
    for attr in protected:
        if attr == ds.target_name:
            continue
        groups, order, how = attribute_groups(ds, attr, bins.get(attr))
        record = outcome_fairness(groups, order, selected, positive, min_group_size=min_group_size,
                                  n_bootstrap=n_bootstrap, rng=rng)
        out["attributes"][attr] = {"grouping": how, **record}
    for attrs in intersections:
        if ds.target_name in attrs:
            continue
        groups, order, how = crossed_groups(ds, attrs, bins)
        record = outcome_fairness(groups, order, selected, positive, min_group_size=min_group_size,
                                  n_bootstrap=n_bootstrap, rng=rng)
        out["attributes"][intersection_name(attrs)] = {"grouping": how, **record}
    return out


def fairness_evidence(record: Mapping[str, Any]) -> dict[str, FairnessEvidence]:
    """The gate's view of :func:`measure_fairness`'s record, per attribute."""
    def pair(m: Mapping[str, Any] | None) -> tuple[float, tuple[float, float]] | None:
        return None if m is None or m["value"] is None else (m["value"], tuple(m["ci95"]))

    out = {}
    for attr, a in record.get("attributes", {}).items():
        ratio = a["selection_rate_ratio"]
        out[attr] = FairnessEvidence(
            group_rows=tuple((g["group"], g["rows"]) for g in a["groups"]), min_group_size=record["min_group_size"],
            selection_rate_ratio=None if pair(ratio) is None else (*pair(ratio), ratio["lowest"], ratio["highest"]),
            equalized_odds_difference=pair(a["equalized_odds_difference"]),
            equal_opportunity_difference=pair(a["equal_opportunity_difference"]), with_target=record["with_target"])
    return out
