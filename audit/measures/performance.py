"""Model performance on the target column and an interpretable challenger fitted on the same data."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from audit.records import (
    ChallengerRecord,
    ChallengerScoresRecord,
    PerformanceDeltaRecord,
    PerformanceRecord,
    ScoresRecord,
)
from audit.types import Dataset

__all__ = ["model_performance", "challenger_benchmark", "class_labels", "paired_deltas", "headline_measure",
           "OVERFIT_MARGIN"]

# In-sample figures this far above the best challenger's cross-validated one suggest memorisation.
OVERFIT_MARGIN = 0.1
_ROLE_NOTE = {"holdout": "measured on holdout data (stated with --data-role holdout)",
              "training": "measured on the model's training data (in-sample): optimistic",
              "unknown": "measured on the audited data; whether it is the model's training data was not stated "
                         "(--data-role), so these figures may be in-sample and optimistic"}


def class_labels(y: np.ndarray, classes: list[str] | None) -> np.ndarray:
    """Target values as the model's class names (so 1.0 in a CSV matches class 1)."""
    if classes is None:
        return np.asarray(y)
    lookup = {c: c for c in classes}
    for c in classes:
        try:
            lookup.setdefault(repr(float(c)), c)
        except ValueError:
            pass

    def one(v: object) -> str:
        s = str(v)
        if s in lookup:
            return lookup[s]
        try:
            return lookup.get(repr(float(s)), s)
        except ValueError:
            return s

    return np.array([one(v) for v in np.asarray(y)], dtype=object).astype(str)


def _metrics(task: str, y: np.ndarray, score: np.ndarray, labels: np.ndarray, classes: list[str] | None) -> ScoresRecord:
    from sklearn import metrics as skm

    if task == "regression":
        y = y.astype(float)
        return {"r2": float(skm.r2_score(y, score)), "rmse": float(np.sqrt(skm.mean_squared_error(y, score))),
                "mae": float(skm.mean_absolute_error(y, score))}
    ys, ls = y.astype(str), labels.astype(str)
    out: ScoresRecord = {"accuracy": float(skm.accuracy_score(ys, ls)),
                           "balanced_accuracy": float(skm.balanced_accuracy_score(ys, ls))}
    if task == "binary" and classes is not None and len(set(ys)) == 2:
        out["auc"] = float(skm.roc_auc_score(ys == classes[-1], score))
    labels_order = classes or sorted(set(ys) | set(ls))
    out["confusion_matrix"] = {"labels": labels_order,
                               "matrix": skm.confusion_matrix(ys, ls, labels=labels_order).tolist()}
    return out


def _auc_oriented(task: str, classes: list[str] | None, explained: str | None, score: np.ndarray) -> np.ndarray:
    """The explained score oriented towards the last class, for which AUC is computed."""
    return -np.asarray(score) if task == "binary" and classes and explained == classes[0] else np.asarray(score)


def headline_measure(task: str) -> str:
    """The one performance measure a comparison is gated on: AUC, accuracy or R²."""
    return {"binary": "auc", "multiclass": "accuracy"}.get(task, "r2")


def paired_deltas(task: str, classes: list[str] | None, explained: str | None, target: np.ndarray,
                  a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], *, n_bootstrap: int,
                  seed: int) -> dict[str, PerformanceDeltaRecord]:
    """Each scalar performance measure of model ``a`` and model ``b`` (each a (score, label) pair on the same
    rows), their difference b - a and its 95% CI from a paired bootstrap: every replicate resamples the
    rows once and measures both models on them, so the CI reflects the models' difference and not the
    sampling noise they share.

    >>> y = np.array([0, 1, 0, 1, 1, 0])
    >>> good = (np.array([.1, .9, .2, .8, .7, .3]), np.array([0, 1, 0, 1, 1, 0]))
    >>> paired_deltas("binary", ["0", "1"], "1", y, good, good, n_bootstrap=20, seed=0)["auc"]["delta_ci95"]
    [0.0, 0.0]
    """
    y = class_labels(target, classes)

    def scalars(rows: np.ndarray, score: np.ndarray, label: np.ndarray) -> dict[str, float]:
        out = _metrics(task, y[rows], _auc_oriented(task, classes, explained, score[rows]), label[rows], classes)
        return {k: v for k, v in out.items() if isinstance(v, float)}

    every = np.arange(len(y))
    base, cand = scalars(every, *a), scalars(every, *b)
    rng = np.random.default_rng(seed)
    reps: dict[str, list[float]] = {k: [] for k in base if k in cand}
    for _ in range(n_bootstrap):
        rows = rng.integers(0, len(y), size=len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a resample with one class has no AUC: that replicate is left out
            ra, rb = scalars(rows, *a), scalars(rows, *b)
        for k in reps:
            if k in ra and k in rb:
                reps[k].append(rb[k] - ra[k])
    return {k: {"baseline": base[k], "candidate": cand[k], "delta": cand[k] - base[k],
                "delta_ci95": [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if v else [None, None],
                "replicates": len(v)} for k, v in reps.items()}


def model_performance(adapter: Any, ds: Dataset, score: np.ndarray, labels: np.ndarray, *,
                      role: str = "unknown") -> PerformanceRecord:
    """Performance of the audited model on DATA, labelled with DATA's ``role`` (holdout, training, unknown)."""
    classes = [str(c) for c in adapter.classes] if adapter.classes is not None else None
    explained = str(adapter.explained_class) if adapter.classes is not None else None
    score = _auc_oriented(adapter.task, classes, explained, score)
    out = _metrics(adapter.task, class_labels(ds.target, classes), score, np.asarray(labels), classes)
    out["rows"] = ds.n_rows
    out["data_role"] = role
    out["note"] = _ROLE_NOTE[role]
    return out


def challenger_benchmark(adapter: Any, ds: Dataset, performance: PerformanceRecord, *, seed: int) -> ChallengerRecord:
    """Fit an interpretable challenger (logistic/linear regression on one-hot inputs, and a depth-3
    tree) and compare: in-sample like the audited model's figures, and 5-fold cross-validated."""
    X = np.asarray(ds.X)
    y = np.asarray(ds.target)
    regression = adapter.task == "regression"
    classes = [str(c) for c in adapter.classes] if adapter.classes is not None else None
    ys = y.astype(float) if regression else class_labels(y, classes)
    results = {name: _fit_and_score(model, X, ys, adapter.task, classes)
               for name, model in _challengers(ds, regression, seed).items()}
    return _against_challengers(performance, results, regression)


def _challengers(ds: Dataset, regression: bool, seed: int) -> dict[str, Any]:
    """The interpretable challengers, unfitted: a linear model on one-hot inputs and a depth-3 tree."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cat = ds.space.categorical_indices
    num = [j for j in range(len(ds.feature_names)) if j not in cat]
    pre = ColumnTransformer([
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), cat),
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), num),
    ])
    return {
        "logistic regression" if not regression else "ridge regression":
            make_pipeline(pre, LogisticRegression(max_iter=2000) if not regression else Ridge()),
        "decision tree (depth 3)": make_pipeline(pre, (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
            max_depth=3, random_state=seed)),
    }


def _fit_and_score(model: Any, X: np.ndarray, ys: np.ndarray, task: str, classes: list[str] | None
                   ) -> ChallengerScoresRecord:
    """One challenger's measures in-sample (fitted on all of DATA) and 5-fold cross-validated."""
    from sklearn.model_selection import cross_val_predict

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, ys)
        if task == "regression":
            s_in = model.predict(X)
            s_cv = cross_val_predict(model, X, ys, cv=5)
            return {"in_sample": _metrics("regression", ys, s_in, s_in, None),
                    "cross_validated": _metrics("regression", ys, s_cv, s_cv, None)}
        pos = list(model.classes_).index(classes[-1]) if classes[-1] in list(model.classes_) else -1
        p_in = model.predict_proba(X)
        p_cv = cross_val_predict(model, X, ys, cv=5, method="predict_proba")
        labels = np.asarray(model.classes_)
        return {"in_sample": _metrics(task, ys, p_in[:, pos], labels[np.argmax(p_in, 1)], classes),
                "cross_validated": _metrics(task, ys, p_cv[:, pos], labels[np.argmax(p_cv, 1)], classes)}


def _against_challengers(performance: PerformanceRecord, results: dict[str, ChallengerScoresRecord], regression: bool
                         ) -> ChallengerRecord:
    """The audited model's headline measure against the best challenger, with a possible-overfitting warning
    when it beats every cross-validated challenger by more than OVERFIT_MARGIN on non-holdout data."""
    key = "r2" if regression else ("auc" if "auc" in performance else "accuracy")
    best = max(results, key=lambda k: results[k]["in_sample"].get(key, float("-inf")))
    gap = performance.get(key, float("nan")) - results[best]["in_sample"].get(key, float("nan"))
    cv_best = max(v["cross_validated"].get(key, float("-inf")) for v in results.values())
    excess = performance.get(key, float("nan")) - cv_best
    overfit = None
    if performance.get("data_role") != "holdout" and excess > OVERFIT_MARGIN:
        overfit = (f"possible overfitting: the audited model's {key} on this data ({performance.get(key):.3f}, "
                   f"{performance.get('data_role', 'unknown')} data) exceeds the best cross-validated challenger "
                   f"({cv_best:.3f}) by {excess:.3f} (more than {OVERFIT_MARGIN}). Measure it on holdout data "
                   "(--data-role holdout) before relying on it.")
    return {"metric": key, "overfitting_warning": overfit, "best_cross_validated": float(cv_best), "challengers": results, "best_challenger": best, "audited_model": performance.get(key),
            "gap_in_sample": float(gap),
            "summary": f"The audited model's {key} on this data is {performance.get(key, float('nan')):.3f}; the best "
                       f"interpretable challenger ({best}) reaches {results[best]['in_sample'].get(key, float('nan')):.3f} "
                       f"in-sample and {results[best]['cross_validated'].get(key, float('nan')):.3f} cross-validated."}
