"""Cost-aware model-agnostic SHAP: the choice fits the time budget, is recorded, and is kept for re-runs."""

from __future__ import annotations

import time

import numpy as np

from explainers.shap_explainer import Shap
from tests.adapters.test_toy_framework import CallableAdapter


def _slow(X):
    time.sleep(0.002 + 2e-5 * len(X))  # a per-call and a per-row cost, like a remote or heavy model
    return X[:, 0] - 2 * X[:, 1] + X[:, 2] * X[:, 3]


def test_a_slow_model_gets_a_cheaper_setting_with_a_finding_and_the_estimate_recorded():
    """Fails if the budget is ignored (Exact would take minutes here) or the choice is not recorded."""
    rng = np.random.default_rng(0)
    X, bg = rng.normal(size=(30, 8)), rng.normal(size=(60, 8))
    adapter = CallableAdapter(_slow, [f"x{i}" for i in range(8)])
    shap = Shap(budget_s=3.0)
    t0 = time.perf_counter()
    a = shap.explain(adapter, X, background=bg, seed=0)
    elapsed = time.perf_counter() - t0
    params = a.meta["parameters"]
    assert (a.meta["choice"], params["background_rows"]) != ("exact", 32)  # not the best setting: it did not fit
    assert params["budget_seconds"] == 3.0 and params["estimated_seconds"] > 0 and params["measured_rows_per_second"] > 0
    assert any("cheaper setting" in f or "over the" in f for f in a.meta["findings"])
    assert elapsed < 30  # Exact with 32 background rows: 30 x 256 x 32 rows at 50,000 rows/s, plus calls
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
