"""GradientSHAP (Lundberg and Lee 2017): expected gradients over background rows; sampled, seeded.

Its attributions add up to f(x) - E[f(background)] only in expectation over the samples, so it is
not held to the exact-additivity check (the base value is still recorded)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from explainers._base import ExplainerParams
from explainers._captum import CaptumExplainer


class GradientShap(CaptumExplainer):
    name = "gradient_shap"
    sampling = True
    algorithm = "captum.attr.GradientShap (expected gradients over the background)"

    class Params(ExplainerParams):
        n_samples: int = Field(32, ge=4, description="samples per row")

    config_keys = {"gradient_shap_samples": "n_samples"}

    def algorithm_parameters(self) -> dict[str, Any]:
        return {"n_samples": self.params.n_samples, "stdevs": 0.0}

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        from captum.attr import GradientShap as GS

        p = self.algorithm_parameters()
        return GS(adapter.margin_tensor).attribute(inputs, baselines=background, n_samples=p["n_samples"],
                                                   stdevs=p["stdevs"]), {}
