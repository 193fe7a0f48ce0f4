"""Exact checks for intrinsic methods and SHAP's promises."""

from __future__ import annotations

import numpy as np
import pytest

from explainers.coefficients import Coefficients
from explainers.shap_explainer import Shap
from explainers.tree_path import TreePath
from tests.families import FAMILIES, materialise

BY_NAME = {f.name: f for f in FAMILIES}


def _build(name, credit, tmp_path):
    return materialise(BY_NAME[name], credit, tmp_path)


def test_coefficients_equal_coef_times_centred_x_plain_model(credit, tmp_path):
    model, ds, adapter, *_ = _build("logistic_regression", credit, tmp_path)
    X, bg = ds.X[:50], ds.X[100:300]
    a = Coefficients().explain(adapter, X, background=bg, seed=0)
    expected = model.coef_[0] * (X - bg.mean(0))
    np.testing.assert_allclose(a.values, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, model.decision_function(ds.frame(np.arange(50))),
                               rtol=0, atol=1e-9)


def test_coefficients_sum_one_hot_groups_back_to_raw_columns(credit, tmp_path):
    model, ds, adapter, *_ = _build("pipeline_logreg_onehot", credit, tmp_path)
    X, bg = ds.X[:50], ds.X[100:300]
    a = Coefficients().explain(adapter, X, background=bg, seed=0)
    pre, final = model[:-1], model[-1]
    Z, Zb = pre.transform(ds.frame(np.arange(50))), pre.transform(ds.frame(np.arange(100, 300)))
    Z, Zb = np.asarray(Z.todense() if hasattr(Z, "todense") else Z), np.asarray(Zb.todense() if hasattr(Zb, "todense") else Zb)
    per_col = final.coef_[0] * (Z - Zb.mean(0))
    names = pre.get_feature_names_out()
    for j, raw in enumerate(ds.feature_names):
        cols = [i for i, n in enumerate(names) if n.split("__", 1)[1] == raw or n.split("__", 1)[1].startswith(raw + "_")]
        np.testing.assert_allclose(a.values[:, j], per_col[:, cols].sum(1), rtol=0, atol=1e-9)
    assert set(a.feature_names) == set(ds.feature_names)
    assert a.meta["intercept"] == pytest.approx(float(final.intercept_[0]))


def test_polynomial_interactions_are_shared_between_their_raw_columns(credit, tmp_path):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data

    frame = credit[["duration", "age", "credit_amount"]].astype(float)
    model = make_pipeline(StandardScaler(), PolynomialFeatures(2), Ridge()).fit(frame[["duration", "age"]], frame["credit_amount"])
    path = tmp_path / "poly.csv"
    frame.to_csv(path, index=False)
    ds = load_data(path, describe_model(model), target="credit_amount")
    adapter = make_adapter(model, ds.space)
    adapter.prepare(ds.X)
    a = Coefficients().explain(adapter, ds.X[:30], background=ds.X, seed=0)
    # additivity survives the regrouping: contributions + base = prediction
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, model.predict(ds.frame(np.arange(30))), atol=1e-6)
    weights = adapter.transform_map.weights
    assert weights.shape == (6, 2)
    np.testing.assert_allclose(weights.sum(1)[1:], 1.0)  # every non-constant column fully assigned
    assert 0.5 in weights  # the duration x age interaction is split equally


@pytest.mark.parametrize("name", ["decision_tree", "decision_tree_regressor", "random_forest", "random_forest_regressor",
                                  "extra_trees", "gradient_boosting", "gradient_boosting_regressor",
                                  "pipeline_gbm_onehot", "pipeline_forest_onehot"])
def test_tree_path_contributions_plus_bias_equal_model_output(name, credit, tmp_path):
    model, ds, adapter, *_ = _build(name, credit, tmp_path)
    X = ds.X[:80]
    a = TreePath().explain(adapter, X, background=ds.X[:50], seed=0)
    total = a.values.sum(1) + a.base_values
    if a.output_space == "margin":
        expected = adapter.margin(X)
    else:
        expected = adapter.predict(X)
    np.testing.assert_allclose(total, expected, rtol=0, atol=1e-9)


def test_tree_path_rules_are_in_raw_feature_terms(credit, tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    from tests.families import _pipeline

    family = BY_NAME["pipeline_logreg_onehot"]
    family = type(family)("tree_onehot", _pipeline(DecisionTreeClassifier(max_depth=3, random_state=0)), ())
    _model, ds, adapter, *_ = materialise(family, credit, tmp_path)
    a = TreePath().explain(adapter, ds.X[:20], background=ds.X[:50], seed=0)
    assert a.rules is not None and len(a.rules) == 20
    text = " ".join(a.rules)
    assert "checking_account" in text and "->" in text and "class" in text
    assert "onehot" not in text and "cat__" not in text and "num__" not in text
    # a scaled numeric split is shown on the raw scale (durations are whole months 4..72)
    for rule in a.rules:
        for part in rule.split(" -> ")[0].split(" and "):
            if "duration" in part:
                value = float(part.replace("<", " ").replace(">", " ").replace("=", " ").split()[-1])
                assert 4 <= value <= 72


def test_shap_tree_additivity_on_tree_model(credit, tmp_path):
    _model, ds, adapter, *_ = _build("gradient_boosting", credit, tmp_path)
    X = ds.X[:60]
    a = Shap().explain(adapter, X, background=ds.X[:100], seed=0)
    assert a.meta["choice"] == "tree"
    assert a.meta["parameters"]["feature_perturbation"] == "interventional"
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(X), rtol=0, atol=1e-6)


def test_shap_tree_path_dependent_is_recorded(credit, tmp_path):
    _model, ds, adapter, *_ = _build("random_forest", credit, tmp_path)
    a = Shap(tree_mode="tree_path_dependent").explain(adapter, ds.X[:20], background=ds.X[:50], seed=0)
    assert a.meta["parameters"]["feature_perturbation"] == "tree_path_dependent"
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.predict(ds.X[:20]), atol=1e-6)


@pytest.mark.parametrize("algo", ["exact", "permutation", "kernel"])
def test_model_agnostic_shap_is_additive_and_recorded(algo, credit, tmp_path):
    _model, ds, adapter, *_ = _build("kneighbors", credit, tmp_path)
    X = ds.X[:5]
    a = Shap(algorithm=algo, kernel_nsamples=200).explain(adapter, X, background=ds.X[:30], seed=1)
    assert a.meta["choice"] == algo and a.meta["parameters"]
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.predict(X), atol=1e-6)


def test_shap_auto_choice_per_model(credit, tmp_path):
    from explainers.shap_explainer import choose_algorithm

    assert choose_algorithm(_build("random_forest", credit, tmp_path)[2])[0] == "tree"
    assert choose_algorithm(_build("pipeline_logreg_onehot", credit, tmp_path)[2])[0] == "linear"
    assert choose_algorithm(_build("kneighbors", credit, tmp_path)[2])[0] == "exact"


def test_shap_failure_is_a_finding_not_an_abort(credit, tmp_path, monkeypatch):
    import shap

    _model, ds, adapter, *_ = _build("gradient_boosting", credit, tmp_path)

    def broken(*args, **kwargs):
        raise shap.utils._exceptions.ExplainerError("Additivity check failed in TreeExplainer!")

    monkeypatch.setattr(shap, "TreeExplainer", broken)
    a = Shap().explain(adapter, ds.X[:4], background=ds.X[:30], seed=0)
    assert a.meta["choice"] == "permutation"
    assert "Additivity check failed" in a.meta["findings"][0]


def test_lime_records_local_r2_and_is_seeded(credit, tmp_path):
    from explainers.lime_tabular import Lime

    _model, ds, adapter, *_ = _build("pipeline_logreg_onehot", credit, tmp_path)
    lime = Lime(num_samples=300)
    a = lime.explain(adapter, ds.X[:4], background=ds.X[:200], seed=5)
    b = lime.explain(adapter, ds.X[:4], background=ds.X[:200], seed=5)
    c = lime.explain(adapter, ds.X[:4], background=ds.X[:200], seed=6)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert a.local_r2 is not None and a.local_r2.shape == (4,)
    assert a.meta["parameters"]["num_samples"] == 300
    assert set(a.meta["parameters"]["categorical_features"]) == {"housing", "saving_accounts", "checking_account", "purpose"}


def test_lime_in_worker_processes_gives_the_same_attributions(credit, tmp_path):
    from explainers.lime_tabular import Lime

    _model, ds, adapter, *_ = _build("pipeline_logreg_onehot", credit, tmp_path)
    X, bg = ds.X[:6], ds.X[:200]
    serial = Lime(num_samples=200).explain(adapter, X, background=bg, seed=3)
    calls, rows = adapter.counter.calls, adapter.counter.rows
    parallel = Lime(num_samples=200, n_jobs=2).explain(adapter, X, background=bg, seed=3)
    assert serial.meta["n_jobs"] == 1 and parallel.meta["n_jobs"] == 2
    np.testing.assert_array_equal(serial.values, parallel.values)
    np.testing.assert_array_equal(serial.local_r2, parallel.local_r2)
    # the workers' model calls are counted in the parent: one batched call per worker's block of rows
    assert adapter.counter.calls - calls == 2 and adapter.counter.rows - rows == 6 * 200


@pytest.mark.parametrize("algo", ["permutation", "kernel", "exact"])
def test_model_agnostic_shap_in_worker_processes_gives_the_same_attributions(algo, credit, tmp_path):
    _model, ds, adapter, *_ = _build("pipeline_logreg_onehot", credit, tmp_path)
    X, bg = ds.X[:4], ds.X[100:140]
    options = {"algorithm": algo, "kernel_nsamples": 200, "permutation_max_evals": 100}
    serial = Shap(**options).explain(adapter, X, background=bg, seed=2)
    parallel = Shap(**options, n_jobs=2).explain(adapter, X, background=bg, seed=2)
    assert serial.meta["parameters"]["n_jobs"] == 1 and parallel.meta["parameters"]["n_jobs"] == 2
    np.testing.assert_array_equal(serial.values, parallel.values)
    np.testing.assert_array_equal(serial.base_values, parallel.base_values)
    np.testing.assert_allclose(serial.values.sum(1) + serial.base_values, adapter.predict(X), atol=1e-6)


def test_lime_perturbs_categories_as_categories(credit, tmp_path):
    from explainers.lime_tabular import Lime

    _model, ds, adapter, *_ = _build("pipeline_logreg_onehot", credit, tmp_path)
    seen = []
    real = adapter.predict

    def spy(X):
        seen.append(np.array(X))
        return real(X)

    adapter.predict = spy
    Lime(num_samples=200).explain(adapter, ds.X[:2], background=ds.X[:200], seed=0)
    for X in seen:
        for j in ds.space.categorical_indices:
            col = X[:, j]
            assert np.all(col == np.round(col)) and col.min() >= 0
            assert col.max() < len(ds.space.categories[ds.feature_names[j]])
