"""The upper reference: attributions found by querying the model itself, independent of every explainer.

Scoring an explainer against another explainer's output (or against a quantity an explainer also
computes) turns a score of 1.00 into an identity. The reference here is built only from the model's
response to removing features, by three candidate attributions per row:

- ``greedy``: the greedy deletion ordering (at each step remove the feature whose removal lowers the
  explained score most; Petsiuk et al. 2018 / Samek et al. 2017 deletion curves with a greedy search for
  the ordering). f - 1 batched model calls, n * f * (f + 1) / 2 rows in all, so it is only run up to
  ``GREEDY_MAX_FEATURES`` features; values are rank scores (f for the first removed, 1 for the last).
- ``least_squares``: the per-row linear fit of subset-removal effects, ``delta(S) ~ sum_{j in S} a_j``,
  on its own random subsets (cross-fitted: never the subsets the metrics are measured on). Yeh et al.
  (2019, Prop. 2.3) show that the explanation minimising infidelity is this least-squares solution.
- ``occlusion``: each feature's own removal effect ``f(x) - f(x without j)`` (Zeiler & Fergus 2014).

:func:`best_per_row` takes, for each metric and row, the best value any candidate reaches. A candidate
can coincide with an explainer (occlusion with Captum's FeatureAblation, the least-squares fit with the
exact attribution of a linear model); :func:`identity_share` reports how often an attribution ranks the
features exactly as a candidate does, so that such a score is labelled as an identity, not evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.faithfulness.metrics import Baseline, Predict, _call

__all__ = ["GREEDY_MAX_FEATURES", "Reference", "greedy_deletion_order", "least_squares_attribution",
           "build_reference", "best_per_row", "identity_share"]

GREEDY_MAX_FEATURES = 30  # above this the greedy search (O(f^2) model rows per row) is skipped


@dataclass(frozen=True, eq=False)
class Reference:
    """Candidate reference attributions (name -> n x f values) and how they were found."""

    candidates: dict[str, np.ndarray]
    kind: str
    model_calls: int = 0


def greedy_deletion_order(predict: Predict, X: np.ndarray, baseline: Baseline) -> np.ndarray:
    """Per row, features in greedy deletion order (n x f): each step removes the remaining feature whose
    removal gives the lowest score. Step k is one model call over every row and every remaining feature.

    >>> greedy_deletion_order(lambda Z: Z @ np.array([1.0, 3.0, -2.0]), np.ones((1, 3)),
    ...                       Baseline(np.zeros((1, 3)))).tolist()
    [[1, 0, 2]]
    """
    n, f = X.shape
    removed = np.zeros((n, f), dtype=bool)
    order = np.empty((n, f), dtype=int)
    rows = np.arange(n)
    for step in range(f):
        left = f - step
        cand = np.argsort(removed, axis=1, kind="stable")[:, :left]  # not-yet-removed features, ascending
        if left == 1:
            pick = cand[:, 0]
        else:
            masks = np.repeat(removed, left, axis=0)
            masks[np.arange(n * left), cand.ravel()] = True
            y = _call(predict, baseline, np.repeat(X, left, axis=0), masks).reshape(n, left)
            pick = cand[rows, np.argmin(y, axis=1)]
        removed[rows, pick] = True
        order[:, step] = pick
    return order


def least_squares_attribution(masks: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Per-row least squares ``delta[i, s] ~ masks[i, s] @ a[i]`` (n x s x f, n x s -> n x f), with a
    vanishing ridge so features never drawn get 0.

    >>> m = np.array([[[1, 0], [0, 1], [1, 1]]], dtype=bool)
    >>> least_squares_attribution(m, np.array([[2.0, -1.0, 1.0]])).round(6).tolist()
    [[2.0, -1.0]]
    """
    Mf = masks.astype(float)
    G = np.einsum("nsf,nsg->nfg", Mf, Mf)
    b = np.einsum("nsf,ns->nf", Mf, delta)
    f = G.shape[1]
    ridge = 1e-9 * np.maximum(np.trace(G, axis1=1, axis2=2) / f, 1e-12)
    return np.linalg.solve(G + ridge[:, None, None] * np.eye(f), b[..., None])[..., 0]


def build_reference(predict: Predict, X: np.ndarray, baseline: Baseline, effects: np.ndarray, *,
                    rng: np.random.Generator, full: np.ndarray, n_fit_subsets: int | None = None,
                    greedy_max_features: int = GREEDY_MAX_FEATURES) -> Reference:
    """The explainer-independent candidates for ``X`` (see the module docstring)."""
    n, f = X.shape
    calls = [0]

    def counted(Z: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return predict(Z)

    candidates: dict[str, np.ndarray] = {}
    if f <= greedy_max_features:
        order = greedy_deletion_order(counted, X, baseline)
        ranks = np.empty((n, f))
        ranks[np.arange(n)[:, None], order] = np.arange(f, 0, -1)[None, :]
        candidates["greedy"] = ranks
    masks = _covering_subsets(n, f, n_fit_subsets or max(32, 3 * f), rng)
    s = masks.shape[1]
    y = _call(counted, baseline, np.repeat(X, s, axis=0), masks.reshape(n * s, f)).reshape(n, s)
    candidates["least_squares"] = least_squares_attribution(masks, full[:, None] - y)
    candidates["occlusion"] = np.asarray(effects, dtype=float)
    search = ("greedy deletion search, " if "greedy" in candidates
              else f"no greedy search (more than {greedy_max_features} features), ")
    kind = (f"model-derived reference, best per row and metric of: {search}cross-fitted least-squares fit of "
            "subset-removal effects, single-feature occlusion")
    return Reference(candidates, kind, calls[0])


def _covering_subsets(n: int, f: int, n_subsets: int, rng: np.random.Generator) -> np.ndarray:
    """(n x s x f) subsets of size ~f/4 (as the probe draws them), cut from a stream of random permutations
    so that every feature is removed in at least one subset of every row (else its fit is undetermined)."""
    size = max(1, f // 4)
    reps = -(-n_subsets * size // f)
    stream = np.argsort(rng.random((n, reps, f)), axis=2).reshape(n, reps * f)[:, : n_subsets * size]
    masks = np.zeros((n, n_subsets, f), dtype=bool)
    np.put_along_axis(masks, stream.reshape(n, n_subsets, size), True, axis=2)
    return masks


def best_per_row(per_candidate: dict[str, dict[str, np.ndarray]],
                 higher: dict[str, bool]) -> tuple[dict[str, np.ndarray], dict[str, dict[str, float]]]:
    """Per metric, the best value per row over the candidates, and the share of rows each candidate won."""
    names = list(per_candidate)
    best, won = {}, {}
    for metric, hi in higher.items():
        stack = np.vstack([per_candidate[c][metric] for c in names])
        idx = np.argmax(stack, 0) if hi else np.argmin(stack, 0)
        best[metric] = stack[idx, np.arange(stack.shape[1])]
        won[metric] = {c: float(np.mean(idx == i)) for i, c in enumerate(names)}
    return best, won


def _ranks(A: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    scale = np.abs(A).max(1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    return rankdata(np.round(A / scale, 9), axis=1)  # ties within 1e-9 of the row's largest value


def identity_share(A: np.ndarray, reference: np.ndarray) -> float:
    """Share of rows on which ``A`` ranks the features exactly as ``reference`` does (ties included).

    >>> identity_share(np.array([[3.0, 1.0], [1.0, 3.0]]), np.array([[0.9, 0.1], [0.9, 0.1]]))
    0.5
    """
    return float(np.mean((_ranks(np.asarray(A, dtype=float)) == _ranks(np.asarray(reference, dtype=float))).all(1)))
