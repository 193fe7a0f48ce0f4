"""The sklearn adapter: tasks, explained score, class choice, one-hot mapping back to raw columns."""

from __future__ import annotations

import numpy as np
import pytest

from audit.errors import ModelError
from tests.families import FAMILIES, materialise

BY_NAME = {f.name: f for f in FAMILIES}


@pytest.fixture(scope="module")
def built(credit, tmp_path_factory):
    return lambda name: materialise(BY_NAME[name], credit, tmp_path_factory.mktemp(name))


def test_binary_classifier_explains_probability_of_positive_class(built):
    model, ds, adapter, *_ = built("logistic_regression")
    assert adapter.task == "binary" and adapter.output == "predict_proba" and adapter.explained_class == 1
    np.testing.assert_allclose(adapter.predict(ds.X[:20]), model.predict_proba(ds.frame(np.arange(20)))[:, 1])
    other = adapter.for_class(0)
    np.testing.assert_allclose(other.predict(ds.X[:20]), 1 - adapter.predict(ds.X[:20]))
    np.testing.assert_allclose(adapter.margin(ds.X[:5]), model.decision_function(ds.frame(np.arange(5))))


def test_decision_function_only_models(built):
    model, ds, adapter, *_ = built("linear_svc")
    assert adapter.output == "decision_function"
    np.testing.assert_allclose(adapter.predict(ds.X[:10]), model.decision_function(ds.frame(np.arange(10))))
    np.testing.assert_allclose(adapter.for_class(0).predict(ds.X[:10]), -adapter.predict(ds.X[:10]))
    _m, _ds, svc, *_ = built("svc_no_probability")
    assert svc.output == "decision_function"


def test_regressor(built):
    model, ds, adapter, *_ = built("ridge")
    assert adapter.task == "regression" and adapter.classes is None
    np.testing.assert_allclose(adapter.predict(ds.X[:10]), model.predict(ds.frame(np.arange(10))))


def test_unknown_class_is_a_clear_error(built):
    from audit.adapters import make_adapter

    model, ds, *_ = built("logistic_regression")
    with pytest.raises(ModelError, match="classes are"):
        make_adapter(model, ds.space, explained_class="maybe")


def test_one_hot_columns_map_back_to_their_raw_column(built):
    _model, ds, adapter, *_ = built("pipeline_logreg_onehot")
    tmap = adapter.transform_map
    names = ds.feature_names
    assert tmap.weights.shape[1] == len(names)
    np.testing.assert_allclose(tmap.weights.sum(1), 1.0)
    for p, (j, category) in tmap.onehot.items():
        assert tmap.names[p].endswith(f"{names[j]}_{category}")
    housing = names.index("housing")
    assert sum(1 for j, _ in tmap.onehot.values() if j == housing) == len(ds.space.categories["housing"])
    for p, (j, a, _b) in tmap.linear.items():
        assert names[j] in tmap.names[p] and a > 0  # StandardScaler columns, recovered exactly


def test_batches_bound_memory_and_count_calls(built):
    _model, ds, adapter, *_ = built("logistic_regression")
    adapter.batch_size = 300
    before = adapter.counter.calls
    out = adapter.predict(ds.X)
    assert len(out) == ds.n_rows
    assert adapter.counter.calls - before == int(np.ceil(ds.n_rows / 300))
