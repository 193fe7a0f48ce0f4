"""The data's support: which values and combinations a counterfactual may use, and how far it is from real rows.

Invariants: candidate values are observed values (numeric: values at the data's quantiles, so "12 months"
rather than "11.7"; categorical: the ``TOP_CATEGORIES`` most frequent categories seen in the data); a counterfactual is *in support* when every
numeric value lies in the observed range, every pair of categorical values it holds was observed together in
one real row, and its nearest-neighbour (Gower) distance to the real rows is at most ``max_ratio`` times the
typical nearest-neighbour distance among real rows.

>>> from audit.types import FeatureSpace
>>> s = Support.from_data(np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0]]), FeatureSpace(("x", "c"), {"c": ("a", "b")}))
>>> s.grids[0].tolist(), s.grids[1].tolist()
([1.0, 2.0, 3.0], [0.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.types import FeatureSpace

__all__ = ["Support"]

GRID_QUANTILES = np.linspace(0.0, 1.0, 21)  # 0, 5, ..., 100th percentile: candidate numeric values
TOP_CATEGORIES = 20  # candidate categories: the most frequent ones (a rare category is poor advice)
REFERENCE_ROWS = 2000  # real rows nearest-neighbour distances are measured against
TYPICAL_ROWS = 300  # real rows whose own nearest-neighbour distance sets the typical distance


@dataclass(frozen=True, eq=False)
class Support:
    """Observed ranges, candidate values, categorical pairs seen together and nearest-neighbour distances."""

    names: tuple[str, ...]
    categorical: np.ndarray  # bool per feature
    low: np.ndarray  # observed minimum (numeric features)
    high: np.ndarray  # observed maximum
    scale: np.ndarray  # the spread a change is measured in for its cost: IQR, else std, else 1
    span: np.ndarray  # observed range, for Gower distances (1 where there is none, and for categories)
    grids: tuple[np.ndarray, ...]  # candidate values per feature, sorted
    pairs: frozenset[tuple[int, float, int, float]]  # (j, code, k, code), j < k, observed in one row
    reference: np.ndarray  # real rows distances are measured to
    typical_nn: float  # median nearest-neighbour distance of real rows to the other (distinct) real rows

    @classmethod
    def from_data(cls, X: np.ndarray, space: FeatureSpace, *, seed: int = 0) -> Support:
        """The support of the encoded rows ``X`` (categorical columns hold category codes)."""
        X = np.asarray(X, dtype=float)
        cat = space.categorical_mask
        low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        span = np.where(cat | ~(high > low), 1.0, high - low)
        grids = tuple(_grid(X[:, j], bool(cat[j])) for j in range(X.shape[1]))
        rng = np.random.default_rng(seed)
        reference = X if len(X) <= REFERENCE_ROWS else X[np.sort(rng.choice(len(X), REFERENCE_ROWS, replace=False))]
        support = cls(tuple(space.names), cat, low, high, _scale(X, cat), span, grids, _pairs(X, cat), reference, 1.0)
        probe = rng.choice(len(reference), size=min(TYPICAL_ROWS, len(reference)), replace=False)
        d = support.distances(reference[probe])
        d[np.arange(len(probe)), probe] = np.inf  # a row is not its own neighbour
        nearest = d.min(axis=1)
        distinct = nearest[np.isfinite(nearest) & (nearest > 0)]  # duplicated rows would make the typical 0
        object.__setattr__(support, "typical_nn", float(np.median(distinct)) if len(distinct) else 1.0)
        return support

    def distances(self, Z: np.ndarray) -> np.ndarray:
        """Gower distance of each row of ``Z`` to each reference row (numbers: |a - b| / range; categories:
        0 when equal, else 1; a missing value is 1 from anything but another missing value)."""
        Z = np.atleast_2d(np.asarray(Z, dtype=float))
        a, b = Z[:, None, :], self.reference[None, :, :]
        diff = np.abs(a - b)
        diff /= self.span
        cat = np.flatnonzero(self.categorical)
        if len(cat):
            diff[:, :, cat] = a[:, :, cat] != b[:, :, cat]
        if np.isnan(Z).any() or self._reference_has_missing:
            both = np.isnan(a) & np.isnan(b)
            diff = np.where(both, 0.0, np.where(np.isnan(diff), 1.0, diff))
        return diff.mean(axis=2)

    @property
    def _reference_has_missing(self) -> bool:
        return bool(np.isnan(self.reference).any())

    def nearest(self, Z: np.ndarray) -> np.ndarray:
        """Distance of each row of ``Z`` to its nearest real row."""
        return self.distances(Z).min(axis=1)

    def pairs_seen(self, z: np.ndarray, changed: list[int]) -> bool:
        """Whether each changed categorical value of ``z`` was observed together with every other categorical
        value ``z`` holds."""
        cats = np.flatnonzero(self.categorical)
        for j in changed:
            if not self.categorical[j]:
                continue
            for k in cats:
                if k == j or np.isnan(z[k]):
                    continue
                key = (j, z[j], k, z[k]) if j < k else (k, z[k], j, z[j])
                if key not in self.pairs:
                    return False
        return True

    def in_range(self, z: np.ndarray) -> bool:
        """Every numeric value of ``z`` inside the observed range (missing values are not judged)."""
        num = ~self.categorical & ~np.isnan(z)
        return bool(np.all((z[num] >= self.low[num]) & (z[num] <= self.high[num])))


def _grid(col: np.ndarray, categorical: bool) -> np.ndarray:
    """Candidate values of one feature: the most frequent observed categories, or observed values at the grid
    quantiles (all observed values when there are no more of them)."""
    seen = col[~np.isnan(col)]
    if not len(seen):
        return np.array([])
    if categorical:
        codes, counts = np.unique(seen, return_counts=True)
        return np.sort(codes[np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]])
    if len(np.unique(seen)) <= len(GRID_QUANTILES):
        return np.unique(seen)
    return np.unique(np.quantile(seen, GRID_QUANTILES, method="inverted_cdf"))


def _scale(X: np.ndarray, cat: np.ndarray) -> np.ndarray:
    """Per feature, the spread a change's cost is divided by: the interquartile range, else the standard
    deviation, else 1 (and 1 for categories, whose change costs 1)."""
    out = np.ones(X.shape[1])
    for j in np.flatnonzero(~cat):
        col = X[:, j][~np.isnan(X[:, j])]
        if not len(col):
            continue
        q1, q3 = np.quantile(col, [0.25, 0.75])
        out[j] = q3 - q1 if q3 > q1 else (float(np.std(col)) or 1.0)
    return out


def _pairs(X: np.ndarray, cat: np.ndarray) -> frozenset[tuple[int, float, int, float]]:
    """Every pair of categorical values observed together in one row."""
    idx = np.flatnonzero(cat)
    seen: set[tuple[int, float, int, float]] = set()
    for a, j in enumerate(idx):
        for k in idx[a + 1:]:
            both = X[:, [j, k]]
            both = both[~np.isnan(both).any(axis=1)]
            seen.update((int(j), float(u), int(k), float(v)) for u, v in np.unique(both, axis=0))
    return frozenset(seen)
