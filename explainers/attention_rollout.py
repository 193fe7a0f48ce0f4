"""Attention rollout (Abnar and Zuidema 2020) for tabular transformers with one token per feature.

The model must expose ``attention_maps(x) -> list of (n, T, T)`` head-averaged attention per layer,
token 0 being the [CLS] token and tokens 1..f the raw features in order. Residual connections are
accounted for with 0.5 * A + 0.5 * I per layer; the [CLS] row of the product gives each feature's
share. Attention is unsigned: it says where the model looked, not in which direction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.types import Attribution
from explainers._base import ExplainerBase


class AttentionRollout(ExplainerBase):
    name = "attention"
    kind = "approximate"

    def supports(self, adapter: Any) -> bool:
        caps = adapter.capabilities
        return caps.differentiable and caps.module_hooks and hasattr(adapter.native, "attention_maps")

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        import torch

        out = []
        with torch.no_grad():
            for start in range(0, len(X), 8192):
                maps = adapter.native.attention_maps(adapter.tensor(X[start : start + 8192]))
                n, T, _ = maps[0].shape
                eye = torch.eye(T, device=maps[0].device).expand(n, T, T)
                roll = eye.clone()
                for A in maps:
                    A = 0.5 * A + 0.5 * eye
                    A = A / A.sum(-1, keepdim=True)
                    roll = A @ roll
                out.append(roll[:, 0, 1:].double().cpu().numpy())
        adapter.counter.add(len(X))
        values = np.vstack(out)
        if values.shape[1] != len(adapter.feature_names):
            raise ValueError(f"attention_maps gave {values.shape[1]} feature tokens for {len(adapter.feature_names)} features")
        meta = {"algorithm": "attention rollout over [CLS] (Abnar & Zuidema 2020)", "layers": len(maps),
                "residual_weight": 0.5}
        return self.attribution(adapter, values, np.zeros(len(X)), output_space="attention", meta=meta)
