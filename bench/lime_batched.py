"""Batched LIME vs lime's explain_instance per row, on the same rows and draws (issue #29).

    .venv/bin/python bench/lime_batched.py [MODEL] [ROWS]

Prints both times from one run, their ratio and the largest difference between the attributions."""

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


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "credit_gbm"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    loaded = load_model(ROOT / "samples" / "models" / f"{name}.skops")
    ds = load_data(ROOT / "samples" / "german_credit.csv", describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    train, rows = ds.X[:100], ds.X[:n]
    t0 = time.perf_counter()
    per_row = explain_rows_per_row(adapter, rows, 0, train, 0, 1000)
    t1 = time.perf_counter()
    batched = _explain_rows(adapter, rows, 0, train, 0, 1000)
    t2 = time.perf_counter()
    diff = max(float(np.abs(a - b).max()) for a, b in zip(per_row, batched))
    print(f"{name}: {n} rows x 1000 samples: lime per row {t1 - t0:.2f} s, batched {t2 - t1:.2f} s, "
          f"speed-up {(t1 - t0) / (t2 - t1):.1f}x, largest difference {diff:.1e}")


if __name__ == "__main__":
    main()
