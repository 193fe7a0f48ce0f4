"""Cost-aware choice of a model-agnostic SHAP algorithm and its budget.

Before an expensive algorithm runs, a batch of model calls is timed and the run is estimated in
model rows (every coalition or permutation step evaluates the model on each background row):

- Exact: ``rows x 2**features x background`` model rows;
- Permutation: ``rows x max_evals x background`` model rows.

Candidates are tried from best to cheapest quality; one that fits on that count is then timed on two
rows (which also counts per-call overhead), and the first whose estimate still fits ``budget_s`` is
chosen. The cheapest is the documented minimum quality (:data:`MINIMUM`): when even it does not fit,
it still runs and the overrun is a finding; quality is never lowered further, silently or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Plan", "plan_agnostic", "measure_throughput", "MINIMUM_BACKGROUND", "minimum_evals"]

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
                "estimated_model_rows": self.model_rows, "measured_rows_per_second": round(self.rows_per_second, 1)}


def measure_throughput(predict: Any, background: np.ndarray, batch: int = 2048) -> float:
    """Model rows per second on a batch the size explainers use (best of two timed calls)."""
    reps = max(1, -(-batch // max(len(background), 1)))
    Z = np.tile(background, (reps, 1))[:batch]
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        predict(Z)
        best = min(best, time.perf_counter() - t0)
    return len(Z) / max(best, 1e-9)


def plan_agnostic(n_rows: int, n_features: int, n_background: int, rows_per_second: float, budget_s: float, *,
                  default_evals: int, allow_exact: bool = True,
                  pilot: Callable[[str, int, int], float] | None = None) -> Plan:
    """The best algorithm and budget whose estimated time fits ``budget_s``.

    Each candidate is first estimated in model rows at the measured rate; ``pilot(algo, background,
    max_evals)``, when given, then times the candidate on a couple of rows (seconds per row), which also
    counts per-call overhead, and the larger of the two estimates decides.

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
