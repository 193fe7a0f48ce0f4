"""Saliency (Simonyan et al. 2014): absolute gradient of the margin at the input."""

from __future__ import annotations

from typing import Any

from explainers._captum import CaptumExplainer, fast


class Saliency(CaptumExplainer):
    name = "saliency"
    algorithm = "captum.attr.Saliency (|d margin / d input|)"

    def params(self) -> dict[str, Any]:
        return {"abs": True}

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        from captum.attr import Saliency as S

        return fast(S(adapter.margin_tensor)).attribute(inputs, abs=True), {}
