"""Cost-aware model-agnostic SHAP: the choice fits the budget, is counted (never timed), is recorded, and is kept
for re-runs; a model that is slower on this machine gets exactly the same choice and values."""

from __future__ import annotations

import time

import numpy as np

from explainers.shap_explainer import Shap
from tests.adapters.test_toy_framework import CallableAdapter


def _slow(X):
    time.sleep(0.002 + 2e-5 * len(X))  # a per-call and a per-row cost, like a remote or heavy model
    return X[:, 0] - 2 * X[:, 1] + X[:, 2] * X[:, 3]


def test_a_tight_budget_gets_a_cheaper_setting_with_a_finding_and_the_estimate_recorded():
    """Fails if the budget is ignored or the choice is not recorded."""
    rng = np.random.default_rng(0)
    X, bg = rng.normal(size=(30, 8)), rng.normal(size=(60, 8))
    adapter = CallableAdapter(_slow, [f"x{i}" for i in range(8)])
    shap = Shap(budget_s=0.5)
    a = shap.explain(adapter, X, background=bg, seed=0)
    params = a.meta["parameters"]
    assert (a.meta["choice"], params["background_rows"]) != ("exact", 32)  # not the best setting: it did not fit
    assert params["budget_seconds"] == 0.5 and params["estimated_seconds"] > 0 and params["reference_rows_per_second"] > 0
    assert any("cheaper setting" in f or "over the" in f for f in a.meta["findings"])
    # the plan is kept: a re-run on other rows uses the same algorithm and budget (stability, sensitivity)
    again = shap.explain(adapter, X[:3], background=bg, seed=1)
    assert again.meta["choice"] == a.meta["choice"]
    assert again.meta["parameters"]["background_rows"] == params["background_rows"]


def test_a_fast_model_keeps_exact_shapley_values():
    rng = np.random.default_rng(1)
    X, bg = rng.normal(size=(5, 6)), rng.normal(size=(40, 6))
    adapter = CallableAdapter(lambda Z: Z @ np.arange(6.0), [f"x{i}" for i in range(6)])
    a = Shap().explain(adapter, X, background=bg, seed=0)
    assert a.meta["choice"] == "exact" and a.meta["parameters"]["background_rows"] == 32 and not a.meta["findings"]
    np.testing.assert_allclose(a.values, (X - bg[:32].mean(0)) * np.arange(6.0), atol=1e-9)


def test_the_choice_and_the_values_do_not_depend_on_how_fast_the_model_runs_here():
    """A model that sleeps on every call (a loaded machine) gets the same algorithm, budget and values as the
    same function without the sleep: the plan is counted, never timed (issue #23)."""
    rng = np.random.default_rng(2)
    X, bg = rng.normal(size=(6, 8)), rng.normal(size=(60, 8))

    def fast(Z):
        return Z[:, 0] - 2 * Z[:, 1] + Z[:, 2] * Z[:, 3]

    runs = [Shap(budget_s=0.5).explain(CallableAdapter(f, [f"x{i}" for i in range(8)]), X, background=bg, seed=0)
            for f in (fast, _slow)]
    keep = ("choice", "parameters", "findings")
    assert [{k: r.meta[k] for k in keep} for r in runs][0] == [{k: r.meta[k] for k in keep} for r in runs][1]
    np.testing.assert_array_equal(runs[0].values, runs[1].values)
