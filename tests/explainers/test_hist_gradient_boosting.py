"""HistGradientBoosting: tree_path (Saabas) covers it exactly, and TreeSHAP falls back to the
path-dependent algorithm, with a finding, when interventional TreeSHAP misses additivity."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

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


def test_interventional_treeshap_miss_falls_back_to_path_dependent_with_a_finding():
    adapter = _adapter(HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, Y_BIN))
    a = Shap().explain(adapter, X[:80], background=X[200:300], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "tree_path_dependent"
    assert any("interventional TreeSHAP misses additivity" in f for f in a.meta["findings"])
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(X[:80]), atol=1e-8)
    # asked for explicitly, interventional is kept (and its additivity is then measured by the audit)
    kept = Shap(tree_mode="interventional").explain(adapter, X[:80], background=X[200:300], seed=0)
    assert kept.meta["parameters"]["feature_perturbation"] == "interventional" and not kept.meta["findings"]


def test_the_tree_mode_is_decided_at_the_first_miss_and_kept_for_later_calls(monkeypatch):
    """Fails if interventional TreeSHAP runs on every row before the fallback (the cost the chunks avoid), if the
    values differ from path-dependent TreeSHAP on all rows, or if a later call (a re-run, a chunk) decides anew."""
    import explainers.shap_explainer as S

    calls = []
    real = S._tree_shap
    monkeypatch.setattr(S, "_tree_shap", lambda shap, final, Z, Zb, mode, adapter: (
        calls.append((mode, len(Z))), real(shap, final, Z, Zb, mode, adapter))[1])
    rows = np.vstack([X] * 4)[:3000]
    adapter = _adapter(HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, Y_BIN))
    explainer = Shap()
    a = explainer.explain(adapter, rows, background=X[700:], seed=0)
    chunk = S.TREE_FIRST_CHUNK
    assert calls[0] == ("interventional", chunk)
    assert calls[-2:] == [("tree_path_dependent", calls[-3][1]), ("tree_path_dependent", 3000)]
    assert all(mode == "interventional" for mode, _ in calls[:-2])
    assert sum(m for _, m in calls[:-2]) < 3000  # stopped at the first chunk with a miss
    assert any("interventional TreeSHAP misses additivity" in f and "of 3000 rows" in f for f in a.meta["findings"])
    direct = Shap(tree_mode="tree_path_dependent").explain(adapter, rows, background=X[700:], seed=0)
    np.testing.assert_array_equal(a.values, direct.values)
    calls.clear()
    again = explainer.explain(adapter, X[:300], background=X[700:], seed=1)
    assert calls == [("tree_path_dependent", 300)] and again.meta["findings"] == a.meta["findings"]


def test_interventional_is_kept_in_chunks_when_every_row_adds_up(monkeypatch):
    """A forest has no additivity gap: every chunk is interventional, the rows come back in order."""
    from sklearn.ensemble import RandomForestRegressor

    import explainers.shap_explainer as S

    Xf = np.nan_to_num(X)
    model = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(Xf, Xf[:, 0] + Xf[:, 1])
    adapter = _adapter(model)
    monkeypatch.setattr(S, "TREE_FIRST_CHUNK", 100)
    a = Shap().explain(adapter, Xf[:700], background=Xf[700:], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "interventional" and not a.meta["findings"]
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, model.predict(Xf[:700]), atol=1e-6)  # float32 trees
    whole = Shap(tree_mode="interventional").explain(adapter, Xf[:700], background=Xf[700:], seed=0)
    np.testing.assert_allclose(a.values, whole.values, atol=1e-12)
