"""The recourse search's parts (``audit/recourse/search.py``) on hand-made moves, against results written out
here (issue #28): which single changes the rules open, what they cost, the budget's accounting, when a change
is needed, the beam, the diverse choice and why no counterfactual was found."""

from __future__ import annotations

import numpy as np
import pytest

from audit.recourse.search import BEAM, Counterfactual, Rules, Search, _beam, _diverse, _Moves, _Row
from audit.recourse.support import Support
from audit.types import FeatureSpace

SPACE = FeatureSpace(("amount", "age", "housing"), {"housing": ("own", "rent", "free")})
DATA = np.array([[100.0, 20.0, 0.0], [200.0, 30.0, 1.0], [300.0, 40.0, 2.0], [400.0, 50.0, 0.0],
                 [500.0, 60.0, 1.0]])


def _search(actionable=(True, True, True), direction=(0.0, 0.0, 0.0), low=(-np.inf,) * 3, high=(np.inf,) * 3,
            weight=(1.0, 1.0, 1.0), **kw):
    rules = Rules(np.array(actionable), np.array(direction), np.array(low, float), np.array(high, float),
                  np.array(weight, float))
    return Search(Support.from_data(DATA, SPACE), rules, "good", 1, **kw)


def _moves(search, x):
    m = search._moves(np.asarray(x, dtype=float))
    return list(zip(m.feature.tolist(), m.value.tolist(), np.round(m.cost, 12).tolist()))


def test_moves_are_every_other_observed_value_costed_by_weight_times_distance_over_scale():
    search = _search(weight=(2.0, 1.0, 3.0))
    scale = search.support.scale
    got = _moves(search, [300.0, 40.0, 2.0])
    want = [(0, v, round(2.0 * abs(v - 300.0) / scale[0], 12)) for v in (100.0, 200.0, 400.0, 500.0)]
    want += [(1, v, round(abs(v - 40.0) / scale[1], 12)) for v in (20.0, 30.0, 50.0, 60.0)]
    want += [(2, 0.0, 3.0), (2, 1.0, 3.0)]  # a category costs its weight, whatever its code
    assert got == want


def test_bounds_directions_frozen_inputs_and_missing_values_close_moves():
    search = _search(actionable=(True, False, True), direction=(-1.0, 0.0, 0.0), low=(200.0, -np.inf, -np.inf),
                     high=(np.inf, np.inf, 1.0))
    assert [(j, v) for j, v, _ in _moves(search, [400.0, 40.0, 2.0])] == [(0, 200.0), (0, 300.0), (2, 0.0), (2, 1.0)]
    up = _search(direction=(1.0, 0.0, 0.0), high=(400.0, np.inf, np.inf))
    assert [(j, v) for j, v, _ in _moves(up, [200.0, np.nan, 0.0])] == [(0, 300.0), (0, 400.0), (2, 1.0), (2, 2.0)]
    frozen = _search(actionable=(False, False, False))
    assert _moves(frozen, [200.0, 30.0, 1.0]) == []
    r = frozen.run(None, np.array([[200.0, 30.0, 1.0]]))  # no moves: the model is never asked
    assert r[0] == frozen._result(_Row(np.zeros(3), frozen._moves(np.array([200.0, 30.0, 1.0])), 10))
    assert r[0].counterfactuals == () and r[0].evaluations == 0
    assert r[0].why_none == "every input is immutable, or held where it is by its bounds and direction"


def test_the_budget_takes_what_its_share_allows_and_marks_the_row_exhausted():
    row = _Row(np.zeros(2), _Moves(np.array([0]), np.array([1.0]), np.array([1.0])), budget=10)
    assert row.take([(0,)] * 4, share=0.5) == [(0,)] * 4 and (row.spent, row.exhausted) == (4, False)
    assert row.take([(1,)] * 3, share=0.5) == [(1,)] and (row.spent, row.exhausted) == (5, True)
    assert row.take([(2,)] * 2, share=0.5) == [] and row.spent == 5
    full = _Row(np.zeros(2), row.moves, budget=3)
    assert full.take([(0,)] * 3) == [(0,)] * 3 and not full.exhausted


def test_a_change_is_needed_only_when_no_smaller_state_is_known_to_flip():
    row = _Row(np.zeros(3), _Moves(np.array([0, 1, 2]), np.zeros(3), np.ones(3)), budget=10)
    assert row.needs_all((0,)) and row.needs_all((0, 1))
    row.flipped.add((1,))
    assert not row.needs_all((0, 1)) and row.needs_all((0, 2)) and row.needs_all((1,))
    row.flipped.add((0, 2))
    assert not row.needs_all((0, 1, 2)) and row.needs_all((0, 1)) is False


def test_record_keeps_each_feature_set_s_cheapest_plausible_flip():
    moves = _Moves(np.array([0, 0, 1]), np.array([1.0, 2.0, 3.0]), np.array([2.0, 1.0, 5.0]))
    row = _Row(np.zeros(2), moves, budget=10)
    asked = []

    def plausible(r, state):
        asked.append(state)
        return state != (1,)  # the cheaper change of input 0 leaves the data's support

    row.record([(0,), (1,), (2,)], np.array([True, True, False]), plausible)
    assert row.found == {frozenset({0}): (2.0, (0,))} and row.flipped == {(0,), (1,)}
    assert asked == [(1,), (0,)]  # cheapest first
    row.record([(1,)], np.array([True]), lambda r, s: True)
    assert row.found == {frozenset({0}): (1.0, (1,))}


def test_the_beam_keeps_the_best_scoring_non_flipping_state_per_feature_set():
    moves = _Moves(np.array([0, 0, 1, 1]), np.zeros(4), np.ones(4))
    states = [(0,), (1,), (2,), (3,), (0, 2)]
    score = np.array([0.5, 0.7, 0.6, 0.9, 0.95])
    flips = np.array([False, False, False, False, True])
    assert _beam(states, score, flips, moves) == [(3,), (1,)]
    many = _Moves(np.arange(BEAM + 3), np.zeros(BEAM + 3), np.ones(BEAM + 3))
    wide = [(i,) for i in range(BEAM + 3)]
    assert _beam(wide, np.arange(BEAM + 3.0), np.zeros(BEAM + 3, bool), many) == wide[::-1][:BEAM]


def test_diverse_takes_the_cheapest_sets_none_inside_another_up_to_n():
    moves = _Moves(np.array([0, 1, 2, 3]), np.zeros(4), np.ones(4))
    candidates = [(3.0, (0, 1)), (1.0, (0,)), (2.0, (2,)), (2.5, (1, 2)), (4.0, (3,)), (0.5, (0,))]
    assert _diverse(candidates, moves, 3) == [(0.5, (0,)), (2.0, (2,)), (4.0, (3,))]
    assert _diverse(candidates, moves, 2) == [(0.5, (0,)), (2.0, (2,))]


@pytest.mark.parametrize("exhausted,implausible,words", [
    (True, 3, "the search budget of 4000 model evaluations ran out before a change was found"),
    (False, 3, "3 candidate change(s) did change the decision but left the data's support"),
    (False, 0, "no change of at most 2 actionable input(s) to values seen in the data changed the decision")])
def test_why_no_counterfactual_names_the_first_cause(exhausted, implausible, words):
    search = _search(max_changes=2)
    row = _Row(np.zeros(3), _Moves(np.array([0]), np.array([1.0]), np.array([1.0])), 4000, implausible=implausible,
               exhausted=exhausted)
    assert search._why(row).startswith(words)


def test_a_result_reports_changes_in_data_order_with_their_distance_to_the_nearest_row():
    search = _search()
    x = np.array([300.0, 40.0, 2.0])
    moves = search._moves(x)
    row = _Row(x, moves, 100, spent=7)
    a = int(np.flatnonzero((moves.feature == 1) & (moves.value == 30.0))[0])
    b = int(np.flatnonzero((moves.feature == 0) & (moves.value == 200.0))[0])
    row.best = [(1.5, (a, b))]
    result = search._result(row)
    (cf,) = result.counterfactuals
    assert cf.changes == ((0, 300.0, 200.0), (1, 40.0, 30.0)) and cf.cost == 1.5
    d = float(search.support.nearest(np.array([[200.0, 30.0, 2.0]]))[0])
    assert (cf.nn_distance, cf.nn_ratio) == (d, d / search.support.typical_nn)
    assert type(cf.nn_distance) is float and result.evaluations == 7 and result.why_none is None
    assert isinstance(cf, Counterfactual) and not cf.verified


def test_the_search_s_defaults_are_the_configuration_s():
    from audit.config import parse_config

    s, defaults = _search(), parse_config("").recourse
    assert (s.n, s.max_changes, s.budget, s.max_ratio) == (defaults.counterfactuals, defaults.max_changes,
                                                           defaults.max_evaluations, defaults.max_neighbour_ratio)


def test_a_counterfactual_applies_its_changes_to_a_copy_and_starts_unverified():
    cf = Counterfactual(((0, 1.0, 5.0), (2, 0.0, 1.0)), 2.0, 0.1, 0.5)
    x = np.array([1.0, 7.0, 0.0])
    np.testing.assert_array_equal(cf.apply(x), [5.0, 7.0, 1.0])
    assert x.tolist() == [1.0, 7.0, 0.0] and cf.features == frozenset({0, 2})
    assert (cf.outcome, cf.verified) == ("", False) and np.isnan(cf.score)


def test_swaps_offer_every_cheaper_value_of_each_changed_input_and_improve_takes_the_cheapest_that_holds():
    # input 0 has values at costs 3, 1, 2 (moves 0, 1, 2); input 1 at costs 5, 4 (moves 3, 4)
    moves = _Moves(np.array([0, 0, 0, 1, 1]), np.array([10.0, 11.0, 12.0, 20.0, 21.0]),
                   np.array([3.0, 1.0, 2.0, 5.0, 4.0]))
    row = _Row(np.zeros(2), moves, budget=100)
    row.best = [(8.0, (0, 3))]
    swaps = row.swaps()
    assert swaps == [(0, (1, 3)), (0, (2, 3)), (0, (0, 4))]
    seen = []

    def plausible(r, state):
        seen.append(state)
        return state != (1, 3)  # the cheapest swap leaves the data's support

    assert row.improve(swaps, np.array([True, True, False]), plausible)
    assert row.best == [(7.0, (2, 3))] and seen == [(1, 3), (2, 3)]
    assert row.flipped == {(1, 3), (2, 3)}
    assert not row.improve([(0, (0, 3))], np.array([True]), lambda r, s: True)  # not cheaper: kept
    assert not row.improve(swaps, np.zeros(3, bool), lambda r, s: True) and row.best == [(7.0, (2, 3))]


class _Labels:
    """A model approving a row whose first input is at least 300; its favourable-class score is input 0 / 1000."""

    classes = np.array(["bad", "good"])

    def __init__(self):
        self.batches = []

    def predict_label(self, Z):
        self.batches.append(len(Z))
        return np.where(Z[:, 0] >= 300, "good", "bad")

    def predict_all(self, Z):
        p = Z[:, 0] / 1000
        return np.column_stack([1 - p, p])


def test_ask_answers_every_row_s_states_from_one_batch():
    search = _search()
    model = _Labels()
    r1 = _Row(np.array([100.0, 20.0, 0.0]), search._moves(np.array([100.0, 20.0, 0.0])), 100)
    r2 = _Row(np.array([200.0, 30.0, 1.0]), search._moves(np.array([200.0, 30.0, 1.0])), 100)
    first = [int(np.flatnonzero(r1.moves.value == v)[0]) for v in (200.0, 400.0)]
    second = [int(np.flatnonzero(r2.moves.value == 500.0)[0])]
    (f1, s1), (f2, s2) = search._ask(model, [(r1, [(m,) for m in first]), (r2, [(m,) for m in second])])
    assert model.batches == [3]
    assert f1.tolist() == [False, True] and f2.tolist() == [True]
    np.testing.assert_allclose(s1, [0.2, 0.4])
    np.testing.assert_allclose(s2, [0.5])


def test_a_change_outside_the_support_is_counted_on_its_row():
    search = _search(max_ratio=1e-9)  # nothing but a real row itself is near enough
    x = np.array([100.0, 20.0, 0.0])
    row = _Row(x, search._moves(x), 100)
    m = int(np.flatnonzero((row.moves.feature == 0) & (row.moves.value == 500.0))[0])
    assert search._plausible(row, (m,)) is False and row.implausible == 1
    loose = _search(max_ratio=1e9)
    row2 = _Row(x, loose._moves(x), 100)
    assert loose._plausible(row2, (m,)) is True and row2.implausible == 0


def test_a_run_on_a_threshold_model_finds_the_cheapest_single_change_and_stays_in_budget():
    search = _search(actionable=(True, False, False), n=2)
    model = _Labels()
    (result,) = search.run(model, np.array([[100.0, 20.0, 0.0]]))
    assert [cf.changes for cf in result.counterfactuals] == [((0, 100.0, 300.0),)]
    assert 0 < result.evaluations <= search.budget and result.why_none is None
