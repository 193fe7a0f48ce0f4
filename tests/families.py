"""Model families every explainer contract runs over (issue: explainers for every sklearn family)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

CAT = ["housing", "saving_accounts", "checking_account", "purpose"]
NUM = ["credit_amount", "duration", "age"]


@dataclass
class Family:
    name: str
    build: Callable[[pd.DataFrame], tuple[Any, pd.DataFrame, str]]  # -> (fitted model, frame, target)
    expected: tuple[str, ...]  # explainers that must be chosen


def _numeric(credit: pd.DataFrame, target: str = "risk") -> pd.DataFrame:
    return credit[NUM + [target]].astype(float).assign(**{target: credit[target]})


def _fit(est: Any, regression: bool = False):
    def build(credit: pd.DataFrame):
        frame = _numeric(credit)
        if regression:
            frame = credit[["duration", "age", "credit_amount"]].astype(float)
            target = "credit_amount"
            feats = ["duration", "age"]
        else:
            target, feats = "risk", NUM
        return est.fit(frame[feats], frame[target]), frame, target
    return build


def _pipeline(final: Any):
    def build(credit: pd.DataFrame):
        pre = ColumnTransformer([
            ("cat", OneHotEncoder(handle_unknown="ignore"), CAT),
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), NUM),
        ])
        frame = credit[CAT + NUM + ["risk"]]
        return Pipeline([("pre", pre), ("model", final)]).fit(frame[CAT + NUM], frame["risk"]), frame, "risk"
    return build


def _hgb(credit: pd.DataFrame):
    frame = credit[NUM + ["risk"]].astype(float).copy()
    frame["checking_code"] = credit["checking_account"].astype("category").cat.codes.astype(float)
    frame.loc[frame.index[::17], "age"] = np.nan
    feats = NUM + ["checking_code"]
    model = HistGradientBoostingClassifier(max_iter=40, categorical_features=["checking_code"], random_state=0)
    return model.fit(frame[feats], frame["risk"].astype(int)), frame, "risk"


FAMILIES = [
    Family("logistic_regression", _fit(LogisticRegression(max_iter=1000)), ("coefficients", "shap", "lime")),
    Family("linear_regression", _fit(LinearRegression(), regression=True), ("coefficients", "shap", "lime")),
    Family("ridge", _fit(Ridge(), regression=True), ("coefficients", "shap", "lime")),
    Family("linear_svc", _fit(make_pipeline(StandardScaler(), LinearSVC())), ("coefficients", "shap", "lime")),
    Family("decision_tree", _fit(DecisionTreeClassifier(max_depth=4, random_state=0)), ("tree_path", "shap", "lime")),
    Family("decision_tree_regressor", _fit(DecisionTreeRegressor(max_depth=4, random_state=0), regression=True),
           ("tree_path", "shap", "lime")),
    Family("random_forest", _fit(RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0)),
           ("tree_path", "shap", "lime")),
    Family("random_forest_regressor", _fit(RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0), regression=True),
           ("tree_path", "shap", "lime")),
    Family("extra_trees", _fit(ExtraTreesClassifier(n_estimators=15, max_depth=5, random_state=0)),
           ("tree_path", "shap", "lime")),
    Family("gradient_boosting", _fit(GradientBoostingClassifier(n_estimators=30, random_state=0)),
           ("tree_path", "shap", "lime")),
    Family("gradient_boosting_regressor", _fit(GradientBoostingRegressor(n_estimators=30, random_state=0), regression=True),
           ("tree_path", "shap", "lime")),
    Family("hist_gradient_boosting_cat_nan", _hgb, ("tree_path", "shap", "lime")),
    Family("kneighbors", _fit(make_pipeline(StandardScaler(), KNeighborsClassifier(15))), ("shap", "lime")),
    Family("svc_no_probability", _fit(make_pipeline(StandardScaler(), SVC())), ("shap", "lime")),
    Family("mlp", _fit(make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=300, random_state=0))),
           ("shap", "lime")),
    Family("pipeline_logreg_onehot", _pipeline(LogisticRegression(max_iter=1000)), ("coefficients", "shap", "lime")),
    Family("pipeline_gbm_onehot", _pipeline(GradientBoostingClassifier(n_estimators=30, random_state=0)),
           ("tree_path", "shap", "lime")),
    Family("pipeline_forest_onehot", _pipeline(RandomForestClassifier(n_estimators=15, max_depth=5, random_state=0)),
           ("tree_path", "shap", "lime")),
]


def _not_installed(credit: pd.DataFrame):
    raise RuntimeError("the family's library is not installed")


def optional_families() -> list[Any]:
    """xgboost and lightgbm (in the ``test`` extra). When one is not installed its cases are reported as
    skipped with the install hint, never silently dropped from the parametrisation."""
    import pytest

    out = []
    for module, build in (("xgboost", lambda m: m.XGBClassifier(n_estimators=20, max_depth=3)),
                          ("lightgbm", lambda m: m.LGBMClassifier(n_estimators=20, verbose=-1))):
        try:
            lib = __import__(module)
        except ImportError:
            family = Family(module, _not_installed, ("shap", "lime"))
            out.append(pytest.param(family, id=module, marks=pytest.mark.skip(
                reason=f"{module} is not installed: pip install -e '.[test]' to run this family")))
            continue
        out.append(pytest.param(Family(module, _fit(build(lib)), ("shap", "lime")), id=module))
    return out


def materialise(family: Family, credit: pd.DataFrame, tmp: Path):
    """Fit, write the data CSV, load it like the CLI does, and build the adapter."""
    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data

    model, frame, target = family.build(credit)
    data = tmp / f"{family.name}.csv"
    frame.to_csv(data, index=False)
    ds = load_data(data, describe_model(model), target=target)
    adapter = make_adapter(model, ds.space)
    adapter.prepare(ds.X)
    return model, ds, adapter, data, target
