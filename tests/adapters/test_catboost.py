"""CatBoost models loaded from ``.cbm`` without a pickle: its own categorical support (the data's labels
reach the model as strings), native TreeSHAP against shap's TreeExplainer and the library's own
predictions, the pickled form under --trust-model, a whole audit through the CLI, and a crafted header."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit.adapters import describe_model, make_adapter
from audit.loading import load_data, load_model
from explainers.shap_explainer import Shap
from explainers.testing import check_explainer
from tests.adapters.native_models import credit_frame, max_spread_gap
from tests.conftest import CATEGORICAL, SAMPLES, expect_verdict, save_pickle

catboost = pytest.importorskip("catboost")
DATA = SAMPLES / "german_credit.csv"  # for the refusal test: a file is refused before any data is read


def _raw() -> pd.DataFrame:
    """The German credit data with 60 savings values missing (seeded), written to DATA."""
    X, y = credit_frame()
    X = X.copy()
    X.loc[np.random.default_rng(0).choice(len(X), 60, replace=False), "saving_accounts"] = np.nan
    return X.assign(risk=y)


def _frame(raw: pd.DataFrame) -> pd.DataFrame:
    """The model's columns as CatBoost is usually fed them: categories as strings, missing as 'nan'."""
    X = raw.drop(columns="risk")
    for c in CATEGORICAL:
        X[c] = X[c].fillna("nan").astype(str)  # pandas 3 keeps NaN through astype(str)
    return X


@pytest.fixture(scope="module")
def credit_catboost(tmp_path_factory) -> tuple[Path, Path, object]:
    """(the .cbm, the same fitted model pickled, the fitted model); DATA is written beside them."""
    tmp = tmp_path_factory.mktemp("catboost")
    raw = _raw()
    raw.to_csv(tmp / "credit.csv", index=False)
    model = catboost.CatBoostClassifier(iterations=40, depth=3, random_seed=0, verbose=False, thread_count=1,
                                        cat_features=CATEGORICAL, allow_writing_files=False)
    model.fit(_frame(raw), raw["risk"])
    model.save_model(str(tmp / "credit.cbm"))
    return tmp / "credit.cbm", save_pickle(model, tmp / "credit.pkl"), model


def _adapt(path: Path, *, trust: bool = False):
    loaded = load_model(path, trust_model=trust)
    ds = load_data(path.parent / "credit.csv", describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    return loaded, ds, adapter


def test_cbm_with_native_categories_predicts_as_the_library_does(credit_catboost):
    """Catches: CatBoost's categorical columns read as numbers (the data's 'male' refused), the data's codes
    sent to the model instead of its labels, or missing values not sent as the 'nan' label the model saw."""
    cbm, _, model = credit_catboost
    loaded, ds, a = _adapt(cbm)
    assert loaded.format == "catboost" and not loaded.trusted and a.framework == "catboost"
    assert set(ds.space.categories) == set(CATEGORICAL)
    X = _frame(_raw())
    np.testing.assert_allclose(a.predict(ds.X), model.predict_proba(X)[:, 1], atol=1e-12)
    np.testing.assert_allclose(a.margin(ds.X), model.predict(X, prediction_type="RawFormulaVal"), atol=1e-12)
    assert np.isnan(ds.X[:, ds.space.names.index("saving_accounts")]).any()  # the missing label is exercised


def test_native_shap_values_agree_with_shap_and_add_up(credit_catboost):
    """Catches: contributions taken from the wrong class or column order, or not in log-odds (the peer
    library's TreeExplainer on the same model is the reference)."""
    import shap
    from catboost import Pool

    cbm, _, model = credit_catboost
    _, ds, a = _adapt(cbm)
    rows = slice(0, 60)
    values, base = a.tree_contributions(a.transform(ds.X[rows]), "shap")
    X = _frame(_raw())
    reference = np.asarray(shap.TreeExplainer(model).shap_values(Pool(X.iloc[rows], cat_features=CATEGORICAL)))
    out = a.margin(ds.X[rows])
    assert max_spread_gap(values, reference, out) <= 1e-6
    np.testing.assert_allclose(values.sum(1) + base, out, atol=1e-9)
    at = check_explainer(Shap(), a, ds.X[:10], background=ds.X[300:340], additivity_rtol=1e-6)
    assert at.output_space == "margin" and at.meta["choice"] == "tree"
    assert at.meta["parameters"]["feature_perturbation"] == "tree_path_dependent"


def test_the_pickled_model_under_trust_gives_the_same_attributions(credit_catboost):
    """Catches: a trusted pickle of the same CatBoostClassifier explained differently from its .cbm (another
    adapter, another output space or another algorithm)."""
    cbm, pickled, _ = credit_catboost
    _, ds, a = _adapt(cbm)
    loaded, ds_p, p = _adapt(pickled, trust=True)
    assert loaded.trusted and p.framework == "catboost"
    ours = Shap().explain(a, ds.X[:25], background=ds.X[500:560], seed=0)
    theirs = Shap().explain(p, ds_p.X[:25], background=ds_p.X[500:560], seed=0)
    assert ours.output_space == theirs.output_space == "margin"
    assert max_spread_gap(ours.values, theirs.values, a.margin(ds.X[:25])) < 1e-9


def test_cli_audits_a_cbm_end_to_end(cli, tmp_path, fast_config, credit_catboost):
    """Catches: a .cbm that loads in the library but fails somewhere in the audit (decisions, report)."""
    cbm, _, _ = credit_catboost
    out = tmp_path / "out"
    code, _, err = cli("run", cbm, cbm.parent / "credit.csv", "--target", "risk", "--config", fast_config, "--out", out,
                       "--explainers", "shap,lime")
    expect_verdict(code, out, passed=False, err=err)
    results = json.loads((out / "results.json").read_text())
    assert code == (0 if results["gate"]["passed"] else 1)
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert results["model"]["framework"] == "catboost" and results["model"]["trusted"] is False
    shap_entry = next(e for e in results["explanations"] if e["method"] == "shap")
    assert set(shap_entry["global_importance"]) == set(results["data"]["features"])


def test_a_header_declaring_more_bytes_than_the_file_is_exit_2(cli, tmp_path, credit_catboost):
    """Catches: a crafted .cbm handed to CatBoost's parser (which trusts the declared core size)."""
    cbm, _, _ = credit_catboost
    data = bytearray(cbm.read_bytes())
    data[4:8] = (len(data) * 10).to_bytes(4, "little")
    bad = tmp_path / "bad.cbm"
    bad.write_bytes(bytes(data))
    code, _, err = cli("run", bad, DATA, "--target", "risk", "--out", tmp_path / "o")
    assert code == 2 and "header declares" in err
    assert not (tmp_path / "o").exists()
