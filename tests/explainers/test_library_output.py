"""shap's TreeSHAP extension prints its own progress bar to sys.stderr after 10 s of work; on a portfolio
run it would interleave with the CLI's bar. The tree algorithm drops it (and only around the call)."""

from __future__ import annotations

import sys

import numpy as np
import shap

from explainers.shap_explainer import _tree_shap


class _Chatty:
    """Stands in for shap.TreeExplainer: writes a progress line to sys.stderr as the extension does."""

    expected_value = 0.0

    def __init__(self, *args, **kwargs) -> None:
        pass

    def shap_values(self, Z, check_additivity=True):
        sys.stderr.write("\r 59%|============        | 29304/50000 [00:59<00:41]")
        return np.zeros(Z.shape)


def test_shaps_own_progress_bar_does_not_reach_stderr(monkeypatch, capsys):
    """Fails if the tree algorithm lets the library's stderr output through, or leaves stderr redirected."""
    monkeypatch.setattr(shap, "TreeExplainer", _Chatty)
    adapter = type("A", (), {"binary_sign": 1.0, "class_index": None})()
    values, _ = _tree_shap(shap, object(), np.ones((3, 2)), np.ones((2, 2)), "interventional", adapter)
    assert values.shape == (3, 2)
    sys.stderr.write("ours")
    assert capsys.readouterr().err == "ours"
