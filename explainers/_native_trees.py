"""Tree attributions for boosters loaded in their libraries' own formats (a ``TreeAdapter``).

- SHAP, ``tree_mode="tree_path_dependent"``: the library's native TreeSHAP (XGBoost ``pred_contribs``,
  LightGBM ``pred_contrib``, CatBoost ``ShapValues``), the same algorithm as shap's TreeExplainer in
  that mode (agreement is tested, and measured in bench/native_treeshap.py).
- SHAP, ``"auto"``/``"interventional"``: shap's TreeExplainer on the booster over the background,
  exactly as for a pickled scikit-learn-API model, so native and pickled forms give the same values.
  CatBoost under ``"auto"``: path-dependent (its native ``ShapValues``), since shap's interventional
  TreeExplainer does not read CatBoost models.
- Saabas (``tree_path``): the adapter's native path contributions.

All are in the margin (log-odds / raw score) of the explained class; for a regression with an identity
link that is the output itself ("score").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from explainers._base import library_quiet, select_class

__all__ = ["native_tree_shap", "native_saabas", "output_space"]


def output_space(adapter: Any) -> str:
    return "score" if adapter.task == "regression" and getattr(adapter, "identity_link", False) else "margin"


def native_tree_shap(adapter: Any, X: np.ndarray, background: np.ndarray, mode: str) -> tuple:
    """(values in model columns, base, output space, parameters) for shap_explainer's tree algorithm."""
    Z = adapter.transform(X)
    if mode == "tree_path_dependent" or (mode == "auto" and adapter.framework == "catboost"):
        values, base = adapter.tree_contributions(Z, "shap")
        params = {"feature_perturbation": "tree_path_dependent", "model_output": "raw",
                  "implementation": f"native {adapter.framework} TreeSHAP", "background_rows": 0}
        if mode == "auto":  # shap's interventional TreeExplainer does not take CatBoost's categorical splits
            params["why"] = "CatBoost: shap's interventional TreeExplainer cannot read its models; path-dependent"
        return values, base, output_space(adapter), params
    import shap

    Zb = adapter.transform(background)
    explainer = shap.TreeExplainer(adapter.tree_model, data=Zb, feature_perturbation="interventional",
                                   model_output="raw")
    with library_quiet():
        raw = np.asarray(explainer.shap_values(Z, check_additivity=False), dtype=float)
    values, base = select_class(raw, explainer.expected_value, adapter, binary_single=raw.ndim == 2)
    params = {"feature_perturbation": "interventional", "model_output": "raw", "background_rows": int(len(Zb)),
              "implementation": "shap.TreeExplainer on the native booster"}
    return values, np.broadcast_to(base, (len(X),)), output_space(adapter), params


def native_saabas(adapter: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, str, dict[str, Any]]:
    """(raw-feature values, base, output space, meta) of Saabas path contributions."""
    values, base = adapter.tree_contributions(adapter.transform(X), "saabas")
    space = output_space(adapter)
    meta = {"algorithm": f"Saabas path contributions (native {adapter.framework})", "output_space": space,
            "trees": getattr(adapter, "info", {}).get("trees")}
    return adapter.transform_map.to_raw(values), base, space, meta
