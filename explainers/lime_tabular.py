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


BLOCK_MODEL_ROWS = 200_000  # perturbed rows evaluated in one model call (rows x num_samples, bounded memory)
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


def _seed_row(explainer: Any, seed: int, position: int) -> None:
    """Each row draws from its own generator, seeded by (seed, position), so the result does not depend
    on how rows are split between processes or blocks."""
    rng = np.random.RandomState(row_seed(seed, position))
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
    block = max(1, BLOCK_MODEL_ROWS // num_samples)
    for start in range(0, len(rows), block):
        part = slice(start, min(start + block, len(rows)))
        scaled, inverse, weights = _neighbourhoods(explainer, rows[part], offset + start, seed, num_samples)
        y = np.asarray(adapter.predict(inverse.reshape(-1, f)), dtype=float).reshape(len(inverse), num_samples)
        out[0][part], out[1][part], out[2][part] = weighted_ridge(scaled, y, weights, RIDGE_ALPHA)
    return out


def _neighbourhoods(explainer: Any, rows: np.ndarray, offset: int, seed: int,
                    num_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's lime neighbourhood: the interpretable (binary) data, the rows the model sees, and the kernel
    weights: lime's ``explain_instance`` up to its model call, with the same draws in the same order from the
    row's generator (:func:`_draw`). The truncated-normal values inside each quartile are then computed for
    all rows at once: scipy's ``truncnorm.rvs`` draws ``uniform(size=k)`` and applies its ppf elementwise, so
    drawing the uniforms in lime's order and applying the ppf once gives the same numbers."""
    f = rows.shape[1]
    data, inverse = np.empty((len(rows), num_samples, f)), np.empty((len(rows), num_samples, f))
    pending: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for i, row in enumerate(rows):
        _seed_row(explainer, seed, offset + i)
        data[i], inverse[i] = _draw(explainer, row, num_samples, i, pending)
    if pending:
        where = [(i, j, at) for i, j, at, *_ in pending]
        q, a, b, loc, scale, quartile = (np.concatenate([p[k] for p in pending]) for k in range(3, 9))
        values = truncnorm_ppf(q, a, b, loc, scale, groups=quartile)
        start = 0
        for i, j, at in where:
            inverse[i, 1 + at, j] = values[start:start + len(at)]
            start += len(at)
    scaled = (data - explainer.scaler.mean_) / explainer.scaler.scale_
    # sklearn's pairwise euclidean distance to the row itself; the interpretable data is 0/1 (every column is
    # discretised), so these sums are exact and equal to its result
    distances = np.sqrt(np.maximum(((scaled - scaled[:, :1, :]) ** 2).sum(axis=2), 0))
    return scaled, inverse, explainer.base.kernel_fn(distances)


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
    out = np.full(q.shape, np.nan)
    for end, bound in ((0.0, a), (1.0, b)):
        at = valid & (q == end)
        out[at] = (bound * scale + loc)[at]
    inside = valid & (q > 0) & (q < 1)
    if not inside.any():
        return out
    ua, ub, group = _distinct_bounds(a[inside], b[inside], None if groups is None else groups[inside])
    left = ua < 0  # scipy's case_left: the lower tail; otherwise it works in the upper tail and negates
    tail, mass = np.where(left, _norm_logcdf(ua), _norm_logcdf(-ub)), _log_gauss_mass(ua, ub)
    qi, lefti = q[inside], left[group]
    logq = np.empty_like(qi)
    logq[lefti], logq[~lefti] = np.log(qi[lefti]), np.log1p(-qi[~lefti])
    x = ndtri_exp(_log_sum2(tail[group], logq + mass[group]))
    x[~lefti] = -x[~lefti]
    out[inside] = x * scale[inside] + loc[inside]
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
        out = np.log1p(s) + np.log(np.where(tie, 2.0, 1.0)) + top
        return np.where(np.isfinite(out), out, np.log(np.exp(p) + np.exp(q)))


def _draw(explainer: Any, row: np.ndarray, num_samples: int, i: int, pending: list) -> tuple[np.ndarray, np.ndarray]:
    """lime's ``LimeTabularExplainer.__data_inverse`` with its quartile discretiser, draw for draw; the
    truncated-normal draws are left as (row, feature, positions, uniforms, a, b, loc, scale, quartile label) in
    ``pending``; the label (input x stride + quartile) is the same wherever (a, b) is."""
    rng, disc = explainer.random_state, explainer.discretizer
    f = len(row)
    data = np.zeros((num_samples, f))
    first_row = disc.discretize(row)
    data[0] = row.copy()
    inverse = data.copy()
    for column in range(f):
        choice = rng.choice(explainer.feature_values[column], size=num_samples, replace=True,
                            p=explainer.feature_frequencies[column])
        binary = (choice == first_row[column]).astype(int)
        binary[0] = 1
        choice[0] = data[0, column]
        data[:, column], inverse[:, column] = binary, choice
    stride = max(len(v) for v in disc.means.values())
    for feature in disc.means:  # BaseDiscretizer.undiscretize -> get_undiscretize_values, per feature
        bins = inverse[1:, feature].astype(int)
        mins, maxs = np.array(disc.mins[feature])[bins], np.array(disc.maxs[feature])[bins]
        means, stds = np.array(disc.means[feature])[bins], np.array(disc.stds[feature])[bins]
        minz, maxz = (mins - means) / stds, (maxs - means) / stds
        at = np.flatnonzero(minz != maxz)
        inverse[1:, feature] = minz  # lime keeps the z-value where a quartile has one value
        if len(at) and not np.all(stds[at] == 0):  # truncnorm.rvs draws nothing otherwise
            pending.append((i, feature, at, rng.uniform(size=len(at)), minz[at], maxz[at], means[at], stds[at],
                            feature * stride + bins[at]))
        elif len(at):
            inverse[1 + at, feature] = means[at]
    inverse[0] = row
    return data, inverse


def weighted_ridge(X: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge with an intercept, per problem, for a stack of problems: ``X`` (n, s, f), ``y`` and ``w`` (n, s).
    Minimises sum_s w (y - X b - c)^2 + alpha |b|^2 (scikit-learn's ``Ridge(alpha).fit(X, y, sample_weight=w)``:
    weighted centring, then the normal equations), and returns (b, c, weighted R^2 as ``Ridge.score``).

    >>> X = np.array([[[0.0], [1.0], [2.0]]]); y = np.array([[1.0, 3.0, 5.0]])
    >>> b, c, r2 = weighted_ridge(X, y, np.ones((1, 3)), 0.0)
    >>> np.round(b, 6).tolist(), np.round(c, 6).tolist(), r2.tolist()
    ([[2.0]], [1.0], [1.0])
    """
    total = w.sum(axis=1)
    xm = np.einsum("ns,nsf->nf", w, X) / total[:, None]
    ym = (w * y).sum(axis=1) / total
    Xc, yc = X - xm[:, None, :], y - ym[:, None]
    A = np.einsum("nsf,ns,nsg->nfg", Xc, w, Xc) + alpha * np.eye(X.shape[2])[None]
    b = np.linalg.solve(A, np.einsum("nsf,ns,ns->nf", Xc, w, yc)[..., None])[..., 0]
    c = ym - np.einsum("nf,nf->n", xm, b)
    residual = (w * (y - np.einsum("nsf,nf->ns", X, b) - c[:, None]) ** 2).sum(axis=1)
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
