"""Structural validation of a loaded model, before anything predicts with it.

scikit-learn's compiled predictors trust their arrays: a tree whose child index points past the
node array, a KD-tree whose index array names a row that does not exist, or a dtype whose field lies
outside the item are read out of bounds (a crash, or worse) at the first prediction, and a tree
whose node is its own child loops forever. Allow-listing the classes does not help, because the
hostile part is the *state*. So every object of the model graph is visited (iteratively, bounded)
and the state of each class with compiled code is checked against the invariants scikit-learn's own
builders guarantee:

- ``Tree``: ``node_count == capacity``; every internal node has two children with larger indices
  (so the graph is acyclic) and each node but the root has exactly one parent; features within
  ``n_features`` (and equal to the estimator's ``n_features_in_``); thresholds not NaN; values of
  shape ``(node_count, n_outputs, max_n_classes)``.
- ``TreePredictor`` (HistGradientBoosting): the same for its node records, categorical splits only
  on categorical features with a bitset that exists.
- ``KDTree``/``BallTree``: index array within the data, node ranges within the index array, a
  complete binary tree of ``2**n_levels - 1`` nodes, bounds of the right shape, metric weights of
  the data's width.
- libsvm models (SVC, SVR, ...): support counts, dual coefficients and intercepts of matching sizes.
- ``GradientBoosting*``: the stage array has one column per tree of an iteration, and every tree
  reads only the estimator's own features (its compiled predictor indexes the input with them).
- ``_BinMapper``: one threshold array per feature; known categories within the 256-bit bitsets
  that prediction builds from them.
- scipy ``BSpline`` (``SplineTransformer.bsplines_``): the invariants its constructor checks (finite,
  non-decreasing knots, enough coefficients for them, a small non-negative degree), and its array
  function is the array-API ``asarray`` on the allow-list; one spline per input feature.
- calibration (``_CalibratedClassifier``, ``_SigmoidCalibration``): calibrators of the calibration
  classes, no more of them than classes, finite sigmoid parameters.
- ``make_column_selector``: a pattern string and dtype selectors that are types, dtypes or names.
- ``functools.partial`` (anywhere in the graph): wraps a reference-only validation function with
  plain-data arguments, as the unpickler requires (skops builds partials itself).
- clusterers with compiled predictors (``KMeans`` and relatives): centres of the input's width;
  any stored thread count (``_n_threads``) is a small positive integer.
- every ``dtype`` (standalone or of an array): fields inside the item, no overlap.
- every scikit-learn estimator: its ``__dict__`` does not shadow a method or property of its class
  (``predict`` replaced by ``numpy.exp``), and fitted attributes hold data, not functions.
"""

from __future__ import annotations

import functools
import inspect
import types
from pathlib import Path
from typing import Any

import numpy as np

from audit.errors import ModelError, UnsafeModelError
from audit.loading._unpickler import Refusal, check_dtype, check_partial, is_reference_function

__all__ = ["validate_model"]

_MAX_VISITS = 5_000_000
_MAX_DEPTH = 200
_MISSING = object()
_SCALARS = (str, bytes, bytearray, int, float, bool, complex, type(None), slice, range)
_FUNCTION_LIKE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, np.ufunc)
_MAX_THREADS = 4096


def validate_model(obj: Any, path: Path) -> None:
    """Refuse (exit 2) a model whose state would crash, hang or misdirect prediction."""
    try:
        _walk(obj)
    except Refusal as exc:
        raise UnsafeModelError(f"model {path}: refused after loading: {exc}. The file is damaged or "
                               "hostile; re-save the fitted model.") from None
    from sklearn.base import BaseEstimator

    if isinstance(obj, BaseEstimator):
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(obj)
        except NotFittedError:
            raise ModelError(f"model {path}: the {type(obj).__name__} in it is not fitted. Save the model "
                             "after calling fit().") from None


def _walk(root: Any) -> None:
    from sklearn.base import BaseEstimator

    checkers = _checkers()
    seen: set[int] = set()
    todo: list[tuple[Any, int, str]] = [(root, 0, type(root).__name__)]
    visits = 0
    while todo:
        obj, depth, where = todo.pop()
        if isinstance(obj, _SCALARS) or id(obj) in seen:
            continue
        seen.add(id(obj))
        visits += 1
        if visits > _MAX_VISITS or depth > _MAX_DEPTH:
            raise Refusal(f"{where}: the object graph is too large or too deep")
        nxt = depth + 1
        if isinstance(obj, np.dtype):
            check_dtype(obj, where)
            continue
        if isinstance(obj, np.generic):
            check_dtype(obj.dtype, where)
            continue
        if isinstance(obj, np.ndarray):
            check_dtype(obj.dtype, where)
            if obj.dtype.hasobject:
                todo.extend((v, nxt, f"{where}[{i}]") for i, v in enumerate(obj.ravel(order="K")))
            continue
        if isinstance(obj, dict):
            for i, (k, v) in enumerate(obj.items()):
                todo.append((k, nxt, f"{where} key {i}"))
                todo.append((v, nxt, f"{where}[{k!r:.40}]"))
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo.extend((v, nxt, f"{where}[{i}]") for i, v in enumerate(obj))
        for cls, check in checkers:
            if isinstance(obj, cls):
                check(obj, where)
        if isinstance(obj, BaseEstimator):
            _check_estimator_dict(obj, where)
        state = getattr(obj, "__dict__", None)
        if isinstance(state, dict) and not isinstance(obj, type):
            todo.extend((v, nxt, f"{where}.{k}") for k, v in state.items())


def _checkers() -> list[tuple[type, Any]]:
    from scipy.interpolate import BSpline
    from sklearn.calibration import _CalibratedClassifier, _SigmoidCalibration
    from sklearn.compose import make_column_selector
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.ensemble._gb import BaseGradientBoosting
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.neighbors._base import NeighborsBase
    from sklearn.preprocessing import SplineTransformer
    from sklearn.svm._base import BaseLibSVM
    from sklearn.tree import BaseDecisionTree
    from sklearn.tree._tree import Tree

    return [
        (Tree, lambda t, w: _check_tree(t, w, None)),
        (BaseDecisionTree, _check_decision_tree),
        (TreePredictor, lambda p, w: _check_predictor(p, w, None, None, standalone=True)),
        ((HistGradientBoostingClassifier, HistGradientBoostingRegressor), _check_hgb),
        (_BinMapper, _check_bin_mapper),
        (BaseGradientBoosting, _check_gbm),
        ((KDTree, BallTree), _check_binary_tree),
        (NeighborsBase, _check_neighbors),
        (BaseLibSVM, _check_libsvm),
        (BSpline, _check_bspline),
        (SplineTransformer, _check_spline_transformer),
        (_CalibratedClassifier, _check_calibrated),
        (_SigmoidCalibration, _check_sigmoid),
        (make_column_selector, _check_selector),
        (functools.partial, lambda p, w: _partial_ok(p, w)),
    ]


def _fail(where: str, field: str, what: str) -> None:
    raise Refusal(f"{where}: field {field!r} {what}")


def _int_attr(obj: Any, name: str, where: str, lo: int = 0, hi: int = 10**9) -> int:
    value = getattr(obj, name, None)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not lo <= value <= hi:
        _fail(where, name, f"must be an integer in [{lo}, {hi}], found {value!r:.60}")
    return int(value)


def _check_estimator_dict(est: Any, where: str) -> None:
    """Instance state may not shadow the class's methods; fitted attributes hold data."""
    cls = type(est)
    for key, value in vars(est).items():
        if not isinstance(key, str):
            _fail(where, repr(key), "is not a name")
        static = inspect.getattr_static(cls, key, _MISSING)
        if static is not _MISSING and (callable(static) or hasattr(static, "__get__")):
            _fail(where, key, f"overrides the {cls.__name__}.{key} method or property of its class")
        if (key.endswith("_") or key.startswith("_")) and isinstance(value, _FUNCTION_LIKE):
            _fail(where, key, f"holds the function {getattr(value, '__name__', value)!s:.60} where fitted "
                              "data belongs")
        if key in ("_n_threads", "n_threads") and value is not None:
            _int_attr(est, key, where, 1, _MAX_THREADS)
    centers = vars(est).get("cluster_centers_")
    n_features = vars(est).get("n_features_in_")
    if isinstance(centers, np.ndarray) and n_features is not None and (
            centers.ndim != 2 or centers.shape[1] != _int_attr(est, "n_features_in_", where, 1)):
        _fail(where, "cluster_centers_", f"has shape {centers.shape} for {n_features} input features")


def _children_ok(left: np.ndarray, right: np.ndarray, internal: np.ndarray, n: int) -> str | None:
    """Why these child arrays are not a tree rooted at node 0 (None when they are)."""
    idx = np.arange(n)
    li, ri, ii = left[internal].astype(np.int64), right[internal].astype(np.int64), idx[internal]
    if np.any(li <= ii) or np.any(ri <= ii) or np.any(li >= n) or np.any(ri >= n):
        return "points outside the node array or back to an earlier node (a cycle)"
    parents = np.bincount(np.concatenate([li, ri]), minlength=n)
    if n and (parents[0] != 0 or np.any(parents[1:] != 1)):
        return "gives a node two parents or none (not a tree)"
    return None


def _check_tree(tree: Any, where: str, n_features: int | None) -> None:
    node_count, capacity = int(tree.node_count), int(tree.capacity)
    if node_count < 1 or node_count != capacity:
        _fail(where, "node_count", f"is {node_count} but the node array holds {capacity} nodes")
    state = tree.__getstate__()
    nodes, values = state["nodes"], state["values"]
    left, right = nodes["left_child"], nodes["right_child"]
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        _fail(where, "nodes.right_child", "marks a node as a leaf on one side only")
    why = _children_ok(left, right, ~leaf, node_count)
    if why:
        _fail(where, "nodes.left_child/right_child", why)
    if n_features is not None and int(tree.n_features) != n_features:
        _fail(where, "n_features", f"is {tree.n_features} but the estimator takes {n_features} features")
    feature = nodes["feature"][~leaf]
    if np.any(feature < 0) or np.any(feature >= tree.n_features):
        _fail(where, "nodes.feature", f"names a feature outside 0..{int(tree.n_features) - 1}")
    if np.isnan(nodes["threshold"][~leaf]).any():
        _fail(where, "nodes.threshold", "holds NaN")
    if values.shape != (node_count, int(tree.n_outputs), int(tree.max_n_classes)):
        _fail(where, "values", f"has shape {values.shape}, expected one row per node")
    if not 0 <= int(tree.max_depth) <= node_count:
        _fail(where, "max_depth", "is out of range")


def _check_decision_tree(est: Any, where: str) -> None:
    tree = getattr(est, "tree_", None)
    if tree is None:
        return
    n_features = _int_attr(est, "n_features_in_", where, 1) if hasattr(est, "n_features_in_") else None
    _check_tree(tree, f"{where}.tree_", n_features)
    classes = getattr(est, "classes_", None)
    n_outputs = int(tree.n_outputs)
    if isinstance(classes, np.ndarray) and n_outputs == 1 and len(classes) != int(tree.max_n_classes):
        _fail(where, "classes_", f"has {len(classes)} classes but the tree has {tree.max_n_classes}")


def _check_predictor(pred: Any, where: str, n_features: int | None, categorical: np.ndarray | None, *,
                     standalone: bool = False) -> None:
    """Node records of one HistGradientBoosting tree. ``standalone``: seen outside its estimator, so
    which features are categorical is checked when the estimator is (``_check_hgb``)."""
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = getattr(pred, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1 \
            or len(nodes) < 1:
        _fail(where, "nodes", "is not an array of HistGradientBoosting node records")
    bitsets = []
    for name in ("binned_left_cat_bitsets", "raw_left_cat_bitsets"):
        b = getattr(pred, name, None)
        if not isinstance(b, np.ndarray) or b.dtype != np.uint32 or b.ndim != 2 or b.shape[1] != 8:
            _fail(where, name, "is not an (n, 8) uint32 bitset array")
        bitsets.append(len(b))
    leaf = nodes["is_leaf"].astype(bool)
    why = _children_ok(nodes["left"], nodes["right"], ~leaf, len(nodes))
    if why:
        _fail(where, "nodes.left/right", why)
    feature = nodes["feature_idx"][~leaf].astype(np.int64)
    if np.any(feature < 0) or (n_features is not None and np.any(feature >= n_features)):
        _fail(where, "nodes.feature_idx", "names a feature outside the input")
    cat = nodes["is_categorical"][~leaf].astype(bool)
    if cat.any():
        idx = nodes["bitset_idx"][~leaf][cat].astype(np.int64)
        if np.any(idx < 0) or np.any(idx >= min(bitsets)):
            _fail(where, "nodes.bitset_idx", "names a category bitset that does not exist")
        if not standalone and (categorical is None or np.any(~categorical[feature[cat]])):
            _fail(where, "nodes.is_categorical", "splits a non-categorical feature by category")


def _check_hgb(est: Any, where: str) -> None:
    predictors = getattr(est, "_predictors", None)
    if predictors is None:
        return
    n_features = _int_attr(est, "n_features_in_", where, 1)
    mapper = getattr(est, "_bin_mapper", None)
    categorical = getattr(mapper, "is_categorical_", None)
    if categorical is not None:
        categorical = np.asarray(categorical).astype(bool)
        if categorical.shape != (n_features,):
            _fail(where, "_bin_mapper.is_categorical_", f"has {categorical.size} entries for {n_features} features")
    if not isinstance(predictors, list) or not all(isinstance(p, list) for p in predictors):
        _fail(where, "_predictors", "is not a list of lists of tree predictors")
    per_iter = getattr(est, "n_trees_per_iteration_", None)
    for i, row in enumerate(predictors):
        if per_iter is not None and len(row) != per_iter:
            _fail(where, f"_predictors[{i}]", f"holds {len(row)} trees, expected {per_iter}")
        for k, pred in enumerate(row):
            _check_predictor(pred, f"{where}._predictors[{i}][{k}]", n_features, categorical)


def _check_binary_tree(tree: Any, where: str) -> None:
    state = tree.__getstate__()
    data, idx, node_data, bounds = (np.asarray(s) for s in state[:4])
    leaf_size, n_levels, n_nodes = state[4], state[5], state[6]
    metric, weight = state[11], state[12]
    if data.ndim != 2:
        _fail(where, "data", "is not a 2-D array")
    n, d = data.shape
    if idx.shape != (n,) or (n and (idx.min() < 0 or idx.max() >= n)):
        _fail(where, "idx_array", f"names rows outside the {n} data rows")
    if not isinstance(n_levels, (int, np.integer)) or not 0 < n_levels <= 62 or n_nodes != 2 ** n_levels - 1:
        _fail(where, "n_levels", f"({n_levels!r:.20}) does not match n_nodes ({n_nodes!r:.20})")
    if not isinstance(leaf_size, (int, np.integer)) or leaf_size < 1:
        _fail(where, "leaf_size", "must be a positive integer")
    if node_data.shape != (n_nodes,) or node_data.dtype.names is None:
        _fail(where, "node_data", f"does not hold {n_nodes} node records")
    start, end, is_leaf = (node_data[f].astype(np.int64) for f in ("idx_start", "idx_end", "is_leaf"))
    if np.any(start < 0) or np.any(end < start) or np.any(end > n):
        _fail(where, "node_data", "has index ranges outside the index array")
    inner = np.flatnonzero(is_leaf == 0)
    if inner.size and 2 * inner.max() + 2 >= n_nodes:
        _fail(where, "node_data.is_leaf", "marks a bottom node as having children")
    if bounds.ndim != 3 or bounds.shape[0] not in (1, 2) or bounds.shape[1:] != (n_nodes, d):
        _fail(where, "node_bounds", f"has shape {bounds.shape}, expected (k, {n_nodes}, {d})")
    if weight is not None and np.asarray(weight).shape != (n,):
        _fail(where, "sample_weight", "does not have one weight per row")
    if metric is not None:
        mstate = metric.__getstate__()
        vec = np.asarray(mstate[1])
        if vec.ndim != 1 or vec.size not in (0, d) and type(metric).__name__.startswith("Minkowski"):
            _fail(where, "dist_metric", f"has {vec.size} weights for {d} features")


def _check_neighbors(est: Any, where: str) -> None:
    fit_x = getattr(est, "_fit_X", None)
    if fit_x is None:
        return
    method = getattr(est, "_fit_method", None)
    if method not in ("brute", "kd_tree", "ball_tree"):
        _fail(where, "_fit_method", f"is {method!r:.40}")
    fit_x = np.asarray(fit_x)
    n = _int_attr(est, "n_samples_fit_", where, 1)
    if fit_x.ndim != 2 or fit_x.shape[0] != n:
        _fail(where, "_fit_X", f"does not hold n_samples_fit_={n} rows")
    y = getattr(est, "_y", None)
    if y is not None and np.asarray(y).shape[0] != n:
        _fail(where, "_y", f"does not hold {n} targets")
    if method != "brute":
        tree = getattr(est, "_tree", None)
        data = np.asarray(tree.__getstate__()[0]) if tree is not None else None
        if data is None or data.shape != fit_x.shape:
            _fail(where, "_tree", "does not index the fitted data")


def _check_libsvm(est: Any, where: str) -> None:
    sv = getattr(est, "support_vectors_", None)
    if sv is None:
        return
    sv = np.asarray(sv)
    support = np.asarray(getattr(est, "support_", ()))
    n_support = np.asarray(getattr(est, "_n_support", ()))
    dual = np.asarray(getattr(est, "_dual_coef_", ()))
    intercept = np.asarray(getattr(est, "_intercept_", ()))
    if sv.ndim != 2 or support.shape != (sv.shape[0],):
        _fail(where, "support_", "does not match support_vectors_")
    kernel = getattr(est, "kernel", None)
    n_features = getattr(est, "n_features_in_", None)
    if kernel != "precomputed" and n_features is not None and sv.shape[0] and sv.shape[1] != n_features:
        _fail(where, "support_vectors_", f"has {sv.shape[1]} columns for {n_features} features")
    if n_support.ndim != 1 or n_support.dtype.kind not in "iu" or np.any(n_support < 0):
        _fail(where, "_n_support", "is not a vector of counts")
    n_class = len(n_support)
    if getattr(est, "_impl", None) in ("c_svc", "nu_svc"):
        if int(n_support.sum()) != sv.shape[0]:
            _fail(where, "_n_support", f"sums to {int(n_support.sum())} for {sv.shape[0]} support vectors")
        classes = getattr(est, "classes_", None)
        if classes is not None and len(classes) != n_class:
            _fail(where, "classes_", f"has {len(classes)} classes for {n_class} support counts")
    n_pairs = max(n_class * (n_class - 1) // 2, 1)
    if dual.shape != (max(n_class - 1, 1), sv.shape[0]):
        _fail(where, "_dual_coef_", f"has shape {dual.shape}")
    if intercept.shape != (n_pairs,):
        _fail(where, "_intercept_", f"has shape {intercept.shape}, expected ({n_pairs},)")
    for name in ("_probA", "_probB"):
        p = np.asarray(getattr(est, name, ()))
        if p.size not in (0, n_pairs):
            _fail(where, name, f"has {p.size} entries, expected 0 or {n_pairs}")


def _check_gbm(est: Any, where: str) -> None:
    """The compiled stage predictor writes one output column per tree of an iteration and reads the
    input's columns with each tree's feature indices."""
    stages = getattr(est, "estimators_", None)
    if stages is None:
        return
    n_features = _int_attr(est, "n_features_in_", where, 1)
    per_iter = _int_attr(est, "n_trees_per_iteration_", where, 1, 10_000)
    if not isinstance(stages, np.ndarray) or stages.ndim != 2 or stages.shape[1] != per_iter or not stages.dtype.hasobject:
        _fail(where, "estimators_", f"is not an object array of shape (n_stages, {per_iter})")
    from sklearn.tree import DecisionTreeRegressor

    for (i, k), tree in np.ndenumerate(stages):
        if not isinstance(tree, DecisionTreeRegressor) or int(getattr(tree.tree_, "n_features", -1)) != n_features:
            _fail(where, f"estimators_[{i}, {k}]", f"is not a regression tree over the {n_features} input features")


def _check_bin_mapper(mapper: Any, where: str) -> None:
    thresholds = getattr(mapper, "bin_thresholds_", None)
    categorical = getattr(mapper, "is_categorical_", None)
    if thresholds is None or categorical is None:
        return
    categorical = np.asarray(categorical).astype(bool)
    if not isinstance(thresholds, list) or len(thresholds) != categorical.size:
        _fail(where, "bin_thresholds_", f"does not hold one array per feature ({categorical.size})")
    for i in np.flatnonzero(categorical):
        cats = np.asarray(thresholds[i])
        if cats.ndim != 1 or cats.dtype.kind not in "fiu" or np.any(~np.isfinite(cats)) or \
                np.any((cats < 0) | (cats > 255)):
            _fail(where, f"bin_thresholds_[{i}]", "holds categories outside 0..255")


def _check_bspline(spline: Any, where: str) -> None:
    state = vars(spline)
    t, c, k = state.get("_t"), state.get("_c"), state.get("k")
    if not isinstance(t, np.ndarray) or t.ndim != 1 or t.dtype != np.float64:
        _fail(where, "t", "is not a 1-D float64 knot array")
    if not isinstance(k, (int, np.integer)) or isinstance(k, (bool, np.bool_)) or not 0 <= k <= 64:
        _fail(where, "k", f"must be a degree in [0, 64], found {k!r:.40}")
    n = t.shape[0] - int(k) - 1
    if n < int(k) + 1:
        _fail(where, "t", f"has {t.shape[0]} knots, fewer than degree {k} needs")
    if not np.isfinite(t).all() or np.any(np.diff(t) < 0):
        _fail(where, "t", "is not finite and non-decreasing")
    if not isinstance(c, np.ndarray) or c.ndim < 1 or c.shape[0] < n or c.dtype.kind not in "fc":
        _fail(where, "c", f"does not hold at least {n} coefficient rows")
    extrapolate = state.get("extrapolate")
    if not (isinstance(extrapolate, (bool, np.bool_)) or extrapolate == "periodic"):
        _fail(where, "extrapolate", f"is {extrapolate!r:.40}")
    axis = state.get("axis")
    if not isinstance(axis, (int, np.integer)) or not 0 <= axis < max(c.ndim, 1):
        _fail(where, "axis", f"is {axis!r:.40}")
    if "_asarray" in state and not is_reference_function(state["_asarray"]):
        _fail(where, "_asarray", "is not the array-API asarray on the allow-list")


def _check_spline_transformer(est: Any, where: str) -> None:
    from scipy.interpolate import BSpline

    splines = getattr(est, "bsplines_", None)
    if splines is None:
        return
    n_features = _int_attr(est, "n_features_in_", where, 1)
    if not isinstance(splines, list) or len(splines) != n_features or not all(isinstance(b, BSpline) for b in splines):
        _fail(where, "bsplines_", f"does not hold one BSpline per input feature ({n_features})")


def _check_calibrated(cal: Any, where: str) -> None:
    import sklearn.calibration as calibration
    from sklearn.isotonic import IsotonicRegression

    allowed = tuple(c for c in (calibration._SigmoidCalibration, IsotonicRegression,
                                getattr(calibration, "_TemperatureScaling", None)) if c is not None)
    calibrators = getattr(cal, "calibrators", None)
    classes = np.asarray(getattr(cal, "classes", ()))
    if getattr(cal, "method", None) not in ("sigmoid", "isotonic", "temperature"):
        _fail(where, "method", f"is {getattr(cal, 'method', None)!r:.40}")
    if not isinstance(calibrators, list) or not 1 <= len(calibrators) <= max(classes.size, 1) or \
            not all(isinstance(c, allowed) for c in calibrators):
        _fail(where, "calibrators", f"is not a list of at most {classes.size} calibrators")
    if not hasattr(getattr(cal, "estimator", None), "classes_"):
        _fail(where, "estimator", "is not a fitted classifier")


def _check_sigmoid(cal: Any, where: str) -> None:
    for name in ("a_", "b_"):
        value = getattr(cal, name, None)
        if value is not None and not (isinstance(value, (float, np.floating)) and np.isfinite(value)):
            _fail(where, name, f"must be a finite number, found {value!r:.40}")


def _dtype_selector_ok(value: Any) -> bool:
    items = value if isinstance(value, (list, tuple)) and len(value) <= 1000 else [value]
    return all(v is None or isinstance(v, (str, np.dtype, type)) for v in items)


def _check_selector(sel: Any, where: str) -> None:
    pattern = getattr(sel, "pattern", None)
    if pattern is not None and not (isinstance(pattern, str) and len(pattern) <= 10_000):
        _fail(where, "pattern", "is not a regular-expression string")
    for name in ("dtype_include", "dtype_exclude"):
        if not _dtype_selector_ok(getattr(sel, name, None)):
            _fail(where, name, "holds something other than dtypes, types or dtype names")


def _partial_ok(p: Any, where: str) -> None:
    check_partial(p.func, p.args, p.keywords, vars(p) or None, where)
