"""PyTorch adapter: a module plus its preprocessing spec, driven in eval mode, batched, on CPU or CUDA.

The spec (``<model>.spec.json``) maps CSV columns to the input tensor::

    {"task": "binary" | "multiclass" | "regression", "classes": [0, 1],
     "output": "logits" | "probabilities" | "value",
     "features": [{"name": "age", "type": "numeric", "mean": 35.5, "std": 11.4},
                  {"name": "housing", "type": "categorical", "categories": ["free", "own", "rent"]}],
     "model_kwargs": {...}}

Numeric columns are standardised (missing -> the mean); categorical columns are one-hot encoded in the
listed order (missing or unseen -> all zeros). The explained *score* is the probability of the
explained class (or the regression value); the *margin* is its logit, which gradient methods explain.
"""

from __future__ import annotations

import copy
from functools import cached_property
from typing import Any

import numpy as np

from audit.adapters._base import Capabilities, ClassView, batched
from audit.errors import InputError, ModelError
from audit.types import CallCounter, FeatureSpace, ModelSpec, TransformMap

__all__ = ["TorchAdapter", "describe_torch", "resolve_device"]


def _features(spec: dict, name: str) -> list[dict]:
    feats = spec.get("features")
    if not feats:
        raise InputError(f"{name}: 'features' is missing or empty; list the model's input columns in order.")
    for f in feats:
        if f.get("type") not in ("numeric", "categorical"):
            raise InputError(f"{name}: feature {f.get('name')!r} has type {f.get('type')!r}; use numeric or categorical.")
    return feats


def spec_name(path: str | None) -> str:
    """How messages name the spec: its file when known."""
    return f"spec {path}" if path else "torch spec"


def describe_torch(model: Any, extra: dict) -> ModelSpec:
    feats = _features(extra["spec"], spec_name(extra.get("spec_path")))
    categorical = {f["name"]: tuple(f["categories"]) for f in feats if f["type"] == "categorical"}
    spec = extra["spec"]
    task = spec.get("task", "binary")
    classes = tuple(str(c) for c in spec.get("classes", (0, 1) if task == "binary" else ())) or None
    return ModelSpec(feature_names=tuple(f["name"] for f in feats), n_features=len(feats), categorical=categorical,
                     task=task, classes=None if task == "regression" else classes,
                     target=spec.get("target") if isinstance(spec.get("target"), str) else None)


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: no CUDA device is available here. Use --device auto or cpu.")
    return device


class TorchAdapter(ClassView):
    """Adapter over a ``torch.nn.Module`` (eager, TorchScript or exported)."""

    framework = "torch"
    randomisation_method = "every parameter re-initialised at random"
    batch_size = 65_536

    def __init__(self, model: Any, space: FeatureSpace, *, spec: dict, device: str = "auto",
                 explained_class: Any = None, counter: CallCounter | None = None,
                 spec_name: str = "torch spec") -> None:
        import torch

        self.model = model
        self.space = space
        self.spec = spec
        self.spec_name = spec_name  # how error messages name the spec (its file, when known)
        self.device = resolve_device(device)
        self.counter = counter or CallCounter()
        self.model.eval()
        self.model.to(self.device)
        self.task = spec.get("task", "binary")
        self.output = spec.get("output", "logits" if self.task != "regression" else "value")
        if self.task not in ("binary", "multiclass", "regression"):
            raise InputError(f"{self.spec_name}: task {self.task!r}; use binary, multiclass or regression.")
        self.classes = tuple(spec.get("classes", (0, 1) if self.task == "binary" else ())) or None
        if self.task == "regression":
            self.classes = None
        elif self.task == "multiclass" and not self.classes:
            raise InputError(f"{self.spec_name}: a multiclass task needs 'classes', the label of each output column in "
                             "order. Add it to the spec.")
        self.class_index = self._initial_class_index(explained_class)
        feats = _features(spec, self.spec_name)
        self._mean = np.array([f.get("mean", 0.0) if f["type"] == "numeric" else 0.0 for f in feats], dtype=float)
        self._std = np.array([f.get("std", 1.0) or 1.0 if f["type"] == "numeric" else 1.0 for f in feats], dtype=float)
        self._groups: list[list[int]] = []
        col = 0
        for f in feats:
            width = len(f["categories"]) if f["type"] == "categorical" else 1
            self._groups.append(list(range(col, col + width)))
            col += width
        self.n_inputs = col
        self._torch = torch
        # inputs in the model's own floating dtype (float32 unless its weights are float64 or half)
        floats = [p.dtype for p in model.parameters() if p.is_floating_point()]
        self.dtype = floats[0] if floats else torch.float32
        self.capabilities = Capabilities(margin=True, per_class=self.classes is not None, differentiable=True,
                                         module_hooks=not self.scripted, randomisation=self.randomisation_method)
        self._check_shapes()

    def _check_shapes(self) -> None:
        """The spec's input width and the head's output width must fit the model (before any real row)."""
        try:
            with self._torch.no_grad():
                out = self.raw_output(self._torch.zeros(2, self.n_inputs, dtype=self.dtype, device=self.device))
        except Exception as exc:  # noqa: BLE001 - any failure here means spec and model disagree
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"{self.spec_name}: the model does not accept the {self.n_inputs} input columns the spec "
                             f"describes ({first}). Check the spec's features, their order and their categories "
                             f"against the model's input layer.") from None
        width = int(out.shape[1])
        expected = {"regression": (1,), "binary": (1, 2)}.get(self.task, (len(self.classes or ()),))
        if width not in expected:
            raise InputError(f"{self.spec_name}: task {self.task!r} with {len(self.classes or ())} class(es) needs "
                             f"{' or '.join(map(str, expected))} output column(s), but the model returns {width}. "
                             f"Fix the spec's task or classes.")

    # -- identity ---------------------------------------------------------------------------
    @property
    def native(self) -> Any:
        return self.model

    @property
    def type_name(self) -> str:
        name = type(self.model).__name__
        original = getattr(self.model, "original_name", None)
        return f"{original or name} (torch)"

    @property
    def scripted(self) -> bool:
        return isinstance(self.model, self._torch.jit.ScriptModule)

    # -- encoding -----------------------------------------------------------------------------
    def encode(self, X: np.ndarray) -> np.ndarray:
        """Raw encoded rows -> the model's input matrix (standardised numerics, one-hot categories)."""
        X = np.asarray(X, dtype=float)
        # float64 models get float64 inputs: rounding them to float32 first loses half their precision
        out = np.zeros((len(X), self.n_inputs), dtype=np.float64 if self.dtype == self._torch.float64 else np.float32)
        for j, cols in enumerate(self._groups):
            x = X[:, j]
            if len(cols) == 1 and self.space.names[j] not in self.space.categories:
                out[:, cols[0]] = np.where(np.isnan(x), 0.0, (x - self._mean[j]) / self._std[j])
            else:
                ok = ~np.isnan(x) & (x >= 0) & (x < len(cols))
                out[np.flatnonzero(ok), np.asarray(cols)[x[ok].astype(int)]] = 1.0
        return out

    def tensor(self, X: np.ndarray) -> Any:
        return self._torch.as_tensor(self.encode(X), dtype=self.dtype, device=self.device)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return self.encode(X).astype(float)

    @cached_property
    def transform_map(self) -> TransformMap:
        weights = np.zeros((self.n_inputs, len(self._groups)))
        for j, cols in enumerate(self._groups):
            weights[cols, j] = 1.0
        return TransformMap(weights, {}, {}, tuple(f"in{i}" for i in range(self.n_inputs)))

    def group_mean(self, values: np.ndarray) -> np.ndarray:
        """Per raw feature, the mean over its input columns (for group-ablation attributions)."""
        return np.column_stack([values[:, cols].mean(1) for cols in self._groups])

    @property
    def feature_groups(self) -> list[list[int]]:
        return self._groups

    # -- forward ------------------------------------------------------------------------------
    def raw_output(self, t: Any) -> Any:
        out = self.model(t)
        if out.ndim == 1:
            out = out[:, None]
        return out

    def margin_tensor(self, t: Any) -> Any:
        """Differentiable explained margin (n,): logit of the explained class, or the regression value."""
        out = self.raw_output(t)
        if self.task == "regression":
            return out[:, 0]
        if out.shape[1] == 1:
            logit = out[:, 0]
            if self.output == "probabilities":
                logit = self._torch.logit(logit.clamp(1e-7, 1 - 1e-7))
            return self.binary_sign * logit
        if self.output == "probabilities":
            return self._torch.log(out[:, self.class_index].clamp_min(1e-12))
        return out[:, self.class_index]

    def score_tensor(self, t: Any) -> Any:
        out = self.raw_output(t)
        if self.task == "regression":
            return out[:, 0]
        if out.shape[1] == 1:
            p = out[:, 0] if self.output == "probabilities" else self._torch.sigmoid(out[:, 0])
            return p if self.class_index == 1 else 1 - p
        probs = out if self.output == "probabilities" else self._torch.softmax(out, dim=1)
        return probs[:, self.class_index]

    def _run(self, fn: Any, X: np.ndarray) -> np.ndarray:
        self.counter.add(len(X))
        with self._torch.no_grad():
            try:
                return fn(self.tensor(X)).detach().double().cpu().numpy()
            except RuntimeError as exc:
                raise ModelError(f"{self.type_name} forward failed on {len(X)} row(s): {exc}") from exc

    def predict(self, X: np.ndarray) -> np.ndarray:
        return batched(lambda b: self._run(self.score_tensor, b), np.asarray(X, dtype=float), self.batch_size)

    def margin(self, X: np.ndarray) -> np.ndarray:
        return batched(lambda b: self._run(self.margin_tensor, b), np.asarray(X, dtype=float), self.batch_size)

    def predict_all(self, X: np.ndarray) -> np.ndarray:
        def probs(t: Any) -> Any:
            out = self.raw_output(t)
            if out.shape[1] == 1:
                p = out[:, 0] if self.output == "probabilities" else self._torch.sigmoid(out[:, 0])
                return self._torch.stack([1 - p, p], dim=1)
            return out if self.output == "probabilities" else self._torch.softmax(out, dim=1)

        return batched(lambda b: self._run(probs, b), np.asarray(X, dtype=float), self.batch_size)

    def predict_label(self, X: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return self.predict(X)
        idx = np.argmax(self.predict_all(X), axis=1)
        return np.asarray(self.classes, dtype=object)[idx]

    # -- sanity check -------------------------------------------------------------------------
    def randomised(self, dataset: Any, rng: np.random.Generator) -> TorchAdapter:
        """The model with every parameter re-initialised (Adebayo et al. 2018 model randomisation)."""
        gen = self._torch.Generator().manual_seed(int(rng.integers(0, 2**31 - 1)))
        with self._torch.no_grad():  # outside no_grad, a TorchScript copy's parameters are non-leaf tensors
            model = copy.deepcopy(self.model)
            for p in model.parameters():
                # drawn on the CPU generator, then moved: the same random model on every device
                noise = self._torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device)
                p.copy_(noise * (p.std() if p.numel() > 1 else 1.0))
        clone = TorchAdapter(model, self.space, spec=self.spec, device=self.device, counter=self.counter,
                             spec_name=self.spec_name)
        clone.class_index = self.class_index
        return clone
