"""Cost-aware choice of a model-agnostic SHAP algorithm and its budget, counted, never timed.

Nothing here reads a clock: what an audit measures must be a function of the model, the data, the
configuration and the seed alone (DESIGN: determinism and measurement). The work is counted in model
evaluations (every coalition or permutation step evaluates the model on each background row):

- Exact: ``rows x 2**features x background`` model rows;
- Permutation: ``rows x max_evals x background`` model rows,

and converted to *reference seconds* with :func:`model_cost`, a static cost read from the fitted model's
structure (trees and their depths, support vectors, training rows of a neighbours model, weights of a
network, the pipeline's steps and its pandas decoding), at rates fixed in this module and calibrated
on the 2-core reference machine (bench/README.md). The same model costs the same on any machine
under any load; only the wall-clock time recorded in results.json differs.

Candidates are tried from best to cheapest quality, and the first whose estimate fits ``budget_s`` is
chosen. The cheapest is the documented minimum quality: when even it does not fit, it still runs and
the overrun is a finding; quality is never lowered further, silently or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Plan", "plan_agnostic", "ModelCost", "model_cost", "MINIMUM_BACKGROUND", "minimum_evals",
           "PERMUTATION_BATCH", "agnostic_seconds_per_row", "LIME_ROW_S"]

MINIMUM_BACKGROUND = 16
EXACT_MAX_FEATURES = 12


def minimum_evals(f: int) -> int:
    """The fewest Permutation evaluations per row allowed: ten per feature, and at least 100."""
    return max(100, 10 * f, 2 * f + 1)


@dataclass(frozen=True)
class Plan:
    algo: str  # "exact" | "permutation"
    background_rows: int
    max_evals: int  # 0 for exact
    model_rows: int
    estimated_seconds: float
    rows_per_second: float
    budget_seconds: float
    reason: str
    finding: str | None = None

    def record(self) -> dict[str, Any]:
        return {"budget_seconds": self.budget_seconds, "estimated_seconds": round(self.estimated_seconds, 3),
                "estimated_model_rows": self.model_rows, "reference_rows_per_second": round(self.rows_per_second, 1)}


# Reference rates (seconds on the 2-core reference machine), calibrated once (bench/README.md, "static cost").
CALL_S = 6e-4  # one predict call of a bare scikit-learn estimator
FRAME_CALL_S = 3e-4  # building the pandas frame a model with named columns receives, per call
FRAME_COLUMN_CALL_S = 5e-5  # ... and per column
FRAME_CELL_S = 2e-8  # ... and per cell
ROW_S = 5e-8  # the least any model row costs
NODE_S = 3.5e-9  # one tree node visited
MAC_S = 1e-9  # one multiply-add in a distance or a linear model
KERNEL_S = 3.5e-9  # one support-vector coordinate in a kernel evaluation
DENSE_S = 2e-10  # one weight of a dense network (BLAS)
UNKNOWN_ROW_S = 1e-6  # a model whose structure says nothing countable
PERMUTATION_BATCH = 10  # shap's Permutation explainer evaluates this many masks per model call
SHAP_ROW_S = 5e-3  # shap's own work per explained row (masks, permutations), besides the model
LIME_ROW_S = 1.2e-2  # lime's own work per explained row (discretiser, distances, ridge fit), besides the model


def agnostic_seconds_per_row(cost: ModelCost, algo: str, background: int, evals: int, n_features: int) -> float:
    """Reference seconds one row of model-agnostic SHAP costs (counted: calls and model rows).

    >>> agnostic_seconds_per_row(ModelCost(1e-3, 1e-6, ""), "permutation", 16, 100, 5)  # 5 ms + 10 calls + 1,600 rows
    0.0166
    """
    masks = 2 ** n_features if algo == "exact" else evals
    calls = -(-masks // PERMUTATION_BATCH) if algo != "kernel" else 1
    return round(SHAP_ROW_S + cost.seconds(calls, masks * background), 9)


@dataclass(frozen=True)
class ModelCost:
    """What one model call and one model row cost, in reference seconds, and what it was counted from."""

    call_seconds: float
    row_seconds: float
    basis: str

    def seconds(self, calls: float, rows: float) -> float:
        return calls * self.call_seconds + rows * self.row_seconds

    @property
    def rows_per_second(self) -> float:
        return 1.0 / self.row_seconds

    def record(self) -> dict[str, Any]:
        return {"call_seconds": self.call_seconds, "row_seconds": self.row_seconds, "basis": self.basis}


def _depth(tree: Any) -> float:
    """Nodes visited per row by one fitted tree (scikit-learn's ``tree_`` or a HistGradientBoosting predictor)."""
    if hasattr(tree, "max_depth") and isinstance(tree.max_depth, (int, np.integer)):
        return float(tree.max_depth)
    nodes = getattr(tree, "nodes", None)
    if nodes is not None and "depth" in (nodes.dtype.names or ()):
        return float(nodes["depth"].max())
    return 10.0


def _structure(obj: Any, depth: int = 0) -> tuple[float, float, list[str]]:
    """(seconds per row, extra seconds per call, what was counted) of a fitted estimator, from its structure."""
    if depth > 6:
        return UNKNOWN_ROW_S, 0.0, ["nested too deep: a default"]
    name = type(obj).__name__
    parts: list[tuple[float, float, list[str]]] = []
    steps = getattr(obj, "steps", None)
    if isinstance(steps, list):  # Pipeline
        parts = [_structure(s, depth + 1) for _, s in steps if not isinstance(s, str)]
    elif hasattr(obj, "transformers_"):  # ColumnTransformer
        parts = [_structure(t, depth + 1) for _, t, _ in obj.transformers_ if not isinstance(t, str)]
        parts.append((0.0, CALL_S * 0.5 * len(parts), []))
    elif hasattr(obj, "calibrated_classifiers_"):
        parts = [_structure(c.estimator, depth + 1) for c in obj.calibrated_classifiers_]
    elif hasattr(obj, "_predictors"):  # HistGradientBoosting
        nodes = sum(_depth(p) for it in obj._predictors for p in it)
        return nodes * NODE_S, 2 * CALL_S, [f"{name}: {nodes:.0f} tree nodes per row"]
    elif hasattr(obj, "tree_"):
        return _depth(obj.tree_) * NODE_S, 0.0, [f"{name}: depth {_depth(obj.tree_):.0f}"]
    elif hasattr(obj, "estimators_"):
        members = list(np.ravel(np.asarray(obj.estimators_, dtype=object)))
        parts = [_structure(e, depth + 1) for e in members if not isinstance(e, str)]
        if name.startswith(("RandomForest", "ExtraTrees")):  # joblib threads over the trees on every call
            parts.append((0.0, 4.5e-5 * len(members), []))
        if hasattr(obj, "final_estimator_"):
            parts.append(_structure(obj.final_estimator_, depth + 1))
    elif hasattr(obj, "_fit_X"):  # neighbours: a distance to every training row
        n = int(np.prod(np.shape(obj._fit_X)))
        return n * MAC_S, 0.0, [f"{name}: {n:,} training cells"]
    elif hasattr(obj, "support_vectors_"):
        n = int(np.size(obj.support_vectors_))
        return n * KERNEL_S, 0.0, [f"{name}: {n:,} support-vector cells"]
    elif hasattr(obj, "coefs_"):
        n = int(sum(np.size(c) for c in obj.coefs_))
        return n * DENSE_S, 0.0, [f"{name}: {n:,} weights"]
    elif hasattr(obj, "coef_"):
        n = int(np.size(obj.coef_))
        return n * MAC_S, 0.0, [f"{name}: {n} coefficients"]
    elif hasattr(obj, "categories_"):  # encoders
        n = int(sum(len(c) for c in obj.categories_))
        return n * MAC_S, 0.0, [f"{name}: {n} categories"]
    elif hasattr(obj, "n_features_in_"):  # scalers, imputers and other column-wise transformers
        return int(obj.n_features_in_) * MAC_S, 0.0, []
    elif hasattr(obj, "parameters"):  # a torch module
        try:
            n = int(sum(p.numel() for p in obj.parameters()))
            return n * DENSE_S * 5, 0.0, [f"{name}: {n:,} parameters"]
        except Exception:  # noqa: BLE001 - an odd module: the default below
            pass
    else:
        return UNKNOWN_ROW_S, 0.0, [f"{name}: structure not counted, a default per row"]
    row = sum(p[0] for p in parts)
    call = sum(p[1] for p in parts)
    return row, call, [w for p in parts for w in p[2]]


def model_cost(adapter: Any) -> ModelCost:
    """The static cost of calling ``adapter``'s model: deterministic, read from the fitted model.

    >>> from sklearn.linear_model import LogisticRegression
    >>> from audit.types import FeatureSpace
    >>> from audit.adapters import make_adapter
    >>> m = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], [0, 0, 1, 1])
    >>> c = model_cost(make_adapter(m, FeatureSpace(("a", "b"), as_frame=False), extra={}))
    >>> c.call_seconds, c.row_seconds, c.basis
    (0.0006, 5.2e-08, 'LogisticRegression: 2 coefficients')
    """
    row, call, words = _structure(getattr(adapter, "native", None))
    space = adapter.space
    call_s = CALL_S + call
    if space.as_frame or space.categories:
        f = len(space.names)
        call_s += FRAME_CALL_S + FRAME_COLUMN_CALL_S * f
        row += FRAME_CELL_S * f
    return ModelCost(round(call_s, 9), round(ROW_S + row, 12), "; ".join(words) or type(adapter.native).__name__)


def plan_agnostic(n_rows: int, n_features: int, n_background: int, rows_per_second: float, budget_s: float, *,
                  default_evals: int, allow_exact: bool = True,
                  pilot: Callable[[str, int, int], float] | None = None) -> Plan:
    """The best algorithm and budget whose estimated time fits ``budget_s``.

    Each candidate is estimated in model rows at ``rows_per_second`` (the model's static rate);
    ``pilot(algo, background, max_evals)``, when given, adds the counted per-row cost of the calls
    (seconds per row, also static), and the larger of the two estimates decides.

    >>> p = plan_agnostic(200, 9, 100, 1e9, 60, default_evals=500)
    >>> p.algo, p.background_rows
    ('exact', 32)
    >>> plan_agnostic(200, 9, 100, 3e4, 60, default_evals=500).background_rows  # exact, fewer background rows
    16
    >>> p = plan_agnostic(200, 9, 100, 1e4, 60, default_evals=500)
    >>> p.algo, p.background_rows, p.max_evals, p.finding is not None
    ('permutation', 16, 100, True)
    """
    f = n_features
    candidates: list[tuple[str, int, int]] = []
    if allow_exact and f <= EXACT_MAX_FEATURES:
        candidates += [("exact", min(32, n_background), 0), ("exact", min(MINIMUM_BACKGROUND, n_background), 0)]
    evals = max(default_evals, 2 * f + 1)
    candidates += [("permutation", n_background, evals), ("permutation", min(32, n_background), evals),
                   ("permutation", min(MINIMUM_BACKGROUND, n_background), evals),
                   ("permutation", min(MINIMUM_BACKGROUND, n_background), min(evals, minimum_evals(f)))]
    plans: list[Plan] = []
    for algo, bg, ev in dict.fromkeys(candidates):
        model_rows = n_rows * (2 ** f if algo == "exact" else ev) * bg
        estimate = model_rows / max(rows_per_second, 1e-9)
        if estimate <= budget_s and pilot is not None:
            estimate = max(estimate, n_rows * pilot(algo, bg, ev))
        plans.append(Plan(algo, bg, ev, model_rows, estimate, rows_per_second, budget_s, ""))
        if estimate <= budget_s:
            break
    chosen = plans[-1]
    what = (f"every coalition of {f} features with {chosen.background_rows} background rows" if chosen.algo == "exact"
            else f"antithetic permutations, {chosen.max_evals} evaluations per row, {chosen.background_rows} "
                 f"background rows")
    reason = (f"estimated {chosen.estimated_seconds:.1f} s for {n_rows} rows at {rows_per_second:,.0f} model rows/s "
              f"(budget {budget_s:g} s): {what}")
    finding = None
    if chosen.estimated_seconds > budget_s:
        finding = (f"model-agnostic SHAP is estimated at {chosen.estimated_seconds:.0f} s, over the "
                   f"{budget_s:g} s budget (explain_budget_s), even at the documented minimum quality "
                   f"({chosen.max_evals} evaluations per row, {chosen.background_rows} background rows); it ran at "
                   f"that minimum. Raise explain_budget_s, explain fewer rows, or use a faster model")
    elif len(plans) > 1:
        best = plans[0]
        finding = (f"the preferred SHAP setting ({best.algo}, {best.background_rows} background rows) was estimated at "
                   f"{best.estimated_seconds:.0f} s, over the {budget_s:g} s budget; a cheaper setting was used ({what})")
    return Plan(chosen.algo, chosen.background_rows, chosen.max_evals, chosen.model_rows, chosen.estimated_seconds,
                rows_per_second, budget_s, reason, finding)
