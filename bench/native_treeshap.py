"""Native TreeSHAP (XGBoost pred_contribs, LightGBM pred_contrib) against shap's TreeExplainer
(tree_path_dependent) on the same rows: seconds for each and the largest difference over the spread of
the margin. Usage: python bench/native_treeshap.py [--rows 20000]"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "samples"))
from synthetic import make_loans  # noqa: E402


def main() -> None:
    import lightgbm as lgb
    import shap
    import xgboost as xgb

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    rows = ap.parse_args().rows
    df = make_loans(rows, seed=0)
    cols = [c for c in df.columns if c != "default"]
    X, y = df[cols].to_numpy(), df["default"].to_numpy()
    xb = xgb.train({"objective": "binary:logistic", "max_depth": 4, "seed": 0, "nthread": 1},
                   xgb.DMatrix(X, y), 200)
    lb = lgb.train({"objective": "binary", "num_leaves": 16, "seed": 0, "verbose": -1, "num_threads": 1},
                   lgb.Dataset(X, y), 200)
    for name, native, margin, model in (
        ("xgboost", lambda: xb.predict(xgb.DMatrix(X), pred_contribs=True)[:, :-1],
         lambda: xb.predict(xgb.DMatrix(X), output_margin=True), xb),
        ("lightgbm", lambda: lb.predict(X, pred_contrib=True)[:, :-1], lambda: lb.predict(X, raw_score=True), lb),
    ):
        t0 = time.perf_counter()
        ours = native()
        t1 = time.perf_counter()
        theirs = np.asarray(shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
                            .shap_values(X, check_additivity=False)).reshape(ours.shape)
        t2 = time.perf_counter()
        gap = np.abs(ours - theirs).max() / np.std(margin())
        print(f"{name}: {rows} rows, 200 trees; native {t1 - t0:.2f} s, shap {t2 - t1:.2f} s "
              f"({(t2 - t1) / (t1 - t0):.1f}x); max |diff| / spread {gap:.1e}")


if __name__ == "__main__":
    main()
