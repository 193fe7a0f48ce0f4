"""The explainer protocol and helpers shared by every method."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
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


def row_seed(seed: int, position: int) -> int:
    """A per-row seed from (seed, row position): rows draw independently of how they are split up."""
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


def worker_count(requested: Any, n_rows: int, adapter: Any) -> int:
    """Worker processes for per-row methods: scikit-learn models only (a torch model stays in-process,
    on its device); -1 means every core; never more than one per two rows."""
    import os

    n = int(requested or 1)
    if n < 0:
        n = os.cpu_count() or 1
    if getattr(adapter, "framework", None) != "sklearn":
        return 1
    return max(1, min(n, n_rows // 2 or 1))


def map_row_chunks(fn: Callable[..., Any], adapter: Any, X: np.ndarray, n_jobs: Any, *args: Any) -> tuple[list, int]:
    """``fn(adapter, rows, offset, *args)`` over contiguous row chunks, in joblib worker processes when
    ``n_jobs`` allows; returns the per-chunk results in row order and the number of workers used. Model
    calls made in the workers are added to ``adapter.counter``."""
    jobs = worker_count(n_jobs, len(X), adapter)
    if jobs == 1:
        return [fn(adapter, X, 0, *args)], 1
    from joblib import Parallel, delayed

    bounds = np.linspace(0, len(X), jobs + 1).astype(int)
    done = Parallel(n_jobs=jobs)(delayed(_counted)(fn, adapter, X[a:b], int(a), *args)
                                 for a, b in zip(bounds[:-1], bounds[1:]) if b > a)
    for _, calls, rows in done:
        adapter.counter.calls += calls
        adapter.counter.rows += rows
    return [out for out, _, _ in done], jobs


def _counted(fn: Callable[..., Any], adapter: Any, X: np.ndarray, offset: int, *args: Any) -> tuple[Any, int, int]:
    calls, rows = adapter.counter.calls, adapter.counter.rows
    out = fn(adapter, X, offset, *args)
    return out, adapter.counter.calls - calls, adapter.counter.rows - rows


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
