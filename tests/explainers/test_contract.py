"""Contract suite: every registered explainer x every model family.

Shape, finite values, raw feature names, determinism for a seed, inputs not mutated, and each
applicable explainer chosen by the registry.
"""

from __future__ import annotations

import numpy as np
import pytest

from explainers import explainer_settings, registry, select
from explainers.testing import check_explainer
from tests.conftest import expect_verdict
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
def test_every_applicable_explainer_meets_the_contract(family, built):
    """Every registered explainer that supports the family (torch-only ones do not; tests/torch runs
    them) through the shipped check_explainer; exact methods must also add up (1e-6 of the spread)
    where they promise it (HistGradientBoosting with a categorical column and NaN included: its TreeSHAP and
    tree paths are read from its own predictors)."""
    _model, ds, adapter, *_ = built(family)
    rng = np.random.default_rng(0)
    X = np.array(ds.X[rng.choice(ds.n_rows, 6, replace=False)])
    checked = []
    for name, cls in registry().items():
        explainer = cls(**explainer_settings(cls, {}, SETTINGS.get(name)))
        if not explainer.supports(adapter):
            continue
        check_explainer(explainer, adapter, X, background=np.array(ds.X[:40]), seed=3, additivity_rtol=1e-6)
        checked.append(name)
    assert set(family.expected) <= set(checked) and {"shap", "lime"} <= set(checked), checked


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
    # HGB with categorical features pickles functools.partial(check_array): admitted by the generated allow-list
    # (a partial of scikit-learn's own validation function with plain data), so it loads without trust
    if family.name in ("xgboost", "lightgbm"):
        # their scikit-learn wrappers are not on the pickle allow-list: the native formats are the safe way
        code, _, err = cli("run", path, data, "--target", target, "--config", cfg, "--out", out, "--quiet")
        assert code == 2 and f"{family.name}." in err and not out.exists()
        extra = ["--trust-model"]
    code, _, err = cli("run", path, data, "--target", target, "--config", cfg, "--out", out, "--quiet", *extra)
    expect_verdict(code, out, passed=False, err=err)  # FAST_TOML's 40 rows: every family fails
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["trusted"] is bool(extra)
    methods = {e["method"]: e for e in results["explanations"]}
    for expected in family.expected:
        assert expected in methods
        assert methods[expected]["algorithm"]["algorithm"]
