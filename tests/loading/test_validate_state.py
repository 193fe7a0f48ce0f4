"""The structural validation of a loaded model (``audit/loading/_validate.py``), in this process: fitted models of
every family with a compiled predictor, their state tampered one field at a time, each refusal naming its field,
and limits tried at their boundary (issue #28: the hostile corpus runs these checks in child processes, where a
mutation run cannot see them, and covers only a few of them)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from audit.errors import ModelError, UnsafeModelError
from audit.loading._validate import validate_model
from tests.security.hostile import _with_tree_state
from tests.security.models import X, Y, families

P = "m.pkl"


@pytest.fixture(scope="module")
def fam():
    return families()


def _refused(obj, field):
    with pytest.raises(UnsafeModelError, match=f"model m.pkl: refused after loading: .*field '{field}'"):
        validate_model(obj, P)


def test_every_family_as_fitted_passes(fam):
    for est in fam.values():
        validate_model(est, P)


def _set(field, index, value):
    def mutate(state):
        state["nodes"][field][index] = value
    return mutate


@pytest.mark.parametrize("node_field,value,field", [
    ("left_child", "node_count", "nodes.left_child/right_child"),  # exactly one past the last node
    ("left_child", 0, "nodes.left_child/right_child"),  # the root its own child
    ("feature", -1, "nodes.feature"),
    ("threshold", np.nan, "nodes.threshold"),
])
def test_tree_nodes_are_checked(fam, node_field, value, field):
    est = fam["tree"]
    value = est.tree_.node_count if value == "node_count" else value
    _refused(_with_tree_state("tree", _set(node_field, 0, value)), field)


def test_tree_features_children_and_depth_at_their_boundaries(fam):
    est = fam["tree"]
    n_features = est.tree_.n_features
    _refused(_with_tree_state("tree", _set("feature", 0, n_features)), "nodes.feature")
    validate_model(_with_tree_state("tree", _set("feature", 0, n_features - 1)), P)

    def one_sided(state):
        leaf = int(np.flatnonzero(state["nodes"]["left_child"] == -1)[0])
        state["nodes"]["right_child"][leaf] = state["node_count"] - 1

    _refused(_with_tree_state("tree", one_sided), "nodes.right_child")

    def two_parents(state):
        state["nodes"]["right_child"][0] = state["nodes"]["left_child"][0]

    with pytest.raises(UnsafeModelError, match="two parents or none"):
        validate_model(_with_tree_state("tree", two_parents), P)
    deep = copy.deepcopy(est)
    state = deep.tree_.__getstate__()
    for depth, ok in ((state["node_count"], True), (state["node_count"] + 1, False)):
        bad = _with_tree_state("tree", lambda s, d=depth: s.__setitem__("max_depth", d))
        if ok:
            validate_model(bad, P)
        else:
            _refused(bad, "max_depth")


def test_a_tree_must_match_its_estimator(fam):
    est = copy.deepcopy(fam["tree"])
    est.n_features_in_ = est.n_features_in_ - 1
    _refused(est, "n_features")
    est = copy.deepcopy(fam["tree"])
    est.classes_ = np.array([0, 1, 2])
    _refused(est, "classes_")


def test_estimator_state_may_not_replace_methods_or_hold_functions(fam):
    est = copy.deepcopy(fam["pipeline"])
    est.__dict__["predict"] = np.exp
    with pytest.raises(UnsafeModelError, match="overrides the Pipeline.predict method or property"):
        validate_model(est, P)
    for key in ("weights_", "_hook"):
        est = copy.deepcopy(fam["tree"])
        est.__dict__[key] = np.exp
        with pytest.raises(UnsafeModelError, match=f"field '{key}' holds the function exp where fitted data belongs"):
            validate_model(est, P)
    est = copy.deepcopy(fam["tree"])
    est.__dict__["note"] = np.exp  # neither fitted nor private: a parameter-like name may hold a function
    validate_model(est, P)
    est.__dict__[1] = 2
    _refused(est, "1")


@pytest.mark.parametrize("value,ok", [(0, False), (1, True), (4096, True), (4097, False), (2.0, False), (True, False)])
def test_a_stored_thread_count_is_a_small_positive_integer(fam, value, ok):
    est = copy.deepcopy(fam["tree"])
    est._n_threads = value
    if ok:
        validate_model(est, P)
    else:
        _refused(est, "_n_threads")


def test_cluster_centres_have_the_input_s_width():
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    validate_model(km, P)
    bad = copy.deepcopy(km)
    bad.cluster_centers_ = km.cluster_centers_[:, :-1]
    _refused(bad, "cluster_centers_")
    bad.cluster_centers_ = km.cluster_centers_[0]
    _refused(bad, "cluster_centers_")


def test_an_unfitted_estimator_is_a_model_error():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ModelError, match="the LogisticRegression in it is not fitted"):
        validate_model(LogisticRegression(), P)


def test_the_walk_is_bounded_in_depth():
    nested = leaf = []
    for _ in range(200):
        inner = []
        leaf.append(inner)
        leaf = inner
    validate_model(nested, P)  # the innermost list at depth 200: the limit
    leaf.append([])
    with pytest.raises(UnsafeModelError, match="the object graph is too large or too deep"):
        validate_model(nested, P)


# --- HistGradientBoosting -----------------------------------------------------------------------------------


def _hgb_root(est, field, value):
    est = copy.deepcopy(est)
    est._predictors[0][0].nodes[field][0] = value
    return est


def test_hgb_node_records_are_checked(fam):
    est = fam["hgb"]
    n_nodes, n_features = len(est._predictors[0][0].nodes), est.n_features_in_
    _refused(_hgb_root(est, "left", n_nodes), "nodes.left/right")
    _refused(_hgb_root(est, "feature_idx", n_features), "nodes.feature_idx")
    _refused(_hgb_root(est, "feature_idx", -1), "nodes.feature_idx")
    validate_model(_hgb_root(est, "feature_idx", n_features - 1), P)
    bad = _hgb_root(est, "is_categorical", 1)
    _refused(bad, "nodes.bitset_idx")  # no categorical bitsets exist in this model
    bad = copy.deepcopy(est)
    bad._predictors[0] = []
    _refused(bad, "_predictors\\[0\\]")
    bad._predictors = ([],)
    _refused(bad, "_predictors")
    bad = copy.deepcopy(est)
    bad._bin_mapper.is_categorical_ = np.zeros(n_features + 1, dtype=np.uint8)
    _refused(bad, "_bin_mapper.is_categorical_")
    bad = copy.deepcopy(est)
    bad._predictors[0][0].binned_left_cat_bitsets = np.zeros((1, 7), dtype=np.uint32)
    _refused(bad, "binned_left_cat_bitsets")


@pytest.fixture(scope="module")
def hgb_cat():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(1)
    Z = np.c_[X[:, :3], rng.integers(0, 4, size=len(X))]
    y = np.isin(Z[:, 3], (0, 2)).astype(int)  # a split by category, not by order
    return HistGradientBoostingClassifier(categorical_features=[3], max_iter=5, random_state=0).fit(Z, y)


def test_hgb_categorical_splits_and_known_categories(hgb_cat):
    validate_model(hgb_cat, P)
    est = copy.deepcopy(hgb_cat)
    nodes = next(p.nodes for row in est._predictors for p in row
                 if (p.nodes["is_categorical"] & ~p.nodes["is_leaf"].astype(bool)).any())
    cat_node = int(np.flatnonzero(nodes["is_categorical"] & ~nodes["is_leaf"].astype(bool))[0])
    # the binned features put the categorical one first (is_categorical_ says where it went)
    (where,) = np.flatnonzero(est._bin_mapper.is_categorical_)
    nodes["feature_idx"][cat_node] = (where + 1) % est.n_features_in_  # a numeric feature split by category
    _refused(est, "nodes.is_categorical")
    for value, ok in ((255.0, True), (256.0, False), (-1.0, False), (np.nan, False)):
        est = copy.deepcopy(hgb_cat)
        est._bin_mapper.bin_thresholds_[where] = np.array([0.0, value])
        if ok:
            validate_model(est, P)
        else:
            _refused(est, f"bin_thresholds_\\[{where}\\]")
    est = copy.deepcopy(hgb_cat)
    est._bin_mapper.bin_thresholds_ = est._bin_mapper.bin_thresholds_[:-1]
    _refused(est, "bin_thresholds_")


# --- neighbours and their binary trees ----------------------------------------------------------------------


def _binary_tree(est, index, value):
    est = copy.deepcopy(est)
    state = list(est._tree.__getstate__())
    state[index] = value(state[index]) if callable(value) else value
    est._tree.__setstate__(tuple(state))
    return est


def test_kd_and_ball_trees_are_checked(fam):
    for name in ("knn_kd", "knn_ball"):
        est = fam[name]
        n = est.n_samples_fit_

        def at(i, v):
            return lambda a: np.concatenate([[v], np.asarray(a)[1:]]).astype(np.asarray(a).dtype)

        _refused(_binary_tree(est, 1, at(0, n)), "idx_array")
        _refused(_binary_tree(est, 1, at(0, -1)), "idx_array")
        _refused(_binary_tree(est, 4, 0), "leaf_size")
        _refused(_binary_tree(est, 5, est._tree.__getstate__()[5] + 1), "n_levels")
        _refused(_binary_tree(est, 3, lambda b: np.ascontiguousarray(np.asarray(b)[:, :-1])), "node_bounds")

        def end_past(nd, n=n):
            nd = np.array(nd, copy=True)
            nd["idx_end"][0] = n + 1
            return nd

        _refused(_binary_tree(est, 2, end_past), "node_data")


def test_fitted_neighbours_must_describe_their_data(fam):
    est = copy.deepcopy(fam["knn_kd"])
    est._fit_method = "magic"
    _refused(est, "_fit_method")
    est = copy.deepcopy(fam["knn_kd"])
    est.n_samples_fit_ += 1
    _refused(est, "_fit_X")
    est = copy.deepcopy(fam["knn_kd"])
    est._y = est._y[:-1]
    _refused(est, "_y")
    est = copy.deepcopy(fam["knn_kd"])
    est._tree = None
    _refused(est, "_tree")
    brute = copy.deepcopy(fam["knn_brute"])
    brute._tree = None  # brute force keeps no tree
    validate_model(brute, P)


# --- libsvm -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field,change", [
    ("support_", lambda e: e.support_[:-1]),
    ("support_vectors_", None),
    ("_n_support", lambda e: e._n_support.astype(float)),
    ("_n_support", lambda e: e._n_support - e._n_support.max() - 1),
    ("_n_support", lambda e: e._n_support + np.array([1, 0, 0], dtype=e._n_support.dtype)),
    ("classes_", lambda e: e.classes_[:2]),
    ("_dual_coef_", lambda e: e._dual_coef_[:, :-1]),
    ("_intercept_", lambda e: e._intercept_[:-1]),
    ("_probA", lambda e: np.ones(2)),
    ("_probB", lambda e: np.ones(4)),
])
def test_libsvm_state_sizes_must_agree(fam, field, change):
    est = copy.deepcopy(fam["svc"])
    if change is None:
        est.n_features_in_ = est.n_features_in_ + 1
    else:
        setattr(est, field, change(est))
    _refused(est, field)


def test_libsvm_probabilities_may_be_absent_or_one_per_pair(fam):
    est = copy.deepcopy(fam["svc"])
    est._probA, est._probB = np.ones(3), np.array([])
    validate_model(est, P)
    validate_model(fam["svr"], P)


# --- gradient boosting, splines, calibration, column selectors ------------------------------------------------


def test_gradient_boosting_stages_are_trees_over_the_inputs(fam):
    from sklearn.tree import DecisionTreeRegressor

    est = copy.deepcopy(fam["gbm"])
    est.estimators_ = est.estimators_[:, :0]
    _refused(est, "estimators_")
    est = copy.deepcopy(fam["gbm"])
    est.estimators_[0, 0] = DecisionTreeRegressor(max_depth=1).fit(X[:, :3], Y)
    _refused(est, "estimators_\\[0, 0\\]")
    est = copy.deepcopy(fam["gbm"])
    est.n_trees_per_iteration_ = 0
    _refused(est, "n_trees_per_iteration_")


@pytest.fixture(scope="module")
def splines():
    from sklearn.preprocessing import SplineTransformer

    return SplineTransformer(n_knots=4, degree=3).fit(X[:, :2])


@pytest.mark.parametrize("field,state", [
    ("k", {"k": 65}), ("k", {"k": True}), ("k", {"k": -1}),
    ("t", {"_t": None}), ("t", {"_t": "reverse"}), ("t", {"_t": "few"}), ("t", {"_t": "nan"}),
    ("c", {"_c": "short"}), ("c", {"_c": "int"}),
    ("extrapolate", {"extrapolate": "yes"}), ("axis", {"axis": 2}), ("axis", {"axis": -1}),
])
def test_spline_state_is_what_bspline_would_build(splines, field, state):
    est = copy.deepcopy(splines)
    b = est.bsplines_[0]
    key, value = next(iter(state.items()))
    t, c = vars(b)["_t"], vars(b)["_c"]
    value = {"reverse": t[::-1].copy(), "few": t[: int(b.k) + 1].copy(), "nan": np.r_[t[:-1], np.nan],
             "short": c[:2].copy(), "int": c.astype(np.int64)}.get(value, value) if isinstance(value, str) else value
    vars(b)[key] = value
    _refused(est, field)


def test_splines_at_their_limits_pass_and_one_per_input_is_required(splines):
    est = copy.deepcopy(splines)
    vars(est.bsplines_[0])["extrapolate"] = "periodic"
    validate_model(est, P)
    est.bsplines_ = est.bsplines_[:1]
    _refused(est, "bsplines_")


@pytest.fixture(scope="module")
def calibrated():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    return CalibratedClassifierCV(LogisticRegression(), cv=2).fit(X, Y)


def test_calibration_state_is_checked(calibrated):
    validate_model(calibrated, P)
    for change, field in ((lambda c: setattr(c, "method", "magic"), "method"),
                          (lambda c: setattr(c, "calibrators", []), "calibrators"),
                          (lambda c: setattr(c, "calibrators", c.calibrators * 3), "calibrators"),
                          (lambda c: setattr(c, "calibrators", [object()]), "calibrators"),
                          (lambda c: setattr(c, "estimator", object()), "estimator"),
                          (lambda c: setattr(c.calibrators[0], "a_", np.nan), "a_"),
                          (lambda c: setattr(c.calibrators[0], "b_", "1.0"), "b_")):
        est = copy.deepcopy(calibrated)
        change(est.calibrated_classifiers_[0])
        _refused(est, field)
    est = copy.deepcopy(calibrated)
    est.calibrated_classifiers_[0].calibrators = est.calibrated_classifiers_[0].calibrators * 2  # one per class
    validate_model(est, P)


def test_column_selectors_hold_patterns_and_dtypes():
    from sklearn.compose import make_column_selector

    validate_model(make_column_selector(pattern="^x", dtype_include=[np.number, "category", np.dtype("f8")]), P)
    _refused(make_column_selector(pattern=5), "pattern")
    _refused(make_column_selector(pattern="x" * 10_001), "pattern")
    _refused(make_column_selector(dtype_exclude=[len]), "dtype_exclude")
    _refused(make_column_selector(dtype_include=len), "dtype_include")


def test_a_model_with_state_past_every_check_still_predicts(fam):
    """The tampered copies above are refused; the models they came from predict as fitted."""
    assert (fam["tree"].predict(X) == Y).mean() > 0.9


# --- the walk: every container and every dtype is visited ----------------------------------------------------


OVERLAP = np.dtype({"names": ["a", "b"], "formats": ["<i4", "<i4"], "offsets": [0, 2], "itemsize": 8})


class _Holder:
    """A plain object (no estimator) whose attributes the walk must visit too."""

    def __init__(self, value):
        self.value = value


def _bad_tree(fam):
    return _with_tree_state("tree", _set("left_child", 0, 0))


@pytest.mark.parametrize("wrap", [
    lambda b: {"k": b}, lambda b: {b: 1}, lambda b: [b], lambda b: (1, b), lambda b: {b}, lambda b: frozenset([b]),
    lambda b: np.array([None, b], dtype=object), lambda b: _Holder(_Holder(b)),
])
def test_a_damaged_tree_is_found_in_any_container(fam, wrap):
    with pytest.raises(UnsafeModelError, match="nodes.left_child/right_child"):
        validate_model(wrap(_bad_tree(fam)), P)


@pytest.mark.parametrize("value", [OVERLAP, np.zeros(2, dtype=OVERLAP), np.zeros(2, dtype=OVERLAP)[0]])
def test_every_dtype_is_checked_standalone_in_arrays_and_in_scalars(value):
    with pytest.raises(UnsafeModelError, match="dtype fields overlap"):
        validate_model(_Holder(value), P)


def test_an_object_seen_twice_is_checked_once_and_scalars_are_skipped(fam):
    est = copy.deepcopy(fam["tree"])
    shared = np.arange(3.0)
    est.a_, est.b_ = shared, shared
    est.c_ = ("text", b"bytes", 1, 2.0, None, range(3), slice(1))
    validate_model(est, P)

