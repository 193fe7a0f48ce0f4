"""The audit's budget (``audit_budget_s``) for the work that grows with model calls per row: counted, never timed.

Model-agnostic explainers (LIME; SHAP's Permutation, Exact and Kernel) evaluate the model hundreds
of times per explained row, and the faithfulness measures re-run them: stability across seeds,
max-sensitivity (:data:`PERTURBATIONS` perturbed copies of each row) and the model-randomisation
check. On a slow model (an SVC or a KNN over thousands of training rows) that is minutes. Before any
row is explained, the whole of that work is *counted*: each explainer's model calls and model rows per
explained row (SHAP's automatic choice at its documented minimum quality), the controls and the recourse
search (:data:`OVERHEAD_MODEL_ROWS` model rows per explained row), converted to reference seconds by the
model's static cost (:func:`explainers.model_cost`, read from the fitted model's structure at
fixed rates). No clock is read, so the plan, and with it everything measured, is a function of the
model, the data, the configuration and the seed alone: the same on any machine under any load
(``audit_budget_s`` is in those reference seconds). Then:

- ``n_jobs = 0`` (the default) becomes every core when the estimate exceeds :data:`AUTO_PARALLEL_S`
  seconds and the model can be copied to worker processes (per-row seeds: the attributions do not
  change); the plan then assumes :data:`PLANNED_WORKERS` workers at :data:`PARALLEL_EFFICIENCY` of a
  linear speed-up each, whatever this machine's core count (``n_jobs = -1`` is planned the same way), so
  a 2-core CI runner and a 64-core workstation measure the same rows; only an explicit ``n_jobs = N``
  (configuration, not machine) plans with N;
- when the estimate still exceeds the budget, the row counts the user did not set (``rows``,
  ``stability_rows``, ``stability_seeds``, ``sensitivity_rows``, ``randomisation_rows``) are scaled
  down together, never below :data:`MINIMUMS` (the documented minimum quality). What was reduced, the
  estimate at the minimum when even that does not fit, and how to reproduce the run elsewhere is a
  finding; the bootstrap intervals widen with the fewer rows (the gate reads them with
  ``policy.decide_on = "interval"``);
- whatever the budget leaves over goes to model-agnostic SHAP's own choice (``explain_budget_s``,
  which may then pick a better algorithm than the minimum), unless ``explain_budget_s`` was set.

Counts set explicitly (audit.toml or the command line) are never changed. The plan is recorded in
results.json (``reproducibility.audit_plan``) next to the measured timings. ``time_limit_s``, when set,
is a wall-clock limit that is only reported when exceeded: it never changes what is measured.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import numpy as np

from audit.measures.reason_reference import Reference, draw_background
from audit.records import AuditPlanRecord
from explainers import model_cost

__all__ = ["AuditPlan", "plan_audit", "budgeted", "sample", "MINIMUMS", "OVERHEAD_MODEL_ROWS", "PARALLEL_EFFICIENCY", "AUTO_PARALLEL_S",
           "PLANNED_WORKERS"]

MINIMUMS = {"rows": 50, "stability_rows": 10, "stability_seeds": 3, "sensitivity_rows": 5, "randomisation_rows": 20}
PERTURBATIONS = 4  # max-sensitivity's perturbed copies per row (audit.faithfulness.scoring.max_sensitivity)
OVERHEAD_MODEL_ROWS = 1200  # per explained row: controls, faithfulness curves, recourse (measured on an SVC)
PARALLEL_EFFICIENCY = 0.7  # planned speed-up per worker process (measured 1.4x with 2 processes on 2 cores)
AUTO_PARALLEL_S = 30.0  # n_jobs = 0: worker processes only when the serial estimate is above this (their start costs seconds)
PLANNED_WORKERS = 2  # n_jobs = 0 or -1: the workers the plan assumes on every machine (the actual count is the cores)


@dataclasses.dataclass(frozen=True)
class AuditPlan:
    budget_seconds: float
    seconds_per_row: dict[str, float]  # each budgeted explainer's counted cost per explained row, serial
    rows_per_second: float  # the model's static rate (reference model rows per second)
    n_jobs: int  # the workers planned for (a function of the configuration, never of the machine)
    requested: dict[str, int]
    used: dict[str, int]
    estimated_seconds_requested: float  # wall-clock estimates (the planned parallel speed-up applied)
    estimated_seconds_used: float
    explain_budget_s: float | None  # what model-agnostic SHAP was given (None: unchanged)
    finding: str | None

    def record(self) -> AuditPlanRecord:
        return {"budget_seconds": self.budget_seconds, "n_jobs": self.n_jobs,
                "planned_parallel_speedup": round(_speedup(self.n_jobs), 2),
                "planned_seconds_per_row": {k: round(v, 5) for k, v in self.seconds_per_row.items()},
                "reference_rows_per_second": round(self.rows_per_second, 1),
                "requested": self.requested, "used": self.used, "reduced": self.used != self.requested,
                "estimated_seconds_requested": round(self.estimated_seconds_requested, 2),
                "estimated_seconds_used": round(self.estimated_seconds_used, 2),
                "explain_budget_s": self.explain_budget_s, "finding": self.finding}


def _speedup(jobs: int) -> float:
    return 1.0 if jobs <= 1 else PARALLEL_EFFICIENCY * jobs


def reruns(counts: dict[str, int], randomised: bool) -> int:
    """Rows one sampled explainer explains in all: the explained rows, the stability seeds after the
    first (which reuses the explained rows' attributions), the sensitivity copies and the randomised
    model's rows.

    >>> reruns({"rows": 200, "stability_rows": 20, "stability_seeds": 5, "sensitivity_rows": 10,
    ...         "randomisation_rows": 50}, True)
    370
    """
    rows = counts["rows"]
    return (rows + min(counts["stability_rows"], rows) * (counts["stability_seeds"] - 1)
            + min(counts["sensitivity_rows"], rows) * PERTURBATIONS
            + (min(counts["randomisation_rows"], rows) if randomised else 0))


def _jobs(config: Any, adapter: Any, serial_estimate: float) -> tuple[int, int]:
    """(planned, actual) worker processes: the plan's count depends on the configuration and the counted
    estimate alone; the actual one is this machine's cores where the configuration leaves it open."""
    if not adapter.capabilities.parallel_safe:
        return 1, 1
    if config.n_jobs > 0:
        return config.n_jobs, config.n_jobs
    if config.n_jobs == 0 and serial_estimate <= AUTO_PARALLEL_S:
        return 1, 1
    return PLANNED_WORKERS, os.cpu_count() or 1


def plan_audit(explainers: list[Any], adapter: Any, n_features: int, n_background: int, config: Any, *,
               n_available: int, randomised: bool) -> tuple[Any, AuditPlan | None]:
    """The configuration to run with (row counts, ``n_jobs``, SHAP's budget) and the plan; no plan when
    no selected explainer is budgeted (intrinsic, tree, linear and gradient methods are cheap)."""
    costs = {}
    for ex in explainers:
        c = ex.planned_seconds_per_row(adapter, n_features, n_background=n_background)
        if c is not None:
            costs[ex.name] = c
    if not costs:
        return config.model_copy(update={"n_jobs": max(config.n_jobs, 1) if config.n_jobs >= 0 else -1}), None
    rate = model_cost(adapter).rows_per_second

    def serial(counts: dict[str, int]) -> float:
        n = reruns(counts, randomised)
        return sum(costs.values()) * n + counts["rows"] * OVERHEAD_MODEL_ROWS / rate

    requested = {k: getattr(config, k) for k in MINIMUMS}
    requested["rows"] = min(requested["rows"], n_available)
    as_configured = serial(requested)
    jobs, workers = _jobs(config, adapter, as_configured)
    budget = config.audit_budget_s * _speedup(jobs)  # in serial seconds
    free = [k for k in MINIMUMS if k not in config.model_fields_set]

    def scaled(k: float) -> dict[str, int]:
        out = dict(requested)
        for key in free:
            floor = min(MINIMUMS[key], requested[key])
            out[key] = max(floor, math.ceil(requested[key] * k))
        return out

    used = requested
    if as_configured > budget:
        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if serial(scaled(mid)) <= budget else (lo, mid)
        used = scaled(lo)
    explain_budget = None
    if "shap" in costs and "explain_budget_s" not in config.model_fields_set:
        n = reruns(used, randomised)
        others = serial(used) - costs["shap"] * n
        share = (budget - others) * used["rows"] / n
        explain_budget = round(max(min(config.explain_budget_s, share), costs["shap"] * used["rows"] * 1.2), 2)
    plan = AuditPlan(config.audit_budget_s, costs, rate, jobs, requested, used, as_configured / _speedup(jobs),
                     serial(used) / _speedup(jobs), explain_budget, None)
    plan = dataclasses.replace(plan, finding=_finding(plan, free))
    update: dict[str, Any] = {**used, "n_jobs": workers}
    if explain_budget is not None:
        update["explain_budget_s"] = explain_budget
    return config.model_copy(update=update), plan


_LABELS = {"rows": "rows explained", "stability_rows": "stability rows", "stability_seeds": "stability seeds",
           "sensitivity_rows": "sensitivity rows", "randomisation_rows": "randomisation rows"}


def _finding(plan: AuditPlan, free: list[str]) -> str | None:
    """What the budget changed, in words, or None when nothing was."""
    if plan.used == plan.requested and plan.estimated_seconds_requested <= plan.budget_seconds:
        return None
    per_row = ", ".join(f"{k} {v:.3f} s" for k, v in plan.seconds_per_row.items())
    head = (f"budget: the model-agnostic explainers and their faithfulness re-runs were counted at "
            f"{plan.estimated_seconds_requested:.0f} reference seconds as configured (per explained row: {per_row}; "
            f"the model's static rate {plan.rows_per_second:,.0f} rows/s; planned for {plan.n_jobs} worker process(es)), over the "
            f"{plan.budget_seconds:g} s budget (audit_budget_s)")
    changed = [f"{_LABELS[k]} {plan.requested[k]} -> {plan.used[k]}" for k in MINIMUMS
               if plan.used[k] != plan.requested[k]]
    if not changed:
        return head + ("; every count was fixed (set explicitly, or by audit compare to the baseline's), so nothing "
                       "was reduced" if not free else "; the counts were already at the documented minimum") + "."
    at_floor = all(plan.used[k] <= MINIMUMS[k] for k in free)
    tail = (f" This is the documented minimum; it is still estimated at {plan.estimated_seconds_used:.0f} s."
            if at_floor and plan.estimated_seconds_used > plan.budget_seconds else "")
    options = ", ".join(f"{k} = {plan.used[k]}" for k in MINIMUMS if plan.used[k] != plan.requested[k])
    return (f"{head}; reduced to fit: {', '.join(changed)}. The confidence intervals are wider accordingly.{tail} "
            f"Raise audit_budget_s to explain more rows; to reproduce this run elsewhere set {options} in audit.toml.")


def sample(ds: Any, config: Any, reference: Reference | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The explained rows (indices) and the background rows (encoded), both drawn with the seed: the
    same rows whether ``rows`` was set or chosen by the budget. The background comes from the
    ``reference``'s rows (:mod:`audit.measures.reason_reference`; every row when None)."""
    rng = np.random.default_rng(config.seed)
    explain_rows = np.sort(rng.choice(ds.n_rows, size=min(config.rows, ds.n_rows), replace=False))
    return explain_rows, draw_background(reference or Reference("background", "background", None), ds.X,
                                         config.background, rng)


def budgeted(adapter: Any, ds: Any, config: Any, explainers: list[Any]) -> tuple[Any, AuditPlan | None]:
    """:func:`plan_audit` for an audit of ``ds`` by the selected ``explainers``, counted against the
    configured background size."""
    randomised = ds.target is not None and adapter.capabilities.randomisation is not None
    return plan_audit(explainers, adapter, ds.X.shape[1], min(config.background, ds.n_rows), config,
                      n_available=ds.n_rows, randomised=randomised)
