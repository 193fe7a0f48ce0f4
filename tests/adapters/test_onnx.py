"""The ONNX form of a scikit-learn pipeline (skl2onnx) audits with the same decisions as the pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.adapters import describe_model, make_adapter
from audit.loading import load_data, load_model
from explainers.shap_explainer import Shap
from explainers.testing import check_explainer
from tests.adapters.native_models import credit_frame
from tests.conftest import NUMERIC, expect_verdict, save_pickle

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


@pytest.fixture(scope="module")
def onnx_credit(tmp_path_factory):
    """(onnx path, pickle path, data path) of one fitted credit pipeline; numeric columns as float32 (skl2onnx)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    d = tmp_path_factory.mktemp("onnx")
    X, y = credit_frame()
    X = X.astype({c: "float32" for c in NUMERIC})
    cats = [c for c in X.columns if c not in NUMERIC]
    pre = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), cats), ("num", StandardScaler(), NUMERIC)])
    pipe = Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000))]).fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    (d / "credit.onnx").write_bytes(onx.SerializeToString())
    data = d / "credit.csv"
    X.assign(risk=y).to_csv(data, index=False)
    return d / "credit.onnx", save_pickle(pipe, d / "credit.pkl"), data


def adapt(path, data, trust=False):
    loaded = load_model(path, trust_model=trust)
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    return ds, adapter


def test_onnx_pipeline_predicts_and_explains_like_the_pipeline(onnx_credit):
    onnx_path, pkl, data = onnx_credit
    ds, a = adapt(onnx_path, data)
    ds_p, p = adapt(pkl, data, trust=True)
    assert a.framework == "onnx" and a.task == "binary" and a.classes == (0, 1)
    np.testing.assert_allclose(a.predict(ds.X), p.predict(ds_p.X), atol=1e-5)
    assert (a.predict_label(ds.X).astype(int) == p.predict_label(ds_p.X).astype(int)).all()
    shap_ex = Shap(algorithm="exact")
    at = check_explainer(shap_ex, a, ds.X[:5], background=ds.X[100:116], additivity_rtol=1e-5)
    ref = shap_ex.explain(p, ds_p.X[:5], background=ds_p.X[100:116], seed=0)
    assert np.abs(at.values - ref.values).max() < 1e-5 * max(1.0, np.std(p.predict(ds_p.X)))


def test_cli_audits_the_onnx_form_with_the_pipelines_decisions(cli, onnx_credit, tmp_path, fast_config):
    onnx_path, pkl, data = onnx_credit
    # the same algorithm for both (the pipeline alone would get LinearExplainer on its visible margin)
    cfg = tmp_path / "audit.toml"
    cfg.write_text(fast_config.read_text() + '\n[explainers.shap]\nalgorithm = "exact"\n')
    runs = {}
    for name, path, extra in (("onnx", onnx_path, ()), ("pickle", pkl, ("--trust-model",))):
        out = tmp_path / name
        code, _, err = cli("run", path, data, "--target", "risk", "--config", cfg, "--out", out,
                           "--explainers", "shap", *extra)
        expect_verdict(code, out, passed=False, err=err)
        assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
        runs[name] = json.loads((out / "results.json").read_text())
    onnx_run, pipe_run = runs["onnx"], runs["pickle"]
    assert onnx_run["model"]["framework"] == "onnx" and onnx_run["model"]["trusted"] is False
    # (the gates may differ: a graph cannot be refit, so the model-randomisation check does not run on it)
    d_onnx = {d["row"]: d for d in onnx_run["decisions"]}
    d_pipe = {d["row"]: d for d in pipe_run["decisions"]}
    assert d_onnx.keys() == d_pipe.keys()
    for row, d in d_onnx.items():
        assert d["outcome"] == d_pipe[row]["outcome"]
        assert abs(d["prediction"] - d_pipe[row]["prediction"]) < 1e-5
        # the same algorithm on the same rows and background: the same principal reasons (float32 graph)
        assert [r["feature"] for r in d["reasons"]] == [r["feature"] for r in d_pipe[row]["reasons"]]
        for ours, theirs in zip(d["reasons"], d_pipe[row]["reasons"]):
            assert ours["contribution"] == pytest.approx(theirs["contribution"], abs=1e-5)
    for run in runs.values():
        assert next(e for e in run["explanations"] if e["method"] == "shap")["algorithm"]["choice"] == "exact"
