"""Integrated Gradients throughput: rows/s on CPU vs GPU, measured in the same run.

    python bench/ig_throughput.py [--rows 100000] [--cpu-rows 20000] [--models DIR]

Builds the torch demo models if DIR has none, replicates the German credit rows to --rows, and times
``explainers.integrated_gradients.IntegratedGradients`` (128 steps, chunked, bounded internal batch)
on each available device. Prints rows/s per device and the GPU/CPU ratio. CPU may use fewer rows
(--cpu-rows) to stay short; rows/s is the comparable figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def adapter_for(models: Path, stem: str, cls: str, device: str):
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model

    loaded = load_model(models / f"{stem}.pt", model_class=f"samples.torch_models:{cls}")
    ds = load_data(ROOT / "samples" / "german_credit.csv", describe_model(loaded.obj, loaded.extra), target="risk")
    return make_adapter(loaded.obj, ds.space, extra={**loaded.extra, "device": device}), ds


def ensure_models(models: Path) -> None:
    """The torch demo models in ``models``, built (seeded) when absent."""
    if not (models / "loan_mlp.pt").exists():
        from samples.make_torch_samples import main as build

        build(models)


def time_ig(adapter, X, background) -> float:
    import torch

    from explainers.integrated_gradients import IntegratedGradients

    ig = IntegratedGradients()
    ig.explain(adapter, X[:256], background=background, seed=0)  # warm-up (kernels, allocator)
    if adapter.device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    ig.explain(adapter, X, background=background, seed=0)
    if adapter.device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main() -> None:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cpu-rows", type=int, default=20_000)
    parser.add_argument("--models", type=Path, default=ROOT / "samples" / "models")
    args = parser.parse_args()
    ensure_models(args.models)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}; devices: {devices}; "
          f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}; cpu threads {torch.get_num_threads()}")
    for stem, cls in (("loan_mlp", "LoanMLP"), ("loan_transformer", "TabTransformer")):
        rates = {}
        for device in devices:
            adapter, ds = adapter_for(args.models, stem, cls, device)
            n = args.rows if device == "cuda" else min(args.rows, args.cpu_rows)
            X = np.resize(ds.X, (n, ds.X.shape[1]))
            seconds = time_ig(adapter, X, ds.X[:200])
            rates[device] = n / seconds
            print(f"{stem:18s} {device:5s} rows={n:7d} seconds={seconds:8.2f} rows/s={rates[device]:12.0f}")
        if "cuda" in rates:
            print(f"{stem:18s} GPU/CPU throughput ratio: {rates['cuda'] / rates['cpu']:.1f}x")


if __name__ == "__main__":
    main()
