"""Rules of ``audit/faithfulness/metrics.py`` that issue #28's mutation run found unpinned: top-k measures rank by
magnitude on both sides, the baselines (a categorical column's mode, a column never observed, a background sample
of at most 16 rows kept in data order, rows given as lists), and an expectation over a multi-row baseline."""

from __future__ import annotations

import numpy as np

from audit.faithfulness import metrics as M


def test_top_k_measures_rank_both_attributions_by_magnitude():
    a, b = np.array([[3.0, -5.0, 1.0]]), np.array([[-5.0, 3.0, 0.5]])  # top two by |value|: {0, 1} on both sides
    assert M.topk_overlap(a, b, 2).tolist() == [1.0] and M.topk_overlap(b, a, 2).tolist() == [1.0]
    assert M.topk_jaccard(a, b, 2).tolist() == [1.0] and M.topk_jaccard(b, a, 2).tolist() == [1.0]
    c = np.array([[0.1, -5.0, 3.0]])  # top two {1, 2}: one in common with a's {0, 1}
    assert M.topk_overlap(a, c, 2).tolist() == [0.5] and M.topk_jaccard(a, c, 2).tolist() == [1 / 3]


def test_the_mean_baseline_takes_each_categorical_columns_mode():
    bg = [[1.0, 2.0, np.nan], [3.0, 2.0, np.nan], [5.0, 0.0, np.nan]]  # rows as lists; column 2 never observed
    base = M.Baseline.from_background(bg, np.array([False, True, True]))
    np.testing.assert_array_equal(base.rows, [[3.0, 2.0, 0.0]])
    median = M.Baseline.from_background(np.array(bg), np.array([False, False, False]), "median")
    np.testing.assert_array_equal(median.rows, [[3.0, 2.0, 0.0]])  # nan_to_num: an unobserved column is 0


def test_a_background_baseline_keeps_at_most_16_rows_in_data_order():
    bg = np.arange(40.0).reshape(20, 2)
    base = M.Baseline.from_background(bg, np.array([False, False]), "background", seed=3)
    take = np.random.default_rng(3).choice(20, size=16, replace=False)
    np.testing.assert_array_equal(base.rows, bg[np.sort(take)])
    small = M.Baseline.from_background(bg[:5], np.array([False, False]), "background")
    np.testing.assert_array_equal(small.rows, bg[:5])


def test_a_multi_row_baseline_gives_the_expectation_over_its_rows():
    base = M.Baseline(np.array([[0.0, 0.0], [10.0, 0.0]]), "background")
    X, mask = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[True, False], [False, True]])
    # row 0: (0, 2) and (10, 2) -> sums 2 and 12; row 1: (3, 0) twice -> 3
    np.testing.assert_array_equal(M._call(lambda Z: Z.sum(axis=1), base, X, mask), [7.0, 3.0])
