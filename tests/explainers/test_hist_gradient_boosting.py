"""HistGradientBoosting, numeric and native categorical (with NaN): tree_path (Saabas) and interventional
TreeSHAP read from the estimator's own predictors, additive to 1e-9 on every row, equal to brute-force
interventional Shapley values and to shap's interventional values wherever shap adds up. The automatic tree
mode's fallback (interventional -> path-dependent at the first additivity miss) is tested on a model shap
explains, with the miss injected."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

from audit.adapters import SklearnAdapter
from audit.types import FeatureSpace
from explainers.shap_explainer import Shap
from explainers.tree_path import TreePath

rng = np.random.default_rng(0)
X = rng.normal(size=(800, 5))
X[rng.random(X.shape) < 0.05] = np.nan  # missing values take the learned default branch
Y_BIN = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) > 0).astype(int)


def _adapter(model):
    return SklearnAdapter(model, FeatureSpace(tuple("abcde"), as_frame=False))


@pytest.mark.parametrize("model,classes", [
    (HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, Y_BIN), [0, 1]),
    (HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, rng.integers(0, 3, len(X))), [0, 1, 2]),
    (HistGradientBoostingRegressor(max_iter=40, random_state=0).fit(X, 2 * np.nan_to_num(X[:, 0])), [None]),
], ids=["binary", "multiclass", "regression"])
def test_tree_path_adds_up_exactly_for_every_class(model, classes):
    """Fails if a node's expected value, the shrinkage, the missing-value branch or the class-0 sign is wrong:
    contributions plus bias must equal the raw output (log-odds / value) to rounding."""
    adapter = _adapter(model)
    assert TreePath().supports(adapter)
    for k in classes:
        view = adapter if k is None else adapter.for_class(k)
        a = TreePath().explain(view, X[:60], background=X, seed=0)
        out = view.margin(X[:60]) if a.output_space == "margin" else view.predict(X[:60])
        np.testing.assert_allclose(a.values.sum(1) + a.base_values, out, atol=1e-9)
    # credit goes to the driving feature: a regressor on 2 x0 gives x0 nearly all of it
    reg = _adapter(HistGradientBoostingRegressor(max_iter=30).fit(X, 2 * np.nan_to_num(X[:, 0])))
    mass = np.abs(TreePath().explain(reg, X[:60], background=X, seed=0).values).mean(0)
    assert mass[0] > 0.9 * mass.sum()


# -- native categorical HistGradientBoosting -------------------------------------------------------------
HOUSING = ("rent", "own", "free", "mortgage", "other", "council")  # the space's order, not the encoder's sorted one
PURPOSE = ("car", "education", "business")


def _categorical_frame(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    r = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": r.normal(size=n),
        "housing": pd.Categorical(r.choice(HOUSING[:5], n), categories=sorted(HOUSING[:5])),  # "council" unseen
        "age": r.normal(size=n),
        "purpose": pd.Categorical(r.choice(PURPOSE, n)),
    })
    frame.loc[r.random(n) < 0.1, "housing"] = np.nan
    frame.loc[r.random(n) < 0.1, "income"] = np.nan
    good = frame["housing"].isin(["own", "free"]).to_numpy() * 1.0 + np.nan_to_num(frame["income"].to_numpy())
    return frame, (good + 0.4 * r.normal(size=n) > 0.5).astype(int)


def _encode(frame: pd.DataFrame) -> np.ndarray:
    """The audit's encoding: category codes in the space's order (HOUSING), NaN for missing."""
    def codes(col, cats):
        return np.array([np.nan if pd.isna(v) else cats.index(v) for v in col], dtype=float)
    return np.column_stack([frame["income"], codes(frame["housing"], HOUSING), frame["age"],
                            codes(frame["purpose"], PURPOSE)])


CAT_SPACE = FeatureSpace(("income", "housing", "age", "purpose"), {"housing": HOUSING, "purpose": PURPOSE})
CAT_FRAME, CAT_Y = _categorical_frame(600)
CAT_X = _encode(CAT_FRAME)
CAT_X[::50, 1] = HOUSING.index("council")  # a category the model never saw: HGB sends it the missing way


@pytest.fixture(scope="module")
def categorical():
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(CAT_FRAME, CAT_Y)
    assert model.is_categorical_.tolist() == [False, True, False, True]
    adapter = SklearnAdapter(model, CAT_SPACE)
    assert any(p.nodes["is_categorical"].any() for it in model._predictors for p in it)
    return model, adapter


def test_categorical_tree_path_and_shap_add_up_on_every_row(categorical):
    """Fails if a bitset split, an unknown category, a NaN side, the encoder's column order or the mapping from
    the space's codes to the model's codes is wrong: values plus base must equal the margin to 1e-9."""
    model, adapter = categorical
    rows, bg = CAT_X[:300], CAT_X[300:400]
    unseen_as_missing = CAT_FRAME[:300].copy()
    unseen_as_missing.loc[::50, "housing"] = np.nan
    for view in (adapter, adapter.for_class(0)):
        margin = view.margin(rows)
        np.testing.assert_allclose(margin, view.binary_sign * model.decision_function(unseen_as_missing), atol=1e-12)
        path = TreePath().explain(view, rows, background=bg, seed=0)
        assert path.output_space == "margin" and path.meta["categorical_splits"]
        np.testing.assert_allclose(path.values.sum(1) + path.base_values, margin, atol=1e-9)
        a = Shap().explain(view, rows, background=bg, seed=0)
        assert a.meta["parameters"]["feature_perturbation"] == "interventional" and not a.meta["findings"]
        assert a.meta["parameters"]["background_rows"] == len(bg)
        np.testing.assert_allclose(a.values.sum(1) + a.base_values, margin, atol=1e-9)
        np.testing.assert_allclose(a.base_values, view.margin(bg).mean(), atol=1e-12)
    # the categorical driver gets its credit: housing and income carry most of the attribution
    mass = np.abs(Shap().explain(adapter, rows, background=bg, seed=0).values).mean(0)
    assert mass[1] > 0.25 * mass.sum() and mass[[0, 1]].sum() > 0.8 * mass.sum()


def test_categorical_inside_a_pipeline_reads_the_pipeline_output():
    """An OrdinalEncoder step feeding HGB's categorical_features mask: the trees read the pipeline's output."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    enc = ColumnTransformer([("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                                    encoded_missing_value=np.nan), ["housing", "purpose"])],
                            remainder="passthrough")
    hgb = HistGradientBoostingClassifier(max_iter=30, categorical_features=[0, 1], random_state=0)
    model = Pipeline([("enc", enc), ("hgb", hgb)]).fit(CAT_FRAME, CAT_Y)
    adapter = SklearnAdapter(model, CAT_SPACE)
    adapter.prepare(CAT_X)
    rows, bg = CAT_X[:120], CAT_X[400:460]
    for explainer in (TreePath(), Shap()):
        assert explainer.supports(adapter)
        a = explainer.explain(adapter, rows, background=bg, seed=0)
        np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(rows), atol=1e-9)


def _brute_force(adapter, x: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Interventional Shapley values of one row by enumerating every coalition, through the model's own
    decision_function on hybrid rows (x's values on the coalition, each background row's elsewhere)."""
    p = len(x)
    masks = list(itertools.product((False, True), repeat=p))
    hybrids = []
    for mask in masks:
        h = background.copy()
        h[:, list(mask)] = x[list(mask)]
        hybrids.append(h)
    v = dict(zip(masks, adapter.margin(np.vstack(hybrids)).reshape(len(masks), len(background)).mean(1)))
    phi = np.zeros(p)
    for mask in masks:
        s = sum(mask)
        for i in np.flatnonzero(~np.array(mask)):
            with_i = tuple(True if k == i else m for k, m in enumerate(mask))
            phi[i] += math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) * (v[with_i] - v[mask])
    return phi


@pytest.mark.parametrize("kind", ["categorical", "numeric_nan", "multiclass", "regression"])
def test_interventional_shap_equals_brute_force_shapley_values(kind, categorical):
    if kind == "categorical":
        adapter, rows, bg = categorical[1], CAT_X[:10], CAT_X[500:512]
    else:
        Xs = X[:, :4]
        if kind == "numeric_nan":
            model = HistGradientBoostingClassifier(max_iter=8, max_depth=4, random_state=0).fit(Xs, Y_BIN)
        elif kind == "multiclass":
            model = HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=8, random_state=0).fit(
                Xs, rng.integers(0, 3, len(Xs)))
        else:
            model = HistGradientBoostingRegressor(max_iter=8, random_state=0).fit(Xs, np.nan_to_num(Xs[:, 0] * Xs[:, 1]))
        adapter = SklearnAdapter(model, FeatureSpace(tuple("abcd"), as_frame=False))
        if kind == "multiclass":
            adapter = adapter.for_class(1)
        rows, bg = Xs[:10], Xs[600:612]
    a = Shap().explain(adapter, rows, background=bg, seed=0)
    brute = np.array([_brute_force(adapter, x, bg) for x in rows])
    assert np.abs(brute).max() > 0.05  # a test that can fail
    np.testing.assert_allclose(a.values, brute, atol=1e-10)


def test_equal_to_shaps_interventional_values_wherever_shap_adds_up():
    """shap reads HGB thresholds in float32: on data whose values and split midpoints are float32-exact (an
    eighth grid) it adds up, and there the values must agree to shap's float32 rounding; on generic data the
    native values still add up exactly where shap's do not."""
    import shap

    grid = np.round(np.nan_to_num(X, nan=0.0) * 8) / 8
    grid[np.isnan(X)] = np.nan
    for data, shap_adds_up in ((grid, True), (X, False)):
        model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(data, Y_BIN)
        adapter = _adapter(model)
        rows, bg = data[:150], data[200:300]
        ours = Shap().explain(adapter, rows, background=bg, seed=0)
        margin = adapter.margin(rows)
        np.testing.assert_allclose(ours.values.sum(1) + ours.base_values, margin, atol=1e-9)
        explainer = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output="raw")
        theirs = np.asarray(explainer.shap_values(rows, check_additivity=False), dtype=float)
        miss = np.abs(theirs.sum(1) + explainer.expected_value - margin) / margin.std()
        adds_up = miss < 1e-6
        assert adds_up.all() or not shap_adds_up
        if adds_up.any():
            np.testing.assert_allclose(ours.values[adds_up], theirs[adds_up], atol=1e-6)


def _path_game(forest, row: np.ndarray, coalition: set[int]) -> float:
    """E[f | x_S] as path-dependent TreeSHAP defines it (Lundberg et al. 2020, Algorithm 1): a split on a
    feature in S follows the row, any other split averages both children by their training rows."""
    go = forest.go_left(row[None])[0]

    def walk(n: int) -> float:
        if forest.leaf[n]:
            return forest.value[n]
        left, right = forest.left[n], forest.right[n]
        if forest.feature[n] in coalition:
            return walk(left if go[n] else right)
        return (forest.count[left] * walk(left) + forest.count[right] * walk(right)) / forest.count[n]

    return forest.baseline + sum(walk(int(r)) for r in forest.roots)


def test_requested_path_dependent_equals_shaps_on_numeric_and_brute_force_on_categorical(categorical):
    """Path-dependent TreeSHAP, natively: equal to shap's on numeric HGB, to the Shapley values of Algorithm 1's
    game (every coalition) on categorical HGB, additive on every row."""
    import shap

    from explainers._hgb_trees import hist_forest, predictor_matrix

    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, Y_BIN)
    adapter = _adapter(model)
    a = Shap(tree_mode="tree_path_dependent").explain(adapter, X[:60], background=X[200:260], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "tree_path_dependent" and not a.meta["findings"]
    theirs = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent", model_output="raw")
    np.testing.assert_allclose(a.values, theirs.shap_values(X[:60], check_additivity=False), atol=1e-10)
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(X[:60]), atol=1e-9)

    model, adapter = categorical
    cat = Shap(tree_mode="tree_path_dependent").explain(adapter, CAT_X[:40], background=CAT_X[300:360], seed=0)
    assert cat.meta["parameters"]["feature_perturbation"] == "tree_path_dependent" and not cat.meta["findings"]
    np.testing.assert_allclose(cat.values.sum(1) + cat.base_values, adapter.margin(CAT_X[:40]), atol=1e-9)
    forest, Zp = hist_forest(model, 0), predictor_matrix(adapter, CAT_X[:4])
    p = Zp.shape[1]
    for i in range(4):
        brute = np.zeros(p)
        for size in range(p):
            for S in itertools.combinations(range(p), size):
                w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
                for j in set(range(p)) - set(S):
                    brute[j] += w * (_path_game(forest, Zp[i], {*S, j}) - _path_game(forest, Zp[i], set(S)))
        # brute force is over the trees' columns (categorical first); the attribution over the raw columns
        np.testing.assert_allclose(cat.values[i][forest.order], brute, atol=1e-10)


def test_numeric_hgb_auto_mode_stays_interventional_and_adds_up():
    """The synthetic fixture on which shap's interventional TreeSHAP misses additivity: no switch any more."""
    adapter = _adapter(HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, Y_BIN))
    a = Shap().explain(adapter, X[:80], background=X[200:300], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "interventional" and not a.meta["findings"]
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(X[:80]), atol=1e-9)


# -- the automatic tree mode on models shap explains --------------------------------------------------------
XF = np.nan_to_num(X)
SENTINEL = 123.0  # rows whose first value is this get an additivity miss injected into interventional values


def _inject_miss(monkeypatch, calls=None):
    import explainers.shap_explainer as S

    real = S._tree_shap

    def fake(shap, final, Z, Zb, mode, adapter):
        if calls is not None:
            calls.append((mode, len(Z)))
        values, base = real(shap, final, Z, Zb, mode, adapter)
        if mode == "interventional":
            values = values.copy()
            values[Z[:, 0] == SENTINEL, 1] += 1.0
        return values, base

    monkeypatch.setattr(S, "_tree_shap", fake)
    return S


@pytest.fixture(scope="module")
def boosted():
    return _adapter(GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(XF, Y_BIN))


def test_interventional_treeshap_miss_falls_back_to_path_dependent_with_a_finding(monkeypatch, boosted):
    _inject_miss(monkeypatch)
    rows = XF[:80].copy()
    rows[10, 0] = SENTINEL
    a = Shap().explain(boosted, rows, background=XF[200:300], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "tree_path_dependent"
    assert any("interventional TreeSHAP misses additivity" in f for f in a.meta["findings"])
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, boosted.margin(rows), atol=1e-6)
    # asked for explicitly, interventional is kept (and its additivity is then measured by the audit)
    kept = Shap(tree_mode="interventional").explain(boosted, rows, background=XF[200:300], seed=0)
    assert kept.meta["parameters"]["feature_perturbation"] == "interventional" and not kept.meta["findings"]


def test_the_tree_mode_is_decided_once_on_the_seeded_sample_and_kept_for_later_calls(monkeypatch, boosted):
    """Fails if the decision is not made on the documented seeded sample (decision_rows), if a row is explained
    twice by the chosen mode, if the values differ from path-dependent TreeSHAP on all rows, or if a later call
    (a re-run, a chunk) decides anew."""
    calls: list = []
    S = _inject_miss(monkeypatch, calls)
    rows = np.vstack([XF] * 4)[:3000].copy()
    pick = S.decision_rows(3000, seed=0)
    assert len(pick) == S.TREE_DECISION_ROWS and np.array_equal(pick, np.sort(np.random.default_rng(0).choice(
        3000, S.TREE_DECISION_ROWS, replace=False)))
    rows[pick[7], 0] = SENTINEL  # inside the sample
    explainer = Shap()
    a = explainer.explain(boosted, rows, background=XF[700:], seed=0)
    n = S.TREE_DECISION_ROWS
    assert calls == [("interventional", n), ("tree_path_dependent", n), ("tree_path_dependent", 3000 - n)]
    assert a.meta["parameters"]["feature_perturbation"] == "tree_path_dependent"
    assert any("seeded sample of 256 of 3000 rows" in f for f in a.meta["findings"])
    direct = Shap(tree_mode="tree_path_dependent").explain(boosted, rows, background=XF[700:], seed=0)
    np.testing.assert_allclose(a.values, direct.values, atol=1e-12)
    calls.clear()
    again = explainer.explain(boosted, XF[:300], background=XF[700:], seed=1)
    assert calls == [("tree_path_dependent", 300)] and again.meta["findings"] == a.meta["findings"]


def test_a_miss_outside_the_sample_keeps_interventional_with_a_finding(monkeypatch, boosted):
    calls: list = []
    S = _inject_miss(monkeypatch, calls)
    rows = np.vstack([XF] * 4)[:3000].copy()
    outside = np.setdiff1d(np.arange(3000), S.decision_rows(3000, seed=0))[11]
    rows[outside, 0] = SENTINEL
    a = Shap().explain(boosted, rows, background=XF[700:], seed=0)
    n = S.TREE_DECISION_ROWS
    assert calls == [("interventional", n), ("interventional", 3000 - n)]
    assert a.meta["parameters"]["feature_perturbation"] == "interventional"
    assert any("outside the 256 rows" in f for f in a.meta["findings"])


def test_interventional_is_kept_when_every_row_adds_up():
    """A forest has no additivity gap: interventional on the sample and on the other rows, back in row order,
    the same values as one call on every row."""
    from sklearn.ensemble import RandomForestRegressor

    model = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(XF, XF[:, 0] + XF[:, 1])
    adapter = _adapter(model)
    a = Shap().explain(adapter, XF[:700], background=XF[700:], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "interventional" and not a.meta["findings"]
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, model.predict(XF[:700]), atol=1e-6)  # float32 trees
    whole = Shap(tree_mode="interventional").explain(adapter, XF[:700], background=XF[700:], seed=0)
    np.testing.assert_array_equal(a.values, whole.values)


def test_leaf_sums_equal_the_pairwise_reference_on_deep_trees_with_duplicates():
    """The per-leaf closed form against the textbook walk of every (row, background row) pair: deep trees
    (features repeated along paths, some never split on), a background with repeated rows, NaN rows."""
    from explainers._hgb_trees import hist_forest, interventional_shap

    model = HistGradientBoostingRegressor(max_iter=15, max_leaf_nodes=63, min_samples_leaf=5, random_state=0).fit(
        X, np.nan_to_num(X[:, 0] * X[:, 1] + np.sin(3 * X[:, 2])))
    forest = hist_forest(model, 0)
    assert forest.max_depth >= 8
    bg = np.vstack([X[600:640], X[600:610]])
    leaves, base = interventional_shap(forest, X[:200], bg)
    pairs, base_pairs = interventional_shap(forest, X[:200], bg, method="pairs")
    np.testing.assert_allclose(leaves, pairs, atol=1e-12)
    assert base == base_pairs
    np.testing.assert_allclose(leaves.sum(1) + base, model.predict(X[:200]), atol=1e-9)


def test_categorical_frames_with_pandas_category_dtype_read_the_same(categorical, monkeypatch):
    """The decoded frame may carry pandas ``category`` columns (with the space's categories, unseen ones
    included) instead of object columns: the estimator's own encoder maps both to its codes by label."""
    model, adapter = categorical
    rows, bg = CAT_X[:100], CAT_X[300:360]
    before = Shap().explain(adapter, rows, background=bg, seed=0).values
    real = FeatureSpace.decode

    def as_category(self, X):
        frame = real(self, X)
        for name, cats in self.categories.items():
            frame[name] = pd.Categorical(frame[name], categories=list(cats))
        return frame

    monkeypatch.setattr(FeatureSpace, "decode", as_category)
    assert isinstance(adapter.final_input(rows)["housing"].dtype, pd.CategoricalDtype)
    for explainer in (TreePath(), Shap()):
        a = explainer.explain(adapter, rows, background=bg, seed=0)
        np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(rows), atol=1e-9)
    np.testing.assert_allclose(Shap().explain(adapter, rows, background=bg, seed=0).values, before, atol=1e-12)


def test_identity_link_regressors_only():
    """Absolute-error regression predicts its raw output (explained); Poisson predicts exp(raw) (left to shap)."""
    from explainers._hgb_trees import hist_supported

    y = np.abs(np.nan_to_num(X[:, 0])) + 0.1
    absolute = HistGradientBoostingRegressor(loss="absolute_error", max_iter=10).fit(X, y)
    poisson = HistGradientBoostingRegressor(loss="poisson", max_iter=10).fit(X, y)
    assert hist_supported(absolute) and not hist_supported(poisson)
    a = TreePath().explain(_adapter(absolute), X[:50], background=X, seed=0)
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, absolute.predict(X[:50]), atol=1e-9)
    assert not TreePath().supports(_adapter(poisson))


def test_values_do_not_depend_on_how_rows_are_chunked(categorical, monkeypatch):
    """`audit reasons` explains a portfolio in chunks: each row's values must be the same bits either way
    (the per-pattern cache and the kernel's row chunks change no arithmetic)."""
    import explainers._hgb_trees as T

    _, adapter = categorical
    bg = CAT_X[300:400]
    for mode in ("interventional", "tree_path_dependent"):
        whole = Shap(tree_mode=mode).explain(adapter, CAT_X[:300], background=bg, seed=0).values
        monkeypatch.setattr(T, "LEAF_CHUNK", 7)
        parts = [Shap(tree_mode=mode).explain(adapter, CAT_X[a : a + 50], background=bg, seed=0).values
                 for a in range(0, 300, 50)]
        monkeypatch.undo()
        np.testing.assert_array_equal(np.vstack(parts), whole)
