"""shap's DeepExplainer and GradientExplainer on PyTorch models, with the measured fallbacks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from audit.adapters._torch import TorchAdapter
from audit.types import FeatureSpace
from explainers.shap_explainer import Shap
from tests.torch.test_torch import _adapter


def test_deep_explainer_on_relu_mlp_is_exactly_additive(torch_models):
    adapter, ds = _adapter(torch_models)
    X, bg = ds.X[:40], ds.X[100:300]
    a = Shap().explain(adapter, X, background=bg, seed=0)
    assert a.meta["algorithm"] == "shap.DeepExplainer" and a.additive and not a.meta["findings"]
    assert a.meta["parameters"]["background_rows"] == 100
    np.testing.assert_allclose(a.values.sum(1) + a.base_values, adapter.margin(X), atol=1e-4)
    # the base value is the mean margin over the background rows Deep used
    assert a.base_values[0] == pytest.approx(adapter.margin(bg[:100]).mean(), abs=1e-5)
    # shap's hooks leave tensors on the leaves; they are removed, so the model can still be copied
    leftovers = [m for m in adapter.model.modules() if "x" in m.__dict__ or "y" in m.__dict__]
    assert not leftovers
    copy.deepcopy(adapter.model)


def test_gradient_explainer_where_deep_has_no_rule(torch_models):
    adapter, ds = _adapter(torch_models, "loan_transformer", "TabTransformer")
    X, bg = ds.X[:12], ds.X[100:200]
    shap_a = Shap(gradient_samples=100)
    a = shap_a.explain(adapter, X, background=bg, seed=3)
    assert a.meta["algorithm"] == "shap.GradientExplainer" and "LayerNorm" in a.meta["reason"]
    assert a.meta["sampled"] and not a.additive and a.meta["parameters"]["nsamples"] == 100
    b = shap_a.explain(adapter, X, background=bg, seed=3)
    np.testing.assert_array_equal(a.values, b.values)
    c = shap_a.explain(adapter, X, background=bg, seed=4)
    assert not np.array_equal(a.values, c.values)
    # expected gradients agree with Integrated Gradients on which features matter overall
    from explainers.integrated_gradients import IntegratedGradients

    ig = IntegratedGradients().explain(adapter, X, background=bg, seed=0)
    corr = np.corrcoef(np.abs(a.values).mean(0), np.abs(ig.values).mean(0))[0, 1]
    assert corr > 0.7, corr


class _FunctionalTanh(nn.Module):
    """Every leaf is a Linear (which has a DeepLIFT rule) but the tanh is functional (no rule)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = nn.Linear(3, 16)
        self.b = nn.Linear(16, 1)

    def forward(self, x):
        return self.b(torch.tanh(3 * self.a(x)))


def _tiny_adapter(model):
    names = ("f0", "f1", "f2")
    spec = {"task": "binary", "features": [{"name": n, "type": "numeric", "mean": 0.0, "std": 1.0} for n in names]}
    return TorchAdapter(model, FeatureSpace(names=names), spec=spec, device="cpu")


def test_deep_that_is_not_additive_falls_back_to_gradient_with_a_finding():
    adapter = _tiny_adapter(_FunctionalTanh())
    rng = np.random.default_rng(0)
    X, bg = rng.standard_normal((10, 3)), rng.standard_normal((50, 3))
    a = Shap().explain(adapter, X, background=bg, seed=0)
    assert a.meta["algorithm"] == "shap.GradientExplainer"
    assert a.meta["reason"] == "fallback after DeepExplainer failed its additivity check"
    assert "DeepExplainer is not additive" in a.meta["findings"][0]


def test_deep_that_raises_falls_back_to_gradient_and_leaves_no_hooks():
    # an in-place ReLU under shap's full backward hooks makes DeepExplainer raise mid-way
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(inplace=True), nn.Linear(8, 1))
    adapter = _tiny_adapter(model)
    rng = np.random.default_rng(1)
    a = Shap().explain(adapter, rng.standard_normal((5, 3)), background=rng.standard_normal((20, 3)), seed=0)
    assert a.meta["choice"] == "gradient" and len(a.meta["findings"]) == 1
    assert a.meta["findings"][0].startswith("DeepExplainer failed (RuntimeError: ")
    assert np.isfinite(a.values).all()
    assert not any(m._forward_hooks or m._backward_hooks for m in model.modules())


def test_torchscript_goes_to_gradient(torch_models):
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model
    from tests.torch.test_torch import DATA

    loaded = load_model(torch_models / "loan_mlp.ts", trust_model=True)
    ds = load_data(DATA, describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": "cpu"})
    a = Shap(gradient_samples=50).explain(adapter, ds.X[:5], background=ds.X[100:150], seed=0)
    assert a.meta["algorithm"] == "shap.GradientExplainer" and "TorchScript" in a.meta["reason"]


def test_deep_requested_for_a_model_without_gradients_falls_back_to_the_automatic_choice(credit, tmp_path):
    """The capability is consulted before choosing: a non-differentiable linear pipeline gets the
    automatic choice (LinearExplainer) and the reason says why Deep was not used."""
    from tests.families import FAMILIES, materialise

    family = next(f for f in FAMILIES if f.name == "pipeline_logreg_onehot")
    _, ds, adapter, *_ = materialise(family, credit, tmp_path)
    a = Shap(algorithm="deep", permutation_max_evals=100).explain(adapter, ds.X[:3], background=ds.X[:30],
                                                                      seed=0)
    assert a.meta["algorithm"] == "shap.LinearExplainer"
    assert a.meta["reason"].startswith("DeepExplainer was requested but needs a differentiable model")
