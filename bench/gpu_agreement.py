"""CPU against GPU: how far apart each Captum/shap explainer's attributions are, measured in one run.

    python bench/gpu_agreement.py [--rows 256] [--devices cpu,cuda]

For the ReLU MLP demo model (shap picks ``shap.DeepExplainer`` on both devices) and the transformer
(shap falls back to ``GradientExplainer``), prints per method: the algorithm on each device, the largest
|GPU - CPU| difference relative to the largest |CPU| attribution, and for additive methods the largest
additivity error (|sum + base - margin|) on each device. ``--devices cpu,cpu`` is a smoke test without a GPU.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

METHODS = ["shap", "integrated_gradients", "deep_lift", "saliency", "input_x_gradient", "feature_ablation"]


def main() -> None:
    from ig_throughput import adapter_for, ensure_models

    from explainers import registry

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--models", type=Path, default=ROOT / "samples" / "models")
    args = parser.parse_args()
    ensure_models(args.models)
    first, second = args.devices.split(",")
    for stem, cls in (("loan_mlp", "LoanMLP"), ("loan_transformer", "TabTransformer")):
        a_ad, ds = adapter_for(args.models, stem, cls, first)
        b_ad, _ = adapter_for(args.models, stem, cls, second)
        X, bg = ds.X[: args.rows], ds.X[300:500]
        margin = a_ad.margin(X)
        for name in METHODS:
            ra = registry()[name]().explain(a_ad, X, background=bg, seed=0)
            rb = registry()[name]().explain(b_ad, X, background=bg, seed=0)
            scale = float(np.abs(ra.values).max()) or 1.0
            rel = float(np.abs(rb.values - ra.values).max()) / scale
            line = (f"{stem:17s} {name:21s} {ra.meta['algorithm']} / {rb.meta['algorithm']}: "
                    f"max|{second}-{first}|/max|{first}| = {rel:.2e}")
            if ra.additive and rb.additive:
                add = [float(np.abs(r.values.sum(1) + r.base_values - margin).max()) for r in (ra, rb)]
                line += f"; additivity error {first} {add[0]:.1e}, {second} {add[1]:.1e}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
