"""Gower distances of the recourse support (``audit/recourse/support.py``), computed by hand: numbers as |a - b|
over the observed range, categories 0 when equal else 1, a missing value 1 from anything but another missing
value, whichever side it is on."""

from __future__ import annotations

import numpy as np

from audit.recourse.support import GRID_QUANTILES, Support, _grid, _pairs, _scale
from audit.types import FeatureSpace

NAN = np.nan
SPACE = FeatureSpace(("amount", "housing"), {"housing": ("own", "rent")})
REAL = np.array([[1.0, 0.0], [3.0, 1.0], [NAN, 1.0]])


def test_distances_to_real_rows_follow_gower_by_hand():
    support = Support.from_data(REAL, SPACE)
    # amount's observed range is 2; housing is a category
    np.testing.assert_array_equal(support.distances(np.array([[2.0, 1.0]])), [[0.75, 0.25, 0.5]])
    np.testing.assert_array_equal(support.distances(np.array([[2.0, 1.0], [NAN, 0.0]])),
                                  [[0.75, 0.25, 0.5], [0.5, 1.0, 0.5]])
    np.testing.assert_array_equal(support.nearest(np.array([[2.0, 1.0], [NAN, 0.0]])), [0.25, 0.5])


def test_without_missing_values_numbers_and_categories_are_measured_apart():
    space = FeatureSpace(("amount", "housing"), {"housing": ("own", "rent", "free")})
    support = Support.from_data(np.array([[1.0, 0.0], [3.0, 2.0]]), space)
    # codes 2 and 0 differ by one category, not by two units
    np.testing.assert_array_equal(support.distances(np.array([[1.5, 2.0], [3.0, 0.0]])),
                                  [[0.625, 0.375], [0.5, 0.5]])
    np.testing.assert_array_equal(support.distances(np.array([[NAN, 0.0]])), [[0.5, 1.0]])  # missing on one side


def test_candidate_values_per_feature():
    rng = np.random.default_rng(0)
    assert _grid(np.array([NAN, NAN]), False).tolist() == [] and _grid(np.array([NAN]), True).tolist() == []
    codes = np.repeat(np.arange(25.0), np.arange(1, 26))  # code k seen k + 1 times
    assert _grid(rng.permutation(codes), True).tolist() == list(np.arange(5.0, 25.0))  # the 20 most frequent
    few = np.concatenate([np.zeros(80), np.arange(1.0, 21.0)])  # 21 distinct values, most of them rare
    assert _grid(rng.permutation(few), False).tolist() == list(np.arange(0.0, 21.0))
    many = rng.normal(size=500)
    grid = _grid(many, False)
    assert set(grid) <= set(many) and grid[0] == many.min() and grid[-1] == many.max()
    assert grid.tolist() == sorted(set(np.quantile(many, GRID_QUANTILES, method="inverted_cdf")))
    heavy = np.concatenate([np.zeros(200), np.arange(1.0, 31.0)])  # most quantiles fall on 0: listed once
    assert _grid(heavy, False).tolist() == [0.0, *sorted(set(np.quantile(heavy, GRID_QUANTILES[-3:],
                                                                          method="inverted_cdf")))]


def test_the_cost_scale_is_the_iqr_else_the_std_else_one():
    X = np.column_stack([np.arange(101.0), np.r_[np.zeros(90), np.ones(11)], np.full(101, 7.0),
                         np.full(101, NAN), np.arange(101.0) % 3])
    got = _scale(X, np.array([False, False, False, False, True]))
    assert got[0] == 50.0 and got[1] == float(np.std(X[:, 1])) and got[2:].tolist() == [1.0, 1.0, 1.0]


def test_categorical_pairs_are_those_seen_together_in_a_complete_row():
    X = np.array([[0.0, 1.0, 5.0, 2.0], [1.0, 1.0, 6.0, NAN], [0.0, 0.0, 7.0, 2.0]])
    got = _pairs(X, np.array([True, True, False, True]))
    assert got == frozenset({(0, 0.0, 1, 1.0), (0, 1.0, 1, 1.0), (0, 0.0, 1, 0.0), (0, 0.0, 3, 2.0),
                             (1, 1.0, 3, 2.0), (1, 0.0, 3, 2.0)})
    support = Support.from_data(X, FeatureSpace(("a", "b", "x", "c"), {"a": ("p", "q"), "b": ("r", "s"),
                                                                       "c": ("t", "u", "v")}))
    assert support.pairs_seen(np.array([1.0, 1.0, 5.0, NAN]), [0]) is True  # a missing value pairs with all
    assert support.pairs_seen(np.array([1.0, 0.0, 5.0, 2.0]), [0]) is False  # a=1 never seen with b=0
    assert support.pairs_seen(np.array([1.0, 0.0, 5.0, 2.0]), [2]) is True  # a numeric change needs no pair


def test_the_range_judges_numbers_only():
    space = FeatureSpace(("amount", "housing"), {"housing": ("own", "rent", "free")})
    support = Support.from_data([[1.0, 0.0], [3.0, 1.0]], space)  # a list of rows is accepted
    assert support.in_range(np.array([2.0, 2.0])) is True  # a category's code is not a number in a range
    assert support.in_range(np.array([NAN, 0.0])) is True and support.in_range(np.array([3.5, 0.0])) is False
    np.testing.assert_array_equal(support.span, [2.0, 1.0])
    constant = Support.from_data(np.array([[4.0, 0.0], [4.0, 1.0]]), space)
    np.testing.assert_array_equal(constant.span, [1.0, 1.0])  # no range: differences count in the data's units


def test_reference_rows_are_all_rows_up_to_2000_else_a_sorted_sample():
    space = FeatureSpace(("x",))
    X = np.arange(2001.0)[:, None]
    spread = np.random.default_rng(5).normal(size=(2000, 1))
    exact = Support.from_data(spread, space)
    np.testing.assert_array_equal(exact.reference, spread)
    # all 2000 rows and no sample drawn, so the typical distance's probe is the generator's first draw
    probe = np.random.default_rng(0).choice(2000, 300, replace=False)
    d = np.abs(spread[probe] - spread[:, 0]) / (spread.max() - spread.min())
    d[np.arange(300), probe] = np.inf
    assert exact.typical_nn == float(np.median(d.min(axis=1)))
    sample = Support.from_data(X, space).reference[:, 0]
    assert len(sample) == 2000 and (np.diff(sample) > 0).all()


def test_the_typical_distance_is_the_median_nearest_distance_among_distinct_rows():
    space = FeatureSpace(("x",))
    # duplicates (0, 0) are not each other's neighbour: 1 -> 0 is 1/3 of the range, 3 -> 1 is 2/3
    assert Support.from_data(np.array([[0.0], [0.0], [1.0], [3.0]]), space).typical_nn == 0.5
    assert Support.from_data(np.array([[2.0], [2.0]]), space).typical_nn == 1.0  # nothing distinct: 1
    X = np.random.default_rng(3).normal(size=(400, 1))
    probe = np.random.default_rng(0).choice(400, 300, replace=False)  # TYPICAL_ROWS of the 400
    d = np.abs(X[probe] - X[:, 0]) / (X.max() - X.min())
    d[np.arange(300), probe] = np.inf
    assert Support.from_data(X, space).typical_nn == float(np.median(d.min(axis=1)))
