"""Input x Gradient (Shrikumar et al. 2016) in the standardised input space."""

from __future__ import annotations

from typing import Any

from explainers._captum import CaptumExplainer, fast


class InputXGradient(CaptumExplainer):
    name = "input_x_gradient"
    algorithm = "captum.attr.InputXGradient (standardised inputs, margin space)"

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        from captum.attr import InputXGradient as IXG

        return fast(IXG(adapter.margin_tensor)).attribute(inputs), {}
