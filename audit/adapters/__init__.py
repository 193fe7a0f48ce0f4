"""Adapters: a uniform view of scikit-learn and PyTorch models.

An ordered list of handlers; the first whose ``can_handle`` accepts the loaded object wins. torch is
detected through ``sys.modules`` so that scikit-learn audits never import it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from audit.adapters._base import (
    Adapter,
    Capabilities,
    ClassView,
    DifferentiableAdapter,
    InSpaceAdapter,
    batched,
)
from audit.adapters._sklearn import SklearnAdapter, describe_sklearn
from audit.errors import DataError, ModelError
from audit.types import CallCounter, Dataset, FeatureSpace, ModelSpec

__all__ = ["Adapter", "InSpaceAdapter", "DifferentiableAdapter", "Capabilities", "ClassView", "CallCounter",
           "ModelSpec", "SklearnAdapter", "batched", "describe_model", "make_adapter", "first_predictions", "Handler", "HANDLERS"]


def _is_torch(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _is_sklearn(obj: Any) -> bool:
    return hasattr(obj, "predict") and hasattr(obj, "get_params")


def _torch_describe(obj: Any, extra: dict) -> ModelSpec:
    from audit.adapters._torch import describe_torch

    return describe_torch(obj, extra)


def _torch_make(obj: Any, space: FeatureSpace, extra: dict, explained_class: Any) -> Adapter:
    from audit.adapters._torch import TorchAdapter, spec_name

    return TorchAdapter(obj, space, spec=extra["spec"], device=extra.get("device", "cpu"),
                        explained_class=explained_class, spec_name=spec_name(extra.get("spec_path")))


@dataclass(frozen=True)
class Handler:
    """One model framework: whether it can handle a loaded object, what the object expects of DATA, and
    how to wrap it in an adapter. The first handler whose ``can_handle`` accepts wins."""

    name: str
    can_handle: Callable[[Any], bool]
    describe: Callable[[Any, dict], ModelSpec]
    make: Callable[[Any, FeatureSpace, dict, Any], Adapter]


def _native_describe(obj: Any, extra: dict) -> ModelSpec:
    from audit.adapters._native import describe_native

    return describe_native(obj, extra)


def _native_make(obj: Any, space: FeatureSpace, extra: dict, explained_class: Any) -> Adapter:
    from audit.adapters._native import NativeTreeAdapter

    return NativeTreeAdapter(obj, space, extra=extra, explained_class=explained_class)


def _onnx_describe(obj: Any, extra: dict) -> ModelSpec:
    from audit.adapters._onnx import describe_onnx

    return describe_onnx(obj, extra)


def _onnx_make(obj: Any, space: FeatureSpace, extra: dict, explained_class: Any) -> Adapter:
    from audit.adapters._onnx import OnnxAdapter

    return OnnxAdapter(obj, space, extra=extra, explained_class=explained_class)


def _is_native_tree(obj: Any) -> bool:
    from audit.adapters._native import is_native_tree

    return is_native_tree(obj)


def _is_onnx(obj: Any) -> bool:
    ort = sys.modules.get("onnxruntime")
    return ort is not None and isinstance(obj, ort.InferenceSession)


HANDLERS: list[Handler] = [
    Handler("torch", _is_torch, _torch_describe, _torch_make),
    Handler("native-trees", _is_native_tree, _native_describe, _native_make),
    Handler("onnx", _is_onnx, _onnx_describe, _onnx_make),
    Handler("sklearn", _is_sklearn, lambda obj, extra: describe_sklearn(obj),
            lambda obj, space, extra, cls: SklearnAdapter(obj, space, explained_class=cls)),
]


def _handler(obj: Any) -> Handler:
    for handler in HANDLERS:
        if handler.can_handle(obj):
            return handler
    raise ModelError(
        f"no adapter for a {type(obj).__module__}.{type(obj).__name__}: supported are fitted "
        "scikit-learn estimators/pipelines, torch.nn.Module models, XGBoost/LightGBM/CatBoost models and ONNX graphs."
    )


def describe_model(obj: Any, extra: dict | None = None) -> ModelSpec:
    """What the model expects of DATA (names, categorical columns)."""
    return _handler(obj).describe(obj, extra or {})


def make_adapter(obj: Any, space: FeatureSpace, *, extra: dict | None = None,
                 explained_class: Any = None) -> Adapter:
    """Wrap a loaded model for the data's feature space."""
    return _handler(obj).make(obj, space, extra or {}, explained_class)


def first_predictions(adapter: Adapter, ds: Dataset) -> np.ndarray:
    """Predict every row once; a failure becomes a DataError naming the column and row."""
    try:
        return adapter.predict(ds.X)
    except ModelError as exc:
        nan_cols = [j for j in range(ds.X.shape[1]) if np.isnan(ds.X[:, j]).any()]
        if nan_cols:
            j = nan_cols[0]
            row = int(np.flatnonzero(np.isnan(ds.X[:, j]))[0]) + 1
            raise DataError(
                f"data {ds.path}: column {ds.feature_names[j]!r} is empty (NaN) at row {row} (line {row + 1})"
                f"{f' and {len(nan_cols) - 1} other column(s) have gaps' if len(nan_cols) > 1 else ''}; "
                f"this model cannot take missing values. Impute or drop those rows, or use a model/pipeline "
                f"with an imputer."
            ) from None
        lo, hi = 0, len(ds.X)
        while hi - lo > 1:  # bisect to the first row the model rejects
            mid = (lo + hi) // 2
            try:
                adapter.predict(ds.X[lo:mid])
                lo = mid
            except ModelError:
                hi = mid
        raise DataError(f"data {ds.path}: the model rejects row {lo + 1} (line {lo + 2}): {exc.__cause__ or exc}. "
                        "Fix that row's values.") from None
