"""LIME in worker processes: seconds with n_jobs=1 and n_jobs=N on the same rows, in one run.

    python bench/lime_parallel.py [--rows 600] [--jobs -1] [--samples 1000]

Uses the bundled gradient-boosting credit model (built by samples/make_samples.py if missing).
Prints both timings, the speed-up ratio and the largest difference between the attributions (0.0:
each row draws from its own seeded generator, so splitting rows between processes changes nothing).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model
    from explainers.lime_tabular import Lime

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    model = ROOT / "samples" / "models" / "credit_gbm.skops"
    if not model.exists():
        from samples.make_samples import main as build

        build(model.parent)
    loaded = load_model(model)
    ds = load_data(ROOT / "samples" / "german_credit.csv", describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra=dict(loaded.extra))
    X, background = ds.X[: args.rows], ds.X[-200:]
    timings, values = {}, {}
    for jobs in (1, args.jobs):
        t0 = time.perf_counter()
        a = Lime(num_samples=args.samples, n_jobs=jobs).explain(adapter, X, background=background, seed=0)
        timings[a.meta["n_jobs"]] = time.perf_counter() - t0
        values[a.meta["n_jobs"]] = a.values
    (serial, t1), (workers, tn) = list(timings.items())[0], list(timings.items())[-1]
    diff = float(np.abs(values[serial] - values[workers]).max())
    print(f"cpu cores {os.cpu_count()}; rows {len(X)}; LIME samples {args.samples}")
    print(f"n_jobs=1: {t1:.2f} s   n_jobs={workers}: {tn:.2f} s   speed-up {t1 / tn:.2f}x   max |diff| {diff}")


if __name__ == "__main__":
    main()
