"""Less discriminatory alternatives (LDA): a documented, seeded search for a model that performs about as well
as the audited one with less disparate impact. It documents the search; it never ships a model.

- **Split**: DATA is split once, stratified by the target and seeded (``[lda] holdout`` held out). Every
  alternative is fitted on the training part and measured on the held-out part, so they are compared on the
  same unseen rows.
- **Family** (in this order; each is a refit of a ``sklearn.base.clone`` of the audited estimator):
  ``baseline``: the audited pipeline refitted as it is (the reference every alternative is compared with);
  ``drop``: each protected-proxy input (the attribute itself when it is an input, then its ``[lda] proxies``
  strongest proxies by normalised mutual information) replaced by one constant (its training mode or median),
  so the refitted model cannot use it; ``coarsen``: the same input coarsened (a numeric one to the median of
  its training quartile bin; a categorical one to its two most frequent categories, the others merged into the
  first), skipped where it would change nothing; ``reduction``: fairlearn's ``ExponentiatedGradient`` with each
  of ``[lda] constraints`` (``DemographicParity``, ``EqualizedOdds``) on the attribute's groups around a clone
  of the estimator (its score is the randomised classifier's probability of approval, its decision that
  probability >= 0.5); ``threshold``: the baseline with its cutoff moved so that its training approval rate
  rises by each of ``[lda] approval_shifts`` (one cutoff for everyone: group-specific cutoffs would treat
  applicants differently by a protected attribute).
- **Measures** on the held-out rows, each with a 95% CI from ``bootstrap`` paired row resamples (the same rows
  for every alternative): **AUC** of the favourable score, and the **adverse impact ratio** (AIR: lowest over
  highest approval rate among the attribute's groups with at least ``min_group_size`` held-out rows), plus the
  approval rate and accuracy (a moved threshold leaves AUC unchanged and shows its cost there).
- **Found**: an alternative whose AUC is at least the baseline's minus ``[lda] tolerance`` and whose AIR is
  higher than the baseline's (point estimates; the CIs are reported beside them). **Frontier**: the
  alternatives no other one beats on both AUC and AIR. **Needed**: the baseline's AIR is below the policy's
  ``min_selection_rate_ratio``; when it is not, no alternative was needed and the record says so.

A fit the library refuses (an estimator without ``sample_weight``, a constraint that cannot be met) is recorded
with its reason as not measured, never dropped silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.records import LdaAlternativeRecord, LdaRecord

__all__ = ["LdaData", "split", "search", "frontier", "air"]


@dataclass(frozen=True)
class LdaData:
    """What the search needs: DATA's model inputs as the estimator reads them, whether each row's target is the
    favourable class, the attribute's group per row and the groups in order, and the proxies to drop/coarsen."""

    frame: pd.DataFrame
    favorable: np.ndarray  # bool per row
    groups: np.ndarray
    order: list[str]
    attribute: str
    inputs: list[str]  # protected-proxy inputs, strongest first
    categorical: dict[str, bool]


def split(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices, stratified by ``y`` (each class split in the same share), seeded.

    >>> tr, ho = split(np.array([0] * 10 + [1] * 10), 0.3, 0)
    >>> len(tr), len(ho), int(np.sum(np.arange(20)[ho] >= 10))
    (14, 6, 3)
    """
    rng = np.random.default_rng([seed, 5101])
    held = []
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        held.append(rng.permutation(rows)[:int(round(share * len(rows)))])
    ho = np.sort(np.concatenate(held))
    return np.setdiff1d(np.arange(len(y)), ho), ho


def air(approved: np.ndarray, groups: np.ndarray, judged: Sequence[str]) -> tuple[float, str, str]:
    """The adverse impact ratio over the ``judged`` groups (NaN when nobody is approved), lowest and highest."""
    rates = {g: float(approved[groups == g].mean()) for g in judged}
    low, high = min(rates, key=rates.__getitem__), max(rates, key=rates.__getitem__)
    return (rates[low] / rates[high] if rates[high] > 0 else float("nan")), low, high


def _auc(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """AUC per row of ``s`` (replicates x rows) against ``y`` of the same shape, by the Mann-Whitney rank sum
    (ties count a half: what ``sklearn.metrics.roc_auc_score`` computes); NaN where a row has one class.

    >>> float(_auc(np.array([[1, 0, 1, 0]]), np.array([[0.9, 0.1, 0.4, 0.4]]))[0])
    0.875
    """
    from scipy.stats import rankdata

    y = np.atleast_2d(y).astype(bool)
    ranks = rankdata(np.atleast_2d(s), axis=1)
    pos = y.sum(1)
    neg = y.shape[1] - pos
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(1) - pos * (pos + 1) / 2) / (pos * neg)


def _ci(values: list[float]) -> list[float | None]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if len(v) else [None, None]


def _measure(y: np.ndarray, scores: np.ndarray, approved: np.ndarray, groups: np.ndarray, judged: Sequence[str],
             boot: np.ndarray) -> dict[str, Any]:
    """AUC and AIR with paired bootstrap CIs (``boot``: replicate x row indices), approval rate and accuracy."""
    ratio, low, high = air(approved, groups, judged)
    aucs = list(_auc(y[boot], scores[boot]))
    airs = [air(approved[b], groups[b], judged)[0] if all((groups[b] == g).any() for g in judged) else np.nan
            for b in boot]
    return {"auc": float(_auc(y, scores)[0]), "auc_ci95": _ci(aucs), "air": None if ratio != ratio else ratio,
            "air_ci95": _ci(airs), "lowest": low, "highest": high,
            "approval_rate": float(approved.mean()), "accuracy": float(np.mean(approved == y))}


class _Weighted:
    """A clone of the audited estimator that takes ``sample_weight`` as fairlearn's reductions pass it (a
    Pipeline routes it to its last step), on 0/1 labels (1: ``favorable``, 0: ``other``), and rebuilds the
    DataFrame fairlearn may hand over as an array. Parameters are stored as given, so ``sklearn.base.clone``
    can copy it."""

    def __init__(self, estimator: Any = None, columns: tuple[str, ...] = (), favorable: Any = None,
                 other: Any = None) -> None:
        self.estimator, self.columns, self.favorable, self.other = estimator, columns, favorable, other

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"estimator": self.estimator, "columns": self.columns, "favorable": self.favorable, "other": self.other}

    def set_params(self, **params: Any) -> _Weighted:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _frame(self, X: Any) -> pd.DataFrame:
        return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object),
                                                                  columns=list(self.columns)).infer_objects()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _Weighted:
        from sklearn.base import clone

        self.model_ = clone(self.estimator)
        steps = getattr(self.model_, "steps", None)
        key = f"{steps[-1][0]}__sample_weight" if steps else "sample_weight"
        labels = np.where(np.asarray(y).astype(int) == 1, self.favorable, self.other)
        self.model_.fit(self._frame(X), labels, **{key: sample_weight})
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X: Any) -> np.ndarray:
        return (self.model_.predict(self._frame(X)) == self.favorable).astype(int)


def _refit(model: Any, X: pd.DataFrame, fav: np.ndarray, favorable: Any) -> Any:
    """A clone of ``model`` fitted on ``X`` with the favourable class where ``fav``, the other class elsewhere."""
    from sklearn.base import clone

    other = next(c for c in model.classes_ if c != favorable)
    fitted = clone(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(X, np.where(fav, favorable, other))
    return fitted


def _scored(fitted: Any, X: pd.DataFrame, favorable: Any) -> tuple[np.ndarray, np.ndarray]:
    """The favourable class's probability and the fitted model's own decision (it is the favourable class)."""
    index = list(fitted.classes_).index(favorable)
    return np.asarray(fitted.predict_proba(X))[:, index], np.asarray(fitted.predict(X)) == favorable


def _transforms(data: LdaData, train: np.ndarray) -> list[tuple[str, str, str, Callable[[pd.DataFrame], pd.DataFrame]]]:
    """(name, family, description, transform of the inputs) for every proxy input dropped and coarsened; the
    constants and bins come from the training rows only."""
    out = []
    for col in data.inputs:
        values = data.frame[col].iloc[train]
        cat = data.categorical[col]
        const = values.mode(dropna=True).iloc[0] if cat else float(values.median())
        out.append((f"without {col}", "drop", f"{col} replaced by its training {'mode' if cat else 'median'} "
                    f"({const}) and the pipeline refitted", _setter(col, lambda v, c=const: pd.Series(c, index=v.index))))
        coarse = _coarsener(values, cat)
        if coarse is not None:
            out.append((f"{col} coarsened", "coarsen", coarse[0], _setter(col, coarse[1])))
    return out


def _setter(col: str, fn: Callable[[pd.Series], pd.Series]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def apply(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame[col] = fn(frame[col]).astype(frame[col].dtype) if frame[col].dtype != object else fn(frame[col])
        return frame
    return apply


def _coarsener(values: pd.Series, categorical: bool) -> tuple[str, Callable[[pd.Series], pd.Series]] | None:
    """How a proxy is coarsened (from its training values), or None where coarsening would change nothing."""
    if categorical:
        top = list(values.value_counts().index[:2])
        if values.nunique() <= 2:
            return None
        return (f"{values.name}: categories other than {top[0]!r} and {top[1]!r} merged into {top[0]!r}",
                lambda v: v.where(v.isin(top) | v.isna(), top[0]))
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.nunique() <= 4:
        return None
    edges = np.unique(np.nanquantile(numbers, [0.25, 0.5, 0.75]))
    bins = np.searchsorted(edges, numbers, side="right")
    medians = {b: float(np.nanmedian(numbers[bins == b])) for b in np.unique(bins)}

    def coarsen(v: pd.Series) -> pd.Series:
        b = np.searchsorted(edges, pd.to_numeric(v, errors="coerce"), side="right")
        return pd.Series([medians.get(int(i), np.nan) for i in b], index=v.index).where(v.notna())
    return f"{values.name}: each value replaced by the median of its training quartile bin", coarsen


def _reduction(model: Any, constraint: str, data: LdaData, train: np.ndarray, hold: np.ndarray, favorable: Any,
               iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """fairlearn's ExponentiatedGradient with ``constraint`` on the attribute's groups around a clone of the
    estimator: the held-out probability of approval and the decision (that probability >= 0.5)."""
    from fairlearn.reductions import DemographicParity, EqualizedOdds, ExponentiatedGradient

    cls = {"demographic_parity": DemographicParity, "equalized_odds": EqualizedOdds}[constraint]
    other = next(c for c in model.classes_ if c != favorable)
    wrapped = _Weighted(model, tuple(data.frame.columns), favorable, other)
    eg = ExponentiatedGradient(wrapped, cls(), max_iter=iterations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eg.fit(data.frame.iloc[train], data.favorable[train].astype(int), sensitive_features=data.groups[train])
        p = np.asarray(eg._pmf_predict(data.frame.iloc[hold]))[:, 1]  # the randomised classifier's P(approve)
    return p, p >= 0.5


def frontier(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Whether each (AUC, AIR) point is on the frontier: no other point is at least as good on both and better
    on one (NaN points never are).

    >>> frontier([(0.80, 0.70), (0.79, 0.90), (0.78, 0.85), (0.81, 0.60)])
    [True, True, False, True]
    """
    ok = [a == a and r == r for a, r in points]
    return [ok[i] and not any(ok[j] and points[j][0] >= a and points[j][1] >= r and (points[j][0] > a or points[j][1] > r)
                              for j in range(len(points))) for i, (a, r) in enumerate(points)]


def _candidates(model: Any, data: LdaData, train: np.ndarray, hold: np.ndarray, favorable: Any,
                settings: Any) -> list[tuple[str, str, str, Callable[[], tuple[np.ndarray, np.ndarray]]]]:
    """The family, in order: (name, family, description, a function giving the held-out scores and decisions)."""
    X, fav = data.frame, data.favorable

    def refit(transform: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        return lambda: _scored(_refit(model, transform(X.iloc[train]), fav[train], favorable),
                               transform(X.iloc[hold]), favorable)

    base = _refit(model, X.iloc[train], fav[train], favorable)
    out = [("baseline", "baseline", "the audited pipeline refitted on the training split",
            lambda: _scored(base, X.iloc[hold], favorable))]
    out += [(n, f, d, refit(t)) for n, f, d, t in _transforms(data, train)]
    for c in settings.constraints:
        out.append((f"reduction: {c}", "reduction", f"fairlearn ExponentiatedGradient({c}, max_iter="
                    f"{settings.reduction_iterations}) on {data.attribute}'s groups around a clone of the estimator",
                    lambda c=c: _reduction(model, c, data, train, hold, favorable, settings.reduction_iterations)))
    train_scores = _scored(base, X.iloc[train], favorable)
    for shift in settings.approval_shifts:
        rate = float(np.clip(train_scores[1].mean() + shift, 0.0, 1.0))
        cutoff = float(np.quantile(train_scores[0], 1 - rate))
        out.append((f"threshold: approval {shift:+.0%}", "threshold", f"the baseline approving rows scoring at least "
                    f"{cutoff:.4f} (training approval rate {rate:.1%})",
                    lambda cut=cutoff: (lambda s: (s, s >= cut))(_scored(base, X.iloc[hold], favorable)[0])))
    return out


def search(model: Any, data: LdaData, *, favorable: Any, settings: Any, min_group_size: int, min_air: float,
           n_bootstrap: int, seed: int) -> LdaRecord:
    """Fit and measure every alternative of the family (module docstring) and say what was found.

    ``settings``: the ``[lda]`` table (``LdaConfig``); ``min_air``: the policy's ``min_selection_rate_ratio``."""
    train, hold = split(data.favorable, settings.holdout, seed)
    y, groups = data.favorable[hold], data.groups[hold]
    judged = [g for g in data.order if np.sum(groups == g) >= min_group_size]
    record: LdaRecord = {"attribute": data.attribute, "training_rows": int(len(train)), "holdout_rows": int(len(hold)),
                         "holdout_share": settings.holdout, "tolerance": settings.tolerance, "min_air": min_air,
                         "bootstrap": n_bootstrap, "seed": seed, "proxies": list(data.inputs),
                         "judged_groups": judged, "alternatives": []}
    if len(judged) < 2:
        return record | {"not_measured": f"fewer than two groups of {data.attribute!r} have {min_group_size} "
                                          "held-out rows: no adverse impact ratio to compare"}
    boot = np.random.default_rng([seed, 7817]).integers(0, len(hold), size=(n_bootstrap, len(hold)))
    for name, family, description, run in _candidates(model, data, train, hold, favorable, settings):
        entry: LdaAlternativeRecord = {"name": name, "family": family, "description": description}
        try:
            scores, approved = run()
            entry |= _measure(y, np.asarray(scores, float), np.asarray(approved, bool), groups, judged, boot)
        except (ValueError, TypeError, RuntimeError, np.linalg.LinAlgError) as exc:  # the library's refusal
            entry["not_measured"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        record["alternatives"].append(entry)
    return _conclude(record)


def _conclude(record: LdaRecord) -> LdaRecord:
    """Frontier, within-tolerance and found flags, and whether an alternative was needed at all."""
    alts = record["alternatives"]
    base = alts[0]
    if "auc" not in base or base.get("air") is None:
        return record | {"not_measured": "the baseline could not be refitted and measured: "
                                          + base.get("not_measured", "no adverse impact ratio")}
    points = [(a.get("auc", np.nan), np.nan if a.get("air") is None else a["air"]) for a in alts]
    for a, on in zip(alts, frontier(points)):
        if "auc" in a:
            a["on_frontier"] = bool(on)
            a["within_tolerance"] = bool(a["auc"] >= base["auc"] - record["tolerance"])
            a["reduces_disparity"] = bool(a.get("air") is not None and a["air"] > base["air"])
    found = [a["name"] for a in alts[1:] if a.get("within_tolerance") and a.get("reduces_disparity")]
    found.sort(key=lambda n: -next(a["air"] for a in alts if a["name"] == n))
    return record | {"needed": bool(base["air"] < record["min_air"]), "found": found}
