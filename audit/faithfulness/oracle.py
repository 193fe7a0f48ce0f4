"""A known generating function as the upper control of every faithfulness metric (``--oracle``).

Without one, the scoring context finds its reference by querying the model itself (see
:mod:`audit.faithfulness.reference`); no explainer's output is ever the reference, so that a score of
1.00 is a measurement, not an identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from audit.errors import InputError, name_some
from audit.types import Dataset

__all__ = ["known_oracle"]


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
