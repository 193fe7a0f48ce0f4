"""Gower distances of the recourse support (``audit/recourse/support.py``), computed by hand: numbers as |a - b|
over the observed range, categories 0 when equal else 1, a missing value 1 from anything but another missing
value, whichever side it is on."""

from __future__ import annotations

import numpy as np

from audit.recourse.support import Support
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
    support = Support.from_data(REAL[:2], SPACE)
    np.testing.assert_array_equal(support.distances(np.array([[1.5, 1.0], [3.0, 0.0]])),
                                  [[0.625, 0.375], [0.5, 0.5]])
