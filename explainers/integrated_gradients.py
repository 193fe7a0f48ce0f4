"""Integrated Gradients (Sundararajan et al. 2017): path integral of gradients from the baseline.

Complete: attributions sum to f(x) - f(baseline) up to the convergence delta, which is recorded.
"""

from __future__ import annotations

from typing import Any

from explainers._captum import INTERNAL_BATCH, CaptumExplainer, StepsParams, fast


class IntegratedGradients(CaptumExplainer):
    name = "integrated_gradients"
    additive = True
    algorithm = "captum.attr.IntegratedGradients (Gauss-Legendre, margin space)"
    Params = StepsParams
    config_keys = {"ig_steps": "n_steps"}

    def algorithm_parameters(self) -> dict[str, Any]:
        return {"n_steps": self.params.n_steps, "method": "gausslegendre"}

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        from captum.attr import IntegratedGradients as IG

        attr, delta = fast(IG(adapter.margin_tensor)).attribute(
            inputs, baselines=reference, n_steps=self.params.n_steps, internal_batch_size=INTERNAL_BATCH,
            return_convergence_delta=True)
        return attr, {"convergence_delta": delta.detach().double().cpu().numpy()}
