"""shap's DeepExplainer and GradientExplainer on the torch adapter's explained margin.

DeepExplainer (DeepLIFT rescale rules, averaged over the background) is exact-additive only when
every operation in the model has a rule; shap finds rules by leaf-module type, so a model whose
leaves all have one is tried with Deep and its additivity is then *measured*: above
:data:`DEEP_TOLERANCE` of the margin's spread (an operation in some ``forward()`` has no rule), the
result is discarded and GradientExplainer (expected gradients, sampled) is used instead, with a
finding. TorchScript modules cannot take the hooks DeepLIFT needs and go straight to Gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from explainers._base import seeded_global_numpy
from explainers._captum import CHUNK_ROWS, margin_module

__all__ = ["DEEP_TOLERANCE", "DEEP_MAX_BACKGROUND", "deep_rule_gaps", "shap_deep", "shap_gradient"]

DEEP_TOLERANCE = 1e-3
DEEP_MAX_BACKGROUND = 100
GRADIENT_SAMPLES = 200


def _deep_rules() -> set[str]:
    try:
        from shap.explainers._deep.deep_pytorch import op_handler
    except ImportError:  # a shap without the private table: no layer is known to have a rule
        return set()
    return set(op_handler)


def deep_rule_gaps(adapter: Any) -> list[str]:
    """Leaf-module types of the model that shap's DeepExplainer has no DeepLIFT rule for."""
    if not adapter.capabilities.module_hooks:
        return ["TorchScript (no module hooks)"]
    rules = _deep_rules()
    leaves = [m for m in adapter.native.modules() if not list(m.children())]
    return sorted({type(m).__name__ for m in leaves if type(m).__name__ not in rules})


_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called")


@contextmanager
def _leave_model_as_found(module: Any) -> Iterator[None]:
    """Undo what shap's Deep hooks leave behind, even when it raises: hooks it registered (an exception
    skips its own cleanup, and the stale hooks would break every later backward pass) and each leaf's
    last inputs/outputs kept as ``x``/``y`` (they pin memory and stop the model from being deep-copied
    for the randomisation check)."""
    import torch

    before = {id(m): {name: set(getattr(m, name, {})) for name in _HOOK_DICTS} for m in module.modules()}
    try:
        yield
    finally:
        for m in module.modules():
            for name in _HOOK_DICTS:
                hooks = getattr(m, name, None)
                for key in set(hooks or {}) - before.get(id(m), {}).get(name, set()):
                    del hooks[key]
            if not list(m.children()):
                for attr in ("x", "y"):
                    if isinstance(m.__dict__.get(attr), torch.Tensor):
                        delattr(m, attr)


def _in_chunks(adapter: Any, X: np.ndarray, shap_values: Any, rows_per_row: int) -> np.ndarray:
    """``shap_values(tensor, start)`` over row chunks of ``X``, as an (n, inputs) array; the model
    rows each explained row costs are counted."""
    chunks = []
    for start in range(0, len(X), CHUNK_ROWS):
        part = X[start : start + CHUNK_ROWS]
        out = shap_values(adapter.tensor(part), start)
        chunks.append(np.asarray(out, dtype=float).reshape(len(part), -1))
        adapter.counter.add(len(part) * rows_per_row)
    return np.vstack(chunks)


def shap_deep(adapter: Any, X: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, float, dict, float]:
    """Input-space Deep SHAP values, base value, parameters and the measured additivity error."""
    import shap

    module = margin_module(adapter, column=True)
    bg = background[:DEEP_MAX_BACKGROUND]
    explainer = shap.DeepExplainer(module, adapter.tensor(bg))
    with _leave_model_as_found(module), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = _in_chunks(adapter, X, lambda t, _: explainer.shap_values(t, check_additivity=False), 2 * len(bg))
    base = float(np.asarray(explainer.expected_value).reshape(-1)[0])
    margin = adapter.margin(X)
    scale = float(np.std(np.concatenate([margin, adapter.margin(bg)]))) or 1.0
    error = float(np.abs(values.sum(1) - (margin - base)).max() / scale)
    return values, base, {"background_rows": int(len(bg)), "rule": "DeepLIFT rescale (shap)"}, error


def shap_gradient(adapter: Any, X: np.ndarray, background: np.ndarray, seed: int,
                  nsamples: int | None = None) -> tuple[np.ndarray, float, dict]:
    """Input-space expected-gradients SHAP values (sampled, seeded), base value and parameters."""
    import shap

    nsamples = int(nsamples or GRADIENT_SAMPLES)
    module = margin_module(adapter, column=True)
    explainer = shap.GradientExplainer(module, adapter.tensor(background), batch_size=min(nsamples, 1024))
    with warnings.catch_warnings(), seeded_global_numpy(seed):
        warnings.simplefilter("ignore")
        values = _in_chunks(adapter, X, lambda t, start: explainer.shap_values(t, nsamples=nsamples,
                                                                               rseed=seed + start), nsamples)
    base = float(adapter.margin(background).mean())
    return values, base, {"nsamples": nsamples, "background_rows": int(len(background)), "seed": seed}
