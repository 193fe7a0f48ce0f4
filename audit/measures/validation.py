"""The validator's evidence (SR 11-7 / OCC 2011-12 outcomes analysis, PRA SS1/23, EBA GL/2020/06): calibration,
discrimination, the score-band (gains) table, population stability and the directions the business expects.

Pure functions over arrays: ``y`` is 1 where the outcome was the favourable class, ``p`` the model's
probability of it. Every interval is seeded; the same data, seed and settings give the same figures.

- Calibration: a reliability table over ``bins`` quantile bins of ``p`` (count, mean predicted, observed
  rate with a Jeffreys interval), the expected calibration error (count-weighted mean gap), the Brier
  score, the calibration intercept (calibration-in-the-large: ``logit P(y) = a + logit p``) and slope
  (``logit P(y) = a + b logit p``), both by maximum likelihood, Spiegelhalter's z and the Hosmer-Lemeshow
  statistic (``bins`` groups, ``bins - 2`` degrees of freedom), each with its p-value.
- Discrimination: AUC, Gini (2 AUC - 1) and the Kolmogorov-Smirnov distance between the score
  distributions of the two outcomes, with stratified bootstrap intervals.
- Score bands: deciles of the score from the highest down, with counts, the observed favourable rate, the
  mean predicted probability and the cumulative share of favourable and adverse outcomes captured.
- Population stability: PSI of the score and CSI of each input against a reference (development) sample:
  reference deciles for numbers (a missing value is its own bin), levels for categories; an empty bin
  counts as :data:`PSI_FLOOR` so the logarithm stays finite; a category absent from the reference is named.
- Expected directions: ICE curves of the favourable score over a grid of each input's observed quantiles
  (the share of rows whose curve moves against the expected direction by more than a tolerance) and the
  first-order ALE curve (valid with correlated inputs), whose end-to-end change gives the overall sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["calibration", "discrimination", "score_bands", "psi", "ice_directions", "ale", "PSI_FLOOR"]

PSI_FLOOR = 1e-4  # the share an empty bin counts as in PSI/CSI (the logarithm of 0 is undefined)


def _quantile_bins(p: np.ndarray, bins: int) -> np.ndarray:
    """Bin index (0 .. k-1) of each score by its quantile; tied scores share a bin, so k may be below ``bins``."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.searchsorted(edges, p, side="right")


def _jeffreys(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Jeffreys interval for a binomial rate (Brown, Cai and DasGupta 2001), with the usual end-point rule."""
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    return lo, hi


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(q / (1 - q))


def _logistic_fit(y: np.ndarray, x: np.ndarray | None, offset: np.ndarray) -> np.ndarray:
    """Maximum-likelihood coefficients of ``logit P(y) = offset + a (+ b x)`` by Newton's method (IRLS)."""
    design = np.ones((len(y), 1)) if x is None else np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(design.shape[1])
    for _ in range(100):
        eta = offset + design @ beta
        mu = 1 / (1 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        step = np.linalg.solve(design.T @ (design * w[:, None]) + 1e-12 * np.eye(len(beta)), design.T @ (y - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def calibration(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> dict[str, Any]:
    """The calibration record of probabilities ``p`` against outcomes ``y`` (1 = favourable).

    >>> rec = calibration(np.array([0, 1] * 50), np.full(100, 0.5))
    >>> rec["ece"], round(rec["brier"], 3), rec["hosmer_lemeshow"]["statistic"]
    (0.0, 0.25, 0.0)
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = _quantile_bins(p, bins)
    table = []
    for b in np.unique(idx):
        inside = idx == b
        n, k = int(inside.sum()), int(y[inside].sum())
        lo, hi = _jeffreys(k, n)
        table.append({"bin": len(table) + 1, "count": n, "mean_predicted": float(p[inside].mean()),
                      "observed_rate": k / n, "observed_ci95": [lo, hi],
                      "score_range": [float(p[inside].min()), float(p[inside].max())]})
    ece = float(sum(t["count"] * abs(t["observed_rate"] - t["mean_predicted"]) for t in table) / len(y))
    lp = _logit(p)
    intercept = float(_logistic_fit(y, None, lp)[0])
    slope = float(_logistic_fit(y, lp, np.zeros(len(y)))[1])
    var = float(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    z = float(np.sum((y - p) * (1 - 2 * p)) / math.sqrt(var)) if var > 0 else float("nan")
    observed = np.array([[y[idx == b].sum(), (1 - y[idx == b]).sum()] for b in np.unique(idx)])
    expected = np.array([[p[idx == b].sum(), (1 - p[idx == b]).sum()] for b in np.unique(idx)])
    with np.errstate(divide="ignore", invalid="ignore"):
        hl = float(np.nansum((observed - expected) ** 2 / np.where(expected > 0, expected, np.nan)))
    df = max(len(table) - 2, 1)
    return {"bins": table, "ece": round(ece, 12), "brier": float(np.mean((p - y) ** 2)),
            "intercept": intercept, "slope": slope,
            "spiegelhalter": {"z": z, "p_value": float(2 * stats.norm.sf(abs(z))) if z == z else None},
            "hosmer_lemeshow": {"statistic": round(hl, 12), "df": df, "p_value": float(stats.chi2.sf(hl, df)),
                                "groups": len(table)}}


def _ks(y: np.ndarray, p: np.ndarray) -> float:
    return float(stats.ks_2samp(p[y == 1], p[y == 0]).statistic)


def _bootstrap_auc_ks(y: np.ndarray, p: np.ndarray, rng: np.random.Generator, bootstrap: int) -> np.ndarray:
    """(AUC, KS) of each stratified bootstrap resample (``bootstrap`` x 2), from counts per distinct score
    instead of a sort per resample. AUC is the exact Mann-Whitney count, sum over positives of the negatives
    below plus half those tied, over P x N (integers until the one division; scikit-learn's trapezoid gives the
    same number to a few ulp); KS is scipy's two-sample statistic, each empirical CDF a count over the sample
    size evaluated at every distinct score (the same divisions, so the same numbers).

    >>> y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    >>> _bootstrap_auc_ks(y, p, np.random.default_rng(0), 2).shape
    (2, 2)
    """
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    _, group = np.unique(p, return_inverse=True)
    group, k = group.reshape(-1), int(group.max()) + 1
    out = np.empty((bootstrap, 2))
    for b in range(bootstrap):
        cp = np.bincount(group[rng.choice(pos, len(pos))], minlength=k)
        cn = np.bincount(group[rng.choice(neg, len(neg))], minlength=k)
        below = np.cumsum(cn) - cn
        out[b, 0] = int((cp * (2 * below + cn)).sum()) / (2 * len(pos) * len(neg))
        out[b, 1] = np.abs(np.cumsum(cp) / len(pos) - np.cumsum(cn) / len(neg)).max()
    if max(len(pos), len(neg)) <= 10_000:  # scipy's 'auto' method is then exact and returns d as h / lcm
        lcm = len(pos) // math.gcd(len(pos), len(neg)) * len(neg)
        out[:, 1] = np.round(out[:, 1] * lcm).astype(np.int64) / lcm
    return out


def discrimination(y: np.ndarray, p: np.ndarray, *, bootstrap: int = 200, seed: int = 0) -> dict[str, Any]:
    """AUC, Gini and KS with stratified bootstrap 95% intervals (percentile), or None without both outcomes."""
    from sklearn.metrics import roc_auc_score

    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    if len(np.unique(y)) < 2:
        return {"auc": None, "gini": None, "ks": None, "why": "only one outcome in the data"}
    auc, ks = float(roc_auc_score(y, p)), _ks(y, p)
    d = _bootstrap_auc_ks(y, p, np.random.default_rng([seed, 2711]), bootstrap)
    ci = lambda col: [float(np.quantile(col, 0.025)), float(np.quantile(col, 0.975))]  # noqa: E731
    return {"auc": auc, "auc_ci95": ci(d[:, 0]), "gini": 2 * auc - 1, "gini_ci95": ci(2 * d[:, 0] - 1),
            "ks": ks, "ks_ci95": ci(d[:, 1]), "bootstrap": bootstrap, "rows": int(len(y))}


def score_bands(y: np.ndarray, p: np.ndarray, *, bands: int = 10) -> list[dict[str, Any]]:
    """The gains table: score deciles from the highest down, with cumulative capture of each outcome.

    >>> t = score_bands(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.3, 0.1]), bands=2)
    >>> [(b["count"], b["favourable_rate"], b["cumulative_favourable_share"]) for b in t]
    [(2, 1.0, 1.0), (2, 0.0, 1.0)]
    """
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = _quantile_bins(p, bands)
    total_fav, total_adv = max(y.sum(), 1e-12), max((1 - y).sum(), 1e-12)
    out, fav, adv = [], 0.0, 0.0
    for b in sorted(np.unique(idx), reverse=True):
        inside = idx == b
        fav += y[inside].sum()
        adv += (1 - y[inside]).sum()
        out.append({"band": len(out) + 1, "score_range": [float(p[inside].min()), float(p[inside].max())],
                    "count": int(inside.sum()), "favourable_rate": float(y[inside].mean()),
                    "mean_predicted": float(p[inside].mean()),
                    "cumulative_favourable_share": float(fav / total_fav),
                    "cumulative_adverse_share": float(adv / total_adv)})
    return out


def _shares(ref_bin: np.ndarray, act_bin: np.ndarray, names: list[str]) -> dict[str, Any]:
    rs = np.bincount(ref_bin, minlength=len(names)) / max(len(ref_bin), 1)
    as_ = np.bincount(act_bin, minlength=len(names)) / max(len(act_bin), 1)
    rf, af = np.maximum(rs, PSI_FLOOR), np.maximum(as_, PSI_FLOOR)
    parts = (af - rf) * np.log(af / rf)
    return {"psi": round(float(parts.sum()), 12), "bins": [
        {"bin": n, "reference_share": float(x), "data_share": float(z), "contribution": round(float(c), 12)}
        for n, x, z, c in zip(names, rs, as_, parts)]}


def psi(reference: np.ndarray, actual: np.ndarray, *, categorical: bool = False, bins: int = 10) -> dict[str, Any]:
    """Population stability index of ``actual`` against ``reference``: the sum over bins of (a - r) ln(a / r).
    Numbers: the reference's deciles (a missing value is its own bin). Categories (``categorical``: arrays of
    labels): one bin per level; a level the reference never shows is named in ``unseen_categories``.

    >>> x = np.arange(100.0)
    >>> psi(x, x)["psi"]
    0.0
    """
    if categorical:
        r, a = np.asarray(reference, dtype=object).astype(str), np.asarray(actual, dtype=object).astype(str)
        names = sorted(set(r) | set(a))
        out = _shares(np.searchsorted(names, r), np.searchsorted(names, a), names)
        return {**out, "unseen_categories": [n for n in names if n not in set(r)]}
    r, a = np.asarray(reference, dtype=float), np.asarray(actual, dtype=float)
    edges = np.unique(np.nanquantile(r, np.linspace(0, 1, bins + 1)[1:-1])) if np.any(~np.isnan(r)) else np.array([])
    bounds = [-np.inf, *edges, np.inf]
    names = [f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(bounds, bounds[1:])]
    r_bin, a_bin = np.searchsorted(edges, r, side="right"), np.searchsorted(edges, a, side="right")
    if np.isnan(r).any() or np.isnan(a).any():  # missing: its own bin
        r_bin, a_bin = np.where(np.isnan(r), len(names), r_bin), np.where(np.isnan(a), len(names), a_bin)
        names = [*names, "missing"]
    return {**_shares(r_bin, a_bin, names), "unseen_categories": []}


def _grid(values: np.ndarray, points: int) -> np.ndarray:
    return np.unique(np.nanquantile(values, np.linspace(0, 1, points)))


def ice_directions(score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, rows: np.ndarray, j: int,
                   expected: str, *, points: int = 20, tolerance: float = 0.01) -> dict[str, Any]:
    """ICE curves of ``score`` (the favourable probability) over input ``j``'s observed quantiles for ``rows``,
    in one batched call: the share of rows whose curve moves against ``expected`` ("increasing" or
    "decreasing") by more than ``tolerance`` between any two neighbouring grid points."""
    grid = _grid(X[:, j], points)
    batch = np.repeat(X[rows], len(grid), axis=0)
    batch[:, j] = np.tile(grid, len(rows))
    curves = np.asarray(score(batch), dtype=float).reshape(len(rows), len(grid))
    steps = np.diff(curves, axis=1)
    against = steps > tolerance if expected == "decreasing" else steps < -tolerance
    violating = against.any(axis=1)
    return {"grid": grid.tolist(), "curves": curves, "violation_share": float(violating.mean()),
            "violating_rows": [int(r) + 1 for r in rows[violating]][:50], "tolerance": tolerance}


def ale(score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, j: int, *, bins: int = 10) -> dict[str, Any]:
    """First-order accumulated local effects of input ``j`` (Apley and Zhu 2020) over its quantile bins: for
    the rows in each bin, the mean change of ``score`` from the bin's lower to its upper edge, accumulated
    and centred (count-weighted). ``change`` is the curve's end-to-end rise: its sign is the overall direction."""
    x = X[:, j]
    ok = ~np.isnan(x)
    edges = _grid(x[ok], bins + 1)
    if len(edges) < 2:
        return {"edges": edges.tolist(), "ale": [0.0] * len(edges), "change": 0.0}
    which = np.clip(np.searchsorted(edges, x[ok], side="left") - 1, 0, len(edges) - 2)
    rows = X[ok]
    lo, hi = rows.copy(), rows.copy()
    lo[:, j], hi[:, j] = edges[which], edges[which + 1]
    diff = np.asarray(score(np.vstack([hi, lo])), dtype=float)
    diff = diff[: len(rows)] - diff[len(rows):]
    counts = np.bincount(which, minlength=len(edges) - 1)
    means = np.bincount(which, weights=diff, minlength=len(edges) - 1) / np.maximum(counts, 1)
    curve = np.concatenate([[0.0], np.cumsum(means)])
    mids = (curve[1:] + curve[:-1]) / 2
    curve = curve - float(np.sum(mids * counts) / max(counts.sum(), 1))
    return {"edges": edges.tolist(), "ale": curve.tolist(), "change": float(curve[-1] - curve[0]),
            "counts": counts.tolist()}
