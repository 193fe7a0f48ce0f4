"""Shared plumbing for Captum explainers on the torch adapter.

Attributions are computed in the model's input space (standardised numerics, one-hot categories)
and summed back to raw columns. Rows are processed in chunks and Captum's ``internal_batch_size`` is
bounded, so 100k rows never hold more than a bounded number of expanded rows on the device at once.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from audit.types import Attribution
from explainers._base import ExplainerBase, ExplainerParams, seeded_global_numpy

CHUNK_ROWS = 8192
INTERNAL_BATCH = 16384


class CaptumExplainer(ExplainerBase):
    kind = "approximate"
    additive: ClassVar[bool] = False
    needs_hooks: ClassVar[bool] = False  # uses module hooks: eager modules only, not TorchScript
    group_reduce: ClassVar[str] = "sum"
    algorithm: ClassVar[str] = ""

    def supports(self, adapter: Any) -> bool:
        caps = adapter.capabilities
        return caps.differentiable and (caps.module_hooks or not self.needs_hooks)

    def algorithm_parameters(self) -> dict[str, Any]:
        """The parameters recorded in results.json (the algorithm's own names)."""
        return self.params.model_dump()

    @abstractmethod
    def attribute(self, adapter: Any, inputs: Any, reference: Any, background: Any) -> tuple[Any, dict[str, Any]]:
        """Attributions (n x inputs) for one chunk, plus per-chunk extras."""

    def base_value(self, adapter: Any, reference: Any, background: Any) -> float:
        import torch

        with torch.no_grad():
            return float(adapter.margin_tensor(reference).double().mean().cpu())

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        import torch

        devices = [torch.device(adapter.device).index or 0] if adapter.device == "cuda" else []
        bg = adapter.tensor(background)
        reference = bg.mean(0, keepdim=True)
        chunks, extras = [], []
        with torch.random.fork_rng(devices=devices), seeded_global_numpy(seed):
            torch.manual_seed(seed)
            for start in range(0, len(X), CHUNK_ROWS):
                inputs = adapter.tensor(X[start : start + CHUNK_ROWS]).requires_grad_(True)
                attr, extra = self.attribute(adapter, inputs, reference, bg)
                chunks.append(attr.detach().double().cpu().numpy())
                extras.append(extra)
                adapter.counter.add(len(inputs))
        values_in = np.vstack(chunks)
        values = adapter.group_mean(values_in) if self.group_reduce == "mean" else adapter.transform_map.to_raw(values_in)
        base = self.base_value(adapter, reference, bg) if self.additive else 0.0
        meta: dict[str, Any] = {"algorithm": self.algorithm, "parameters": self.algorithm_parameters(),
                                "device": adapter.device,
                                "chunk_rows": CHUNK_ROWS, "internal_batch_size": INTERNAL_BATCH,
                                "baseline": "mean of the background rows in input space"}
        for key in {k for e in extras for k in e}:
            parts = [np.atleast_1d(e[key]) for e in extras if key in e]
            arr = np.concatenate(parts)
            meta[key] = {"mean_abs": float(np.abs(arr).mean()), "max_abs": float(np.abs(arr).max())}
        return self.attribution(adapter, values, np.full(len(X), base), output_space="margin",
                                additive=self.additive, meta=meta)


def batch_gradients(forward_fn: Any, inputs: Any, target_ind: Any = None, additional_forward_args: Any = None) -> Any:
    """Captum's ``gradient_func`` with one backward pass per batch.

    Captum's default unbinds the output into one scalar per expanded row (n x steps of them) before
    calling autograd, which costs Python time per row and dominates on a GPU. Rows are independent
    in eval mode (no batch statistics), so the gradient of the summed output is each row's gradient.
    """
    import torch
    from captum._utils.common import _run_forward

    with torch.autograd.set_grad_enabled(True):
        outputs = _run_forward(forward_fn, inputs, target_ind, additional_forward_args)
        return torch.autograd.grad(outputs.sum(), inputs)


def fast(method: Any) -> Any:
    """A Captum gradient method using :func:`batch_gradients`."""
    method.gradient_func = batch_gradients
    return method


class StepsParams(ExplainerParams):
    """Integrated-gradients style path methods."""

    n_steps: int = Field(128, ge=4, description="integration steps")


def margin_module(adapter: Any, *, column: bool = False) -> Any:
    """An nn.Module whose forward is the adapter's explained margin (for hook-based methods).

    ``column``: return it as an (n, 1) matrix, the shape shap's Deep and Gradient explainers expect.
    """
    import torch

    class _Margin(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = adapter.native

        def forward(self, x: Any) -> Any:
            m = adapter.margin_tensor(x)
            return m[:, None] if column else m

    return _Margin().to(adapter.device).eval()
