"""LIME on tabular data, with categorical columns perturbed as categories.

Explains the same score as every other method (regression mode on the adapter's score). The local
surrogate's R^2 is recorded per row: a low R^2 means the linear surrogate did not fit the model
locally and its weights deserve less trust.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from pydantic import Field

from audit.types import Attribution
from explainers._base import ExplainerBase, ExplainerParams, map_row_chunks, row_seed

__all__ = ["Lime", "weighted_ridge", "explain_rows_per_row"]


class Lime(ExplainerBase):
    """``lime.lime_tabular.LimeTabularExplainer``'s estimator, batched across rows: lime's own sampler per row,
    one model call per block of rows, all ridge fits solved together (identical to lime per row)."""

    name = "lime"
    kind = "approximate"
    sampling = True

    class Params(ExplainerParams):
        num_samples: int = Field(1000, ge=50, description="perturbations per explained row")
        n_jobs: int = Field(1, ge=-1, description="worker processes (parallel-safe models); -1: all cores")

    config_keys = {"lime_num_samples": "num_samples", "n_jobs": "n_jobs"}

    def supports(self, adapter: Any) -> bool:
        return True  # model-agnostic: needs only predict

    def planned_seconds_per_row(self, adapter: Any, n_features: int, *, n_background: int) -> float:
        """One model call on ``num_samples`` perturbed rows, plus lime's own work, per explained row."""
        from explainers._budget import LIME_ROW_S, model_cost

        return round(LIME_ROW_S + model_cost(adapter).seconds(1, self.params.num_samples), 9)

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        num_samples = self.params.num_samples
        space = adapter.space
        cat_idx = space.categorical_indices
        train = _fill_missing(np.asarray(background, dtype=float), cat_idx)
        rows = _fill_missing(np.asarray(X, dtype=float), cat_idx, reference=train)
        parts, jobs = map_row_chunks(_explain_rows, adapter, rows, self.params.n_jobs, train, seed,
                                     num_samples)
        values = np.vstack([p[0] for p in parts])
        base = np.concatenate([p[1] for p in parts])
        r2 = np.concatenate([p[2] for p in parts])
        f = X.shape[1]
        meta = {"algorithm": "lime.lime_tabular.LimeTabularExplainer (regression mode on the explained score)",
                "parameters": {"num_samples": num_samples, "discretize_continuous": True,
                               "kernel_width": float(np.sqrt(f) * 0.75), "random_state": seed,
                               "per_row_seed": "(seed, row position)",
                               "categorical_features": [space.names[j] for j in cat_idx]},
                "mean_local_r2": float(r2.mean()), "blas_threads": 1, "n_jobs": jobs}
        return self.attribution(adapter, values, base, output_space="score", additive=False, meta=meta, local_r2=r2)


BLOCK_MODEL_VALUES = 1 << 22  # perturbed values (rows x num_samples x inputs) evaluated in one model call: 32 MB
RIDGE_ALPHA = 1.0  # lime_base.LimeBase's Ridge(alpha=1, fit_intercept=True)


def _lime(adapter: Any, train: np.ndarray, seed: int) -> Any:
    """The ``LimeTabularExplainer`` both the batched estimator and the per-row reference use."""
    from lime.lime_tabular import LimeTabularExplainer

    space = adapter.space
    cat_idx = space.categorical_indices
    cat_names = {j: [str(c) for c in space.categories[space.names[j]]] for j in cat_idx}
    return LimeTabularExplainer(train, mode="regression", feature_names=list(space.names),
                                categorical_features=cat_idx, categorical_names=cat_names,
                                discretize_continuous=True, random_state=seed)


def _row_generator(seed: int, position: int) -> np.random.RandomState:
    """The generator a row draws all its perturbations from, seeded by (seed, position), so the result does not
    depend on how rows are split between processes or blocks: the batched draws and lime's per-row reference
    (:func:`_seed_row`) both use it."""
    return np.random.RandomState(row_seed(seed, position))


def _seed_row(explainer: Any, seed: int, position: int) -> None:
    """Point lime's explainer, its sampler and its discretiser at the row's generator."""
    rng = _row_generator(seed, position)
    explainer.random_state = explainer.base.random_state = rng
    if explainer.discretizer is not None:
        explainer.discretizer.random_state = rng


def _explain_rows(adapter: Any, rows: np.ndarray, offset: int, train: np.ndarray, seed: int,
                  num_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LIME for ``rows`` (positions ``offset``...), batched: each row's perturbations are drawn by lime's own
    sampler (``LimeTabularExplainer``'s neighbourhood draw, same discretiser, generator and order), every
    block of rows is evaluated in one model call, and all rows' kernel-weighted ridge problems are solved
    together. Lime's ``explain_instance`` with all features selected fits the same ridge on the same draws:
    :func:`explain_rows_per_row` is that reference (tests hold the two to 1e-8)."""
    explainer = _lime(adapter, train, seed)
    f = rows.shape[1]
    out = np.zeros((len(rows), f)), np.zeros(len(rows)), np.zeros(len(rows))
    block = max(1, BLOCK_MODEL_VALUES // (num_samples * f))
    for start in range(0, len(rows), block):
        part = slice(start, min(start + block, len(rows)))
        scaled, inverse, weights = _neighbourhoods(explainer, rows[part], offset + start, seed, num_samples)
        y = np.asarray(adapter.predict(inverse.reshape(-1, f)), dtype=float).reshape(len(inverse), num_samples)
        out[0][part], out[1][part], out[2][part] = weighted_ridge(scaled, y, weights, RIDGE_ALPHA)
    return out


def _neighbourhoods(explainer: Any, rows: np.ndarray, offset: int, seed: int,
                    num_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's lime neighbourhood: the interpretable data scaled as lime's ridge sees it, the rows the model
    sees, and the kernel weights: lime's ``LimeTabularExplainer.__data_inverse`` with its quartile discretiser,
    up to its model call, with the same numbers from the row's generator (seeded by (seed, position)), computed
    for many rows at once (:func:`_neighbourhood_chunk`) in chunks of about ``CHUNK_ELEMENTS`` values, so that
    the temporaries stay small enough to be reused rather than mapped afresh for every block."""
    n, f = rows.shape
    quartiles = _QuartileTables(explainer.discretizer)
    scaled, inverse, weights = np.empty((n, num_samples, f)), np.empty((n, num_samples, f)), np.empty((n, num_samples))
    step = max(1, CHUNK_ELEMENTS // (num_samples * f))
    for start in range(0, n, step):
        part = slice(start, min(n, start + step))
        scaled[part], inverse[part], weights[part] = _neighbourhood_chunk(explainer, quartiles, rows[part],
                                                                          offset + start, seed, num_samples)
    return scaled, inverse, weights


CHUNK_ELEMENTS = 1 << 17  # values per chunk (1 MB arrays, reused from chunk to chunk; fresh large ones page-fault)


class _QuartileTables:
    """The quartile discretiser's statistics as (discretised input, quartile) tables, with lime's z-values of each
    quartile's bounds computed once per quartile (the same operations on the same numbers as per draw)."""

    def __init__(self, disc: Any) -> None:
        self.features = list(disc.means)  # BaseDiscretizer.undiscretize's order
        self.stride = max((len(v) for v in disc.means.values()), default=0)
        table = {key: np.array([_padded(getattr(disc, key)[j], self.stride) for j in self.features]).reshape(
            len(self.features), self.stride) for key in ("mins", "maxs", "means", "stds")}
        with np.errstate(divide="ignore", invalid="ignore"):  # a quartile without spread, as in lime
            self.minz = (table["mins"] - table["means"]) / table["stds"]
            self.maxz = (table["maxs"] - table["means"]) / table["stds"]
        self.means, self.stds = table["means"], table["stds"]


def _neighbourhood_chunk(explainer: Any, quartiles: _QuartileTables, rows: np.ndarray, offset: int, seed: int,
                         num_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_neighbourhoods` for a few rows. Per row, lime draws ``rng.choice(values, num_samples,
    p=frequencies)`` for each input in turn (numpy's ``choice`` is ``cdf.searchsorted(rng.random_sample(
    num_samples), side="right")``), then, for each discretised input, ``truncnorm.rvs`` inside each drawn quartile
    (``rng.uniform`` for the positions whose quartile has a spread, then scipy's ppf). Both kinds of uniforms come
    from the same stream in that order, so each row draws its choice uniforms in one call and, once its quartiles
    are known, its truncated-normal uniforms in a second; the lookups, the ppf (:func:`truncnorm_ppf`) and the
    kernel run on all the rows together."""
    n, f = rows.shape
    gens = [_row_generator(seed, offset + i) for i in range(n)]
    uniforms = np.stack([g.random_sample((f, num_samples)) for g in gens])
    first = explainer.discretizer.discretize(rows)
    # (rows, inputs, samples): each input's draws are contiguous; transposed to lime's layout at the end
    same, inverse = np.empty((n, f, num_samples), dtype=bool), np.empty((n, f, num_samples))
    for column in range(f):
        values = np.asarray(explainer.feature_values[column])
        cdf = np.asarray(explainer.feature_frequencies[column], dtype=float).cumsum()
        cdf /= cdf[-1]
        choice = values[cdf.searchsorted(uniforms[:, column], side="right")]
        same[:, column] = choice == first[:, column:column + 1]  # lime's interpretable 0/1 data
        inverse[:, column] = choice
    same[:, :, 0] = True
    features = quartiles.features
    if features:
        bins = inverse[:, features, 1:].astype(np.intp)  # (rows, discretised inputs, samples - 1)
        at = bins + (np.arange(len(features)) * quartiles.stride)[:, None]  # (input, quartile) in the flat tables
        minz, maxz = quartiles.minz.take(at), quartiles.maxz.take(at)
        spread = minz != maxz
        drawn = spread & (spread & (quartiles.stds.take(at) != 0)).any(axis=2, keepdims=True)  # else no draw
        values = minz.copy()  # lime keeps the z-value where a quartile has one value
        kept = spread & ~drawn
        values[kept] = quartiles.means.take(at[kept])
        counts = drawn.reshape(n, -1).sum(axis=1)
        if counts.any():
            q = np.concatenate([g.random_sample(c) for g, c in zip(gens, counts)])
            label = at[drawn]
            values[drawn] = truncnorm_ppf(q, minz[drawn], maxz[drawn], quartiles.means.take(label),
                                          quartiles.stds.take(label), groups=label)
        inverse[:, features, 1:] = values
    inverse[:, :, 0] = rows
    mean, scale = explainer.scaler.mean_[:, None], explainer.scaler.scale_[:, None]
    scaled = np.where(same, (1.0 - mean) / scale, (0.0 - mean) / scale)  # (data - mean) / scale for 0/1 data
    # the euclidean distance to the row itself (the first sample) in the scaled interpretable space
    distances = np.sqrt(np.maximum(((scaled - scaled[:, :, :1]) ** 2).sum(axis=1), 0))
    return scaled.transpose(0, 2, 1), inverse.transpose(0, 2, 1), explainer.base.kernel_fn(distances)


def _padded(values: Any, width: int) -> np.ndarray:
    """One input's per-quartile statistics as a row of ``width`` (unused places NaN)."""
    out = np.full(width, np.nan)
    out[:len(values)] = values
    return out


def truncnorm_ppf(q: np.ndarray, a: np.ndarray, b: np.ndarray, loc: np.ndarray, scale: np.ndarray,
                  groups: np.ndarray | None = None) -> np.ndarray:
    """``scipy.stats.truncnorm.ppf(q, a, b, loc=loc, scale=scale)``, bit for bit, for 1-d arrays whose bounds
    (a, b) take few distinct values (lime's quartiles: at most four per input). scipy computes the interval's
    Gaussian mass and the tail's log-CDF (``log_ndtr`` and complex arithmetic) once per element, and adds the two
    log terms with ``logsumexp`` over a stacked (2, n) array (half its time): here the first two are computed once
    per distinct (a, b) and gathered, and the sum follows ``logsumexp``'s own steps for two terms
    (:func:`_log_sum2`); the uniform's log, ``ndtri_exp`` and ``* scale + loc`` are scipy's. The q = 0 and q = 1
    ends and invalid parameters (NaN) follow ``rv_continuous.ppf``. ``groups``: non-negative integer labels under
    which (a, b) is constant (lime's input and quartile), which saves finding the distinct pairs. Falls back to
    scipy's call where its private helpers are not importable (tests hold the two equal with ``assert_array_equal``).

    >>> q = np.array([0.0, 0.25, 0.5, 0.99]); a = np.array([-1.0, -1.0, 0.5, 0.5]); b = np.array([1.0, 1.0, 2.0, 2.0])
    >>> from scipy.stats import truncnorm
    >>> bool(np.array_equal(truncnorm_ppf(q, a, b, np.zeros(4), np.ones(4)), truncnorm.ppf(q, a, b)))
    True
    """
    try:
        from scipy.special import ndtri_exp
        from scipy.stats._continuous_distns import _log_gauss_mass, _norm_logcdf
    except ImportError:  # pragma: no cover - scipy reorganised its private helpers
        from scipy.stats import truncnorm

        return truncnorm.ppf(q, a, b, loc=loc, scale=scale)
    valid = (a < b) & (scale > 0) & (loc == loc)
    inside = valid & (q > 0) & (q < 1)
    every = bool(inside.all())  # lime's draws: no end, no invalid parameter
    out = np.empty(q.shape) if every else np.full(q.shape, np.nan)
    if not every:
        for end, bound in ((0.0, a), (1.0, b)):
            at = np.flatnonzero(valid & (q == end))
            out[at] = bound[at] * scale[at] + loc[at]
        if not inside.any():
            return out
    pick = slice(None) if every else inside  # no copies when every element is inside
    ua, ub, group = _distinct_bounds(a[pick], b[pick], None if groups is None else groups[pick])
    left = ua < 0  # scipy's case_left: the lower tail; otherwise it works in the upper tail and negates
    tail, mass = np.where(left, _norm_logcdf(ua), _norm_logcdf(-ub)), _log_gauss_mass(ua, ub)
    qi = q[pick]
    if left.all():  # lime's quartiles: a bound below the quartile's mean is negative
        x = ndtri_exp(_log_sum2(tail[group], np.log(qi) + mass[group]))
    else:
        lefti = left[group]
        logq = np.empty_like(qi)
        logq[lefti], logq[~lefti] = np.log(qi[lefti]), np.log1p(-qi[~lefti])
        x = ndtri_exp(_log_sum2(tail[group], logq + mass[group]))
        x[~lefti] = -x[~lefti]
    out[pick] = x * scale[pick] + loc[pick]
    return out


def _distinct_bounds(a: np.ndarray, b: np.ndarray, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct a, distinct b, each element's index into them)."""
    if groups is None:
        ua, ia = np.unique(a, return_inverse=True)
        ub, ib = np.unique(b, return_inverse=True)
        groups = ia.reshape(-1) * len(ub) + ib.reshape(-1)
    first = np.full(int(groups.max()) + 1, -1)
    first[groups[::-1]] = np.arange(len(groups))[::-1]  # repeated indices: the last write, the first occurrence
    present = np.flatnonzero(first >= 0)
    index = np.zeros(len(first), dtype=np.intp)
    index[present] = np.arange(len(present))
    return a[first[present]], b[first[present]], index[groups]


def _log_sum2(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``scipy.special.logsumexp([p, q], axis=0)`` for real arrays, step for step: the larger term is taken out
    (both when they tie, counted as 2), the other's ``exp`` of the difference is summed, and the result is
    ``log1p(s) + log(m) + max``; a non-finite result is replaced by the direct ``log(exp(p) + exp(q))``.

    >>> from scipy.special import logsumexp
    >>> p, q = np.array([0.5, -np.inf, 2.0, -3.0]), np.array([0.5, -np.inf, -1.0, 4.0])
    >>> bool(np.array_equal(_log_sum2(p, q), logsumexp([p, q], axis=0)))
    True
    """
    top, tie = np.maximum(p, q), p == q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.where(tie, 0.0, np.exp(np.where(q > p, p, q) - top))
        out = np.log1p(s) + np.where(tie, _LOG2, 0.0) + top  # log(2) for a tie, log(1) = 0 otherwise
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = np.log(np.exp(p[bad]) + np.exp(q[bad]))
        return out


_LOG2 = float(np.log(np.array([2.0]))[0])  # through the same ufunc loop as an array's elements


def weighted_ridge(X: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge with an intercept, per problem, for a stack of problems: ``X`` (n, s, f), ``y`` and ``w`` (n, s).
    Minimises sum_s w (y - X b - c)^2 + alpha |b|^2 (scikit-learn's ``Ridge(alpha).fit(X, y, sample_weight=w)``:
    weighted centring, then the normal equations), and returns (b, c, weighted R^2 as ``Ridge.score``).

    >>> X = np.array([[[0.0], [1.0], [2.0]]]); y = np.array([[1.0, 3.0, 5.0]])
    >>> b, c, r2 = weighted_ridge(X, y, np.ones((1, 3)), 0.0)
    >>> np.round(b, 6).tolist(), np.round(c, 6).tolist(), r2.tolist()
    ([[2.0]], [1.0], [1.0])
    """
    step = max(1, CHUNK_ELEMENTS // max(1, X.shape[1] * X.shape[2]))
    if len(X) > step:  # each problem is solved on its own: chunks keep the temporaries small, values unchanged
        parts = [weighted_ridge(X[i:i + step], y[i:i + step], w[i:i + step], alpha) for i in range(0, len(X), step)]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))
    total = w.sum(axis=1)
    xm = np.einsum("ns,nsf->nf", w, X) / total[:, None]
    ym = (w * y).sum(axis=1) / total
    Xc, yc = X - xm[:, None, :], y - ym[:, None]
    Xw = (Xc * w[..., None]).transpose(0, 2, 1)  # (n, f, s): batched matrix products, not three-operand einsums
    A = Xw @ Xc + alpha * np.eye(X.shape[2])[None]
    b = np.linalg.solve(A, Xw @ yc[..., None])[..., 0]
    c = ym - np.einsum("nf,nf->n", xm, b)
    residual = (w * (y - (X @ b[..., None])[..., 0] - c[:, None]) ** 2).sum(axis=1)
    spread = (w * yc ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # r2_score's rule for a constant target
        r2 = np.where(spread > 0, 1 - residual / spread, np.where(residual == 0, 1.0, 0.0))
    return b, c, r2


def explain_rows_per_row(adapter: Any, rows: np.ndarray, offset: int, train: np.ndarray, seed: int,
                         num_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference: lime's ``explain_instance`` row by row, with the same per-row generators as
    :func:`_explain_rows` (one model call and one lime ridge fit per row)."""
    explainer = _lime(adapter, train, seed)
    f = rows.shape[1]
    values, base, r2 = np.zeros((len(rows), f)), np.zeros(len(rows)), np.zeros(len(rows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, row in enumerate(rows):
            _seed_row(explainer, seed, offset + i)
            exp = explainer.explain_instance(row, adapter.predict, num_features=f, num_samples=num_samples)
            # In regression mode lime stores the fit under label 1 and its negation under label 0.
            key = 1 if 1 in exp.local_exp else next(iter(exp.local_exp))
            for j, w in exp.local_exp[key]:
                values[i, j] = w
            base[i] = float(exp.intercept[key])
            r2[i] = float(exp.score)
    return values, base, r2


def _fill_missing(X: np.ndarray, cat_idx: list[int], reference: np.ndarray | None = None) -> np.ndarray:
    """LIME cannot discretise NaN: fill with the median (numeric) or the mode (categorical)."""
    if not np.isnan(X).any():
        return X
    ref = X if reference is None else reference
    X = X.copy()
    for j in range(X.shape[1]):
        miss = np.isnan(X[:, j])
        if miss.any():
            col = ref[:, j][~np.isnan(ref[:, j])]
            if j in cat_idx:
                vals, counts = np.unique(col, return_counts=True)
                fill = vals[np.argmax(counts)] if len(vals) else 0.0
            else:
                fill = np.median(col) if len(col) else 0.0
            X[miss, j] = fill
    return X
