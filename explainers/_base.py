"""The explainer protocol and helpers shared by every method."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from audit.types import Attribution

__all__ = ["Explainer", "ExplainerBase", "linear_final_estimator", "is_tree_model"]


@runtime_checkable
class Explainer(Protocol):
    name: str
    kind: str
    sampling: bool

    def supports(self, adapter: Any) -> bool: ...

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution: ...


class ExplainerBase(ABC):
    """Common plumbing: options from the config, what a method promises, attribution assembly."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "approximate"
    sampling: ClassVar[bool] = False  # results vary with the seed (stability is measured); an attribution
    # whose meta has "sampled": True is treated the same way (shap's Permutation and Kernel choices)
    option_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        self.options = {k: v for k, v in options.items() if k in self.option_names}

    @abstractmethod
    def supports(self, adapter: Any) -> bool:
        """Whether this method can explain the adapter's model."""

    @abstractmethod
    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        """Attributions for the encoded rows ``X``."""

    def attribution(self, adapter: Any, values: np.ndarray, base: Any, **kw: Any) -> Attribution:
        return Attribution(values=values, base_values=np.asarray(base, dtype=float),
                           feature_names=tuple(adapter.feature_names), method=self.name, kind=self.kind, **kw)


def linear_final_estimator(adapter: Any) -> Any | None:
    """The final estimator if its margin is linear in what it sees (coef_ and intercept_), else None."""
    if getattr(adapter, "framework", None) != "sklearn":
        return None
    from sklearn.linear_model._base import LinearClassifierMixin, LinearModel

    final = adapter.final_estimator
    if isinstance(final, (LinearClassifierMixin, LinearModel)) and hasattr(final, "coef_"):
        return final
    return None


_TREE_TYPES = (
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor",
)


def is_tree_model(adapter: Any, *, include_hist: bool = False) -> bool:
    """True for sklearn tree ensembles whose trees expose ``tree_`` (and HGB when asked)."""
    if getattr(adapter, "framework", None) != "sklearn":
        return False
    name = type(adapter.final_estimator).__name__
    hist = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
    return name in _TREE_TYPES or (include_hist and name in hist) or (
        include_hist and type(adapter.final_estimator).__module__.split(".")[0] in ("xgboost", "lightgbm")
    )


def select_class(values: np.ndarray, base: Any, adapter: Any, *, binary_single: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pick the explained class from per-class outputs.

    ``binary_single``: the method returned one output for a binary classifier, that of classes_[1];
    explaining classes_[0] then means negating (valid for margins, which are antisymmetric).
    """
    base = np.asarray(base, dtype=float)
    if values.ndim == 3:
        k = adapter.class_index or 0
        return values[:, :, k], (base[..., k] if base.ndim else base)
    if binary_single and adapter.task == "binary" and adapter.class_index == 0:
        return -values, -base
    if base.ndim and base.shape[-1] > 1 and adapter.task != "regression":
        base = base[..., adapter.class_index]
    return values, base


@contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Some libraries (shap's Kernel, Captum's GradientShap) draw from numpy's global state: seed it
    for the call and restore it afterwards, so results are reproducible and callers are unaffected."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
