"""Contract suite: every registered explainer x every model family.

Shape, finite values, raw feature names, determinism for a seed, inputs not mutated, and each
applicable explainer chosen by the registry.
"""

from __future__ import annotations

import numpy as np
import pytest

from explainers import explainer_settings, registry, select
from tests.families import FAMILIES, materialise, optional_families

SETTINGS = {"lime": {"num_samples": 200}, "shap": {"algorithm": "auto", "tree_mode": "auto"}}
ALL = FAMILIES + optional_families()


@pytest.fixture(scope="module")
def built(credit, tmp_path_factory):
    cache = {}

    def get(family):
        if family.name not in cache:
            cache[family.name] = materialise(family, credit, tmp_path_factory.mktemp(family.name))
        return cache[family.name]

    return get


@pytest.mark.parametrize("family", ALL, ids=lambda f: f.name)
def test_registry_chooses_each_applicable_explainer(family, built):
    _model, _ds, adapter, *_ = built(family)
    chosen, _ = select(adapter, None, settings=SETTINGS)
    names = [e.name for e in chosen]
    for expected in family.expected:
        assert expected in names, f"{expected} not chosen for {family.name}: {names}"
    if "coefficients" not in family.expected:
        assert "coefficients" not in names


@pytest.mark.parametrize("family", ALL, ids=lambda f: f.name)
@pytest.mark.parametrize("name", [n for n in registry() if n in ("coefficients", "tree_path", "shap", "lime")])
def test_explainer_contract(family, name, built):
    _model, ds, adapter, *_ = built(family)
    cls = registry()[name]
    explainer = cls(**explainer_settings(cls, {}, SETTINGS.get(name)))
    if not explainer.supports(adapter):
        pytest.skip(f"{name} does not apply to {family.name}")
    rng = np.random.default_rng(0)
    X = np.array(ds.X[rng.choice(ds.n_rows, 6, replace=False)])
    background = np.array(ds.X[:40])
    X_before, bg_before = X.copy(), background.copy()
    a = explainer.explain(adapter, X, background=background, seed=3)
    assert a.values.shape == (6, len(ds.feature_names))
    assert np.isfinite(a.values).all() and np.isfinite(a.base_values).all()
    assert a.feature_names == ds.feature_names
    assert a.method == name and a.kind in ("intrinsic", "approximate")
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(background, bg_before)
    again = explainer.explain(adapter, X, background=background, seed=3)
    np.testing.assert_allclose(again.values, a.values, rtol=0, atol=1e-12)
    assert a.meta.get("algorithm"), "the exact algorithm must be recorded"


def test_unknown_explainer_lists_valid_names(built):
    from audit.errors import InputError

    _model, _ds, adapter, *_ = built(FAMILIES[0])
    with pytest.raises(InputError, match="Valid names: .*coefficients"):
        select(adapter, ["shapp"])


@pytest.mark.slow
@pytest.mark.parametrize("family", ALL, ids=lambda f: f.name)
def test_audit_run_on_saved_model_of_each_family(family, credit, tmp_path, cli):
    import json

    from tests.conftest import save_pickle

    model, frame, target = family.build(credit)
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    path = save_pickle(model, tmp_path / "model.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text("rows = 15\nbackground = 30\nlime_num_samples = 150\nstability_rows = 3\nstability_seeds = 2\n"
                   "sensitivity_rows = 2\nrandomisation_rows = 5\nbootstrap = 30\nrandom_controls = 2\n")
    out = tmp_path / "out"
    extra = []
    if family.name.startswith("hist_gradient_boosting"):
        # HGB with categorical features pickles functools.partial(check_array): refused without trust.
        code, _, err = cli("run", path, data, "--target", target, "--config", cfg, "--out", out, "--quiet")
        assert code == 2 and "functools.partial" in err and not out.exists()
        extra = ["--trust-model"]
    code, _, err = cli("run", path, data, "--target", target, "--config", cfg, "--out", out, "--quiet", *extra)
    assert code in (0, 1), err
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    results = json.loads((out / "results.json").read_text())
    methods = {e["method"]: e for e in results["explanations"]}
    for expected in family.expected:
        assert expected in methods
        assert methods[expected]["algorithm"]["algorithm"]
