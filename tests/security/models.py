"""Small fitted models of every family the loader must keep loading, and helpers to save them."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.tree import DecisionTreeClassifier

RNG = np.random.default_rng(0)
X = RNG.normal(size=(80, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
Y3 = np.digitize(X[:, 0], [-0.5, 0.5])


def families() -> dict[str, object]:
    """name -> fitted estimator, covering every compiled predictor the validator knows."""
    Xn = X.copy()
    Xn[::7, 2] = np.nan
    cat = np.c_[X[:, :3], RNG.integers(0, 4, size=len(X))]
    return {
        "tree": DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, Y),
        "tree3": DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y3),
        "forest": RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, Y),
        "gbm": GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, Y),
        "hgb": HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(Xn, Y),
        "hgb_reg": HistGradientBoostingRegressor(max_iter=5).fit(X, X[:, 0]),
        "svc": SVC(random_state=0).fit(X, Y3),
        "svr": SVR().fit(X, X[:, 0]),
        "knn_kd": KNeighborsClassifier(algorithm="kd_tree").fit(X, Y),
        "knn_ball": KNeighborsClassifier(algorithm="ball_tree", metric="minkowski", p=3).fit(X, Y),
        "knn_brute": KNeighborsClassifier(algorithm="brute").fit(X, Y),
        "pipeline": make_pipeline(SimpleImputer(), FunctionTransformer(np.log1p), StandardScaler(),
                                  LogisticRegression()).fit(np.abs(Xn), Y),
        "column_tf": make_pipeline(ColumnTransformer([("oh", OneHotEncoder(handle_unknown="ignore"), [3])],
                                                     remainder="passthrough"),
                                   DecisionTreeClassifier(max_depth=3)).fit(cat, Y),
    }


def save(model: object, path: Path) -> Path:
    """Save as the suffix says: .pkl (pickle 5), .joblib (zlib), .skops."""
    if path.suffix == ".skops":
        sio.dump(model, path)
    elif path.suffix == ".joblib":
        joblib.dump(model, path, compress=3)
    else:
        path.write_bytes(pickle.dumps(model, protocol=5))
    return path
