"""``check_explainer``: the contract every explainer must meet, for plugin authors and our own suite.

In the spirit of scikit-learn's ``check_estimator``: run it in your tests on an adapter of a model
your explainer supports. It raises ``AssertionError`` naming the broken rule.

>>> # from explainers.testing import check_explainer
>>> # check_explainer(MyExplainer(), adapter, X, background=B)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.types import Attribution

__all__ = ["check_explainer"]


def check_explainer(explainer: Any, adapter: Any, X: np.ndarray, *, background: np.ndarray | None = None,
                    seed: int = 0, additivity_rtol: float | None = None) -> Attribution:
    """Check ``explainer`` on rows ``X`` of ``adapter``'s model and return its attribution.

    Rules: the protocol's attributes (``name``, ``kind``, ``sampling``, ``supports``, ``explain``); it
    supports the adapter; an :class:`Attribution` of shape (rows x raw features) with finite values and
    base values, the adapter's raw feature names, its own name and kind, and the algorithm recorded in
    ``meta``; identical results for the same seed; its inputs not mutated; and, when
    ``additivity_rtol`` is given and the attribution promises additivity, values plus base equal the
    model's output in the attribution's output space within that share of the output's spread (over
    ``X`` and ``background`` together).
    """
    for attr in ("name", "kind", "supports", "explain"):
        assert hasattr(explainer, attr), f"explainer has no {attr!r}"
    assert isinstance(explainer.name, str) and explainer.name, "name must be a non-empty string"
    assert explainer.kind in ("intrinsic", "approximate"), f"kind {explainer.kind!r} is not intrinsic/approximate"
    assert isinstance(getattr(explainer, "sampling", False), bool), "sampling must be a bool"
    assert explainer.supports(adapter), f"{explainer.name} does not support this adapter"
    X = np.asarray(X, dtype=float)
    background = np.asarray(X if background is None else background, dtype=float)
    X_before, bg_before = X.copy(), background.copy()
    a = explainer.explain(adapter, X, background=background, seed=seed)
    assert isinstance(a, Attribution), f"explain returned {type(a).__name__}, not an Attribution"
    assert a.values.shape == (len(X), len(adapter.feature_names)), \
        f"values of shape {a.values.shape}; expected {(len(X), len(adapter.feature_names))} (rows x raw features)"
    assert np.isfinite(a.values).all() and np.isfinite(a.base_values).all(), "non-finite values or base values"
    assert tuple(a.feature_names) == tuple(adapter.feature_names), "feature names are not the raw columns"
    assert a.method == explainer.name, f"attribution names method {a.method!r}, explainer is {explainer.name!r}"
    assert a.kind == explainer.kind, f"attribution kind {a.kind!r} differs from the explainer's {explainer.kind!r}"
    assert a.meta.get("algorithm"), "the exact algorithm must be recorded in meta['algorithm']"
    np.testing.assert_array_equal(X, X_before, err_msg="explain mutated its rows")
    np.testing.assert_array_equal(background, bg_before, err_msg="explain mutated the background")
    again = explainer.explain(adapter, X, background=background, seed=seed)
    np.testing.assert_allclose(again.values, a.values, rtol=0, atol=1e-9,
                               err_msg="the same seed must give the same attribution")
    if additivity_rtol is not None and a.additive:
        _check_additivity(a, adapter, X, background, additivity_rtol)
    return a


def _check_additivity(a: Attribution, adapter: Any, X: np.ndarray, background: np.ndarray, rtol: float) -> None:
    """The largest gap, over the output's spread on the rows and the background together."""
    if a.output_space == "score":
        out = adapter.predict(np.vstack([X, background]))
    elif a.output_space == "margin" and adapter.capabilities.margin:
        out = adapter.margin(np.vstack([X, background]))
    else:
        return
    spread = float(np.std(out)) or 1.0
    error = np.abs(a.values.sum(1) + a.base_values - out[: len(X)]).max() / spread
    assert error <= rtol, f"additivity error {error:.2e} of the output's spread exceeds {rtol}"
