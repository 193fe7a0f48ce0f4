"""Coefficients: the exact attribution of a model whose margin is linear in its inputs.

Contribution of transformed column p is ``coef_p * (z_p - mean(z_p))`` over the background, summed
back to raw columns (one-hot groups and interactions shared equally among their raw columns).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.types import Attribution
from explainers._base import ExplainerBase, linear_final_estimator

__all__ = ["Coefficients"]


class Coefficients(ExplainerBase):
    """Linear models (also the last step of a Pipeline): exact, additive on the margin."""

    name = "coefficients"
    kind = "intrinsic"

    def supports(self, adapter: Any) -> bool:
        return linear_final_estimator(adapter) is not None

    def weights(self, adapter: Any) -> tuple[np.ndarray, float]:
        final = linear_final_estimator(adapter)
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=float))
        intercept = np.atleast_1d(np.asarray(final.intercept_, dtype=float))
        if coef.shape[0] == 1:
            sign = adapter.binary_sign
            return sign * coef[0], sign * float(intercept[0])
        k = adapter.class_index or 0
        return coef[k], float(intercept[k])

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        w, intercept = self.weights(adapter)
        Z = adapter.transform(X)
        Zb = adapter.transform(background)
        mean = Zb.mean(0)
        tmap = adapter.transform_map
        values = tmap.to_raw((Z - mean) * w)
        base = intercept + float(mean @ w)
        std = Zb.std(0)
        standardised = tmap.to_raw(np.abs(w * std)[None, :])[0]
        meta = {
            "algorithm": "linear coefficients x (x - background mean), margin space",
            "intercept": intercept,
            "standardised_coefficients": dict(zip(adapter.feature_names, map(float, standardised))),
            "raw_coefficients": dict(zip(tmap.names, map(float, w))),
            "background_rows": int(len(background)),
        }
        return self.attribution(adapter, values, np.full(len(X), base), output_space="margin",
                                additive=True, meta=meta)
