"""The explainer protocol and helpers shared by every method."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from audit.adapters import Adapter
from audit.errors import ConfigError
from audit.types import Attribution

__all__ = ["Explainer", "ExplainerBase", "ExplainerParams", "validate_params", "linear_final_estimator",
           "is_tree_model", "select_class", "row_seed", "worker_count", "map_row_chunks", "row_cluster",
           "seeded_global_numpy", "library_quiet"]


@runtime_checkable
class Explainer(Protocol):
    """What the runner and the registry rely on; third-party explainers implement this."""

    name: str
    kind: str
    sampling: bool

    def supports(self, adapter: Adapter) -> bool: ...

    def explain(self, adapter: Adapter, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution: ...


class ExplainerParams(BaseModel):
    """An explainer's parameters, under the algorithm's own names; unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def validate_params(name: str, params_cls: type[BaseModel], values: Mapping[str, Any]) -> BaseModel:
    """``params_cls`` validated from ``values``, or one :class:`ConfigError` naming the parameter and the fix.

    >>> class P(ExplainerParams):
    ...     num_samples: int = 1000
    >>> validate_params("lime", P, {"num_samples": 600}).num_samples
    600
    """
    try:
        return params_cls.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        valid = ", ".join(params_cls.model_fields) or "none"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"explainer {name}: unknown parameter {key!r}. Valid parameters: {valid}. "
                              f"Fix [explainers.{name}] in audit.toml (or the call).") from None
        raise ConfigError(f"explainer {name}: parameter {key!r} has invalid value {err.get('input')!r}: "
                          f"{err['msg']}. Correct it in [explainers.{name}].") from None


class ExplainerBase(ABC):
    """Common plumbing: validated parameters, what a method promises, attribution assembly.

    Subclasses declare ``Params`` (a pydantic model under the algorithm's own parameter names) and
    ``config_keys``, the top-level audit.toml keys that still set a parameter (``lime_num_samples`` ->
    ``num_samples``); an ``[explainers.NAME]`` table overrides them.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "approximate"
    sampling: ClassVar[bool] = False  # results vary with the seed (stability is measured); an attribution
    # whose meta has "sampled": True is treated the same way (shap's Permutation and Kernel choices)
    Params: ClassVar[type[BaseModel]] = ExplainerParams
    config_keys: ClassVar[dict[str, str]] = {}

    def __init__(self, **params: Any) -> None:
        self.params = validate_params(self.name, self.Params, params)

    def with_params(self, **params: Any) -> ExplainerBase:
        """This explainer with ``params`` instead of its own (validated), itself when they are the same: the
        audit's budget changes ``n_jobs`` and SHAP's budget after the explainers were built and asked their cost."""
        validated = validate_params(self.name, self.Params, params)
        if validated == self.params:
            return self
        other = copy.copy(self)
        other.params = validated
        return other

    @abstractmethod
    def supports(self, adapter: Adapter) -> bool:
        """Whether this method can explain the adapter's model."""

    @abstractmethod
    def explain(self, adapter: Adapter, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        """Attributions for the encoded rows ``X``."""

    def planned_seconds_per_row(self, adapter: Adapter, n_features: int, *, n_background: int) -> float | None:
        """Reference seconds one explained row costs, counted from model calls and rows per explained row and
        the model's static cost (:func:`explainers._budget.model_cost`; never timed), for methods whose cost
        grows with model calls per row (the audit's budget plans with it); None for methods that are cheap."""
        return None

    def attribution(self, adapter: Adapter, values: np.ndarray, base: Any, **kw: Any) -> Attribution:
        return Attribution(values=values, base_values=np.asarray(base, dtype=float),
                           feature_names=tuple(adapter.feature_names), method=self.name, kind=self.kind, **kw)


def linear_final_estimator(adapter: Adapter) -> Any | None:
    """The final estimator if its margin is linear in what it sees (coef_ and intercept_), else None."""
    if not adapter.capabilities.in_space:
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


def is_tree_model(adapter: Adapter, *, include_hist: bool = False) -> bool:
    """True for tree ensembles whose trees expose ``tree_`` (and HGB, XGBoost, LightGBM when asked, including
    natively loaded boosters whose adapter computes TreeSHAP itself)."""
    if include_hist and "shap" in adapter.capabilities.tree_contributions:
        return True
    if not adapter.capabilities.in_space:
        return False
    final = adapter.final_estimator
    name = type(final).__name__
    hist = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
    return name in _TREE_TYPES or (include_hist and name in hist) or (
        include_hist and type(final).__module__.split(".")[0] in ("xgboost", "lightgbm")
    )


def select_class(values: np.ndarray, base: Any, adapter: Adapter, *, binary_single: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pick the explained class from per-class outputs.

    ``binary_single``: the method returned one output for a binary classifier, that of classes_[1]
    (``adapter.binary_sign`` orients it to the explained class).
    """
    base = np.asarray(base, dtype=float)
    if values.ndim == 3:
        k = adapter.class_index or 0
        return values[:, :, k], (base[..., k] if base.ndim else base)
    if binary_single and adapter.binary_sign < 0:
        return -values, -base
    if base.ndim and base.shape[-1] > 1 and adapter.task != "regression":
        base = base[..., adapter.class_index]
    return values, base


def row_seed(seed: int, position: int) -> int:
    """A per-row seed from (seed, row position): rows draw independently of how they are split up."""
    return int(np.random.SeedSequence([seed, position]).generate_state(1)[0])


def worker_count(requested: Any, n_rows: int, adapter: Adapter) -> int:
    """Worker processes for per-row methods: only adapters that declare themselves parallel-safe (a torch
    model stays in-process, on its device); -1 means every core; never more than one per two rows."""
    import os

    n = int(requested or 1)
    if n < 0:
        n = os.cpu_count() or 1
    if not adapter.capabilities.parallel_safe:
        return 1
    return max(1, min(n, n_rows // 2 or 1))


_CLUSTER: ContextVar[Any] = ContextVar("row_cluster", default=None)


@contextmanager
def row_cluster(client: Any) -> Iterator[None]:
    """While open, :func:`map_row_chunks` sends its chunks to ``client``'s Dask workers (a
    ``dask.distributed.Client``; None: local processes, as without it)."""
    token = _CLUSTER.set(client)
    try:
        yield
    finally:
        _CLUSTER.reset(token)


def map_row_chunks(fn: Callable[..., Any], adapter: Adapter, X: np.ndarray, n_jobs: Any, *args: Any) -> tuple[list, int]:
    """``fn(adapter, rows, offset, *args)`` over contiguous row chunks, in joblib worker processes when
    ``n_jobs`` allows, or on the Dask workers of an open :func:`row_cluster`; returns the per-chunk results in
    row order and the number of workers used. Model calls made in the workers are added to
    ``adapter.counter``."""
    jobs = worker_count(n_jobs, len(X), adapter)
    if jobs == 1:
        return [fn(adapter, X, 0, *args)], 1
    bounds = np.linspace(0, len(X), jobs + 1).astype(int)
    chunks = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    client = _CLUSTER.get()
    if client is not None:
        # Each task carries its own copy of the adapter and its rows: nothing lives on one worker only, so a
        # worker that dies loses only the task it ran, which the scheduler retries elsewhere or reports as
        # KilledWorker. (joblib's dask backend scatters large arguments to single workers; when that worker
        # died, the tasks needing the lost data never finished and the run hung.)
        import warnings

        with warnings.catch_warnings():  # the model in every task is deliberate; dask's size warning is noise
            warnings.filterwarnings("ignore", message="Sending large graph")
            futures = [client.submit(_counted, fn, adapter, X[a:b], a, *args, pure=False) for a, b in chunks]
        try:
            done = [f.result() for f in futures]
        finally:
            client.cancel(futures)
    else:
        from joblib import Parallel, delayed

        done = Parallel(n_jobs=jobs)(delayed(_counted)(fn, adapter, X[a:b], a, *args) for a, b in chunks)
    for _, calls, rows in done:
        adapter.counter.merge(calls, rows)
    return [out for out, _, _ in done], jobs


def _counted(fn: Callable[..., Any], adapter: Adapter, X: np.ndarray, offset: int, *args: Any) -> tuple[Any, int, int]:
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


@contextmanager
def library_quiet() -> Iterator[None]:
    """Around a library call: its warnings and its own progress output on stderr (shap's TreeSHAP extension
    prints a bar to ``sys.stderr`` after 10 s) are dropped, so the CLI shows one progress bar, ours."""
    import contextlib
    import io
    import warnings

    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
