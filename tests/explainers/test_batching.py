"""Model calls are batched: never one predict call per perturbed row."""

from __future__ import annotations

import pytest

from explainers.lime_tabular import Lime
from explainers.shap_explainer import Shap
from tests.families import FAMILIES, materialise


@pytest.fixture(scope="module")
def knn(credit, tmp_path_factory):
    family = next(f for f in FAMILIES if f.name == "pipeline_logreg_onehot")
    return materialise(family, credit, tmp_path_factory.mktemp("knn"))


@pytest.mark.slow
@pytest.mark.parametrize("explainer", [Lime(num_samples=500), Shap(algorithm="kernel", kernel_nsamples=300)],
                         ids=["lime", "kernel_shap"])
def test_200_rows_do_not_make_one_call_per_perturbed_row(explainer, knn):
    _model, ds, adapter, *_ = knn
    before_calls, before_rows = adapter.counter.calls, adapter.counter.rows
    explainer.explain(adapter, ds.X[:200], background=ds.X[:100], seed=0)
    calls = adapter.counter.calls - before_calls
    rows = adapter.counter.rows - before_rows
    assert rows >= 200 * 100  # at least a hundred perturbed rows per explained row ...
    assert calls <= 2 * 200 + 5  # ... evaluated in at most a couple of batched calls per explained row
    assert rows / calls >= 100
