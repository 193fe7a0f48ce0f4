"""Sign conventions that decide every principal reason: class 0 and ``favorable_class`` flips.

Expected values come from scikit-learn itself (``coef_``, ``decision_function``, ``predict_proba``)
and from a hand-written ranking, never from the explainer or ``audit.measures.decisions`` output.
"""

from __future__ import annotations

import numpy as np
import pytest

from audit.adapters._base import ClassView
from audit.measures.decisions import decisions, favorable_class, primary_explainer, principal_reasons
from audit.results import ExplanationResult
from audit.types import Attribution, Dataset, FeatureSpace
from explainers.coefficients import Coefficients
from explainers.tree_path import TreePath
from tests.families import FAMILIES, materialise

BY_NAME = {f.name: f for f in FAMILIES}


@pytest.fixture(scope="module")
def logreg(credit, tmp_path_factory):
    return materialise(BY_NAME["logistic_regression"], credit, tmp_path_factory.mktemp("lr"))


# --- the shared base: ClassView.binary_sign ---------------------------------------------------------

@pytest.mark.parametrize("task,index,sign", [("binary", 0, -1.0), ("binary", 1, 1.0), ("multiclass", 0, 1.0),
                                             ("regression", None, 1.0)])
def test_binary_sign_negates_only_class_0_of_a_binary_model(task, index, sign):
    """Fails if the negation applies to multiclass class 0 or to class 1 (every reason would reverse)."""
    view = ClassView()
    view.task, view.classes, view.class_index = task, (0, 1), index
    assert view.binary_sign == sign


# --- explainers under class 0 ---------------------------------------------------------------------

def test_coefficients_for_class_0_are_the_negated_class_1_attribution(logreg):
    """Explaining 'bad' (class 0) of a binary logistic regression: the margin of 'bad' is
    -decision_function, so each contribution is -coef * (x - mean). Fails on a missing or doubled sign."""
    model, ds, adapter, *_ = logreg
    X, bg = ds.X[:30], ds.X[100:300]
    bad = adapter.for_class(0)
    assert bad.explained_class == adapter.classes[0]
    a = Coefficients().explain(bad, X, background=bg, seed=0)
    np.testing.assert_allclose(a.values, -model.coef_[0] * (X - bg.mean(0)), rtol=0, atol=1e-9)
    margin_bad = -model.decision_function(ds.frame(np.arange(30)))
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, margin_bad, rtol=0, atol=1e-9)


def test_tree_path_boosting_for_class_0_adds_up_to_the_negated_margin(credit, tmp_path):
    """Gradient boosting keeps one margin for two classes; class 0's contributions must add up to
    -decision_function (fails if values or base are not negated, or only one of them is)."""
    model, ds, adapter, *_ = materialise(BY_NAME["gradient_boosting"], credit, tmp_path)
    X = ds.X[:25]
    margin = model.decision_function(ds.frame(np.arange(25)))
    good = TreePath().explain(adapter.for_class(1), X, background=ds.X[:50], seed=0)
    bad = TreePath().explain(adapter.for_class(0), X, background=ds.X[:50], seed=0)
    np.testing.assert_allclose(good.values.sum(1) + good.base_values, margin, rtol=0, atol=1e-8)
    np.testing.assert_allclose(bad.values.sum(1) + bad.base_values, -margin, rtol=0, atol=1e-8)
    np.testing.assert_allclose(bad.values, -good.values, rtol=0, atol=1e-12)


def test_tree_path_forest_for_class_0_adds_up_to_its_probability(credit, tmp_path):
    """A forest explains probabilities per class: class 0's contributions add up to P(bad), and are the
    negation of class 1's (P(bad) = 1 - P(good))."""
    model, ds, adapter, *_ = materialise(BY_NAME["random_forest"], credit, tmp_path)
    X = ds.X[:25]
    proba = model.predict_proba(ds.frame(np.arange(25)))
    bad = TreePath().explain(adapter.for_class(0), X, background=ds.X[:50], seed=0)
    good = TreePath().explain(adapter.for_class(1), X, background=ds.X[:50], seed=0)
    np.testing.assert_allclose(bad.values.sum(1) + bad.base_values, proba[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(bad.values, -good.values, rtol=0, atol=1e-9)


# --- decisions under both explained classes and a configured favourable class -----------------------

def _expected_reasons(contrib_good: np.ndarray, adverse: bool, k: int = 4) -> list[int]:
    """Hand ranking: adverse -> most negative contributions to 'good' first; favourable -> most positive."""
    sign = -1.0 if adverse else 1.0
    pushed = [(sign * c, j) for j, c in enumerate(contrib_good) if sign * c > 0]
    return [j for _, j in sorted(pushed, key=lambda t: -t[0])][:k]


@pytest.mark.parametrize("explained", [0, 1])
def test_reasons_are_the_same_whichever_class_is_explained(logreg, explained):
    """The reasons for a declined applicant are what pushed *approval* down, whether the audit explains
    'good' or 'bad'. Fails if decisions ignore the explained class (reasons reverse under class 0)."""
    model, ds, adapter, *_ = logreg
    rows = np.arange(40)
    bg = ds.X[100:300]
    view = adapter.for_class(explained)
    a = Coefficients().explain(view, ds.X[rows], background=bg, seed=0)
    labels = np.asarray(model.predict(ds.frame(np.arange(ds.n_rows))), dtype=object)[rows]
    score = np.zeros(ds.n_rows)
    good = adapter.classes[1]
    out = decisions(ds, rows, score, labels, view, good, "coefficients", {"coefficients": a}, max_reasons=4)
    contrib_good = model.coef_[0] * (ds.X[rows] - bg.mean(0))
    assert {d.adverse for d in out} == {True, False}  # both kinds of row are exercised
    for i, d in enumerate(out):
        assert d.adverse == (str(labels[i]) != str(good))
        want = [ds.feature_names[j] for j in _expected_reasons(contrib_good[i], d.adverse)]
        assert [r["feature"] for r in d.reasons] == want, f"row {i}"


def test_a_configured_favourable_class_0_reverses_which_rows_are_adverse_and_their_reasons(logreg):
    """favorable_class = 'bad' (e.g. a fraud model where class 0 is the approval): rows labelled 'good'
    are the adverse ones, and their reasons are what pushed P(bad) down, i.e. pushed 'good' up."""
    model, ds, adapter, *_ = logreg
    rows = np.arange(40)
    bg = ds.X[100:300]
    bad, good = adapter.classes
    assert favorable_class(adapter, str(bad)) == bad
    a = Coefficients().explain(adapter, ds.X[rows], background=bg, seed=0)  # explains 'good'
    labels = np.asarray(model.predict(ds.frame(rows)), dtype=object)
    out = decisions(ds, rows, np.zeros(ds.n_rows), labels, adapter, bad, "coefficients", {"coefficients": a},
                    max_reasons=3)
    contrib_bad = -model.coef_[0] * (ds.X[rows] - bg.mean(0))
    for i, d in enumerate(out):
        assert d.adverse == (labels[i] == good)
        want = [ds.feature_names[j] for j in _expected_reasons(contrib_bad[i], d.adverse, k=3)]
        assert [r["feature"] for r in d.reasons] == want


# --- decisions on small arrays ----------------------------------------------------------------------

class _Adapter:
    def __init__(self, classes, task, class_index):
        self.classes, self.task, self.class_index = classes, task, class_index

    @property
    def explained_class(self):
        return None if self.classes is None or self.class_index is None else self.classes[self.class_index]


def _ds(X, categorical=()):
    space = FeatureSpace(("income", "debt", "region"), categories={c: ("north", "south") for c in categorical},
                         as_frame=False)
    return Dataset("d.csv", "0" * 64, np.asarray(X, dtype=float), space)


def test_multiclass_and_regression_reasons_are_the_largest_by_size_per_row():
    """No favourable class: the largest |contribution| first, for *this* row (fails if rows are mixed up
    or the direction filter drops negative contributions)."""
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    values = np.array([[0.1, -3.0, 2.0], [5.0, 0.2, -0.1], [0.0, 0.0, 0.0]])
    attr = Attribution(values[[2, 0]], np.zeros(2), ("income", "debt", "region"), "m", "approximate")
    adapter = _Adapter(("a", "b", "c"), "multiclass", 1)
    labels = np.array(["a", "b", "c"], dtype=object)
    out = decisions(_ds(X), np.array([2, 0]), np.array([0.1, 0.2, 0.3]), labels, adapter, None, "m", {"m": attr},
                    max_reasons=2)
    assert [d.row for d in out] == [3, 1] and [d.outcome for d in out] == ["c", "a"]
    assert [d.prediction for d in out] == [0.3, 0.1]
    assert not out[0].adverse and not out[1].adverse
    assert [r["feature"] for r in out[1].reasons] == ["debt", "region"]
    assert [r["contribution"] for r in out[1].reasons] == [-3.0, 2.0]
    assert out[1].values == {"income": "1", "debt": "2", "region": "3"}


def test_above_typical_compares_with_the_median_and_is_none_for_categories_and_missing():
    X = np.array([[1.0, 10.0, 0.0], [2.0, np.nan, 1.0], [3.0, 30.0, 1.0]])
    values = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    attr = Attribution(values, np.zeros(3), ("income", "debt", "region"), "m", "approximate")
    out = decisions(_ds(X, categorical=("region",)), np.arange(3), np.zeros(3), np.array(["x"] * 3, dtype=object),
                    _Adapter(None, "regression", None), None, "m", {"m": attr}, max_reasons=3)
    flags = [{r["feature"]: r["above_typical"] for r in d.reasons} for d in out]
    # medians: income 2, debt 20 (NaN ignored)
    assert flags[0] == {"income": False, "debt": False, "region": None}
    assert flags[1] == {"income": False, "debt": None, "region": None}
    assert flags[2] == {"income": True, "debt": True, "region": None}
    assert out[0].values["region"] == "north" and out[1].values["region"] == "south"


def test_reasons_from_every_method_and_the_rules_are_attached_to_their_row():
    X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    a = Attribution(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), np.zeros(2), ("income", "debt", "region"), "a",
                    "approximate")
    b = Attribution(np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]), np.zeros(2), ("income", "debt", "region"), "b",
                    "intrinsic", rules=("income <= 2", "income > 2"))
    out = decisions(_ds(X), np.arange(2), np.zeros(2), np.array(["x", "y"], dtype=object),
                    _Adapter(None, "regression", None), None, "a", {"a": a, "b": b}, max_reasons=1)
    assert [d.rule for d in out] == ["income <= 2", "income > 2"]
    assert [d.reasons[0]["feature"] for d in out] == ["income", "region"]
    assert [d.reasons_by_method["b"][0]["feature"] for d in out] == ["debt", "debt"]
    assert decisions(_ds(X), np.arange(2), np.zeros(2), np.array(["x", "y"], dtype=object),
                     _Adapter(None, "regression", None), None, "missing", {"a": a}, max_reasons=1) == []


def test_principal_reasons_excludes_zero_and_keeps_ties_in_column_order():
    """Fails if ``> 0`` becomes ``>= 0`` (a feature that did not move the score would be a reason), if
    the sort is not stable, or if ``max_reasons`` is not applied."""
    contrib = np.array([-1.0, 0.0, -1.0, -3.0, 2.0])
    assert principal_reasons(contrib, max_reasons=4, direction=-1.0) == [3, 0, 2]
    assert principal_reasons(contrib, max_reasons=1, direction=-1.0) == [3]
    assert principal_reasons(contrib, max_reasons=4, direction=1.0) == [4]
    assert principal_reasons(np.zeros(3), max_reasons=4, direction=1.0) == []
    assert principal_reasons(contrib, max_reasons=3, direction=None) == [3, 4, 0]


def test_favourable_class_defaults():
    """Only binary models get a default favourable class (the last); regression has none."""
    assert favorable_class(_Adapter(None, "regression", None), "good") is None
    assert favorable_class(_Adapter(("n", "y"), "binary", 1), None) == "y"
    assert favorable_class(_Adapter(("a", "b", "c"), "multiclass", 2), "b") == "b"


def _result(method, score, kind="approximate"):
    return ExplanationResult(method, kind, 1, 0.0, {}, {}, score, (score, score), {}, "score")


def test_primary_explainer_prefers_a_passing_nan_free_intrinsic_method():
    """A NaN score sorts below any real one (fails if the NaN guard is inverted or its floor raised)."""
    assert primary_explainer([_result("a", float("nan"), "intrinsic"), _result("b", -0.5)], ["a", "b"]) == "b"
    assert primary_explainer([_result("a", -1.0), _result("b", float("nan"))], ["a", "b"]) == "a"
    assert primary_explainer([_result("a", 0.5), _result("b", 0.5, "intrinsic")], ["a"]) == "a"
