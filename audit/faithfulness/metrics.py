"""Faithfulness metrics: pure functions over arrays.

``predict`` is any batched callable from an (m x f) float matrix to m scores. Nothing here prints,
reads files or touches global random state; every model call covers all rows of one step at once.

Conventions: ``A`` is an (n x f) attribution, larger = pushes the explained score up. Features are
"removed" by replacing them with a baseline (see :class:`Baseline`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Baseline", "ablation_curves", "comprehensiveness", "sufficiency", "curve_auc", "SubsetProbe",
    "subset_probe", "faithfulness_correlation", "infidelity", "single_feature_effects", "monotonicity",
    "monotonicity_abs", "additivity_error", "rank_agreement", "topk_overlap", "topk_jaccard", "spearman_rows",
]

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Baseline:
    """What a removed feature is replaced with: one reference row, or an expectation over rows.

    >>> b = Baseline(np.array([[0.0, 0.0]]))
    >>> b.fill(np.array([[1.0, 2.0]]), np.array([[True, False]]))[0].tolist()
    [0.0, 2.0]
    """

    rows: np.ndarray  # (B x f); B == 1 for mean / median / mode
    kind: str = "mean"

    def fill(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Rows with masked features replaced: (n*B x f), row-major over (row, baseline row)."""
        B = len(self.rows)
        Xr = np.repeat(X, B, axis=0)
        Mr = np.repeat(mask, B, axis=0)
        Br = np.tile(self.rows, (len(X), 1))
        return np.where(Mr, Br, Xr)

    def reduce(self, y: np.ndarray, n: int) -> np.ndarray:
        return np.asarray(y, dtype=float).reshape(n, len(self.rows)).mean(1)

    @classmethod
    def from_background(cls, background: np.ndarray, categorical: np.ndarray, kind: str = "mean",
                        *, max_rows: int = 16, seed: int = 0) -> Baseline:
        """Training mean (mode for categorical columns), median, or a background sample."""
        bg = np.asarray(background, dtype=float)
        if kind == "background":
            rng = np.random.default_rng(seed)
            take = rng.choice(len(bg), size=min(max_rows, len(bg)), replace=False)
            return cls(bg[np.sort(take)], kind)
        centre = np.nanmean(bg, 0) if kind == "mean" else np.nanmedian(bg, 0)
        for j in np.flatnonzero(categorical):
            col = bg[:, j][~np.isnan(bg[:, j])]
            vals, counts = np.unique(col, return_counts=True)
            centre[j] = vals[np.argmax(counts)] if len(vals) else 0.0
        return cls(np.nan_to_num(centre)[None, :], kind)


def _call(predict: Predict, baseline: Baseline, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return baseline.reduce(predict(baseline.fill(X, mask)), len(X))


def ablation_curves(predict: Predict, X: np.ndarray, A: np.ndarray, baseline: Baseline) -> tuple[np.ndarray, np.ndarray]:
    """Deletion and insertion curves, each (n x f+1): step k removes / keeps the top-k features.

    Few, large model calls: as many steps per call as :data:`CALL_ROWS` model rows allow, each covering
    every row and both curves (a model scores rows independently, so the values do not change).
    """
    n, f = X.shape
    order = np.argsort(-A, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(f)[None, :]
    masks = [np.concatenate([rank < k, ~(rank < k)]) for k in range(f + 1)]
    y = _stacked(predict, baseline, np.concatenate([X, X]), masks)
    return y[:, :n].T.copy(), y[:, n:].T.copy()


CALL_ROWS = 200_000  # model rows in one call of a stacked perturbation (bounded memory)


def _stacked(predict: Predict, baseline: Baseline, X: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    """``_call`` for each mask on the same rows, (len(masks) x n), in as few model calls as CALL_ROWS allows."""
    n = len(X)
    per_call = max(1, CALL_ROWS // max(1, n * len(baseline.rows)))
    out = np.empty((len(masks), n))
    for start in range(0, len(masks), per_call):
        part = masks[start:start + per_call]
        y = _call(predict, baseline, np.tile(X, (len(part), 1)), np.concatenate(part))
        out[start:start + len(part)] = y.reshape(len(part), n)
    return out


def curve_auc(curve: np.ndarray) -> np.ndarray:
    """Area under each row's curve over the removed fraction 0..1 (trapezoid)."""
    f = curve.shape[1] - 1
    return (curve[:, :-1] + curve[:, 1:]).sum(1) / (2 * f)


def _ks(f: int) -> np.ndarray:
    return np.arange(1, max(1, f // 2) + 1)


def comprehensiveness(deletion: np.ndarray) -> np.ndarray:
    """ERASER comprehensiveness (AOPC): mean drop f(x) - f(x without top-k), k = 1..f/2. Higher is better."""
    ks = _ks(deletion.shape[1] - 1)
    return (deletion[:, :1] - deletion[:, ks]).mean(1)


def sufficiency(insertion: np.ndarray, full: np.ndarray) -> np.ndarray:
    """ERASER sufficiency: mean f(x) - f(only top-k kept), k = 1..f/2. Lower is better."""
    ks = _ks(insertion.shape[1] - 1)
    return (full[:, None] - insertion[:, ks]).mean(1)


@dataclass(frozen=True, eq=False)
class SubsetProbe:
    """Random feature subsets replaced by the baseline and the model's response (shared by all
    attributions, so it is computed once per audit)."""

    masks: np.ndarray  # (n x s x f) bool
    delta: np.ndarray  # (n x s): f(x) - f(x with subset removed)


def subset_probe(predict: Predict, X: np.ndarray, baseline: Baseline, *, n_subsets: int = 32,
                 rng: np.random.Generator, full: np.ndarray | None = None) -> SubsetProbe:
    """Draw ``n_subsets`` random subsets per row (size ~f/4, at least 1) and measure the model change."""
    n, f = X.shape
    size = max(1, f // 4)
    keys = rng.random((n, n_subsets, f))
    masks = np.argsort(keys, axis=2)[:, :, :size]
    M = np.zeros((n, n_subsets, f), dtype=bool)
    np.put_along_axis(M, masks, True, axis=2)
    full = predict(X) if full is None else full
    Xr = np.repeat(X, n_subsets, axis=0)
    y = _call(predict, baseline, Xr, M.reshape(n * n_subsets, f)).reshape(n, n_subsets)
    return SubsetProbe(M, full[:, None] - y)


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    den = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    return np.divide((a * b).sum(1), den, out=np.zeros(len(a)), where=den > 1e-15)


def faithfulness_correlation(A: np.ndarray, probe: SubsetProbe) -> np.ndarray:
    """Bhatt et al. (2020): correlation of summed attributions of a subset with the model change."""
    sums = np.einsum("nsf,nf->ns", probe.masks, A)
    return _rowwise_pearson(sums, probe.delta)


def infidelity(A: np.ndarray, probe: SubsetProbe) -> np.ndarray:
    """Yeh et al. (2019) infidelity with subset-removal perturbations, on a non-negative scale. Lower is better.

    The attribution's predicted subset effects ``s`` are rescaled by ``beta = ||delta|| / ||s||`` (never
    negative: a negated explanation is not rescued by a negative unit) and the squared error is divided by
    ``||delta||^2``, so the value is ``2 * (1 - cos(s, delta))``: 0 for the truth, about 2 for a random
    attribution, about 4 for the negated truth. A correct ordering with wrong units is not punished.
    Rows where the model or the attribution does not move score 2 (no evidence either way).

    >>> probe = SubsetProbe(np.array([[[True, False], [False, True]]]), np.array([[2.0, -1.0]]))
    >>> infidelity(np.array([[4.0, -2.0]]), probe).round(6).tolist(), infidelity(np.array([[-2.0, 1.0]]), probe).tolist()
    ([0.0], [4.0])
    """
    sums = np.einsum("nsf,nf->ns", probe.masks, A)
    den = np.sqrt((sums * sums).sum(1) * (probe.delta ** 2).sum(1))
    cos = np.divide((sums * probe.delta).sum(1), den, out=np.zeros(len(A)), where=den > 1e-15)
    return 2.0 * (1.0 - np.clip(cos, -1.0, 1.0))


def single_feature_effects(predict: Predict, X: np.ndarray, baseline: Baseline, full: np.ndarray) -> np.ndarray:
    """f(x) - f(x with feature j removed), (n x f): the occlusion candidate of the reference, in few calls."""
    n, f = X.shape
    masks = []
    for j in range(f):
        mask = np.zeros((n, f), dtype=bool)
        mask[:, j] = True
        masks.append(mask)
    return full[:, None] - _stacked(predict, baseline, X, masks).T


def _rank(a: np.ndarray) -> np.ndarray:
    """Average ranks along axis 1 (ties share their mean rank)."""
    from scipy.stats import rankdata

    return rankdata(a, axis=1)


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row Spearman rank correlation between two (n x f) arrays."""
    return _rowwise_pearson(_rank(a), _rank(b))


def monotonicity(A: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Signed monotonicity: per-row Spearman between the attribution and each feature's own signed
    removal effect ``f(x) - f(x without j)``. The exact negation of the truth scores -1. Higher is better.

    >>> monotonicity(np.array([[3.0, -1.0, 2.0]]), np.array([[0.3, -0.2, 0.1]])).tolist()
    [1.0]
    """
    return spearman_rows(A, effects)


def monotonicity_abs(A: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Nguyen & Rodriguez Martinez (2020) as in Quantus ``MonotonicityCorrelation(abs=True)``: Spearman
    between |attribution| and |single-feature effect|. Sign-blind (a negated attribution scores the same),
    so it is reported beside the score, never averaged into it."""
    return spearman_rows(np.abs(A), np.abs(effects))


def additivity_error(A: np.ndarray, base: np.ndarray, output: np.ndarray, scale: float) -> np.ndarray:
    """|sum(A) + base - f(x)| per row, divided by ``scale`` (the spread of f over the data)."""
    return np.abs(A.sum(1) + base - output) / (scale if scale > 0 else 1.0)


def topk_overlap(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Share of the top-k features by |value| that two attributions have in common, per row."""
    ta = np.argsort(-np.abs(a), axis=1)[:, :k]
    tb = np.argsort(-np.abs(b), axis=1)[:, :k]
    return np.array([len(set(x) & set(y)) / k for x, y in zip(ta, tb)])


def topk_jaccard(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Jaccard index of the top-k feature sets (by |value|), per row."""
    ta = np.argsort(-np.abs(a), axis=1)[:, :k]
    tb = np.argsort(-np.abs(b), axis=1)[:, :k]
    return np.array([len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(ta, tb)])


def rank_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row Spearman correlation of two attributions (signed values)."""
    return spearman_rows(a, b)
