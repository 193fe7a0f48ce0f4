"""Small frozen values that cross the boxes of the pipeline.

``FeatureSpace`` says how the raw columns of DATA are held inside as one float matrix (categorical
columns as integer codes) and turns such a matrix back into what the model was trained on.
``Dataset`` is validated data; ``Attribution`` is what every explainer returns. ``ModelSpec`` is what a
fitted model expects of DATA, ``TransformMap`` how the columns a model sees depend on the raw columns,
``CallCounter`` the model calls an adapter has made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FeatureSpace", "Dataset", "Attribution", "ModelSpec", "TransformMap", "CallCounter"]


@dataclass(frozen=True, eq=False)
class FeatureSpace:
    """The raw columns of DATA and how they are encoded as floats.

    Categorical columns hold the index into ``categories[name]``; NaN means missing.

    >>> fs = FeatureSpace(("age", "housing"), {"housing": ("own", "rent")})
    >>> fs.decode(np.array([[30.0, 1.0]])).to_dict("records")
    [{'age': 30.0, 'housing': 'rent'}]
    """

    names: tuple[str, ...]
    categories: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    as_frame: bool = True
    numeric_dtypes: Mapping[str, str] = field(default_factory=dict)
    # columns the model was fitted on as pandas ``category`` dtype, with the fitted categories: decoded as such
    frame_categories: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))
        object.__setattr__(self, "numeric_dtypes", MappingProxyType(dict(self.numeric_dtypes)))
        object.__setattr__(self, "frame_categories", MappingProxyType(dict(self.frame_categories)))

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([n in self.categories for n in self.names], dtype=bool)

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, n in enumerate(self.names) if n in self.categories]

    def decode(self, X: np.ndarray) -> pd.DataFrame | np.ndarray:
        """Turn an encoded float matrix back into the model's input (DataFrame or array)."""
        X = np.asarray(X, dtype=float)
        if not self.as_frame and not self.categories:
            return X
        cols: dict[str, Any] = {}
        for j, name in enumerate(self.names):
            col = X[:, j]
            cats = self.categories.get(name)
            if cats is None:
                dtype = self.numeric_dtypes.get(name)
                if dtype is not None and dtype.startswith("int") and not np.isnan(col).any():
                    col = col.astype(dtype)
                cols[name] = col
                continue
            lookup = np.empty(len(cats) + 1, dtype=object)
            lookup[: len(cats)] = list(cats)
            lookup[len(cats)] = np.nan
            codes = np.where(np.isnan(col), len(cats), col).astype(int)
            values = lookup[codes]
            if all(isinstance(c, (int, float, np.number)) and not isinstance(c, bool) for c in cats):
                values = values.astype(float)
            fitted = self.frame_categories.get(name)
            # a level the model never saw becomes missing, as the model's own encoder treats it
            cols[name] = values if fitted is None else pd.Categorical(values, categories=list(fitted))
        frame = pd.DataFrame(cols, columns=list(self.names))
        return frame if self.as_frame else frame.to_numpy()

    def display(self, j: int, value: float) -> str:
        """Human-readable raw value of feature ``j`` (category label or number)."""
        if np.isnan(value):
            return "missing"
        cats = self.categories.get(self.names[j])
        if cats is not None:
            return str(cats[int(value)])
        return f"{value:g}"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Validated data: the model's raw features encoded as floats, plus the optional target."""

    path: str
    sha256: str
    X: np.ndarray
    space: FeatureSpace
    target: np.ndarray | None = None
    target_name: str | None = None
    ignored_columns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)  # kept non-model columns, raw values
    target_source: str = "given"  # "given" (--target), "inferred" (the one fitting column) or "none"

    def __post_init__(self) -> None:
        self.X.setflags(write=False)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.space.names

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame | np.ndarray:
        X = self.X if rows is None else self.X[rows]
        return self.space.decode(X)


@dataclass(frozen=True, eq=False)
class Attribution:
    """Per-row, per-raw-feature contributions from one explanation method.

    ``values[i, j]`` is feature j's contribution to the explained output of row i; ``base_values[i]``
    is the output the contributions start from, so that, where the method promises additivity,
    ``values.sum(1) + base_values`` equals the model output in ``output_space``.

    >>> a = Attribution(np.zeros((2, 3)), np.zeros(2), ("a", "b", "c"), "demo", "approximate")
    >>> a.values.shape
    (2, 3)
    """

    values: np.ndarray
    base_values: np.ndarray
    feature_names: tuple[str, ...]
    method: str
    kind: str
    output_space: str = "score"
    additive: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)
    rows: np.ndarray | None = None
    local_r2: np.ndarray | None = None
    rules: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        base = np.broadcast_to(np.asarray(self.base_values, dtype=float), (values.shape[0],)).copy()
        if values.ndim != 2 or values.shape[1] != len(self.feature_names):
            raise ValueError(
                f"{self.method}: attribution shape {values.shape} does not match "
                f"{len(self.feature_names)} feature names"
            )
        if not np.isfinite(values).all():
            bad = np.argwhere(~np.isfinite(values))[0]
            raise ValueError(
                f"{self.method}: non-finite attribution at row {bad[0]}, feature "
                f"{self.feature_names[bad[1]]!r}"
            )
        if self.kind not in ("intrinsic", "approximate"):
            raise ValueError(f"kind must be 'intrinsic' or 'approximate', got {self.kind!r}")
        values.setflags(write=False)
        base.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "base_values", base)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    def global_importance(self) -> dict[str, float]:
        """Mean absolute contribution per raw feature."""
        return {n: float(v) for n, v in zip(self.feature_names, np.abs(self.values).mean(0))}


@dataclass
class CallCounter:
    """Model calls and rows an adapter has made; owned by the adapter and shared with its views.

    >>> c = CallCounter()
    >>> c.add(10); c.add(5); (c.calls, c.rows)
    (2, 15)
    """

    calls: int = 0
    rows: int = 0

    def add(self, n: int) -> None:
        self.calls += 1
        self.rows += int(n)

    def merge(self, calls: int, rows: int) -> None:
        """Add calls made elsewhere (worker processes) on behalf of this adapter."""
        self.calls += int(calls)
        self.rows += int(rows)


@dataclass(frozen=True)
class ModelSpec:
    """What the model expects of DATA, read from the fitted model before the data is loaded."""

    feature_names: tuple[str, ...] | None
    n_features: int | None
    categorical: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    as_frame: bool = True
    task: str | None = None  # "binary" | "multiclass" | "regression" when the model says so
    classes: tuple[str, ...] | None = None
    target: str | None = None  # the target column a torch spec names
    frame_categorical: tuple[str, ...] = ()  # inputs the model was fitted on as pandas ``category`` dtype


@dataclass(frozen=True, eq=False)
class TransformMap:
    """How the columns a model sees (after its preprocessing) depend on the raw columns.

    ``weights[p, j]`` is the share of model column p attributed to raw column j (1 for a one-hot or
    scaled column of j; 1/m for an interaction of m raw columns). ``onehot[p]`` is (j, category) when
    column p is the indicator of one category of raw column j; ``linear[p]`` is (j, a, b) when column
    p equals a * x_j + b.

    >>> tm = TransformMap(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), {}, {}, ("a_x", "a_y", "b"))
    >>> tm.to_raw(np.array([[1.0, 2.0, 3.0]])).tolist()
    [[3.0, 3.0]]
    """

    weights: np.ndarray
    onehot: dict[int, tuple[int, Any]]
    linear: dict[int, tuple[int, float, float]]
    names: tuple[str, ...]

    def to_raw(self, values: np.ndarray) -> np.ndarray:
        """Sum model-column attributions back to raw columns."""
        return np.asarray(values, dtype=float) @ self.weights

    @classmethod
    def identity(cls, names: tuple[str, ...]) -> TransformMap:
        """The model sees the raw columns themselves."""
        f = len(names)
        return cls(np.eye(f), {}, {j: (j, 1.0, 0.0) for j in range(f)}, tuple(names))
