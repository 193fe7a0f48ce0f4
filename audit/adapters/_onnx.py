"""Adapter over an ONNX graph run by onnxruntime: model-agnostic (SHAP Exact/Permutation/Kernel, LIME,
every metric).

Inputs: a graph with one input per raw column (what skl2onnx makes of a pipeline over a DataFrame)
is fed each column with the input's own type; a graph with a single matrix input takes the columns of
the preprocessing spec ``<model stem>.spec.json`` (the torch spec format), or DATA's columns by
position. Outputs: a classifier's probability output (a tensor, or skl2onnx's ZipMap list of dicts),
its classes read from the graph (``classlabels_*``) or the spec; otherwise the first output is a
regression value. The explained score is the explained class's probability (``output``), as for the
scikit-learn form of the same model, so both audit the same numbers.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from audit.adapters._base import Capabilities, ClassView, batched
from audit.adapters._encoding import SpecEncoder
from audit.errors import InputError, ModelError
from audit.types import CallCounter, FeatureSpace, ModelSpec, TransformMap

__all__ = ["OnnxAdapter", "describe_onnx"]

_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
          "tensor(int32)": np.int32, "tensor(string)": object, "tensor(bool)": np.bool_}


def _per_column(session: Any) -> bool:
    return len(session.get_inputs()) > 1


def describe_onnx(session: Any, extra: dict) -> ModelSpec:
    """Per-column graphs: their input names (string inputs categorical); else the spec, else by position."""
    inputs = session.get_inputs()
    if _per_column(session):
        cats = {i.name: () for i in inputs if i.type == "tensor(string)"}
        return ModelSpec(feature_names=tuple(i.name for i in inputs), n_features=len(inputs), categorical=cats)
    if extra.get("spec") is not None:
        return SpecEncoder.from_spec(extra["spec"], f"spec {extra.get('spec_path', '')}").model_spec()
    width = inputs[0].shape[-1] if inputs and isinstance(inputs[0].shape[-1], int) else None
    return ModelSpec(feature_names=None, n_features=width, as_frame=False)


class OnnxAdapter(ClassView):
    """Adapter over an ``onnxruntime.InferenceSession`` (see the module docstring)."""

    framework = "onnx"
    batch_size = 50_000

    def __init__(self, session: Any, space: FeatureSpace, *, extra: dict, explained_class: Any = None,
                 counter: CallCounter | None = None) -> None:
        self.session = session
        self.space = space
        self.info = dict(extra.get("native") or {})
        self.counter = counter or CallCounter()
        spec = extra.get("spec") or {}
        self.inputs = session.get_inputs()
        self.per_column = _per_column(session)
        self.encoder = None
        if not self.per_column:
            self.encoder = (SpecEncoder.from_spec(spec, f"spec {extra.get('spec_path', '')}") if spec.get("features")
                            else SpecEncoder.identity(space.names))
            width = self.inputs[0].shape[-1]
            if isinstance(width, int):
                self.encoder.check_width(width, "ONNX graph's input")
        outputs = session.get_outputs()
        self._prob = next((i for i, o in enumerate(outputs) if "prob" in o.name.lower()), None)
        classes = spec.get("classes") or self.info.get("classes") or []
        if self._prob is not None and classes:
            self.classes = tuple(classes)
            self.task = "binary" if len(classes) == 2 else "multiclass"
            self.output = f"{outputs[self._prob].name} (probability)"
        elif self._prob is not None:
            raise InputError("the ONNX graph has a probability output but no class labels; add 'classes' to its "
                             "spec.")
        else:
            self.classes, self.task, self.output = None, "regression", f"{outputs[0].name} (value)"
        self.class_index = self._initial_class_index(explained_class)
        self.capabilities = Capabilities(per_class=self.classes is not None)

    @property
    def native(self) -> Any:
        return self.session

    @property
    def type_name(self) -> str:
        return f"ONNX graph ({self.info.get('producer') or 'unknown producer'})"

    @cached_property
    def transform_map(self) -> TransformMap:
        if self.encoder is None:
            return TransformMap.identity(self.space.names)
        return self.encoder.transform_map(self.space)

    def _feed(self, X: np.ndarray) -> dict[str, np.ndarray]:
        if self.encoder is not None:
            dtype = _TYPES.get(self.inputs[0].type, np.float32)
            return {self.inputs[0].name: self.encoder.transform(X, self.space).astype(dtype)}
        frame = self.space.decode(X)
        feed = {}
        for inp in self.inputs:
            dtype = _TYPES.get(inp.type, np.float32)
            col = np.asarray(frame[inp.name])
            if dtype is object:
                col = np.array(["" if (isinstance(v, float) and np.isnan(v)) else str(v) for v in col], dtype=object)
            feed[inp.name] = col.astype(dtype).reshape(-1, 1)
        return feed

    def _run(self, X: np.ndarray) -> np.ndarray:
        self.counter.add(len(X))
        try:
            outs = self.session.run(None, self._feed(X))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"{self.type_name} failed on {len(X)} row(s): {str(exc)[:300]}") from exc
        out = outs[self._prob] if self._prob is not None else outs[0]
        if isinstance(out, list):  # ZipMap: one {class: probability} per row
            out = np.array([[row[c] for c in self.classes] for row in out], dtype=float)
        return np.asarray(out, dtype=float).reshape(len(X), -1)

    def predict_all(self, X: np.ndarray) -> np.ndarray:
        return batched(self._run, np.asarray(X, dtype=float), self.batch_size)

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = self.predict_all(X)
        return out[:, 0] if self.task == "regression" else out[:, self.class_index]

    def predict_label(self, X: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return self.predict(X)
        return np.asarray(self.classes, dtype=object)[np.argmax(self.predict_all(X), axis=1)]

    def margin(self, X: np.ndarray) -> None:
        return None

    def randomised(self, dataset: Any, rng: np.random.Generator) -> Any:
        raise ModelError("an ONNX graph cannot be retrained")
