"""GradientSHAP (Lundberg and Lee 2017): expected gradients over background rows; sampled, seeded.

Its attributions add up to f(x) - E[f(background)] only in expectation over the samples, so it is
not held to the exact-additivity check (the base value is still recorded)."""

from __future__ import annotations

from typing import Any

from explainers._captum import CaptumExplainer


class GradientShap(CaptumExplainer):
    name = "gradient_shap"
    sampling = True
    algorithm = "captum.attr.GradientShap (expected gradients over the background)"

    def params(self) -> dict[str, Any]:
        return {"n_samples": int(self.options.get("gradient_shap_samples") or 32), "stdevs": 0.0}

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        from captum.attr import GradientShap as GS

        p = self.params()
        return GS(adapter.margin_tensor).attribute(inputs, baselines=background, n_samples=p["n_samples"],
                                                   stdevs=p["stdevs"]), {}
