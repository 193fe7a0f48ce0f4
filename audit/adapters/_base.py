"""The adapter protocol: a uniform view of any model.

Every adapter takes the encoded float matrix of raw features (see ``FeatureSpace``) and returns the
score being explained: the probability (or decision value) of the explained class, or the
regression output. All calls are batched and counted, so tests can prove batching.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from audit.errors import ModelError
from audit.types import FeatureSpace

__all__ = ["Adapter", "ModelSpec", "CallCounter", "batched", "ClassView"]


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


class ClassView:
    """Shared by adapters: raw feature names and which class's score is explained."""

    space: FeatureSpace
    task: str
    classes: tuple[Any, ...] | None
    class_index: int | None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.space.names

    @property
    def explained_class(self) -> Any:
        return None if self.class_index is None else self.classes[self.class_index]

    def for_class(self, index: int) -> Any:
        """The same model explaining class ``index`` (a shallow copy: shares the counter and caches)."""
        clone = copy.copy(self)
        clone.class_index = index
        return clone

    def _initial_class_index(self, explained_class: Any) -> int | None:
        """The explained class: the one asked for, else the positive class (binary) or the first."""
        if self.classes is None:
            return None
        if explained_class is None:
            return len(self.classes) - 1 if self.task == "binary" else 0
        return self._index_of(explained_class)

    def _index_of(self, label: Any) -> int:
        for i, c in enumerate(self.classes or ()):
            if str(c) == str(label):
                return i
        raise ModelError(
            f"--class {label!r} is not a class of this model; classes are {[str(c) for c in self.classes or ()]}."
        )
