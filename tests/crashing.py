"""A pipeline step that kills the Dask worker process running it on a chosen chunk: the crash a native
library (or the out-of-memory killer) causes mid-run, for the --scheduler tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class CrashOnSentinel(TransformerMixin, BaseEstimator):
    """Passes the encoded matrix through; inside a Dask worker, a matrix holding a value above ``above`` (a
    sentinel planted in one row of the data, far outside any real value) ends the worker process at once
    (``os._exit``: no exception, no clean-up). With ``once`` set (a file path), only the first worker to meet
    the sentinel dies: it leaves the file behind, and the retried task runs."""

    def __init__(self, above: float = 1000.0, once: str | None = None) -> None:
        self.above, self.once = above, once

    def fit(self, X, y=None):  # noqa: ARG002 - a stateless step
        self.n_features_in_ = X.shape[1]
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def transform(self, X):
        values = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=float)
        if _in_worker() and np.abs(values).max(initial=0.0) > self.above:
            if self.once is None or not Path(self.once).exists():
                if self.once is not None:
                    Path(self.once).write_text("crashed once\n")
                os._exit(13)
        return X


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True
