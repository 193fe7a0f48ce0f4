"""Recourse through the torch adapter (a state_dict with a preprocessing spec): the same search and
verification as for scikit-learn pipelines, on raw data rows."""

from __future__ import annotations

import numpy as np

from audit.adapters import describe_model, make_adapter
from audit.config import parse_config
from audit.loading import load_data, load_model
from audit.recourse import build_search, verify
from tests.conftest import SAMPLES


def test_torch_mlp_recourse_flips_its_own_decision_and_keeps_protected_inputs(torch_models):
    """Catches a search that only works for DataFrame pipelines, or that changes a protected input of a
    torch model: each counterfactual is decided again by the module itself."""
    loaded = load_model(torch_models / "loan_mlp.pt", model_class="samples.torch_models:LoanMLP")
    ds = load_data(SAMPLES / "german_credit.csv", describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": "cpu"})
    adapter.prepare(ds.X)
    config = parse_config('[policy]\nprotected_attributes = ["sex", "age"]')
    search = build_search(config, ds.X, ds.space, adapter, 1, columns=None)
    rows = np.flatnonzero(np.array([str(v) for v in adapter.predict_label(ds.X)]) == "0")[:20]
    results = verify(adapter, ds.X[rows], search.run(adapter, ds.X[rows]), 1)
    sex, age = ds.feature_names.index("sex"), ds.feature_names.index("age")
    found = [(i, cf) for i, r in zip(rows, results) for cf in r.counterfactuals]
    assert len(found) >= 10
    for i, cf in found:
        z = cf.apply(ds.X[i])
        assert z[sex] == ds.X[i, sex] and z[age] == ds.X[i, age]
        assert float(adapter.margin(z[None, :])[0]) > 0  # the module's own logit of approval
