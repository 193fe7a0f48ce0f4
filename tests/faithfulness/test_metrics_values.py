"""Metric values against a second implementation: hand-computed curves on linear models, scipy's
pearsonr / spearmanr, numpy's trapezoid, and set arithmetic for the top-k measures.

Each test names the defect it is written to catch; none copies a value printed by the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr

from audit.faithfulness import metrics as M

W = np.array([3.0, -2.0, 1.0, 0.5])


def linear(Z: np.ndarray) -> np.ndarray:
    return Z @ W


@pytest.fixture()
def rows():
    rng = np.random.default_rng(7)
    return rng.normal(size=(6, 4)) * 2


ZERO = M.Baseline(np.zeros((1, 4)))


def test_baseline_fill_replaces_only_masked_cells_for_every_background_row():
    """Fails if the mask is inverted or the repeat/tile order of (row, background row) is swapped."""
    b = M.Baseline(np.array([[10.0, 20.0], [30.0, 40.0]]), "background")
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = b.fill(X, np.array([[True, False], [False, True]]))
    assert out.tolist() == [[10.0, 2.0], [30.0, 2.0], [3.0, 20.0], [3.0, 40.0]]
    assert b.reduce(np.array([1.0, 3.0, 5.0, 9.0]), 2).tolist() == [2.0, 7.0]


def test_baseline_from_background_mean_median_mode_and_sample():
    bg = np.array([[1.0, 0.0, 5.0], [2.0, 1.0, np.nan], [6.0, 1.0, 7.0], [3.0, 2.0, 9.0]])
    cat = np.array([False, True, False])
    mean = M.Baseline.from_background(bg, cat, "mean")
    np.testing.assert_allclose(mean.rows, [[3.0, 1.0, 7.0]])  # mean ignores NaN; mode for the category
    median = M.Baseline.from_background(bg, cat, "median")
    np.testing.assert_allclose(median.rows, [[2.5, 1.0, 7.0]])
    sample = M.Baseline.from_background(bg, cat, "background", max_rows=2, seed=3)
    assert sample.rows.shape == (2, 3) and sample.kind == "background"
    assert all(any(np.array_equal(r, b, equal_nan=True) for b in bg) for r in sample.rows)
    allnan = M.Baseline.from_background(np.array([[np.nan, np.nan]]), np.array([False, True]), "mean")
    assert allnan.rows.tolist() == [[0.0, 0.0]]


def test_ablation_curves_on_a_linear_model_equal_hand_computed_partial_sums(rows):
    """With a zero baseline, removing feature j changes the output by exactly w_j x_j, so deletion after
    k steps is f(x) minus the k largest-attributed terms. Fails if the order is ascending instead of
    descending, if deletion and insertion are swapped, or if step k removes k+1 features."""
    A = rows * W  # the exact attribution
    deletion, insertion = M.ablation_curves(linear, rows, A, ZERO)
    for i, x in enumerate(rows):
        terms = x * W
        order = np.argsort(-terms, kind="stable")
        full = terms.sum()
        for k in range(5):
            top = terms[order[:k]].sum()
            assert deletion[i, k] == pytest.approx(full - top)
            assert insertion[i, k] == pytest.approx(top)


def test_curve_auc_is_the_trapezoid_over_the_removed_fraction():
    curve = np.array([[4.0, 3.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    expected = [np.trapezoid(c, np.linspace(0, 1, 5)) for c in curve]
    np.testing.assert_allclose(M.curve_auc(curve), expected)


def test_comprehensiveness_and_sufficiency_average_over_k_up_to_half_the_features():
    """ERASER with k = 1..f/2: fails if k starts at 0, runs to f, or the sign of the difference flips."""
    deletion = np.array([[10.0, 6.0, 3.0, 1.0, 0.0]])  # f = 4 -> k in {1, 2}
    insertion = np.array([[0.0, 4.0, 7.0, 9.0, 10.0]])
    assert M.comprehensiveness(deletion).tolist() == [((10 - 6) + (10 - 3)) / 2]
    assert M.sufficiency(insertion, np.array([10.0])).tolist() == [((10 - 4) + (10 - 7)) / 2]
    one = np.array([[5.0, 2.0]])  # f = 1 -> k = 1
    assert M.comprehensiveness(one).tolist() == [3.0]
    assert M.sufficiency(np.array([[0.0, 4.0]]), np.array([5.0])).tolist() == [1.0]


def test_subset_probe_draws_subsets_of_a_quarter_of_the_features_and_measures_their_effect(rows):
    """Fails if the subset size, the mask layout or the sign of delta (f(x) - f(x without S)) changes."""
    X = np.hstack([rows, rows])  # f = 8 -> subsets of 2
    w8 = np.concatenate([W, W])
    probe = M.subset_probe(lambda Z: Z @ w8, X, M.Baseline(np.zeros((1, 8))), n_subsets=5,
                           rng=np.random.default_rng(0))
    assert probe.masks.shape == (6, 5, 8) and probe.delta.shape == (6, 5)
    assert (probe.masks.sum(2) == 2).all()
    expected = np.einsum("nsf,nf->ns", probe.masks, X * w8)
    np.testing.assert_allclose(probe.delta, expected, atol=1e-12)
    tiny = M.subset_probe(lambda Z: Z.sum(1), np.ones((2, 3)), M.Baseline(np.zeros((1, 3))), n_subsets=4,
                          rng=np.random.default_rng(1))
    assert (tiny.masks.sum(2) == 1).all()  # f // 4 == 0 -> at least one feature


def test_faithfulness_correlation_is_pearson_of_subset_sums_and_effects(rows):
    rng = np.random.default_rng(2)
    probe = M.SubsetProbe(rng.random((6, 10, 4)) < 0.5, rng.normal(size=(6, 10)))
    A = rng.normal(size=(6, 4))
    got = M.faithfulness_correlation(A, probe)
    sums = (probe.masks * A[:, None, :]).sum(2)
    want = [pearsonr(s, d)[0] for s, d in zip(sums, probe.delta)]
    np.testing.assert_allclose(got, want, atol=1e-12)
    flat = M.faithfulness_correlation(np.zeros((6, 4)), probe)
    assert flat.tolist() == [0.0] * 6  # no variance: 0, not NaN


def test_infidelity_is_two_times_one_minus_cosine(rows):
    rng = np.random.default_rng(3)
    probe = M.SubsetProbe(rng.random((6, 10, 4)) < 0.5, rng.normal(size=(6, 10)))
    A = rng.normal(size=(6, 4))
    sums = (probe.masks * A[:, None, :]).sum(2)
    cos = [s @ d / (np.linalg.norm(s) * np.linalg.norm(d)) for s, d in zip(sums, probe.delta)]
    np.testing.assert_allclose(M.infidelity(A, probe), 2 * (1 - np.array(cos)), atol=1e-12)
    assert M.infidelity(np.zeros((6, 4)), probe).tolist() == [2.0] * 6


def test_single_feature_effects_of_a_linear_model_are_its_terms(rows):
    """f(x) - f(x without j) = w_j (x_j - b_j): fails on a sign flip or a wrong column being removed."""
    b = M.Baseline(np.array([[1.0, -1.0, 0.5, 2.0]]))
    eff = M.single_feature_effects(linear, rows, b, linear(rows))
    np.testing.assert_allclose(eff, W * (rows - b.rows[0]), atol=1e-12)


def test_monotonicity_and_rank_agreement_are_scipy_spearman(rows):
    rng = np.random.default_rng(4)
    A, E = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    A[0, :2] = 1.0  # a tie: average ranks
    want = [spearmanr(a, e)[0] for a, e in zip(A, E)]
    np.testing.assert_allclose(M.monotonicity(A, E), want, atol=1e-12)
    np.testing.assert_allclose(M.rank_agreement(A, E), want, atol=1e-12)
    np.testing.assert_allclose(M.monotonicity(-E, E), -1.0)
    want_abs = [spearmanr(np.abs(a), np.abs(e))[0] for a, e in zip(A, E)]
    np.testing.assert_allclose(M.monotonicity_abs(A, E), want_abs, atol=1e-12)
    np.testing.assert_allclose(M.monotonicity_abs(-E, E), 1.0)


def test_additivity_error_is_relative_to_the_spread():
    A = np.array([[1.0, 2.0], [0.5, 0.5]])
    out = M.additivity_error(A, np.array([1.0, 0.0]), np.array([4.0, 2.0]), 2.0)
    assert out.tolist() == [0.0, 0.5]
    assert M.additivity_error(A, np.zeros(2), np.zeros(2), 0.0).tolist() == [3.0, 1.0]  # zero spread: unscaled


def test_topk_overlap_and_jaccard_by_absolute_value():
    a = np.array([[5.0, -4.0, 0.1, 0.2], [1.0, 2.0, 3.0, 4.0]])
    b = np.array([[-6.0, 0.0, 3.0, 0.0], [4.0, 3.0, 2.0, 1.0]])
    # row 0: top-2 of a {0, 1}, of b {0, 2}: overlap 1/2, Jaccard 1/3; row 1: {3, 2} vs {0, 1}: 0
    np.testing.assert_allclose(M.topk_overlap(a, b, 2), [0.5, 0.0])
    np.testing.assert_allclose(M.topk_jaccard(a, b, 2), [1 / 3, 0.0])
    np.testing.assert_allclose(M.topk_jaccard(a, a, 3), [1.0, 1.0])


def test_odd_feature_counts_use_k_up_to_the_floor_of_half():
    """f = 5 -> k in {1, 2}; f = 3 -> k = 1 (fails if the step count is read as f + 1)."""
    deletion = np.array([[10.0, 7.0, 5.0, 1.0, 0.0, 0.0]])
    assert M.comprehensiveness(deletion).tolist() == [((10 - 7) + (10 - 5)) / 2]
    insertion = np.array([[0.0, 6.0, 8.0, 9.0]])
    assert M.sufficiency(insertion, np.array([10.0])).tolist() == [4.0]


def test_a_background_sample_has_distinct_rows_and_a_small_spread_still_scales_additivity():
    bg = np.arange(12.0).reshape(6, 2)
    sample = M.Baseline.from_background(bg, np.array([False, False]), "background", max_rows=6, seed=0)
    assert len({tuple(r) for r in sample.rows}) == 6
    out = M.additivity_error(np.array([[1.0]]), np.zeros(1), np.zeros(1), 0.5)
    assert out.tolist() == [2.0]
