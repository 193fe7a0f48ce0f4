"""The adapter protocol: a uniform view of any model.

Every adapter takes the encoded float matrix of raw features (see ``FeatureSpace``) and returns the
score being explained: the probability (or decision value) of the explained class, or the
regression output. All calls are batched and counted, so tests can prove batching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from audit.types import FeatureSpace

__all__ = ["Adapter", "ModelSpec", "CallCounter", "batched"]


@dataclass
class CallCounter:
    """Counts model calls and rows, shared by an adapter and its per-class views."""

    calls: int = 0
    rows: int = 0

    def add(self, n: int) -> None:
        self.calls += 1
        self.rows += int(n)


@dataclass(frozen=True)
class ModelSpec:
    """What the model expects of DATA, read from the fitted model before the data is loaded."""

    feature_names: tuple[str, ...] | None
    n_features: int | None
    categorical: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    as_frame: bool = True


@runtime_checkable
class Adapter(Protocol):
    framework: str
    task: str  # "binary" | "multiclass" | "regression"
    space: FeatureSpace
    classes: tuple[Any, ...] | None
    explained_class: Any
    output: str
    counter: CallCounter

    @property
    def feature_names(self) -> tuple[str, ...]: ...

    @property
    def native(self) -> Any: ...

    @property
    def type_name(self) -> str: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def predict_label(self, X: np.ndarray) -> np.ndarray: ...

    def for_class(self, index: int) -> Adapter: ...


def batched(fn: Any, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Apply ``fn`` over row chunks and concatenate (bounded memory for large inputs)."""
    if len(X) <= batch_size:
        return fn(X)
    return np.concatenate([fn(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])
