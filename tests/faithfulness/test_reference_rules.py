"""The model-derived reference's rules (``audit/faithfulness/reference.py``), each pinned where issue #28's
mutation run found it loose: when the greedy search runs, which candidates there are, how the least-squares fit
treats a feature it never saw removed, the size and coverage of its subsets, how rows are won, and what counts
as the same ranking."""

from __future__ import annotations

import numpy as np
import pytest

from audit.faithfulness import Baseline
from audit.faithfulness import reference as R


def _linear(w):
    return lambda Z: Z @ w


@pytest.mark.parametrize("f,greedy", [(30, True), (31, False)])
def test_the_greedy_search_runs_up_to_thirty_features(f, greedy):
    rng = np.random.default_rng(f)
    X, w = rng.normal(size=(2, f)), rng.normal(size=f)
    predict = _linear(w)
    ref = R.build_reference(predict, X, Baseline(np.zeros((1, f))), X * w, rng=rng, full=predict(X))
    assert ("greedy" in ref.candidates) is greedy
    assert set(ref.candidates) - {"greedy"} == {"least_squares", "occlusion"}
    assert ("no greedy search (more than 30 features)" in ref.kind) is not greedy
    # greedy: f - 1 calls; the least-squares fit one more
    assert ref.model_calls == (f if greedy else 1)


def test_the_occlusion_candidate_is_the_given_effects_as_floats():
    X, w = np.ones((2, 3)), np.array([1.0, 2.0, 3.0])
    ref = R.build_reference(_linear(w), X, Baseline(np.zeros((1, 3))), [[1, 2, 3], [1, 2, 3]],
                            rng=np.random.default_rng(0), full=X @ w)
    occlusion = ref.candidates["occlusion"]
    assert isinstance(occlusion, np.ndarray) and occlusion.dtype == float
    np.testing.assert_array_equal(occlusion, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])


def test_the_least_squares_fit_gives_zero_to_a_feature_never_removed():
    masks = np.array([[[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]]], dtype=bool)  # feature 2 never removed
    delta = masks[..., :2].astype(float) @ np.array([2.0, -1.0])
    got = R.least_squares_attribution(masks, delta)
    np.testing.assert_allclose(got, [[2.0, -1.0, 0.0]], atol=1e-6)
    assert got[0, 2] == 0.0


@pytest.mark.parametrize("f,size", [(3, 1), (8, 2), (20, 5)])
def test_fit_subsets_remove_a_quarter_of_the_features_and_cover_each_one(f, size):
    masks = R._covering_subsets(4, f, max(32, 3 * f), np.random.default_rng(1))
    assert masks.shape == (4, max(32, 3 * f), f)
    assert (masks.sum(axis=2) == size).all()
    assert masks.any(axis=1).all()  # every feature removed in some subset of every row


@pytest.mark.parametrize("f", [5, 20])
def test_the_fit_uses_at_least_32_subsets_and_three_per_feature(f):
    rows = []

    def predict(Z):
        rows.append(len(Z))
        return Z.sum(axis=1)

    X = np.ones((3, f))
    R.build_reference(predict, X, Baseline(np.zeros((1, f))), np.ones((3, f)), rng=np.random.default_rng(0),
                      full=X.sum(axis=1), greedy_max_features=0)
    assert rows == [3 * max(32, 3 * f)]


def test_each_row_is_won_by_the_best_candidate_first_listed_on_a_tie():
    per = {"a": {"m": np.array([1.0, 5.0, 3.0]), "n": np.array([1.0, 5.0, 3.0])},
           "b": {"m": np.array([2.0, 4.0, 3.0]), "n": np.array([2.0, 4.0, 3.0])}}
    best, won = R.best_per_row(per, {"m": True, "n": False})
    np.testing.assert_array_equal(best["m"], [2.0, 5.0, 3.0])
    np.testing.assert_array_equal(best["n"], [1.0, 4.0, 3.0])
    assert won == {"m": {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)},
                   "n": {"a": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}}
    assert all(type(v) is float for shares in won.values() for v in shares.values())


def test_rankings_tie_within_a_billionth_of_the_rows_largest_value():
    tied = np.array([[5.0, 5.0]])
    assert R.identity_share(np.array([[1e6, 1e6 + 1e-4]]), tied) == 1.0  # 1e-10 of the row's scale
    assert R.identity_share(np.array([[1.0, 1.0 + 3e-10]]), tied) == 1.0
    assert R.identity_share(np.array([[1.0, 1.0 + 3e-8]]), tied) == 0.0
    assert R.identity_share(np.zeros((1, 2)), tied) == 1.0  # a row of zeros ranks everything equal
    # ties are judged against the largest magnitude, here the negative value: two tiny values tie
    assert R.identity_share(np.array([[1e-12, -1.0, 1.00000001e-12]]), np.array([[2.0, 1.0, 2.0]])) == 1.0
    assert R.identity_share(np.array([[1e-12, 2e-12]]), np.array([[1.0, 2.0]])) == 1.0  # tiny rows still rank
    assert R.identity_share(np.array([[0.0, -2.0], [3.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])) == 0.5
