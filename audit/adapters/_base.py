"""The adapter contract: a uniform view of any model, typed, with declared capabilities.

Every adapter takes the encoded float matrix of raw features (see ``FeatureSpace``) and returns the
score being explained: the probability (or decision value) of the explained class, or the
regression output. All calls are batched and counted by the adapter's own :class:`CallCounter`.

Explainers and metrics are typed against :class:`Adapter` and ask its :class:`Capabilities`, never
a framework name or a private attribute. Optional abilities come as narrower protocols:

- :class:`InSpaceAdapter` (``capabilities.in_space``): the model's preprocessing and final estimator
  are visible (``transform``, ``transform_map``, ``final_estimator``), for intrinsic methods and
  shap's Tree/Linear explainers.
- :class:`DifferentiableAdapter` (``capabilities.differentiable``): inputs as tensors and a
  differentiable margin (``tensor``, ``margin_tensor``), for gradient methods.

Invariants: for a binary model with one output column (a decision function, a single logit),
explaining ``classes[0]`` negates that output, and :attr:`ClassView.binary_sign` is the one place that
rule lives; ``for_class`` views share the adapter's counter.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from audit.errors import ModelError
from audit.types import CallCounter, Dataset, FeatureSpace, ModelSpec, TransformMap

__all__ = ["one_openmp_thread", "Adapter", "InSpaceAdapter", "DifferentiableAdapter", "TreeAdapter", "Capabilities", "ModelSpec", "CallCounter",
           "TransformMap", "batched", "ClassView"]


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do beyond ``predict``; explainers choose by these, never by framework.

    >>> Capabilities(margin=True).differentiable
    False
    """

    margin: bool = False  # margin(X) returns the explained class's log-odds / decision value
    per_class: bool = False  # for_class(k) and predict_all(X) are meaningful (classifiers)
    parallel_safe: bool = False  # can be pickled into worker processes (row-parallel explainers)
    in_space: bool = False  # an InSpaceAdapter: transform, transform_map, final_estimator
    differentiable: bool = False  # a DifferentiableAdapter: tensor, margin_tensor, feature_groups
    module_hooks: bool = False  # the native module takes forward/backward hooks (eager torch, not TorchScript)
    randomisation: str | None = None  # how randomised() re-makes the model (sanity check); None: it cannot
    # per-tree contributions the adapter computes natively ("shap": path-dependent TreeSHAP, "saabas"):
    # a TreeAdapter (tree_model, transform, transform_map, tree_contributions) over a booster it owns
    tree_contributions: tuple[str, ...] = ()


@runtime_checkable
class Adapter(Protocol):
    """What every explainer and metric may rely on."""

    framework: str  # identity for results.json only; never a branch condition
    task: str  # "binary" | "multiclass" | "regression"
    space: FeatureSpace
    classes: tuple[Any, ...] | None
    class_index: int | None
    output: str
    counter: CallCounter
    capabilities: Capabilities

    @property
    def feature_names(self) -> tuple[str, ...]: ...

    @property
    def explained_class(self) -> Any: ...

    @property
    def native(self) -> Any: ...

    @property
    def type_name(self) -> str: ...

    @property
    def binary_sign(self) -> float: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...

    def predict_label(self, X: np.ndarray) -> np.ndarray: ...

    def predict_all(self, X: np.ndarray) -> np.ndarray: ...

    def margin(self, X: np.ndarray) -> np.ndarray | None: ...

    def for_class(self, index: int) -> Adapter: ...

    def prepare(self, X: np.ndarray) -> None: ...

    def randomised(self, dataset: Dataset, rng: np.random.Generator) -> Adapter: ...


@runtime_checkable
class InSpaceAdapter(Adapter, Protocol):
    """An adapter whose final estimator and its input columns are visible."""

    @property
    def final_estimator(self) -> Any: ...

    @property
    def transform_map(self) -> TransformMap: ...

    def transform(self, X: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class TreeAdapter(Adapter, Protocol):
    """An adapter over a tree booster loaded in its library's own format (``capabilities.tree_contributions``)."""

    @property
    def tree_model(self) -> Any: ...

    @property
    def transform_map(self) -> TransformMap: ...

    def transform(self, X: np.ndarray) -> np.ndarray: ...

    def tree_contributions(self, Z: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class DifferentiableAdapter(Adapter, Protocol):
    """An adapter with tensors and a differentiable margin (gradient methods)."""

    device: str
    dtype: Any
    n_inputs: int

    @property
    def feature_groups(self) -> list[list[int]]: ...

    @property
    def transform_map(self) -> TransformMap: ...

    def tensor(self, X: np.ndarray) -> Any: ...

    def margin_tensor(self, t: Any) -> Any: ...

    def group_mean(self, values: np.ndarray) -> np.ndarray: ...


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

    @property
    def binary_sign(self) -> float:
        """+1, or -1 when a binary model's single output (decision value, logit, a method's one column of
        values) belongs to ``classes[1]`` and ``classes[0]`` is explained: the margin is antisymmetric.

        >>> v = ClassView(); v.task, v.classes, v.class_index = "binary", (0, 1), 0
        >>> v.binary_sign
        -1.0
        """
        return -1.0 if self.task == "binary" and self.class_index == 0 else 1.0

    def for_class(self, index: int) -> Any:
        """The same model explaining class ``index`` (a shallow copy: shares the counter and caches)."""
        clone = copy.copy(self)
        clone.class_index = index
        return clone

    def prepare(self, X: np.ndarray) -> None:
        """Rows of the audit's data, for adapters that learn something from data (default: nothing)."""

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


@functools.cache
def _threadpools() -> Any:
    """threadpoolctl's controller over the thread pools loaded in this process (built once, at the first model
    call, when the model's libraries are loaded; scanning the loaded libraries on every call cost milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def one_openmp_thread() -> Iterator[None]:
    """Run a model call with one OpenMP thread. The audit parallelises across processes (``n_jobs``), not inside
    a model call: scikit-learn's OpenMP loops (HistGradientBoosting's predict, KNN's distances) spin their threads
    and, on shared cores, were measured 3.7x (20,000-row calls) to 48x (50-row calls) slower than one thread
    (bench/README.md). Each row is predicted on its own, so the values are the same whatever the thread count."""
    with _threadpools().limit(limits=1, user_api="openmp"):
        yield
