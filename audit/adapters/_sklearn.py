"""scikit-learn adapter: estimators and Pipelines (ColumnTransformer, encoders) on raw columns."""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import Any

import numpy as np

from audit.adapters._base import Capabilities, ClassView, batched, one_openmp_thread
from audit.errors import ModelError
from audit.types import CallCounter, FeatureSpace, ModelSpec, TransformMap

__all__ = ["SklearnAdapter", "describe_sklearn", "is_sklearn_model"]

_ENCODERS = ("OneHotEncoder", "OrdinalEncoder", "TargetEncoder")


def is_sklearn_model(obj: Any) -> bool:
    return type(obj).__module__.startswith("sklearn.") or hasattr(obj, "get_params") and hasattr(obj, "fit")


def _first_step(model: Any) -> Any:
    from sklearn.pipeline import Pipeline

    while isinstance(model, Pipeline):
        model = model.steps[0][1]
    return model


def _find_encoder(trans: Any) -> Any:
    from sklearn.pipeline import Pipeline

    steps = [s for _, s in trans.steps] if isinstance(trans, Pipeline) else [trans]
    return next((s for s in steps if type(s).__name__ in _ENCODERS), None)


def describe_sklearn(model: Any) -> ModelSpec:
    """Read feature names and categorical columns (with their known categories) from a fitted model."""
    names = getattr(model, "feature_names_in_", None)
    names = tuple(str(n) for n in names) if names is not None else None
    n_features = getattr(model, "n_features_in_", None)
    categorical: dict[str, tuple[Any, ...]] = {}
    first = _first_step(model)
    if type(first).__name__ == "ColumnTransformer" and names is not None:
        index_map = getattr(first, "_transformer_to_input_indices", {})
        for tname, trans, _cols in first.transformers_:
            if isinstance(trans, str) and trans == "drop":  # never read by the model: any values will do
                for i in index_map.get(tname, []):
                    categorical.setdefault(names[i], ())
                continue
            if isinstance(trans, str) and trans == "passthrough":
                continue
            enc = _find_encoder(trans)
            if enc is None:
                continue
            idx = list(index_map.get(tname, []))
            cats = getattr(enc, "categories_", None)
            for k, i in enumerate(idx):
                known = tuple(c for c in cats[k] if not _is_missing(c)) if cats is not None else ()
                categorical[names[i]] = known
    mask = getattr(model, "is_categorical_", None)
    if mask is not None and names is not None:
        for i, flag in enumerate(mask):
            if flag:
                categorical.setdefault(names[i], ())
    frame_cats = _pandas_categories(first, names)
    categorical.update(frame_cats)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        task = "binary" if len(classes) == 2 else "multiclass"
        classes = tuple(str(c) for c in classes)
    else:
        task = "regression" if hasattr(model, "predict") and not hasattr(model, "predict_proba") else None
    return ModelSpec(feature_names=names, n_features=n_features, categorical=categorical,
                     as_frame=names is not None, task=task, classes=classes, frame_categorical=tuple(frame_cats))


def _pandas_categories(first: Any, names: tuple[str, ...] | None) -> dict[str, tuple[Any, ...]]:
    """Inputs that a model receiving DATA's frame directly was fitted on as pandas ``category`` columns
    (HistGradientBoosting's ``categorical_features="from_dtype"``), with the categories it was fitted on:
    they must reach it as that dtype again, for predictions and for a refit alike."""
    pre = getattr(first, "_preprocessor", None)
    mask = getattr(first, "is_categorical_", None)
    if pre is None or mask is None or names is None:
        return {}
    try:
        fitted = pre.named_transformers_["encoder"].categories_
    except (AttributeError, KeyError):
        return {}
    columns = [names[i] for i, flag in enumerate(mask) if flag]
    return {c: tuple(v for v in cats if not _is_missing(v)) for c, cats in zip(columns, fitted)}


def _is_missing(v: Any) -> bool:
    try:
        return v is None or bool(np.isnan(v))
    except TypeError:
        return False


def _dense(Z: Any) -> np.ndarray:
    if hasattr(Z, "toarray"):
        Z = Z.toarray()
    return np.asarray(Z, dtype=float)


class SklearnAdapter(ClassView):
    """Adapter over a fitted scikit-learn estimator or Pipeline.

    >>> from sklearn.linear_model import LogisticRegression
    >>> m = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    >>> a = SklearnAdapter(m, FeatureSpace(("x",), as_frame=False))
    >>> a.task, a.output
    ('binary', 'predict_proba')
    """

    framework = "sklearn"
    randomisation_method = "refit on permuted labels"
    batch_size = 50_000

    def __init__(self, model: Any, space: FeatureSpace, *, explained_class: Any = None,
                 counter: CallCounter | None = None) -> None:
        from sklearn.base import is_classifier, is_regressor

        self.model = model
        self.space = space
        self.counter = counter or CallCounter()
        if is_classifier(model) or hasattr(model, "classes_"):
            self.classes = tuple(getattr(model, "classes_", ()))
            if len(self.classes) < 2:
                raise ModelError(f"{self.type_name}: classifier has {len(self.classes)} class(es); need 2 or more.")
            self.task = "binary" if len(self.classes) == 2 else "multiclass"
        elif is_regressor(model) or hasattr(model, "predict"):
            self.classes = None
            self.task = "regression"
        else:
            raise ModelError(f"{type(model).__name__}: not a classifier or regressor.")
        if self.task == "regression":
            self.output = "predict"
        elif hasattr(model, "predict_proba"):
            self.output = "predict_proba"
        elif hasattr(model, "decision_function"):
            self.output = "decision_function"
        else:
            raise ModelError(f"{self.type_name}: classifier has neither predict_proba nor decision_function.")
        self.class_index = self._initial_class_index(explained_class)
        self.capabilities = Capabilities(
            margin=self.task == "regression" or hasattr(model, "decision_function") or self._native_margin is not None,
            per_class=self.classes is not None, parallel_safe=True, in_space=True,
            randomisation=self.randomisation_method)

    # -- identity ---------------------------------------------------------------------------
    @property
    def native(self) -> Any:
        return self.model

    @property
    def type_name(self) -> str:
        from sklearn.pipeline import Pipeline

        if isinstance(self.model, Pipeline):
            return "Pipeline(" + " > ".join(type(s).__name__ for _, s in self.model.steps) + ")"
        return type(self.model).__name__

    # -- calls ------------------------------------------------------------------------------
    def _call(self, method: str, X: np.ndarray) -> np.ndarray:
        self.counter.add(len(X))
        frame = self.space.decode(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                with one_openmp_thread():
                    return np.asarray(getattr(self.model, method)(frame))
            except (ValueError, TypeError) as exc:
                raise ModelError(f"{self.type_name}.{method} failed on {len(X)} row(s): {exc}") from exc

    def _score(self, X: np.ndarray) -> np.ndarray:
        out = self._call(self.output, X)
        if self.task == "regression":
            return out.reshape(len(X), -1)[:, 0].astype(float)
        if out.ndim == 1:  # binary decision_function: score of classes_[1]
            return (self.binary_sign * out).astype(float)
        return out[:, self.class_index].astype(float)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Score being explained, for each row of the encoded matrix ``X``."""
        return batched(self._score, np.asarray(X, dtype=float), self.batch_size)

    def predict_label(self, X: np.ndarray) -> np.ndarray:
        return batched(lambda b: self._call("predict", b), np.asarray(X, dtype=float), self.batch_size)

    def predict_all(self, X: np.ndarray) -> np.ndarray:
        """Per-class scores (n x k) for classifiers, used to choose per-row explained classes."""
        out = self._call(self.output, np.asarray(X, dtype=float))
        if out.ndim == 1:
            out = np.column_stack([-out, out])
        return out

    @property
    def _native_margin(self) -> dict[str, bool] | None:
        """XGBoost / LightGBM scikit-learn wrappers have no decision_function, but their predict gives the raw
        log-odds (the space their trees, and TreeSHAP on them, add up in) with this keyword."""
        if self.task == "regression":
            return None
        library = type(self.final_estimator).__module__.split(".")[0]
        return {"xgboost": {"output_margin": True}, "lightgbm": {"raw_score": True}}.get(library)

    def margin(self, X: np.ndarray) -> np.ndarray | None:
        """The explained class's margin (decision function / log-odds), if the model has one."""
        if self.task == "regression":
            return self.predict(X)
        if not hasattr(self.model, "decision_function"):
            keyword = self._native_margin
            if keyword is None:
                return None
            self.counter.add(len(X))
            with one_openmp_thread():
                out = np.asarray(self.final_estimator.predict(self.transform(np.asarray(X, dtype=float)), **keyword),
                                 dtype=float)
            return self.binary_sign * out.reshape(len(X)) if out.ndim == 1 or out.shape[1] == 1 else out[:, self.class_index]
        out = self._call("decision_function", np.asarray(X, dtype=float))
        if out.ndim == 1:
            return self.binary_sign * out
        return out[:, self.class_index]

    # -- pipeline internals for intrinsic / in-space methods ---------------------------------
    @property
    def final_estimator(self) -> Any:
        from sklearn.pipeline import Pipeline

        return self.model.steps[-1][1] if isinstance(self.model, Pipeline) else self.model

    def final_input(self, X: np.ndarray) -> Any:
        """The final estimator's input for the encoded raw rows ``X``, exactly as ``predict`` hands it over:
        the decoded frame for a bare model, the preceding steps' output for a Pipeline. Estimators that
        encode columns themselves (HistGradientBoosting's native categorical features) read this, not
        :meth:`transform`, whose dense floats cannot hold category labels."""
        from sklearn.pipeline import Pipeline

        frame = self.space.decode(np.asarray(X, dtype=float))
        if isinstance(self.model, Pipeline) and len(self.model.steps) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return self.model[:-1].transform(frame)
        return frame

    def transform(self, X: np.ndarray) -> np.ndarray:
        """What the final estimator sees for the encoded raw rows ``X`` (dense floats)."""
        out = self.final_input(X)
        return _dense(out.to_numpy() if hasattr(out, "to_numpy") else out)

    @cached_property
    def transform_map(self) -> TransformMap:
        return self.build_transform_map(None)

    def build_transform_map(self, X: np.ndarray | None) -> TransformMap:
        """Find which raw columns each transformed column depends on, by perturbing raw columns."""
        from sklearn.pipeline import Pipeline

        f = len(self.space.names)
        if not (isinstance(self.model, Pipeline) and len(self.model.steps) > 1):
            return TransformMap.identity(self.space.names)
        if X is None:
            X = self._probe_rows
        Z0 = self.transform(X)
        p = Z0.shape[1]
        dep = np.zeros((p, f), dtype=bool)
        for j in range(f):
            for Xp in self._perturbations(X, j):
                Zp = self.transform(Xp)
                dep[:, j] |= ~np.isclose(Zp, Z0, equal_nan=True).all(0)
        counts = dep.sum(1, keepdims=True)
        weights = np.divide(dep, counts, out=np.zeros((p, f)), where=counts > 0)
        onehot, linear = self._describe_columns(X, Z0, dep)
        try:
            names = tuple(str(n) for n in self.model[:-1].get_feature_names_out())
        except Exception:  # noqa: BLE001 - names are only for display
            names = tuple(f"z{i}" for i in range(p))
        return TransformMap(weights, onehot, linear, names)

    _probe: np.ndarray | None = None

    def prepare(self, X: np.ndarray) -> None:
        """Rows used to discover the column mapping (the audit's data)."""
        self._probe = np.asarray(X, dtype=float)[:500]
        self.__dict__.pop("transform_map", None)

    @property
    def _probe_rows(self) -> np.ndarray:
        if self._probe is None:
            raise ModelError("the adapter needs data rows before it can map transformed columns")
        return self._probe

    def _perturbations(self, X: np.ndarray, j: int) -> list[np.ndarray]:
        cats = self.space.categories.get(self.space.names[j])
        rolled = X.copy()
        rolled[:, j] = np.roll(X[:, j], max(1, len(X) // 2))
        shifted = X.copy()
        if cats is not None:
            shifted[:, j] = np.where(np.isnan(X[:, j]), 0, (np.nan_to_num(X[:, j]) + 1) % max(len(cats), 1))
        else:
            col = X[:, j]
            scale = np.nanstd(col) if np.isfinite(np.nanstd(col)) and np.nanstd(col) > 0 else 1.0
            shifted[:, j] = np.where(np.isnan(col), np.nanmedian(col) if np.isfinite(np.nanmedian(col)) else 0.0,
                                     col + scale)
        return [rolled, shifted]

    def _describe_columns(self, X: np.ndarray, Z0: np.ndarray, dep: np.ndarray) -> tuple[dict, dict]:
        onehot: dict[int, tuple[int, Any]] = {}
        linear: dict[int, tuple[int, float, float]] = {}
        for j, name in enumerate(self.space.names):
            cols = np.flatnonzero(dep[:, j] & (dep.sum(1) == 1))
            if not len(cols):
                continue
            cats = self.space.categories.get(name)
            if cats is not None:
                row = np.repeat(X[:1], len(cats), axis=0)
                row[:, j] = np.arange(len(cats))
                Zc = self.transform(row)
                for c in cols:
                    hot = np.flatnonzero(np.isclose(Zc[:, c], 1.0))
                    if len(hot) == 1 and np.isclose(Zc[:, c], 0.0).sum() == len(cats) - 1:
                        onehot[int(c)] = (j, cats[hot[0]])
            else:
                x = X[:, j]
                ok = np.isfinite(x)
                for c in cols:
                    z = Z0[ok, c]
                    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
                        continue
                    a, b = np.polyfit(x[ok], z, 1)
                    if np.allclose(a * x[ok] + b, z, atol=1e-8 * max(1.0, np.abs(z).max())):
                        linear[int(c)] = (j, float(a), float(b))
        return onehot, linear

    def randomised(self, dataset: Any, rng: np.random.Generator) -> SklearnAdapter:
        """The same model refit on permuted labels: the model-randomisation sanity check's model."""
        from sklearn.base import clone

        y = np.asarray(dataset.target)
        model = clone(self.model)
        with warnings.catch_warnings(), one_openmp_thread():  # also: one reduction order on every machine
            warnings.simplefilter("ignore")
            model.fit(self.space.decode(dataset.X), y[rng.permutation(len(y))])
        return self.with_model(model)

    def with_model(self, model: Any) -> SklearnAdapter:
        """Same view over another fitted model (used by the randomisation check)."""
        clone = SklearnAdapter(model, self.space, counter=self.counter)
        clone.class_index = self.class_index
        clone._probe = self._probe
        return clone

