"""Multiclass and regression heads through the torch adapter."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from audit.commands.runner import run_audit
from audit.config import parse_config
from tests.conftest import FAST_TOML, SAMPLES
from tests.torch.tiny_models import TinyHead

FEATURES = ["duration", "age", "credit_amount"]


def _save(tmp_path, task, n_out, target, classes=None):
    df = pd.read_csv(SAMPLES / "german_credit.csv")
    spec = {"task": task, "output": "logits" if task != "regression" else "value",
            "features": [{"name": f, "type": "numeric", "mean": float(df[f].mean()), "std": float(df[f].std())}
                         for f in FEATURES],
            "model_kwargs": {"n_inputs": 3, "n_outputs": n_out}}
    if classes is not None:
        spec["classes"] = classes
    torch.manual_seed(0)
    model = TinyHead(3, n_out)
    torch.save(model.state_dict(), tmp_path / "head.pt")
    (tmp_path / "head.spec.json").write_text(json.dumps(spec))
    data = tmp_path / "data.csv"
    df[FEATURES + [target]].to_csv(data, index=False)
    return tmp_path / "head.pt", data


def _config(target):
    return parse_config(FAST_TOML, overrides={"target": target, "device": "cpu",
                                              "explainers": ["integrated_gradients", "saliency"]})


def test_multiclass_head_explains_each_rows_predicted_class(tmp_path):
    model, data = _save(tmp_path, "multiclass", 3, "housing", ["free", "own", "rent"])
    result = run_audit(model, data, config=_config("housing"), model_class="tests.torch.tiny_models:TinyHead")
    assert result.model["task"] == "multiclass" and result.model["classes"] == ["free", "own", "rent"]
    assert result.model["explained_class_per_row"]
    assert result.explanations[0].rows_explained == 40
    assert result.performance["accuracy"] >= 0


def test_multiclass_head_gets_additive_deep_shap_per_class(tmp_path):
    model, data = _save(tmp_path, "multiclass", 3, "housing", ["free", "own", "rent"])
    config = parse_config(FAST_TOML, overrides={"target": "housing", "device": "cpu", "explainers": ["shap"]})
    result = run_audit(model, data, config=config, model_class="tests.torch.tiny_models:TinyHead")
    shap = result.explanations[0]
    assert shap.algorithm["algorithm"] == "shap.DeepExplainer"
    assert shap.additivity_error is not None and shap.additivity_error < 1e-4
    assert not any("additivity" in f for f in shap.findings)


def test_regression_head(tmp_path):
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model

    FEATURES_R = FEATURES[:2]
    df = pd.read_csv(SAMPLES / "german_credit.csv")
    spec = {"task": "regression", "output": "value", "model_kwargs": {"n_inputs": 2, "n_outputs": 1},
            "features": [{"name": f, "type": "numeric", "mean": float(df[f].mean()), "std": float(df[f].std())}
                         for f in FEATURES_R]}
    torch.manual_seed(0)
    torch.save(TinyHead(2, 1).state_dict(), tmp_path / "reg.pt")
    (tmp_path / "reg.spec.json").write_text(json.dumps(spec))
    data = tmp_path / "reg.csv"
    df[FEATURES_R + ["credit_amount"]].to_csv(data, index=False)
    result = run_audit(tmp_path / "reg.pt", data, config=_config("credit_amount"),
                       model_class="tests.torch.tiny_models:TinyHead")
    assert result.model["task"] == "regression" and "r2" in result.performance
    loaded = load_model(tmp_path / "reg.pt", model_class="tests.torch.tiny_models:TinyHead")
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="credit_amount")
    adapter = make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": "cpu"})
    np.testing.assert_allclose(adapter.predict(ds.X[:5]), adapter.margin(ds.X[:5]))


def test_bad_spec_is_a_clear_error(tmp_path):
    from audit.errors import InputError
    from audit.loading import load_model

    model, _ = _save(tmp_path, "multiclass", 3, "housing", ["free", "own", "rent"])
    (tmp_path / "head.spec.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_model(model, model_class="tests.torch.tiny_models:TinyHead")


def test_float64_torchscript_model_gets_float64_inputs(tmp_path):
    model, data = _save(tmp_path, "binary", 1, "risk", [0, 1])
    scripted = torch.jit.script(TinyHead(3, 1).double().eval())
    scripted.save(str(tmp_path / "head.ts"))
    # the spec written beside head.pt also serves head.ts (same stem)
    config = parse_config(FAST_TOML, overrides={"target": "risk", "device": "cpu",
                                                "explainers": ["integrated_gradients", "shap"]})
    result = run_audit(tmp_path / "head.ts", data, config=config, trust_model=True)
    assert {e.method for e in result.explanations} == {"integrated_gradients", "shap"}
    assert all(np.isfinite(e.faithfulness_score) for e in result.explanations)
