"""DeepLIFT (Shrikumar et al. 2017), rescale rule: contributions relative to the reference sum to
f(x) - f(reference). Needs module hooks, so eager modules only."""

from __future__ import annotations

from typing import Any

from explainers._captum import CaptumExplainer, margin_module


class DeepLift(CaptumExplainer):
    name = "deep_lift"
    additive = True
    needs_hooks = True
    algorithm = "captum.attr.DeepLift (rescale rule, margin space)"

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        import warnings

        from captum.attr import DeepLift as DL

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            attr, delta = DL(margin_module(adapter)).attribute(inputs, baselines=reference,
                                                               return_convergence_delta=True)
        return attr, {"convergence_delta": delta.detach().double().cpu().numpy()}
