"""Feature ablation: each raw column (all its one-hot inputs together) replaced by the baseline."""

from __future__ import annotations

from typing import Any

from explainers._captum import CaptumExplainer


class FeatureAblation(CaptumExplainer):
    name = "feature_ablation"
    group_reduce = "mean"  # every input of a group carries the group's ablation effect
    algorithm = "captum.attr.FeatureAblation (one raw column at a time, margin space)"

    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict]:
        import torch
        from captum.attr import FeatureAblation as FA

        mask = torch.zeros((1, inputs.shape[1]), dtype=torch.long, device=inputs.device)
        for j, cols in enumerate(adapter.feature_groups):
            mask[0, cols] = j
        with torch.no_grad():
            attr = FA(adapter.margin_tensor).attribute(inputs.detach(), baselines=reference, feature_mask=mask,
                                                       perturbations_per_eval=4)
        return attr, {}
