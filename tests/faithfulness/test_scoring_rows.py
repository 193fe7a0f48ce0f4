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


# --- the context's own bookkeeping, types and boundaries ------------------------------------------------


def test_the_context_s_defaults_are_the_configuration_s():
    import inspect

    from audit.config import parse_config

    config, params = parse_config(""), inspect.signature(FaithfulnessContext).parameters
    assert (params["n_random"].default, params["n_bootstrap"].default) == (config.random_controls, config.bootstrap)


def test_the_context_counts_every_model_call_and_splits_them_between_probes_and_controls():
    import time

    X = np.random.default_rng(4).normal(size=(10, 6)).tolist()  # a list: the context makes it a float array
    made = []

    def predict(Z):
        made.append(len(Z))
        return np.asarray(Z) @ W

    t0 = time.perf_counter()
    c = FaithfulnessContext(predict, X, M.Baseline(np.zeros((1, 6))), seed=5, n_random=3, n_bootstrap=7,
                            oracle=(np.asarray(X) * W).tolist())
    elapsed = time.perf_counter() - t0
    assert c.X.dtype == float and (c.seed, c.n_bootstrap) == (5, 7) and c._boot.shape == (7, 10)
    assert c.calls() == len(made) and c.shared_calls + c.control_calls == len(made)
    assert c.shared_calls > 0 and c.control_calls > 0
    assert 0 <= c.shared_seconds <= elapsed and 0 <= c.control_seconds <= elapsed
    assert all(type(v) is float for v in c.units.values()) and all(type(v) is float for v in c.gap.values())
    assert all(type(v) is bool for v in c.informative.values())
    before = c.calls()
    c.score(np.asarray(X) * W)
    assert c.calls() - before == len(made) - before > 0


def test_every_number_a_score_hands_on_is_a_python_float(ctx, attribution):
    s = ctx.score(attribution.tolist(), base=np.zeros(24), output=ctx.full)
    for m in s.metrics.values():
        numbers = [m.value, *m.ci, m.control, m.oracle, m.unit, m.seconds]
        numbers += [m.score, *m.score_ci, m.raw_score] if m.score is not None else []
        assert all(type(v) is float for v in numbers), m.name
        assert type(m.calls) is int
    assert all(type(v) is float for v in (s.score, *s.score_ci, s.additivity_error, s.additivity_max, s.identity_share))
    assert s.extra == {}


def test_a_metric_result_without_reference_winners_records_none():
    from audit.faithfulness.scoring import MetricResult

    m = MetricResult("x", 1.0, (0.0, 2.0), 0.0, 1.0, None, None, True, "mean", 1, 0.0, None, False, False, True, 1.0)
    assert m.to_json()["reference_winners"] == {} and m.to_json()["normalised_score_ci95"] is None


def test_normalise_moves_toward_the_better_direction_and_holds_small_gaps_at_the_floor():
    from audit.faithfulness.scoring import _normalise

    m, r, o = np.array([0.5, 2.0, -3.0]), np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0])
    np.testing.assert_allclose(_normalise(m, r, o, True, 0.1), [0.5, SCORE_RANGE[1], SCORE_RANGE[0]])
    np.testing.assert_allclose(_normalise(-m, r, -o, False, 0.1), [0.5, SCORE_RANGE[1], SCORE_RANGE[0]])
    np.testing.assert_allclose(_normalise(np.array([0.01]), r[:1], np.array([0.001]), True, 0.1), [0.1])


def test_identity_at_exactly_95_percent_of_rows_counts():
    X = np.random.default_rng(6).normal(size=(20, 6))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=2, n_bootstrap=10,
                            oracle=X * W)
    A = X * W
    A[0] = A[0][::-1] + np.arange(6)  # one row of twenty ranked otherwise
    s = c.score(A)
    assert s.identity_share == 0.95 and s.identity_with_reference and s.identity_candidate == "oracle"


def test_stability_of_one_run_is_one_and_a_python_float():
    from audit.faithfulness.scoring import stability

    a = np.random.default_rng(0).normal(size=(4, 5))
    assert stability([a], 3) == 1.0
    assert type(stability([a, a[:, ::-1]], 3)) is float


def test_max_sensitivity_of_a_linear_explanation_is_computed_from_the_drawn_noise():
    """explain(x) = w * x: the change of the attribution is w * noise, so the value is the mean over rows of the
    largest ||w * noise|| / ||w * x|| over the perturbations, with categorical inputs never moved."""
    from audit.faithfulness.scoring import max_sensitivity

    w = np.array([2.0, -1.0, 0.5])
    X = np.random.default_rng(1).normal(size=(5, 3))
    categorical = np.array([False, True, False])
    scale = np.array([1.0, 3.0, 2.0])
    noise = np.random.default_rng(9).uniform(-0.05, 0.05, size=(4, 5, 3)) * scale
    noise[:, :, 1] = 0.0
    want = (np.linalg.norm(noise * w, axis=2) / np.linalg.norm(X * w, axis=1)).max(0).mean()
    got = max_sensitivity(lambda Z: Z * w, X, X * w, categorical, scale, rng=np.random.default_rng(9))
    assert got == pytest.approx(want, rel=1e-12) and type(got) is float
    zero = np.vstack([np.zeros(3), X[1:]])  # a row with no attribution adds 0, not a division by zero
    want0 = (np.linalg.norm(noise * w, axis=2)[:, 1:] / np.linalg.norm(zero[1:] * w, axis=1)).max(0)
    got0 = max_sensitivity(lambda Z: Z * w, zero, zero * w, categorical, scale, rng=np.random.default_rng(9))
    assert got0 == pytest.approx(np.r_[0.0, want0].mean(), rel=1e-12)
