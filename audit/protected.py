"""Influence of protected attributes on the explanations (share of attribution mass).

Pure functions over attributions and the data's feature names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.types import Attribution

__all__ = ["protected_shares"]


def protected_shares(attrs: Mapping[str, Attribution], protected: Sequence[str],
                     feature_names: Sequence[str]) -> dict[str, Any]:
    """Per explainer, the share of mean |attribution| on the protected attributes that are model inputs.

    >>> a = Attribution(np.array([[3.0, -1.0]]), np.zeros(1), ("income", "sex"), "m", "approximate")
    >>> protected_shares({"m": a}, ["sex"], ("income", "sex"))["by_explainer"]["m"]["share"]
    0.25
    """
    if not protected:
        return {"attributes": [], "by_explainer": {}}
    names = list(feature_names)
    missing = [p for p in protected if p not in names]
    idx = [names.index(p) for p in protected if p in names]
    by = {}
    for name, a in attrs.items():
        mass = np.abs(a.values).mean(0)
        total = mass.sum()
        by[name] = {"share": float(mass[idx].sum() / total) if total > 0 else 0.0,
                    "per_attribute": {names[j]: float(mass[j] / total) if total > 0 else 0.0 for j in idx}}
    return {"attributes": list(protected), "not_model_inputs": missing, "by_explainer": by}
