"""Batched LIME vs lime's explain_instance per row, on the same rows and draws (issue #29).

    .venv/bin/python bench/lime_batched.py [ROWS] [MODEL ...]     (default: 200 rows; credit_logreg, credit_gbm,
                                                                   synthetic_logreg from samples/models)

For each model, from one run: both times, their ratio, the seconds each spent inside the model's own calls (the
same perturbed rows either way: lime per row makes one call per row, the batched estimator one per block), the
ratio of what is left (lime's sampling and fitting against the batched draws and ridge), and the largest
difference between the attributions."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit.adapters import describe_model, make_adapter  # noqa: E402
from audit.loading import load_data, load_model  # noqa: E402
from explainers.lime_tabular import _explain_rows, explain_rows_per_row  # noqa: E402


class _Timed:
    """The adapter with its ``predict`` timed (everything else passed through)."""

    def __init__(self, adapter) -> None:
        self._adapter, self.seconds = adapter, 0.0

    def __getattr__(self, name):
        return getattr(self._adapter, name)

    def predict(self, X):
        t0 = time.perf_counter()
        try:
            return self._adapter.predict(X)
        finally:
            self.seconds += time.perf_counter() - t0


def measure(name: str, n: int) -> str:
    loaded = load_model(ROOT / "samples" / "models" / f"{name}.skops")
    credit = name.startswith("credit")
    data = ROOT / "samples" / ("german_credit.csv" if credit else "models/synthetic_loans.csv")
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="risk" if credit else None,
                   infer_target=True)
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    train, rows = ds.X[:100], ds.X[:n]
    per_row_model, batched_model = _Timed(adapter), _Timed(adapter)
    t0 = time.perf_counter()
    per_row = explain_rows_per_row(per_row_model, rows, 0, train, 0, 1000)
    t1 = time.perf_counter()
    batched = _explain_rows(batched_model, rows, 0, train, 0, 1000)
    t2 = time.perf_counter()
    diff = max(float(np.abs(a - b).max()) for a, b in zip(per_row, batched))
    a, b = t1 - t0, t2 - t1
    rest_a, rest_b = a - per_row_model.seconds, b - batched_model.seconds
    return (f"{name}: {len(rows)} rows x 1000 samples, {rows.shape[1]} inputs: lime per row {a:.2f} s, batched "
            f"{b:.2f} s, speed-up {a / b:.1f}x; inside the model {per_row_model.seconds:.2f} s and "
            f"{batched_model.seconds:.2f} s; the rest {rest_a:.2f} s and {rest_b:.2f} s ({rest_a / rest_b:.1f}x); "
            f"largest difference {diff:.1e}")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for name in sys.argv[2:] or ["credit_logreg", "credit_gbm", "synthetic_logreg"]:
        print(measure(name, n), flush=True)


if __name__ == "__main__":
    main()
