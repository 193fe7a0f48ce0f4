"""Principal reasons, the favourable class and the primary explainer, on small arrays with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.errors import DataError
from audit.measures.decisions import decisions, favorable_class, primary_explainer, principal_reasons
from audit.measures.directions import STEPS
from audit.results import ExplanationResult
from audit.types import Attribution, Dataset, FeatureSpace


def test_adverse_reasons_are_the_features_that_pushed_the_favourable_score_down():
    """Fails if the sign convention flips (reasons would be what pushed towards approval)."""
    contrib = np.array([0.5, -2.0, -1.0, 3.0, -0.1])
    assert principal_reasons(contrib, max_reasons=4, direction=-1.0) == [1, 2, 4]
    assert principal_reasons(contrib, max_reasons=4, direction=1.0) == [3, 0]
    assert principal_reasons(contrib, max_reasons=2, direction=None) == [3, 1]


class _Adapter:
    def __init__(self, classes, task, class_index):
        self.classes, self.task, self.class_index = classes, task, class_index

    @property
    def explained_class(self):
        return None if self.class_index is None else self.classes[self.class_index]

    def predict(self, X):
        """The explained class's score: approval rises with income and falls with debt."""
        good = 1 / (1 + np.exp(-(X[:, 0] - X[:, 1])))
        return good if self.explained_class in ("good", 1) else 1 - good


def test_favourable_class_is_configured_else_the_last_binary_class():
    assert favorable_class(_Adapter(("bad", "good"), "binary", 1), None) == "good"
    assert favorable_class(_Adapter((0, 1), "binary", 1), "0") == 0
    assert favorable_class(_Adapter((0, 1, 2), "multiclass", 0), None) is None
    with pytest.raises(DataError, match="favorable_class 'yes' is not a class"):
        favorable_class(_Adapter((0, 1), "binary", 1), "yes")


def _result(method, score, kind="approximate"):
    return ExplanationResult(method, kind, 1, 0.0, {}, {}, score, (score, score), {}, "score")


def test_primary_explainer_is_the_most_faithful_passing_one():
    results = [_result("coefficients", 0.8, "intrinsic"), _result("shap", 0.9), _result("lime", 0.95)]
    assert primary_explainer(results, ["coefficients", "shap"]) == "shap"
    assert primary_explainer(results, []) == "lime"  # none passed: the most faithful of all
    assert primary_explainer([_result("a", 0.9), _result("b", 0.9, "intrinsic")], ["a", "b"]) == "b"
    assert primary_explainer([_result("a", float("nan")), _result("b", 0.1)], ["a", "b"]) == "b"


def _dataset(X):
    space = FeatureSpace(("income", "debt"), as_frame=False)
    return Dataset("data.csv", "0" * 64, np.asarray(X, dtype=float), space)


@pytest.mark.parametrize("class_index,explained", [(1, "good"), (0, "bad")])
def test_reasons_follow_the_explained_class(class_index, explained):
    """Explaining the adverse class itself (class 0) must still list what pushed *approval* down: the
    attribution's sign is relative to the explained class, so the direction flips with it."""
    X = np.array([[1.0, 5.0], [9.0, 1.0]])
    sign = 1.0 if explained == "good" else -1.0
    # row 0 (declined): low income pushed 'good' down, debt pushed it down more
    values = sign * np.array([[-1.0, -2.0], [3.0, 0.5]])
    attr = Attribution(values, np.zeros(2), ("income", "debt"), "m", "approximate")
    adapter = _Adapter(("bad", "good"), "binary", class_index)
    out = decisions(_dataset(X), np.array([0, 1]), np.array([0.2, 0.9]), np.array(["bad", "good"], dtype=object),
                    adapter, "good", "m", {"m": attr}, max_reasons=4)
    assert out[0].adverse and [r["feature"] for r in out[0].reasons] == ["debt", "income"]
    assert not out[1].adverse and [r["feature"] for r in out[1].reasons] == ["income", "debt"]
    # the model confirms "debt too high" and "income too low" whichever class is explained (the sign flips)
    assert [(r["above_typical"], r["direction"]) for r in out[0].reasons] == [(True, "confirmed"), (False, "confirmed")]
    assert out[0].row == 1 and out[0].values == {"income": "1", "debt": "5"}
    assert all("direction" not in r for r in out[1].reasons)  # an approval's reasons make no adverse claim


def test_an_adverse_decision_without_a_numeric_claim_is_left_unverified():
    """Missing values give no "above/below typical" claim: nothing is sent to the model to verify and the
    reasons carry no direction verdict (the verification is skipped, not run on an empty set)."""
    X = np.array([[np.nan, np.nan], [9.0, 1.0]])
    attr = Attribution(np.array([[-1.0, -2.0], [3.0, 0.5]]), np.zeros(2), ("income", "debt"), "m", "approximate")
    adapter = _Adapter(("bad", "good"), "binary", 1)
    adapter.predict = lambda Z: pytest.fail("nothing to verify, yet the model was called")
    out = decisions(_dataset(X), np.array([0, 1]), np.array([0.2, 0.9]), np.array(["bad", "good"], dtype=object),
                    adapter, "good", "m", {"m": attr}, max_reasons=4, typical=np.array([5.0, 3.0]))
    assert out[0].adverse and [r["feature"] for r in out[0].reasons] == ["debt", "income"]
    assert all(r["above_typical"] is None and "direction" not in r for r in out[0].reasons)


class _InteractionAdapter:
    """Integer classes; approval = sigmoid(segment * (utilisation - 0.5) * 10 + (income - 5000) / 1000): high
    utilisation hurts in segment -1 and helps in segment +1, so a reason's direction depends on its own row.
    Records every row it is asked to score."""

    classes, task, class_index, explained_class = (0, 1), "binary", 1, 1

    def __init__(self):
        self.seen = []

    def predict(self, X):
        self.seen.append(np.array(X, dtype=float))
        return 1 / (1 + np.exp(-(X[:, 1] * (X[:, 0] - 0.5) * 10 + (X[:, 2] - 5000) / 1000)))


def test_each_adverse_reason_is_verified_on_its_own_row_within_each_columns_observed_range():
    """Two declined applicants both get "utilisation above typical" as a reason. Lowering utilisation helps
    the first (segment -1) and hurts the second (segment +1): the model confirms the first claim and
    contradicts the second. Fails if a claim were checked on another row, if the moves left a column's observed
    range (bounds taken across a row instead of down a column), or if the outcome, a reason's value or its
    word came back as something other than the plain JSON types the results carry."""
    X = np.array([[0.9, -1.0, 4000.0], [0.8, 1.0, 1000.0], [0.2, 1.0, 9000.0], [0.5, -1.0, 6000.0]])
    space = FeatureSpace(("utilisation", "segment", "income"), as_frame=False)
    ds = Dataset("data.csv", "0" * 64, X, space)
    typical = np.array([0.5, 0.0, 5000.0])
    # each declined row's attribution puts utilisation first, income second; the approved rows' push up
    values = np.array([[-3.0, 0.0, -1.0], [-3.0, 0.0, -2.0], [1.0, 0.5, 2.0], [0.1, 0.0, 1.0]])
    attr = Attribution(values, np.zeros(4), space.names, "m", "approximate")
    adapter = _InteractionAdapter()
    labels = np.array([0, 0, 1, 1])
    out = decisions(ds, np.arange(4), adapter.predict(X), labels, adapter, 1, "m", {"m": attr}, max_reasons=2,
                    typical=typical)
    assert [d.outcome for d in out] == ["0", "0", "1", "1"] and [d.adverse for d in out] == [True, True, False, False]
    first, second = out[0].reasons, out[1].reasons
    assert [(r["feature"], r["value"], r["above_typical"], r["direction"]) for r in first] == [
        ("utilisation", "0.9", True, "confirmed"), ("income", "4000", False, "confirmed")]
    assert [(r["feature"], r["value"], r["above_typical"], r["direction"]) for r in second] == [
        ("utilisation", "0.8", True, "contradicted"), ("income", "1000", False, "confirmed")]
    json.dumps([(d.row, d.prediction, d.outcome, d.reasons) for d in out])  # plain ints, bools, floats
    scored = np.vstack(adapter.seen[1:])  # the verification's call (the first call is the scores above)
    # each declined row is scored once, then moved both ways per claim: no row is sent twice
    assert len(adapter.seen) == 2 and len(scored) == 2 + 4 * 2 * len(STEPS)
    low, high = X.min(axis=0), X.max(axis=0)
    assert ((scored >= low) & (scored <= high)).all()
    assert scored[:, 0].max() == high[0] and scored[:, 2].min() == low[2]  # clipped at the observed ends
