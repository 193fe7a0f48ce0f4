"""Layer Integrated Gradients on the token embeddings of a tabular transformer.

The model must have a ``tokenizer`` submodule producing (n, f, d) feature-token embeddings; the
attribution of each token (summed over d) is that raw feature's contribution.
"""

from __future__ import annotations

from typing import Any

from explainers._captum import INTERNAL_BATCH, CaptumExplainer, StepsParams


class LayerIntegratedGradients(CaptumExplainer):
    name = "layer_integrated_gradients"
    additive = True
    needs_hooks = True
    algorithm = "captum.attr.LayerIntegratedGradients on model.tokenizer (feature-token embeddings)"
    Params = StepsParams
    config_keys = {"ig_steps": "n_steps"}

    def supports(self, adapter: Any) -> bool:
        return super().supports(adapter) and hasattr(adapter.native, "tokenizer")

    def algorithm_parameters(self) -> dict[str, Any]:
        return {"n_steps": self.params.n_steps, "layer": "tokenizer"}

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        import torch
        from captum.attr import LayerIntegratedGradients as LIG

        lig = LIG(adapter.margin_tensor, adapter.native.tokenizer)
        attr, delta = lig.attribute(inputs, baselines=reference.expand_as(inputs), n_steps=self.params.n_steps,
                                    internal_batch_size=INTERNAL_BATCH, return_convergence_delta=True)
        per_token = attr.sum(-1)  # (n, f)
        # Spread each token's attribution over its input columns so the common raw mapping applies.
        out = torch.zeros_like(inputs)
        for j, cols in enumerate(adapter.feature_groups):
            out[:, cols] = per_token[:, j : j + 1] / len(cols)
        return out, {"convergence_delta": delta.detach().double().cpu().numpy()}
