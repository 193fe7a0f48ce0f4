"""What the generated allow-list admits, and the checks each new admission comes with.

Expectations come from DESIGN.md's security model: exact pairs from sklearn/numpy/scipy only, real
classes (functions only scikit-learn's validation functions), ``functools.partial`` only around those
with plain-data arguments, never called while loading, and state validation before prediction.
"""

from __future__ import annotations

import copy
import functools
import pickle
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.utils.validation import check_array

from audit.errors import ModelError, UnsafeModelError
from audit.loading import _allowlist, load_model
from audit.loading._allowlist import NEVER, allowed_pairs, describe, is_allowed, reference_functions
from audit.loading._validate import validate_model

RNG = np.random.default_rng(0)
X = np.abs(RNG.normal(size=(60, 3)))
Y = (X[:, 0] > 0.8).astype(int)


class Raw:
    """Pickles as exactly the reduce tuple it is given (how an attacker writes a pickle)."""

    def __init__(self, *reduce: object) -> None:
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


def _pkl(obj: object, path: Path) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=4))
    return path


def _transformer_with(func: object):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(func), LogisticRegression()).fit(X, Y)


# --- the derivation ----------------------------------------------------------------------------------

def test_every_derived_pair_is_an_exact_sklearn_numpy_or_scipy_name():
    import sys

    derived = _allowlist._derived()
    for source in ("estimators", "helpers", "functions"):
        for module, name in derived[source]:
            assert module.startswith(("sklearn.", "numpy.", "scipy.")), (module, name)
            assert "." not in name and not name.startswith("__"), (module, name)
            obj = getattr(sys.modules[module], name)
            assert isinstance(obj, type) is (source != "functions"), (module, name)
    assert derived["functions"] == reference_functions()
    assert ("sklearn.utils.validation", "check_array") in derived["functions"]
    assert not (allowed_pairs() & NEVER) and not is_allowed("functools", "partial")
    counts = describe()
    assert counts["estimators"] == len(derived["estimators"]) > 150


def test_the_issue_names_are_admitted_exactly():
    for pair in [("sklearn.compose._column_transformer", "make_column_selector"),
                 ("sklearn.calibration", "_CalibratedClassifier"), ("sklearn.calibration", "_SigmoidCalibration"),
                 ("scipy.interpolate._bsplines", "BSpline"),
                 ("sklearn.ensemble._hist_gradient_boosting.binning", "_BinMapper")]:
        assert is_allowed(*pair), pair
    assert not is_allowed("sklearn.compose", "make_column_selector")  # the public path is not what pickle writes
    assert not is_allowed("scipy.interpolate", "CubicSpline")


def test_an_object_that_does_not_resolve_to_itself_is_not_derived():
    class Impostor:
        pass

    Impostor.__module__, Impostor.__qualname__ = "sklearn.linear_model", "LogisticRegression"
    assert _allowlist._pickled_as(Impostor) is None  # the module holds a different object under that name
    assert _allowlist._pickled_as(check_array) is None  # a function, not asked for as one
    assert _allowlist._pickled_as(check_array, function=True) == ("sklearn.utils.validation", "check_array")
    assert _allowlist._pickled_as(functools.partial) is None  # outside sklearn/numpy/scipy
    assert _allowlist._pickled_as(np.random.RandomState.__init__, function=True) is None  # dunder


# --- functools.partial and reference-only functions ----------------------------------------------------

def test_a_partial_of_check_array_with_plain_arguments_loads(tmp_path):
    model = _transformer_with(functools.partial(check_array, dtype=[np.float64], ensure_all_finite=False))
    for suffix in (".pkl", ".skops"):
        path = tmp_path / f"m{suffix}"
        _pkl(model, path) if suffix == ".pkl" else sio.dump(model, path)
        loaded = load_model(path)
        np.testing.assert_array_equal(loaded.obj.predict_proba(X[:5]), model.predict_proba(X[:5]))


@pytest.mark.parametrize("partial", [
    functools.partial(np.log1p),  # an allowed ufunc, but not a reference-only function
    functools.partial(check_array, np.ones(3)),  # an array is not plain data
    functools.partial(check_array, dtype=np.log1p),  # a function is not plain data
    functools.partial(check_array, dtype="U100000000"),  # plain, but every row would become 400 MB
], ids=["ufunc", "array-arg", "function-kwarg", "wide-dtype"])
def test_a_partial_outside_the_rule_is_refused_in_pickle_and_skops(tmp_path, partial):
    model = _transformer_with(np.log1p)
    model[0].func = partial
    for suffix in (".pkl", ".skops"):
        path = tmp_path / f"m{suffix}"
        _pkl(model, path) if suffix == ".pkl" else sio.dump(model, path)
        with pytest.raises(UnsafeModelError, match="partial"):
            load_model(path)


def test_a_partial_whose_state_swaps_the_function_is_refused(tmp_path):
    """The partial is built around check_array, then BUILD sets state naming another function."""
    evil = Raw(functools.partial, (check_array,), (np.exp, (), {}, None))
    with pytest.raises(UnsafeModelError, match="partial"):
        load_model(_pkl({"f": evil}, tmp_path / "m.pkl"))
    attrs = Raw(functools.partial, (check_array,), (check_array, (), {}, {"extra": 1}))
    with pytest.raises(UnsafeModelError, match="attributes"):
        load_model(_pkl({"f": attrs}, tmp_path / "m.pkl"))


def test_reference_only_functions_and_partials_are_never_called_while_loading(tmp_path):
    with pytest.raises(UnsafeModelError, match="only be held"):
        load_model(_pkl(Raw(check_array, ([[1.0]],)), tmp_path / "m.pkl"))
    with pytest.raises(UnsafeModelError, match="only be held"):
        load_model(_pkl(Raw(functools.partial(check_array), ([[1.0]],)), tmp_path / "m.pkl"))


def test_a_partial_of_a_refused_function_reports_that_function(tmp_path):
    import os

    with pytest.raises(UnsafeModelError, match="system"):
        load_model(_pkl(functools.partial(os.system, "true"), tmp_path / "m.pkl"))


# --- state validation of the new helpers -----------------------------------------------------------------

def _spline_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    return make_pipeline(SplineTransformer(), LogisticRegression()).fit(X, Y)


@pytest.mark.parametrize("mutate,needle", [
    (lambda b: setattr(b, "_asarray", np.exp), "_asarray"),
    (lambda b: setattr(b, "_t", b._t[::-1].copy()), "non-decreasing"),
    (lambda b: setattr(b, "_c", b._c[:2].copy()), "coefficient rows"),
    (lambda b: setattr(b, "k", 10**6), "degree"),
], ids=["asarray-swapped", "knots-decreasing", "too-few-coefficients", "huge-degree"])
def test_a_damaged_bspline_is_refused(mutate, needle):
    model = copy.deepcopy(_spline_model())
    mutate(model[0].bsplines_[0])
    with pytest.raises(UnsafeModelError, match=needle):
        validate_model(model, Path("m.pkl"))


def test_spline_transformer_needs_one_spline_per_feature():
    model = copy.deepcopy(_spline_model())
    model[0].bsplines_ = model[0].bsplines_[:1]
    with pytest.raises(UnsafeModelError, match="one BSpline per input feature"):
        validate_model(model, Path("m.pkl"))


def _calibrated(method: str = "sigmoid"):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    return CalibratedClassifierCV(LogisticRegression(), method=method, cv=2).fit(X, Y)


def test_calibrators_are_checked():
    from sklearn.linear_model import LogisticRegression

    model = copy.deepcopy(_calibrated())
    model.calibrated_classifiers_[0].calibrators[0].a_ = np.float64(np.nan)
    with pytest.raises(UnsafeModelError, match="finite"):
        validate_model(model, Path("m.pkl"))
    model = copy.deepcopy(_calibrated("isotonic"))
    model.calibrated_classifiers_[0].calibrators = [LogisticRegression()] * 3
    with pytest.raises(UnsafeModelError, match="calibrators"):
        validate_model(model, Path("m.pkl"))


def test_a_column_selector_holds_a_pattern_and_dtypes_only():
    from sklearn.compose import make_column_selector

    sel = make_column_selector(dtype_include=np.log1p)
    with pytest.raises(UnsafeModelError, match="dtype_include"):
        validate_model([sel], Path("m.pkl"))


def test_gradient_boosting_stages_match_the_estimator():
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    model = GradientBoostingClassifier(n_estimators=3, random_state=0).fit(X, Y)
    bad = copy.deepcopy(model)
    bad.estimators_ = np.concatenate([bad.estimators_, bad.estimators_], axis=1)  # two columns, one tree per stage
    with pytest.raises(UnsafeModelError, match="estimators_"):
        validate_model(bad, Path("m.pkl"))
    narrow = GradientBoostingRegressor(n_estimators=3, random_state=0).fit(X[:, :1], X[:, 1])
    bad = copy.deepcopy(model)
    bad.estimators_[0, 0] = narrow.estimators_[0, 0]  # a tree over 1 feature where 3 are read
    with pytest.raises(UnsafeModelError, match="estimators_"):
        validate_model(bad, Path("m.pkl"))


def test_bin_mapper_categories_fit_the_bitsets():
    from sklearn.ensemble import HistGradientBoostingClassifier

    Xc = np.c_[X, RNG.integers(0, 4, size=len(X))]
    model = HistGradientBoostingClassifier(max_iter=3, categorical_features=[3]).fit(Xc, Y)
    validate_model(model, Path("m.pkl"))
    bad = copy.deepcopy(model)
    cat = int(np.flatnonzero(bad._bin_mapper.is_categorical_)[0])  # categorical features come first
    bad._bin_mapper.bin_thresholds_[cat] = np.array([0.0, 1.0, 10_000.0])
    with pytest.raises(UnsafeModelError, match="0..255"):
        validate_model(bad, Path("m.pkl"))


def test_cluster_centres_and_thread_counts_are_checked():
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    bad = copy.deepcopy(km)
    bad.cluster_centers_ = bad.cluster_centers_[:, :1].copy()
    with pytest.raises(UnsafeModelError, match="cluster_centers_"):
        validate_model(bad, Path("m.pkl"))
    bad = copy.deepcopy(km)
    bad._n_threads = 10**9
    with pytest.raises(UnsafeModelError, match="_n_threads"):
        validate_model(bad, Path("m.pkl"))


def test_a_clusterer_loads_but_is_not_a_model_to_audit(tmp_path):
    from sklearn.cluster import KMeans

    path = _pkl(KMeans(n_clusters=2, n_init=1, random_state=0).fit(X), tmp_path / "m.pkl")
    with pytest.raises(ModelError, match="a clusterer; the audit explains classifiers and regressors"):
        load_model(path)
