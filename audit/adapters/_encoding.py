"""The preprocessing spec of a model that takes an encoded matrix (the torch spec format, reused).

::

    {"task": "binary", "classes": ["bad", "good"],
     "features": [{"name": "age", "type": "numeric", "mean": 35.5, "std": 11.4},
                  {"name": "housing", "type": "categorical", "categories": ["free", "own", "rent"],
                   "encoding": "onehot"}]}

Numeric columns are ``(x - mean) / std`` (default 0 and 1; missing stays missing, which tree libraries
route by their default direction). A categorical column is one-hot in the listed order (``"onehot"``,
the default; missing or unseen: all zeros) or, for a model that uses its library's own categorical
support, the index in the listed order as one column (``"native"``; missing or unseen: missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.errors import InputError
from audit.types import FeatureSpace, ModelSpec, TransformMap

__all__ = ["SpecEncoder"]


@dataclass(frozen=True)
class _Feature:
    name: str
    kind: str  # numeric | onehot | native
    categories: tuple[Any, ...] = ()
    mean: float = 0.0
    std: float = 1.0


class SpecEncoder:
    """Raw columns (the audit's encoded float matrix) to the model's input matrix, from a spec.

    >>> enc = SpecEncoder.from_spec({"features": [{"name": "a", "type": "numeric"},
    ...     {"name": "c", "type": "categorical", "categories": ["x", "y"]}]}, "spec")
    >>> enc.width, enc.model_names
    (3, ('a', 'c=x', 'c=y'))
    """

    def __init__(self, features: list[_Feature], where: str) -> None:
        self.features = features
        self.where = where
        self.model_names: tuple[str, ...] = tuple(
            n for f in features for n in ([f"{f.name}={c}" for c in f.categories] if f.kind == "onehot" else [f.name]))
        self.width = len(self.model_names)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], where: str) -> SpecEncoder:
        feats = spec.get("features")
        if not isinstance(feats, list) or not feats:
            raise InputError(f"{where}: 'features' is missing or empty; list the model's input columns in order.")
        out = []
        for f in feats:
            if not isinstance(f, dict) or not isinstance(f.get("name"), str):
                raise InputError(f"{where}: every feature needs a 'name'; got {str(f)[:80]!r}.")
            if f.get("type") == "numeric":
                std = float(f.get("std", 1.0) or 1.0)
                out.append(_Feature(f["name"], "numeric", mean=float(f.get("mean", 0.0)), std=std))
            elif f.get("type") == "categorical":
                cats = f.get("categories")
                enc = f.get("encoding", "onehot")
                if not isinstance(cats, list) or not cats or enc not in ("onehot", "native"):
                    raise InputError(f"{where}: categorical feature {f['name']!r} needs a non-empty 'categories' list "
                                     f"and 'encoding' onehot or native (got {enc!r}).")
                out.append(_Feature(f["name"], enc, categories=tuple(cats)))
            else:
                raise InputError(f"{where}: feature {f.get('name')!r} has type {f.get('type')!r}; use numeric or "
                                 "categorical.")
        return cls(out, where)

    @classmethod
    def identity(cls, names: tuple[str, ...], native: tuple[str, ...] = ()) -> SpecEncoder:
        """The model's own columns; those in ``native`` are categorical in the library's own encoding, with
        the labels found in the data (see :meth:`resolved`)."""
        return cls([_Feature(n, "native" if n in native else "numeric") for n in names], "model")

    def resolved(self, space: FeatureSpace) -> SpecEncoder:
        """This encoder with every categorical feature that lists no categories given the data's labels.

        >>> enc = SpecEncoder.identity(("a", "c"), native=("c",))
        >>> enc.resolved(FeatureSpace(("a", "c"), {"c": ("x", "y")})).native_categories()
        {1: ('x', 'y')}
        """
        feats = [f if f.kind == "numeric" or f.categories else
                 _Feature(f.name, f.kind, categories=tuple(space.categories.get(f.name, ()))) for f in self.features]
        return SpecEncoder(feats, self.where)

    def model_spec(self) -> ModelSpec:
        cats = {f.name: f.categories for f in self.features if f.kind != "numeric"}
        return ModelSpec(feature_names=tuple(f.name for f in self.features), n_features=len(self.features),
                         categorical=cats)

    def check_width(self, n_inputs: int, what: str) -> None:
        if n_inputs != self.width:
            raise InputError(f"{self.where}: describes {self.width} model input column(s) but the {what} takes "
                             f"{n_inputs}. Check the spec's features, their order and categories.")

    def native_categories(self) -> dict[int, tuple[Any, ...]]:
        """Model column -> category labels, for columns given as the library's own categorical codes."""
        out, p = {}, 0
        for f in self.features:
            if f.kind == "native":
                out[p] = f.categories
            p += len(f.categories) if f.kind == "onehot" else 1
        return out

    def _codes(self, f: _Feature, space: FeatureSpace, col: np.ndarray) -> np.ndarray:
        """Each row's index in the spec's category list (-1: missing or unseen)."""
        data_cats = space.categories.get(f.name, ())
        position = {str(c): i for i, c in enumerate(f.categories)}
        lookup = np.array([position.get(str(c), -1) for c in data_cats] + [-1], dtype=np.int64)
        idx = np.where(np.isnan(col), len(data_cats), np.nan_to_num(col)).astype(np.int64)
        return lookup[np.clip(idx, 0, len(data_cats))]

    def transform(self, X: np.ndarray, space: FeatureSpace) -> np.ndarray:
        """The model's input matrix (float64) for the raw rows ``X``."""
        X = np.asarray(X, dtype=float)
        cols = []
        for f in self.features:
            col = X[:, space.names.index(f.name)]
            if f.kind == "numeric":
                cols.append(((col - f.mean) / f.std)[:, None])
                continue
            codes = self._codes(f, space, col)
            if f.kind == "native":
                cols.append(np.where(codes < 0, np.nan, codes).astype(float)[:, None])
            else:
                hot = np.zeros((len(X), len(f.categories)))
                ok = codes >= 0
                hot[np.flatnonzero(ok), codes[ok]] = 1.0
                cols.append(hot)
        return np.hstack(cols) if cols else np.zeros((len(X), 0))

    def transform_map(self, space: FeatureSpace) -> TransformMap:
        weights = np.zeros((self.width, len(space.names)))
        onehot: dict[int, tuple[int, Any]] = {}
        linear: dict[int, tuple[int, float, float]] = {}
        p = 0
        for f in self.features:
            j = space.names.index(f.name)
            if f.kind == "onehot":
                for c in f.categories:
                    weights[p, j], onehot[p] = 1.0, (j, c)
                    p += 1
                continue
            weights[p, j] = 1.0
            if f.kind == "numeric":
                linear[p] = (j, 1.0 / f.std, -f.mean / f.std)
            p += 1
        return TransformMap(weights, onehot, linear, self.model_names)
