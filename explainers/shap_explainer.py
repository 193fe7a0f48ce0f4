"""SHAP, with the algorithm chosen for the model and recorded with its parameters.

Tree models get TreeExplainer (interventional over the background, or path-dependent), except
HistGradientBoosting, whose exact TreeSHAP (either mode) is computed natively from its own predictors
(categorical splits and missing values included, ``explainers._hgb_trees``); linear models
LinearExplainer; PyTorch models DeepExplainer where every layer has a DeepLIFT rule (its additivity
is measured, and GradientExplainer takes over when it fails) and GradientExplainer otherwise; anything
else Exact (12 features or fewer) or Permutation; Kernel on request. A failing
algorithm falls back to Permutation with a finding. shap's own additivity check is switched off and
additivity is *measured* by the faithfulness box instead, so an additivity failure is a reported
finding, never an aborted audit.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import Field

from audit.types import Attribution
from explainers._base import (
    ExplainerBase,
    ExplainerParams,
    is_tree_model,
    library_quiet,
    linear_final_estimator,
    map_row_chunks,
    row_seed,
    seeded_global_numpy,
    select_class,
)
from explainers._budget import (
    MINIMUM_BACKGROUND,
    Plan,
    agnostic_seconds_per_row,
    minimum_evals,
    model_cost,
    plan_agnostic,
)
from explainers._hgb_trees import hist_supported
from explainers._shap_torch import DEEP_TOLERANCE, deep_rule_gaps, shap_deep, shap_gradient

__all__ = ["Shap", "choose_algorithm", "decision_rows", "TREE_DECISION_ROWS"]

EXACT_MAX_FEATURES = 12
_BOOSTERS = ("xgboost", "lightgbm", "catboost")
CLASS_NAMES = {"tree": "TreeExplainer", "linear": "LinearExplainer", "deep": "DeepExplainer",
               "gradient": "GradientExplainer", "exact": "ExactExplainer", "permutation": "PermutationExplainer",
               "kernel": "KernelExplainer"}


class _NotAdditive(Exception):
    def __init__(self, error: float) -> None:
        super().__init__(f"additivity error {error:.2e}")
        self.error = error


# What each algorithm needs of the adapter (consulted before choosing), and what to say when it is missing.
_NEEDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "tree": (lambda a: is_tree_model(a, include_hist=True), "a tree ensemble whose trees are visible"),
    "linear": (lambda a: linear_final_estimator(a) is not None, "a visible linear final estimator"),
    "deep": (lambda a: a.capabilities.differentiable and a.capabilities.module_hooks,
             "a differentiable model that takes module hooks (not TorchScript)"),
    "gradient": (lambda a: a.capabilities.differentiable, "a differentiable model"),
    "exact": (lambda a: True, ""), "permutation": (lambda a: True, ""), "kernel": (lambda a: True, ""),
}


def choose_algorithm(adapter: Any, requested: str = "auto") -> tuple[str, str]:
    """The SHAP algorithm for this model and why: tree, linear, deep or gradient (differentiable
    models), exact (<= 12 features) or permutation. A requested algorithm the model cannot take is
    replaced by the automatic choice, and the reason says so."""
    if requested != "auto":
        supported, need = _NEEDS[requested]
        if supported(adapter):
            return requested, "requested in the configuration"
        algo, why = choose_algorithm(adapter)
        return algo, f"{CLASS_NAMES[requested]} was requested but needs {need}; {why}"
    if adapter.capabilities.differentiable:
        gaps = deep_rule_gaps(adapter)
        if not gaps:
            return "deep", "every layer has a DeepLIFT rule: DeepExplainer, additivity measured"
        return "gradient", f"no DeepLIFT rule for {', '.join(gaps)}: GradientExplainer (expected gradients)"
    if is_tree_model(adapter, include_hist=True):
        return "tree", "tree ensemble: TreeExplainer computes exact Shapley values in polynomial time"
    if linear_final_estimator(adapter) is not None:
        return "linear", "linear model: LinearExplainer is exact for the margin"
    if len(adapter.feature_names) <= EXACT_MAX_FEATURES:
        return "exact", f"{len(adapter.feature_names)} features (<= {EXACT_MAX_FEATURES}): every coalition evaluated"
    return "permutation", f"{len(adapter.feature_names)} features: antithetic permutation sampling"


class Shap(ExplainerBase):
    """Shapley-value attributions through the ``shap`` package."""

    name = "shap"
    kind = "approximate"

    class Params(ExplainerParams):
        algorithm: Literal["auto", "tree", "linear", "deep", "gradient", "exact", "permutation", "kernel"] = "auto"
        tree_mode: Literal["auto", "interventional", "tree_path_dependent"] = "auto"
        gradient_samples: int = Field(200, ge=10, description="samples per row for GradientExplainer")
        kernel_nsamples: int | None = Field(None, ge=10, description="KernelExplainer nsamples (default 2f+2048, at most 4096)")
        permutation_max_evals: int | None = Field(None, ge=10, description="PermutationExplainer max_evals (default max(500, 2f+1))")
        n_jobs: int = Field(1, ge=-1, description="worker processes (parallel-safe models); -1: all cores")
        budget_s: float = Field(60.0, gt=0, description="time budget for model-agnostic SHAP (auto choice)")

    config_keys = {"shap_algorithm": "algorithm", "shap_tree_mode": "tree_mode",
                   "shap_gradient_samples": "gradient_samples", "n_jobs": "n_jobs", "explain_budget_s": "budget_s"}

    def supports(self, adapter: Any) -> bool:
        return True  # the model-agnostic algorithms need only predict

    def planned_seconds_per_row(self, adapter: Any, n_features: int, *, n_background: int) -> float | None:
        """For the model-agnostic algorithms only: the configured one, or for the automatic choice its
        documented minimum quality (Permutation, :func:`minimum_evals`, 16 background rows), which the
        audit's budget may then raise (``explain_budget_s``). Counted, never timed."""
        algo, _ = choose_algorithm(adapter, self.params.algorithm)
        if algo not in ("exact", "permutation", "kernel"):
            return None
        cost, f = model_cost(adapter), n_features
        if self.params.algorithm == "auto":
            return agnostic_seconds_per_row(cost, "permutation", min(MINIMUM_BACKGROUND, n_background),
                                            minimum_evals(f), f)
        if algo == "kernel":
            evals, bg = int(self.params.kernel_nsamples or min(2 * f + 2048, 4096)), min(n_background, 100)
        elif algo == "exact":
            evals, bg = 2 ** f, min(32, n_background)
        else:
            evals, bg = int(self.params.permutation_max_evals or max(500, 2 * f + 1)), n_background
        return agnostic_seconds_per_row(cost, algo, bg, evals, f)

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        algo, why = choose_algorithm(adapter, self.params.algorithm)
        findings: list[str] = []
        t0 = time.perf_counter()
        if self.params.algorithm == "auto" and algo in ("exact", "permutation"):
            plan = self._plan(adapter, X, background)
            algo, why = plan.algo, f"no tree, linear or gradient structure visible: {plan.reason}"
            findings += [plan.finding] if plan.finding else []
        result = None
        while result is None:
            try:
                result = self._run(algo, adapter, X, background, seed)
            except _NotAdditive as exc:
                findings.append(f"DeepExplainer is not additive on this model (max error {exc.error:.2e} of the "
                                f"margin's spread: some forward() operation has no DeepLIFT rule); "
                                f"fell back to GradientExplainer")
                algo, why = "gradient", "fallback after DeepExplainer failed its additivity check"
            except Exception as exc:  # noqa: BLE001 - recorded, then the next algorithm down
                if algo in ("exact", "permutation", "kernel"):
                    raise
                nxt = "gradient" if algo == "deep" else "permutation"
                message = str(exc).split(". ")[0][:200]
                findings.append(f"{CLASS_NAMES[algo]} failed ({type(exc).__name__}: {message}); "
                                f"fell back to {CLASS_NAMES[nxt]}")
                algo, why = nxt, f"fallback after {CLASS_NAMES[algo]} failure"
        values, base, space, params, additive = result
        if "finding" in params:
            params = dict(params)
            findings.append(params.pop("finding"))
        if self._planned is not None and algo in ("exact", "permutation"):
            params = {**params, **self._planned.record()}
        meta = {"algorithm": f"shap.{CLASS_NAMES[algo]}", "choice": algo, "reason": why, "parameters": params,
                "findings": findings, "sampled": algo in ("gradient", "permutation", "kernel"),
                "explain_seconds": time.perf_counter() - t0}
        if algo in ("tree", "linear", "deep", "gradient"):
            values = adapter.transform_map.to_raw(values)
        return self.attribution(adapter, values, base, output_space=space, additive=additive, meta=meta)

    def _run(self, algo: str, adapter: Any, X: np.ndarray, background: np.ndarray, seed: int) -> tuple:
        """(values, base values, output space, parameters, additive) for one algorithm."""
        n = len(X)
        if algo == "deep":
            values, base, params, error = shap_deep(adapter, X, background)
            if error > DEEP_TOLERANCE:
                raise _NotAdditive(error)
            return values, np.full(n, base), "margin", {**params, "additivity_error": error}, True
        if algo == "gradient":
            values, base, params = shap_gradient(adapter, X, background, seed, self.params.gradient_samples)
            # Expected gradients add up to f(x) - E[f(background)] only in expectation over the samples.
            return values, np.full(n, base), "margin", params, False
        if algo == "tree":
            return (*self._tree(adapter, X, background, seed), True)
        if algo == "linear":
            return (*self._linear(adapter, X, background), True)
        return (*self._agnostic(algo, adapter, X, background, seed), True)

    _planned: Plan | None = None
    _tree_decided: tuple[str, str | None] | None = None  # the automatic tree mode and its finding, once a miss is found

    def _plan(self, adapter: Any, X: np.ndarray, background: np.ndarray) -> Plan:
        """The cost-aware choice, made on the first call and kept, so that re-runs of this explainer
        (stability, sensitivity, randomisation) use the same algorithm and budget."""
        if self._planned is None:
            cost = model_cost(adapter)
            rate = cost.rows_per_second

            def pilot(algo: str, bg: int, evals: int) -> float:
                return agnostic_seconds_per_row(cost, algo, bg, evals, X.shape[1])

            self._planned = plan_agnostic(len(X), X.shape[1], len(background), rate, self.params.budget_s,
                                          default_evals=self.params.permutation_max_evals or 500, pilot=pilot)
        return self._planned

    # -- algorithms ---------------------------------------------------------------------------
    def _tree(self, adapter: Any, X: np.ndarray, background: np.ndarray, seed: int = 0) -> tuple:
        if not adapter.capabilities.in_space:  # a natively loaded booster (a TreeAdapter)
            from explainers._native_trees import native_tree_shap

            return native_tree_shap(adapter, X, background, self.params.tree_mode)
        final = adapter.final_estimator
        if hist_supported(final):
            return _hist_tree(final, adapter, X, background, self.params.tree_mode)
        import shap

        Z, Zb = adapter.transform(X), adapter.transform(background)
        # Boosted classifiers are explained in log-odds; forests, trees and regressors in their output.
        # (XGBoost/LightGBM/CatBoost scikit-learn wrappers have no decision_function but are explained in log-odds too)
        boosted = hasattr(final, "decision_function") or type(final).__module__.split(".")[0] in _BOOSTERS
        space = "margin" if adapter.task != "regression" and boosted else "score"
        mode = "interventional" if self.params.tree_mode == "auto" else self.params.tree_mode
        both = np.vstack([X, background])
        out = adapter.margin(both) if space == "margin" else adapter.predict(both)
        auto = self.params.tree_mode == "auto" and out is not None  # no margin output: additivity not measurable here
        finding = None
        if auto and self._tree_decided is not None:  # a miss was found earlier: re-runs and chunks keep that choice
            (mode, finding), auto = self._tree_decided, False
        if auto:
            values, base, mode, finding = _tree_auto(shap, final, Z, Zb, out, adapter, seed)
            self._tree_decided = (mode, finding) if finding is not None else None
        else:
            values, base = _tree_shap(shap, final, Z, Zb, mode, adapter)
        params: dict[str, Any] = {"feature_perturbation": mode, "model_output": "raw",
                                  "background_rows": int(len(Zb)) if mode == "interventional" else 0}
        if finding is not None:
            params["finding"] = finding
        return values, np.broadcast_to(base, (len(X),)), space, params

    def _linear(self, adapter: Any, X: np.ndarray, background: np.ndarray) -> tuple:
        import shap

        final = linear_final_estimator(adapter)
        Z, Zb = adapter.transform(X), adapter.transform(background)
        explainer = shap.LinearExplainer(final, shap.maskers.Independent(Zb, max_samples=len(Zb)))
        raw = np.asarray(explainer.shap_values(Z), dtype=float)
        values, base = select_class(raw, explainer.expected_value, adapter, binary_single=raw.ndim == 2)
        space = "score" if adapter.task == "regression" else "margin"
        return values, np.broadcast_to(base, (len(X),)), space, {"masker": "Independent", "background_rows": len(Zb)}

    def _agnostic(self, algo: str, adapter: Any, X: np.ndarray, background: np.ndarray, seed: int) -> tuple:
        f = X.shape[1]
        if algo == "kernel":
            bg = self._kernel_background(adapter, background, seed)
            budget = int(self.params.kernel_nsamples or min(2 * f + 2048, 4096))
            params = {"nsamples": budget, "background": "k-means summary" if not adapter.space.categories
                      else "random sample (categorical codes cannot be averaged)", "background_rows": int(len(bg))}
        elif algo == "exact":
            keep = self._planned.background_rows if self._planned else 32
            bg, budget = background[: min(len(background), keep)], 0
            params = {"background_rows": int(len(bg)), "coalitions": 2 ** f}
        else:
            bg = background[: self._planned.background_rows] if self._planned else background
            budget = int(self._planned.max_evals if self._planned else
                         (self.params.permutation_max_evals or max(500, 2 * f + 1)))
            params = {"max_evals": budget, "background_rows": int(len(bg)), "seed": seed}
        parts, jobs = map_row_chunks(_agnostic_rows, adapter, X, self.params.n_jobs, algo, bg, seed, budget)
        if algo != "exact":
            params["per_row_seed"] = "(seed, row position)"
        params["n_jobs"] = jobs
        values = np.vstack([p[0] for p in parts])
        base = np.concatenate([p[1] for p in parts])
        return values, base, "score", params

    @staticmethod
    def _kernel_background(adapter: Any, background: np.ndarray, seed: int) -> np.ndarray:
        import shap

        k = min(20, len(background))
        if adapter.space.categories or np.isnan(background).any():
            rng = np.random.default_rng(seed)
            return background[rng.choice(len(background), k, replace=False)]
        return shap.kmeans(background, k).data


def _hist_tree(final: Any, adapter: Any, X: np.ndarray, background: np.ndarray, mode: str) -> tuple:
    """HistGradientBoosting: exact TreeSHAP read from the estimator's own predictors (``explainers._hgb_trees``),
    which follows its categorical bitset splits and missing-value sides and so adds up to the raw output on
    every row: interventional over the background (``"auto"``, ``"interventional"``; no additivity fallback is
    needed) or path-dependent when requested."""
    from explainers._hgb_trees import (
        hist_forest,
        interventional_shap,
        output_column,
        path_dependent_shap,
        predictor_matrix,
    )

    column, sign = output_column(final, adapter)
    forest = hist_forest(final, column)
    space = "margin" if adapter.task != "regression" else "score"
    params: dict[str, Any] = {"model_output": "raw",
                              "implementation": "native HistGradientBoosting TreeSHAP (exact, explainers._hgb_trees)"}
    if mode == "tree_path_dependent":
        values, base = path_dependent_shap(forest, predictor_matrix(adapter, X))
        params.update(feature_perturbation=mode, background_rows=0)
    else:
        values, base = interventional_shap(forest, predictor_matrix(adapter, X), predictor_matrix(adapter, background))
        params.update(feature_perturbation="interventional", background_rows=int(len(background)))
    return sign * values, np.full(len(X), sign * base), space, params


TREE_TOLERANCE = 1e-4  # max additivity error of TreeSHAP, over the output's spread, before the fallback


def _tree_shap(shap: Any, final: Any, Z: np.ndarray, Zb: np.ndarray, mode: str, adapter: Any) -> tuple:
    """shap.TreeExplainer values and base for the explained class, raw output, additivity not enforced."""
    if mode == "interventional":
        explainer = shap.TreeExplainer(final, data=Zb, feature_perturbation="interventional", model_output="raw")
    else:
        explainer = shap.TreeExplainer(final, feature_perturbation="tree_path_dependent", model_output="raw")
    with library_quiet():
        raw = np.asarray(explainer.shap_values(Z, check_additivity=False), dtype=float)
    return select_class(raw, explainer.expected_value, adapter, binary_single=raw.ndim == 2)


TREE_DECISION_ROWS = 256  # rows of the seeded sample the automatic tree mode is decided on


def decision_rows(n: int, seed: int) -> np.ndarray:
    """The rows (sorted indices) the automatic tree mode is decided on: a uniform sample without replacement of
    at most TREE_DECISION_ROWS of the ``n`` rows, drawn by ``numpy.random.default_rng(seed)``.

    >>> decision_rows(3, seed=0).tolist()
    [0, 1, 2]
    """
    return np.sort(np.random.default_rng(seed).choice(n, size=min(n, TREE_DECISION_ROWS), replace=False))


def _tree_auto(shap: Any, final: Any, Z: np.ndarray, Zb: np.ndarray, out: np.ndarray, adapter: Any,
               seed: int) -> tuple:
    """(values, base, mode, finding): the mode is decided once, on the seeded sample :func:`decision_rows`.
    Interventional TreeSHAP is checked for additivity there against the model's output ``out`` (rows, then
    background); when it misses by more than TREE_TOLERANCE of the output's spread (shap reads some trees'
    thresholds in float32; HistGradientBoosting, where that was seen, now takes ``_hist_tree``) and
    path-dependent TreeSHAP adds up better on the same rows, path-dependent explains every row; otherwise
    interventional does. Each row's TreeSHAP values depend on that row alone, so the sample's values are kept
    and only the other rows are explained: no row is explained twice by the chosen mode. Additivity is then
    measured on every row; a miss outside the sample is a finding and the mode stays."""
    n, spread = len(Z), float(np.std(out)) or 1.0

    def gap(values: np.ndarray, base: Any, rows: np.ndarray) -> float:
        return float(np.abs(values.sum(1) + np.broadcast_to(base, (len(rows),)) - out[rows]).max() / spread)

    pick = decision_rows(n, seed)
    rest = np.setdiff1d(np.arange(n), pick)
    mode, finding = "interventional", None
    sample = _tree_shap(shap, final, Z[pick], Zb, mode, adapter)
    error = gap(*sample, pick)
    if error > TREE_TOLERANCE:
        alt = _tree_shap(shap, final, Z[pick], Zb, "tree_path_dependent", adapter)
        alt_error = gap(*alt, pick)
        finding = _tree_finding(error, alt_error, len(pick), n)
        if alt_error < error:
            mode, sample = "tree_path_dependent", alt
    values, base = _combine(sample, pick, _tree_shap(shap, final, Z[rest], Zb, mode, adapter) if len(rest) else None,
                            rest, n)
    if finding is None and len(rest) and gap(values[rest], base[rest], rest) > TREE_TOLERANCE:
        finding = (f"interventional TreeSHAP misses additivity on rows outside the {len(pick)} rows the tree mode was "
                   f"decided on (max error {gap(values[rest], base[rest], rest):.2e} of the output's spread); the "
                   "interventional values are kept and the audit measures their additivity")
    return values, base, mode, finding


def _combine(first: tuple, rows: np.ndarray, second: tuple | None, other: np.ndarray, n: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Two (values, base) parts put back in row order."""
    values = np.empty((n, first[0].shape[1]))
    base = np.empty(n)
    for part, idx in ((first, rows), (second, other)):
        if part is not None:
            values[idx] = part[0]
            base[idx] = np.broadcast_to(part[1], (len(idx),))
    return values, base


def _tree_finding(error: float, alt_error: float, m: int, n: int) -> str:
    where = f"measured on a seeded sample of {m} of {n} rows" if m < n else f"measured on all {n} rows"
    return (f"interventional TreeSHAP misses additivity on this model (max error {error:.2e} of the output's "
            f"spread, {where}; shap reads some trees' thresholds in float32, which misroutes rows near a split); "
            + (f"path-dependent TreeSHAP was used instead (max error {alt_error:.2e}), which follows the "
               f"trees' training distribution rather than the background" if alt_error < error
               else f"path-dependent TreeSHAP was no better ({alt_error:.2e}); the interventional values are kept"))


@functools.cache
def _cache_masker_jit() -> None:
    """shap's tabular masker compiles two numba functions on its first call in every process (about 4 s of
    the 8 s a fresh process spends before its first Permutation row, and again in each worker process);
    their compiled code does not depend on the model, so it is cached on disk once (numba's own cache,
    ``cache=True``, which shap does not set). The functions that take shap's link function as an argument
    are left alone: numba cannot key their cache across processes. Any failure leaves shap as it is."""
    try:
        from numba.core.registry import CPUDispatcher
        from shap.maskers import _tabular

        for fn in (getattr(_tabular, "_delta_masking", None), getattr(_tabular, "_single_delta_mask", None)):
            if isinstance(fn, CPUDispatcher) and not fn.signatures:
                fn.enable_caching()
    except Exception:  # noqa: BLE001, S110 - an optimisation only: shap then compiles as it always did
        pass


def _agnostic_rows(adapter: Any, X: np.ndarray, offset: int, algo: str, background: np.ndarray, seed: int,
                   budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact, Permutation or Kernel SHAP for rows at positions ``offset``...; the sampled algorithms
    seed each row from (seed, position), so splitting rows between processes changes nothing."""
    import shap

    _cache_masker_jit()
    values, base = np.zeros(X.shape), np.zeros(len(X))
    masker = shap.maskers.Independent(background, max_samples=len(background))
    with warnings.catch_warnings(), seeded_global_numpy(seed):
        warnings.simplefilter("ignore")
        if algo == "exact":  # deterministic: every coalition
            out = shap.explainers.Exact(adapter.predict, masker)(X, silent=True)
            return np.asarray(out.values, dtype=float), np.asarray(out.base_values, dtype=float).reshape(len(X))
        kernel = shap.KernelExplainer(adapter.predict, background, silent=True) if algo == "kernel" else None
        for i in range(len(X)):
            s = row_seed(seed, offset + i)
            if kernel is not None:
                np.random.seed(s)
                values[i] = np.asarray(kernel.shap_values(X[i : i + 1], nsamples=budget, silent=True),
                                       dtype=float).reshape(-1)
                base[i] = float(np.asarray(kernel.expected_value).reshape(-1)[0])
            else:
                out = shap.explainers.Permutation(adapter.predict, masker, seed=s)(X[i : i + 1], max_evals=budget,
                                                                                   silent=True)
                values[i] = np.asarray(out.values, dtype=float).reshape(-1)
                base[i] = float(np.asarray(out.base_values, dtype=float).reshape(-1)[0])
    return values, base

