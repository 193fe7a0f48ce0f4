"""Torch attributions whose values are known in closed form, and performance figures recomputed.

The model is one linear layer on standardised inputs ``z = (x - mean) / std`` (the spec's numbers), so
for weights ``w`` of the explained output: Saliency is ``|w|`` on every row, Input x Gradient is
``w * z`` and Integrated Gradients from the background mean is ``w * (z - mean(z_background))``,
exactly. Shape, sign or determinism checks pass on a wrong scale or a missing standardisation; these
do not.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import FAST_TOML, SAMPLES

FEATURES = ["duration", "age", "credit_amount"]
W = np.array([[0.8, -0.5, 0.3], [-0.2, 0.6, -0.9], [0.1, 0.1, 0.7]])
B = np.array([0.1, -0.2, 0.05])


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("linear_head")
    df = pd.read_csv(SAMPLES / "german_credit.csv")
    mean, std = df[FEATURES].mean().to_numpy(), df[FEATURES].std().to_numpy()
    spec = {"task": "multiclass", "output": "logits", "classes": ["free", "own", "rent"],
            "features": [{"name": f, "type": "numeric", "mean": float(m), "std": float(s)}
                         for f, m, s in zip(FEATURES, mean, std)],
            "model_kwargs": {"n_inputs": 3, "n_outputs": 3}}
    from tests.torch.linear_head import LinearHead

    model = LinearHead(3, 3)
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor(W, dtype=torch.float32))
        model.linear.bias.copy_(torch.tensor(B, dtype=torch.float32))
    torch.save(model.state_dict(), tmp / "head.pt")
    (tmp / "head.spec.json").write_text(json.dumps(spec))
    data = tmp / "data.csv"
    df[FEATURES + ["housing"]].to_csv(data, index=False)
    return tmp / "head.pt", data, df, mean, std


@pytest.fixture(scope="module")
def adapter(saved):
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model

    path, data, *_ = saved
    loaded = load_model(path, model_class="tests.torch.linear_head:LinearHead")
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="housing")
    return make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": "cpu"}), ds


@pytest.mark.parametrize("k", [0, 2])
def test_saliency_input_x_gradient_and_ig_equal_their_closed_forms(adapter, saved, k):
    from explainers.input_x_gradient import InputXGradient
    from explainers.integrated_gradients import IntegratedGradients
    from explainers.saliency import Saliency

    base, ds = adapter
    *_, mean, std = saved
    view = base.for_class(k)
    X, bg = ds.X[:20], ds.X[100:300]
    z, zb = (X - mean) / std, (bg - mean) / std
    sal = Saliency().explain(view, X, background=bg, seed=0).values
    np.testing.assert_allclose(sal, np.tile(np.abs(W[k]), (20, 1)), rtol=1e-5)
    ixg = InputXGradient().explain(view, X, background=bg, seed=0).values
    np.testing.assert_allclose(ixg, W[k] * z, rtol=1e-4, atol=1e-5)
    ig = IntegratedGradients().explain(view, X, background=bg, seed=0)
    np.testing.assert_allclose(ig.values, W[k] * (z - zb.mean(0)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ig.base_values, W[k] @ zb.mean(0) + B[k], rtol=1e-4, atol=1e-5)


def test_multiclass_accuracy_is_the_share_of_rows_whose_argmax_is_the_label(saved):
    """Replaces ``accuracy >= 0``: the figure must equal the accuracy recomputed from the weights."""
    from audit.commands.runner import run_audit
    from audit.config import parse_config

    path, data, df, mean, std = saved
    config = parse_config(FAST_TOML, overrides={"target": "housing", "device": "cpu", "explainers": ["saliency"]})
    result = run_audit(path, data, config=config, model_class="tests.torch.linear_head:LinearHead")
    z = (df[FEATURES].to_numpy() - mean) / std
    predicted = np.array(["free", "own", "rent"])[np.argmax(z @ W.T + B, axis=1)]
    assert result.performance["accuracy"] == pytest.approx(np.mean(predicted == df["housing"].to_numpy()))
    assert result.model["explained_class_per_row"]


def test_a_float64_torchscript_model_is_fed_float64_and_keeps_double_precision(tmp_path):
    """The existing float64 test only checks that scores are finite. Here: the adapter's tensors are
    float64 and the margin matches a double-precision computation to 1e-12 (float32 inputs would be off
    by about 1e-7 of the scale)."""
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model
    from tests.torch.linear_head import LinearHead

    df = pd.read_csv(SAMPLES / "german_credit.csv")
    mean, std = df[FEATURES].mean().to_numpy(), df[FEATURES].std().to_numpy()
    spec = {"task": "binary", "output": "logits", "classes": [0, 1],
            "features": [{"name": f, "type": "numeric", "mean": float(m), "std": float(s)}
                         for f, m, s in zip(FEATURES, mean, std)]}
    w = np.array([[0.123456789012, -0.98765432101, 0.5555555555555]])
    model = LinearHead(3, 1).double()
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor(w, dtype=torch.float64))
        model.linear.bias.zero_()
    torch.jit.script(model.eval()).save(str(tmp_path / "head.ts"))
    (tmp_path / "head.spec.json").write_text(json.dumps(spec))
    data = tmp_path / "data.csv"
    df[FEATURES + ["risk"]].to_csv(data, index=False)
    loaded = load_model(tmp_path / "head.ts", trust_model=True)
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": "cpu"})
    X = ds.X[:50] * (1 + 1e-9)
    assert adapter.tensor(X).dtype == torch.float64
    np.testing.assert_allclose(adapter.margin(X), ((X - mean) / std) @ w[0], rtol=0, atol=1e-12)
