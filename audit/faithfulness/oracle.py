"""The upper control of every faithfulness metric: a reference attribution for the explained rows.

Either the exact attribution of a known generating function (``--oracle``, validation on synthetic
data), or one found for the model at hand (see :func:`model_reference`). ``None`` lets the scoring
context fall back to its own occlusion reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.errors import InputError, name_some
from audit.types import Dataset

__all__ = ["model_reference", "known_oracle"]


def model_reference(adapter: Adapter, X: np.ndarray, background: np.ndarray,
                    seed: int) -> tuple[np.ndarray | None, str | None]:
    """The exact attribution when the truth is known: a model linear in its (transformed) inputs."""
    from explainers.coefficients import Coefficients

    coef = Coefficients()
    if coef.supports(adapter):
        a = coef.explain(adapter, X, background=background, seed=seed)
        return np.asarray(a.values), "exact attribution of the linear model (coefficients x (x - mean))"
    return None, None


def known_oracle(fn: Callable[[Any, Any], Any], ds: Dataset, X: np.ndarray,
                 background: np.ndarray) -> tuple[np.ndarray, str]:
    """``fn(rows, background)`` on DataFrames of raw values, checked: finite, one value per row and input."""
    import pandas as pd

    name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
    names = list(ds.feature_names)

    def frame(Z: np.ndarray) -> pd.DataFrame:
        decoded = ds.space.decode(Z)
        return decoded.reset_index(drop=True) if isinstance(decoded, pd.DataFrame) else pd.DataFrame(decoded, columns=names)

    try:
        out = fn(frame(X), frame(background))
    except Exception as exc:  # noqa: BLE001 - the user's function: one clear message
        raise InputError(f"--oracle {name}: raised {type(exc).__name__}: {exc}. Fix the function.") from None
    if isinstance(out, pd.DataFrame):
        missing = [c for c in names if c not in out.columns]
        if missing:
            raise InputError(f"--oracle {name}: the returned DataFrame lacks column(s) {name_some(missing)}. "
                             "Return one column per model input.")
        out = out[names]
    try:
        values = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != X.shape or not np.isfinite(values).all():
        raise InputError(f"--oracle {name}: returned {type(out).__name__} of shape {getattr(values, 'shape', '?')}; "
                         f"expected finite numbers of shape {X.shape} (one row per explained row, one column per "
                         f"model input in the order {name_some(names, 12)}).")
    return values, f"exact attribution from the known generating function {name}"
