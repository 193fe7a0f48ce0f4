"""The hand-written baseline of issue #29: what a data scientist writes without the toolkit. Loads the
model and the CSV, then only shap's TreeExplainer and lime's LimeTabularExplainer (library defaults:
5,000 samples per row) on the first ROWS rows. No faithfulness, controls, gate, recourse or report.

Usage: python bench/hand_script.py MODEL.pkl DATA.csv TARGET [ROWS]   (prints its own seconds)
"""

from __future__ import annotations

import pickle
import sys
import time

import numpy as np
import pandas as pd


def main(model_path: str, data_path: str, target: str, rows: int = 200) -> float:
    t0 = time.perf_counter()
    import shap
    from lime.lime_tabular import LimeTabularExplainer

    with open(model_path, "rb") as fh:
        model = pickle.load(fh)
    frame = pd.read_csv(data_path)
    X = frame.drop(columns=[target]).to_numpy(dtype=float)
    shap_values = shap.TreeExplainer(model).shap_values(X[:rows])
    explainer = LimeTabularExplainer(X, feature_names=list(frame.columns.drop(target)), mode="classification",
                                     random_state=0)
    lime_weights = [explainer.explain_instance(x, model.predict_proba, num_features=X.shape[1]).as_list()
                    for x in X[:rows]]
    assert np.shape(shap_values)[0] == rows and len(lime_weights) == rows
    return time.perf_counter() - t0


if __name__ == "__main__":
    args = sys.argv[1:]
    print(f"hand script: {main(args[0], args[1], args[2], int(args[3]) if len(args) > 3 else 200):.2f} s")
