"""Per-row scores (``FaithfulnessContext.row_scores``) and the score of a subset of rows (``subset_score``), which
the explanation-parity check of fair lending compares across groups, and the records ``score`` hands on
(``MetricResult.to_json``, ``FaithfulnessScores.summary``). Expected values are recomputed here from the stated
formulas (issue #28: these were exercised only through the fair-lending tests)."""

from __future__ import annotations

import numpy as np
import pytest

from audit.faithfulness import metrics as M
from audit.faithfulness.scoring import (
    INFORMATIVE_FLOOR,
    METRICS,
    SCORE_RANGE,
    FaithfulnessContext,
    subset_score,
)

W = np.array([4.0, -3.0, 2.0, 1.0, -0.5, 0.25])


@pytest.fixture(scope="module")
def ctx():
    X = np.random.default_rng(3).normal(size=(24, 6))
    return FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=1, n_random=4, n_bootstrap=40,
                               oracle=X * W)


@pytest.fixture(scope="module")
def attribution(ctx):
    return np.random.default_rng(9).normal(size=ctx.X.shape) + 0.3 * ctx.X * W


def test_row_scores_average_to_each_metric_s_unclipped_score(ctx, attribution):
    rows = ctx.row_scores(attribution)
    s = ctx.score(attribution)
    assert list(rows) == list(METRICS)
    for name, values in rows.items():
        assert values.shape == (24,)
        assert float(values.mean()) == pytest.approx(s.metrics[name].raw_score, abs=1e-12), name
    assert not all(np.allclose(v, v[0]) for v in rows.values())  # per row, not one number repeated


def test_row_scores_of_an_uninformative_metric_are_nan(ctx, attribution, monkeypatch):
    monkeypatch.setitem(ctx.informative, "monotonicity", False)
    rows = ctx.row_scores(attribution)
    assert np.isnan(rows["monotonicity"]).all() and np.isfinite(rows["infidelity"]).all()
    monkeypatch.setitem(ctx.informative, "monotonicity", True)
    monkeypatch.setitem(ctx.gap, "monotonicity", 0.0)
    assert np.isnan(ctx.row_scores(attribution)["monotonicity"]).all()


def test_subset_score_is_the_mean_over_metrics_of_the_clipped_mean_over_the_rows():
    rows = {"a": np.array([0.5, 3.0, np.nan, 1.0]), "b": np.array([-4.0, -4.0, 0.2, 0.0]),
            "c": np.full(4, np.nan)}
    mask = np.array([True, True, True, False])
    a = min(np.mean([0.5, 3.0]), SCORE_RANGE[1])  # NaN rows are left out, the mean clipped at the top
    b = max(np.mean([-4.0, -4.0, 0.2]), SCORE_RANGE[0])  # and at the bottom
    assert subset_score(rows, mask) == pytest.approx((a + b) / 2)  # a metric with no value is left out
    assert subset_score(rows, np.array([False, False, False, True])) == pytest.approx(0.5)
    assert np.isnan(subset_score(rows, np.zeros(4, bool)))
    assert np.isnan(subset_score({"c": np.full(4, np.nan)}, mask))
    assert type(subset_score(rows, mask)) is float


def test_subset_scores_of_all_rows_equal_the_score_when_nothing_is_clipped(ctx, attribution):
    s = ctx.score(attribution)
    assert not s.clipped
    assert subset_score(ctx.row_scores(attribution), np.ones(24, bool)) == pytest.approx(s.score, abs=1e-12)


def test_the_records_handed_on_carry_every_documented_field(ctx, attribution):
    s = ctx.score(attribution)
    j = s.metrics["infidelity"].to_json()
    m = s.metrics["infidelity"]
    assert j == {"value": m.value, "ci95": list(m.ci), "random_control": m.control, "oracle": m.oracle,
                 "normalised_score": m.score, "normalised_score_ci95": list(m.score_ci),
                 "higher_is_better": False, "baseline": ctx.baseline.kind, "model_calls": m.calls,
                 "seconds": round(m.seconds, 4), "raw_normalised_score": m.raw_score, "clipped": m.clipped,
                 "informative": True, "in_score": True, "unit": 2.0, "reference_winners": dict(m.reference_winners)}
    assert s.summary() == {"uninformative_metrics": [], "clipped_metrics": [], "identity_with_reference": False,
                           "identity_share": s.identity_share, "identity_candidate": None,
                           "score_range": list(SCORE_RANGE), "informative_floor": INFORMATIVE_FLOOR,
                           "reference_kind": ctx.reference.kind}
    assert s.identity_share < 0.95
