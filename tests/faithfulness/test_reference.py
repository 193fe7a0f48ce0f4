"""The explainer-independent reference and the sign-aware metrics, checked exactly."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from audit.faithfulness import Baseline
from audit.faithfulness import metrics as M
from audit.faithfulness import reference as R


def test_greedy_deletion_removes_the_largest_contribution_first_in_batched_steps():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 7))
    w = rng.standard_normal(7)
    calls = []

    def predict(Z):
        calls.append(len(Z))
        return Z @ w

    order = R.greedy_deletion_order(predict, X, Baseline(np.zeros((1, 7))))
    np.testing.assert_array_equal(order, np.argsort(-(X * w), axis=1, kind="stable"))
    assert calls == [300 * k for k in range(7, 1, -1)]  # one call per step over all rows, none for the last


def test_greedy_beats_a_single_feature_ordering_on_an_interaction():
    # f = x0 * x1 + 0.9 x2 at x = (1, 1, 1): alone, x0 and x1 each matter most (1 > 0.9), so occlusion
    # removes x0 then x1; but once x0 is gone x1 no longer matters, and greedy removes x2 second
    X = np.ones((1, 3))
    predict = lambda Z: Z[:, 0] * Z[:, 1] + 0.9 * Z[:, 2]  # noqa: E731
    b = Baseline(np.zeros((1, 3)))
    order = R.greedy_deletion_order(predict, X, b)
    assert order.tolist() == [[0, 2, 1]]
    ranks = np.empty((1, 3))
    ranks[0, order[0]] = [3, 2, 1]
    curve_greedy = M.ablation_curves(predict, X, ranks, b)[0]
    effects = M.single_feature_effects(predict, X, b, predict(X))
    curve_occl = M.ablation_curves(predict, X, effects, b)[0]
    np.testing.assert_allclose(curve_greedy[0], [1.9, 0.9, 0.0, 0.0])
    np.testing.assert_allclose(curve_occl[0], [1.9, 0.9, 0.9, 0.0])


def test_least_squares_recovers_an_additive_model_exactly():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 12))
    predict = lambda Z: np.sin(Z[:, 0]) + Z[:, 1] ** 3 - 2 * Z[:, 5]  # noqa: E731
    b = Baseline(np.zeros((1, 12)))
    ref = R.build_reference(predict, X, b, np.zeros_like(X), rng=rng, full=predict(X))
    truth = np.zeros_like(X)
    truth[:, 0], truth[:, 1], truth[:, 5] = np.sin(X[:, 0]), X[:, 1] ** 3, -2 * X[:, 5]
    np.testing.assert_allclose(ref.candidates["least_squares"], truth, atol=1e-6)
    assert ref.model_calls == 11 + 1  # greedy steps + one fit call


def test_identity_share_compares_rankings_row_by_row():
    a = np.array([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    ref = np.array([[0.3, 0.2, 0.1], [0.3, 0.2, 0.1], [0.0, 1e-12, 5.0]])
    assert R.identity_share(a, ref) == 2 / 3  # scale does not matter, order does; tiny gaps count as ties
    assert R.identity_share(-a, ref) == 1 / 3


def test_infidelity_has_a_non_negative_scale():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 8))
    w = np.array([3, -2, 1, 0, 0, 0, 0, 0.0])
    probe = M.subset_probe(lambda Z: Z @ w, X, Baseline(np.zeros((1, 8))), rng=rng)
    truth = X * w
    np.testing.assert_allclose(M.infidelity(truth, probe), 0.0, atol=1e-12)
    np.testing.assert_allclose(M.infidelity(7.5 * truth, probe), 0.0, atol=1e-12)  # units do not matter
    np.testing.assert_allclose(M.infidelity(-truth, probe), 4.0, atol=1e-12)  # ... but the sign does
    assert abs(M.infidelity(rng.standard_normal(X.shape), probe).mean() - 2.0) < 0.2


def test_monotonicity_abs_is_quantus_monotonicity_correlation_and_the_signed_one_is_sign_aware():
    """Quantus ``MonotonicityCorrelation(abs=True)`` per row: Spearman between |a_j| and the mean squared
    change of the prediction when feature j alone is replaced by the baseline, divided by f(x)^2 (a
    per-row constant). One feature per step, a fixed baseline, so its sampling loop is deterministic."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 6)) + 0.5
    w = np.array([1.5, -1.0, 0.5, 0.2, -2.0, 0.0])
    predict = lambda Z: 1 / (1 + np.exp(-(Z @ w)))  # noqa: E731
    b = Baseline(np.zeros((1, 6)))
    full = predict(X)
    effects = M.single_feature_effects(predict, X, b, full)
    A = X * w + 0.3 * rng.standard_normal(X.shape)
    quantus = []
    for i in range(len(X)):
        atts = np.abs(A[i])
        order = np.argsort(atts)
        var = []
        for j in order:
            z = X[i].copy()
            z[j] = 0.0
            var.append((predict(z[None])[0] - full[i]) ** 2 / full[i] ** 2)
        quantus.append(spearmanr(atts[order], var).statistic)
    np.testing.assert_allclose(M.monotonicity_abs(A, effects), quantus, atol=1e-12)
    np.testing.assert_allclose(M.monotonicity_abs(-A, effects), quantus, atol=1e-12)  # sign-blind
    signed = M.monotonicity(A, effects)
    np.testing.assert_allclose(M.monotonicity(-A, effects), -signed, atol=1e-12)
    assert signed.mean() > 0.8
