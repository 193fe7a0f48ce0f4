"""The ordered registry and third-party explainers through the entry-point group."""

from __future__ import annotations

import numpy as np

import explainers
from explainers._base import ExplainerBase


class Constant(ExplainerBase):
    name = "constant_plugin"
    kind = "approximate"

    def supports(self, adapter):
        return True

    def explain(self, adapter, X, *, background, seed):
        return self.attribution(adapter, np.ones_like(X), np.zeros(len(X)), meta={"algorithm": "ones"})


class _EntryPoint:
    name = "constant_plugin"

    def load(self):
        return Constant


def test_registry_order_intrinsic_first():
    names = list(explainers.registry())
    assert names[:2] == ["coefficients", "tree_path"]
    assert names.index("shap") < names.index("lime")


def test_entry_point_explainers_are_registered(monkeypatch):
    seen = {}

    def fake_entry_points(group):
        seen["group"] = group
        return [_EntryPoint()]

    monkeypatch.setattr(explainers, "entry_points", fake_entry_points)
    reg = explainers.registry()
    assert seen["group"] == "xai_audit.explainers"
    assert reg["constant_plugin"] is Constant
    assert list(reg)[-1] == "constant_plugin"
