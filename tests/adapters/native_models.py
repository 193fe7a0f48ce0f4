"""Seeded native models for the tests: the same fitted model saved natively, as a spec'd booster and as a
pickle, on the German credit data (one-hot via a spec) and on the synthetic known-truth loans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import CATEGORICAL, NUMERIC, SAMPLES, save_pickle


def credit_frame() -> tuple[pd.DataFrame, pd.Series]:
    df = pd.read_csv(SAMPLES / "german_credit.csv")
    return df[CATEGORICAL + NUMERIC], df["risk"]


def credit_pipeline(final):
    """OneHotEncoder over the categorical columns, numeric ones passed through, then ``final``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, _ = credit_frame()
    cats = [sorted(X[c].unique()) for c in CATEGORICAL]
    pre = ColumnTransformer([("onehot", OneHotEncoder(categories=cats, handle_unknown="ignore"), CATEGORICAL)],
                            remainder="passthrough")
    return Pipeline([("pre", pre), ("model", final)])


def credit_spec() -> dict:
    """The spec describing ``credit_pipeline``'s encoding (one-hot first, then the numeric columns)."""
    X, _ = credit_frame()
    feats = [{"name": c, "type": "categorical", "categories": sorted(X[c].unique())} for c in CATEGORICAL]
    feats += [{"name": c, "type": "numeric"} for c in NUMERIC]
    return {"task": "binary", "classes": [0, 1], "features": feats}


def xgb_classifier(seed: int = 0):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=40, max_depth=3, learning_rate=0.2, random_state=seed, n_jobs=1)


def lgb_classifier(seed: int = 0):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=40, num_leaves=8, learning_rate=0.2, random_state=seed, n_jobs=1,
                          verbose=-1)


def save_native(final, path: Path) -> Path:
    """The booster of a fitted XGBClassifier/LGBMClassifier in its library's own format."""
    if hasattr(final, "get_booster"):
        final.get_booster().save_model(path)
    else:
        final.booster_.save_model(path)
    return path


def credit_models(tmp: Path, kind: str, suffix: str) -> tuple[Path, Path, object]:
    """(native model with spec, pickled pipeline, fitted pipeline) for the German credit data."""
    X, y = credit_frame()
    pipe = credit_pipeline(xgb_classifier() if kind == "xgboost" else lgb_classifier())
    pipe.fit(X, y)
    native = save_native(pipe[-1], tmp / f"credit_{kind}{suffix}")
    (tmp / f"credit_{kind}.spec.json").write_text(json.dumps(credit_spec()))
    return native, save_pickle(pipe, tmp / f"credit_{kind}.pkl"), pipe


def loans_models(tmp: Path, loans: pd.DataFrame, kind: str, suffix: str) -> tuple[Path, Path, Path]:
    """(native model without spec, pickled classifier, data CSV) on the synthetic known-truth loans."""
    cols = [c for c in loans.columns if c != "default"]
    model = xgb_classifier() if kind == "xgboost" else lgb_classifier()
    model.fit(loans[cols], loans["default"])
    data = tmp / "loans.csv"
    loans.to_csv(data, index=False)
    return save_native(model, tmp / f"loans_{kind}{suffix}"), save_pickle(model, tmp / f"loans_{kind}.pkl"), data


def max_spread_gap(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> float:
    """Largest absolute difference over the output's spread."""
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / (np.std(out) or 1.0))
