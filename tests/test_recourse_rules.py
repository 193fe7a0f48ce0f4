"""``audit/recourse/__init__.py`` piece by piece, against values written out here (issue #28: its mutation run
left these unpinned): the search's rules from ``[recourse]`` and the policy (bounds, directions, costs, frozen
inputs, names that are not model inputs), the favourable class's index, verification when nothing was proposed
and when a row had no proposal, the consistency share, the data's columns and when recourse is skipped."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from audit.config import parse_config
from audit.errors import ConfigError
from audit.recourse import (
    attach_recourse,
    build_search,
    check_recourse_names,
    consistency,
    data_columns,
    verify,
)
from audit.recourse.search import Counterfactual, RowRecourse
from audit.results import Decision
from audit.types import FeatureSpace

SPACE = FeatureSpace(("amount", "age", "duration", "housing"), {"housing": ("own", "rent")})
X = np.array([[1000.0, 30.0, 12.0, 0.0], [2500.0, 45.0, 24.0, 1.0], [4000.0, 52.0, 36.0, 0.0],
              [1500.0, 23.0, 6.0, 1.0]])
TOML = """
[policy]
protected_attributes = ["age"]
[recourse]
immutable = ["duration"]
bounds = {amount = [500, 5000], branch = [0, 1]}
directions = {amount = "decrease", age = "any", duration = "increase", branch = "any"}
costs = {amount = 2.5, branch = 9.0}
counterfactuals = 2
max_changes = 2
max_evaluations = 900
max_neighbour_ratio = 1.5
"""


def _adapter(classes=("bad", "good")):
    return SimpleNamespace(classes=np.array(classes))


def test_the_search_s_rules_come_from_recourse_and_the_policy():
    """``branch`` is a column of DATA but not a model input: accepted, and it sets nothing."""
    config = parse_config(TOML)
    search = build_search(config, X, SPACE, _adapter(), "good", columns=[*SPACE.names, "branch", "risk"])
    rules = search.rules
    assert rules.actionable.tolist() == [True, False, False, True]  # age protected, duration immutable
    assert rules.direction.tolist() == [-1.0, 0.0, 1.0, 0.0]
    assert rules.low.tolist() == [500.0, -np.inf, -np.inf, -np.inf]
    assert rules.high.tolist() == [5000.0, np.inf, np.inf, np.inf]
    assert rules.weight.tolist() == [2.5, 1.0, 1.0, 1.0]
    assert (search.favorable, search.favorable_index) == ("good", 1)
    assert (search.n, search.max_changes, search.budget, search.max_ratio) == (2, 2, 900, 1.5)
    assert build_search(config, X, SPACE, _adapter(("good", "bad")), "good", columns=None).favorable_index == 0


def test_a_favourable_class_is_found_by_its_printed_form():
    search = build_search(parse_config(""), X, SPACE, _adapter((0, 1)), "1", columns=None)
    assert search.favorable_index == 1 and search.rules.actionable.all()
    assert search.rules.weight.tolist() == [1.0] * 4 and search.rules.direction.tolist() == [0.0] * 4


def test_recourse_names_are_checked_against_data_only_when_its_columns_are_known():
    config = parse_config('[recourse]\nimmutable = ["nowhere"]\n')
    check_recourse_names(config, SPACE, None)  # nothing to check against: a name that is no input changes nothing
    with pytest.raises(ConfigError, match=re.escape("[recourse]: 'nowhere' is not a column of DATA. Columns are: 'amount', "
                                                    "'age', 'duration', 'housing'. Fix the name in audit.toml.")):
        check_recourse_names(config, SPACE, list(SPACE.names))
    check_recourse_names(config, SPACE, [*SPACE.names, "nowhere"])
    for key, value in (("directions", '{housing = "increase"}'), ("bounds", "{housing = [0, 1]}")):
        with pytest.raises(ConfigError, match=f"\\[recourse\\] {key}: .*housing.* is categorical"):
            check_recourse_names(parse_config(f"[recourse]\n{key} = {value}\n"), SPACE, None)


class _Threshold:
    classes = np.array([0, 1])

    def __init__(self):
        self.calls = 0

    def predict_label(self, Z):
        self.calls += 1
        return (Z[:, 0] >= 5).astype(int)

    def predict(self, Z):
        return Z[:, 0] / 10


def test_verify_without_proposals_returns_the_rows_as_they_are_and_calls_no_model():
    model = _Threshold()
    found = [RowRecourse((), 40, "no change within the budget")]
    assert verify(model, [np.array([1.0])], found, 1) == found and model.calls == 0
    assert verify(model, [], [], 1) == []


def test_verify_keeps_the_reason_of_a_row_that_had_no_proposal_and_confirms_each_row_separately():
    rows = [np.array([1.0, 0.0]), np.array([2.0, 0.0]), np.array([3.0, 0.0])]
    good = Counterfactual(((0, 1.0, 6.0),), 1.0, 0.1, 1.0)
    bad = Counterfactual(((0, 2.0, 4.0),), 0.5, 0.1, 1.0)
    found = [RowRecourse((good,), 10), RowRecourse((), 12, "nothing actionable"), RowRecourse((bad,), 14)]
    model = _Threshold()
    out = verify(model, rows, found, favorable=1)
    assert model.calls == 1  # one batch for every proposal
    assert [len(r.counterfactuals) for r in out] == [1, 0, 0]
    assert [r.why_none for r in out] == [None, "nothing actionable", "the model did not confirm the change"]
    assert [r.evaluations for r in out] == [10, 12, 14]
    kept = out[0].counterfactuals[0]
    assert type(kept.score) is float and kept.score == pytest.approx(0.6) and kept.outcome == "1"


def _decision(row, reasons, changed):
    recourse = {"counterfactuals": [{"changes": [{"feature": f} for f in cf]} for cf in changed]} if changed is not None \
        else None
    return Decision(row, 0.2, "0", True, (), "m", reasons_by_method=reasons, recourse=recourse)


def test_consistency_is_the_share_of_decisions_with_recourse_whose_reasons_name_a_changed_input():
    decisions = [
        _decision(1, {"m": ({"feature": "a"}, {"feature": "z"}), "n": ({"feature": "b"},)}, [["c"], ["a", "d"]]),
        _decision(2, {"m": ({"feature": "b"},), "n": ({"feature": "b"},)}, [["b"]]),
        _decision(3, {"m": ({"feature": "x"},)}, [["c"]]),  # no reasons from n
        _decision(4, {"m": ({"feature": "a"},), "n": ({"feature": "a"},)}, []),  # searched, nothing found
        _decision(5, {"m": ({"feature": "a"},), "k": ({"feature": "a"},)}, None),  # not searched
    ]
    got = consistency(decisions)
    assert got == {"m": (pytest.approx(2 / 3), 3), "n": (pytest.approx(1 / 3), 3), "k": (0.0, 3)}
    assert list(got) == ["m", "n", "k"] and type(got["m"][0]) is float
    assert consistency([decisions[-1]]) == {"m": (None, 0), "k": (None, 0)}


def test_data_columns_are_inputs_ignored_extra_and_the_target():
    ds = SimpleNamespace(feature_names=["a", "b"], ignored_columns=["id"], extra=["branch"], target_name="risk")
    assert data_columns(ds) == ["a", "b", "id", "branch", "risk"]
    assert data_columns(SimpleNamespace(feature_names=["a"], ignored_columns=[], extra=[], target_name=None)) == ["a"]


@pytest.mark.parametrize("case", ["disabled", "no favourable class", "no classes"])
def test_recourse_is_skipped_when_disabled_or_without_classes(case):
    config = parse_config("[recourse]\nenabled = false\n" if case == "disabled" else "")
    favorable = None if case == "no favourable class" else "good"
    adapter = SimpleNamespace(classes=None) if case == "no classes" else _adapter()
    decisions = (_decision(1, {"m": ()}, None),)
    gate = object()
    out, same_gate, run = attach_recourse(decisions, gate, None, adapter, favorable, config)
    assert out == list(decisions) and same_gate is gate and run is None


class _Approves:
    """Approves ("good") an application whose amount is at most 1,500; its good-class score falls with the amount."""

    classes = np.array(["bad", "good"])

    def predict_label(self, Z):
        return np.where(Z[:, 0] <= 1500, "good", "bad")

    def predict(self, Z):
        return 1 - Z[:, 0] / 5000

    def predict_all(self, Z):
        p = self.predict(Z)
        return np.column_stack([1 - p, p])


def test_attach_recourse_searches_the_adverse_decisions_verifies_and_records_what_it_did():
    from audit.gate.checks import Gate

    config = parse_config('[policy]\nprotected_attributes = ["age"]\n[recourse]\nimmutable = ["duration"]\n'
                          'bounds = {amount = [500, 5000]}\ncosts = {amount = 2.0}\n'
                          'directions = {amount = "decrease"}\nrows = 1\n[report]\nadverse_decisions = 2\n')
    ds = SimpleNamespace(X=X, space=SPACE, feature_names=list(SPACE.names), ignored_columns=[], extra=[],
                         target_name="risk")
    decisions = [Decision(row, 0.2, outcome, outcome == "bad", ({"feature": "amount"},), "shap",
                          reasons_by_method={"shap": ({"feature": "amount"},), "lime": ({"feature": "age"},)})
                 for row, outcome in ((1, "good"), (2, "bad"), (3, "bad"), (4, "good"))]
    gate = Gate(passed=True, checks=(), passing_explainers=("shap",))
    out, new_gate, run = attach_recourse(decisions, gate, ds, _Approves(), "good", config)
    assert [d.recourse is not None for d in out] == [False, True, True, False]  # max(rows, adverse_decisions) = 2
    for d in out[1:3]:
        (cf,) = d.recourse["counterfactuals"][:1]
        assert d.recourse["found"] and cf["verified"] and cf["outcome"] == "good"
        assert [c["feature"] for c in cf["changes"]] == ["amount"] and float(cf["changes"][0]["to"]) <= 1500
    record = run.record
    assert record["decisions_searched"] == 2 and record["decisions_with_recourse"] == 2
    assert record["immutable"] == ["age", "duration"]
    assert (record["directions"], record["bounds"], record["costs"]) == ({"amount": "decrease"}, {"amount": [500.0, 5000.0]},
                                                                        {"amount": 2.0})
    assert record["model_rows"] == sum(d.recourse["evaluations"] for d in out[1:3]) > 0
    assert record["consistency"] == {"shap": {"share": 1.0, "decisions": 2}, "lime": {"share": 0.0, "decisions": 2}}
    assert [c.name for c in new_gate.checks] == ["recourse_consistency:shap", "recourse_consistency:lime"]
    assert new_gate.passed  # a low consistency is a finding, never blocking
    assert run.search.rules.weight.tolist() == [2.0, 1.0, 1.0, 1.0]
