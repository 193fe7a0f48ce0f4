"""Adapter over gradient-boosted trees loaded natively: XGBoost and LightGBM boosters, CatBoost models.

The model sees the matrix its preprocessing spec describes (``audit.adapters._encoding``; without a
spec, the model's own feature names as numeric columns). The explained *score* is the library's
prediction: the probability of the explained class, or the regression output. The *margin* is the raw
(log-odds / raw score) output, which tree contributions add up to. ``output`` records which.

Tree contributions (capability ``tree_contributions``) come from the libraries' own code, in the
margin of the explained class: ``"shap"`` is path-dependent TreeSHAP (XGBoost ``pred_contribs``,
LightGBM ``pred_contrib``, CatBoost ``ShapValues``), the algorithm of shap's ``TreeExplainer`` with
``feature_perturbation="tree_path_dependent"``; ``"saabas"`` is Saabas path attribution (XGBoost
``pred_contribs(approx_contribs=True)``; for LightGBM, a walk over ``dump_model()``'s trees with node
values that are the hessian-weighted means of their leaves, as XGBoost computes them).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from audit.adapters._base import Capabilities, ClassView, batched
from audit.adapters._encoding import SpecEncoder
from audit.errors import InputError, ModelError
from audit.types import CallCounter, FeatureSpace, ModelSpec, TransformMap

__all__ = ["NativeTreeAdapter", "describe_native", "is_native_tree", "with_native_info"]

_GENERIC = ("Column_", "f")


def is_native_tree(obj: Any) -> bool:
    """Boosters in their libraries' own classes; CatBoost's scikit-learn-style classes too (a trusted pickle
    of a CatBoostClassifier is the same model as its .cbm and goes through the same adapter)."""
    library, name = type(obj).__module__.split(".")[0], type(obj).__name__
    return (library in ("xgboost", "lightgbm") and name == "Booster") or \
        (library == "catboost" and name in ("CatBoost", "CatBoostClassifier", "CatBoostRegressor"))


def with_native_info(obj: Any, extra: dict) -> dict:
    """``extra`` with the model's ``native`` description, read from the model when the loader gave none."""
    if extra.get("native") or type(obj).__module__.split(".")[0] != "catboost":
        return extra
    from audit.loading import catboost_info

    return {**extra, "native": catboost_info(obj)}


def _encoder(obj: Any, extra: dict) -> SpecEncoder | None:
    spec = extra.get("spec")
    if spec is not None:
        return SpecEncoder.from_spec(spec, f"spec {extra.get('spec_path', '')}".strip())
    info = extra.get("native") or {}
    names = info.get("feature_names")
    if names and not all(n.startswith(_GENERIC) and n[len(n.rstrip('0123456789')):] for n in names):
        # CatBoost keeps its categorical features' names but not their labels: the data's labels are used
        return SpecEncoder.identity(tuple(names), native=tuple(info.get("cat_features") or ()))
    return None


def describe_native(obj: Any, extra: dict) -> ModelSpec:
    """What the booster expects of DATA: the spec's raw columns, else its feature names, else by position."""
    extra = with_native_info(obj, extra)
    enc = _encoder(obj, extra)
    if enc is None:
        return ModelSpec(feature_names=None, n_features=(extra.get("native") or {}).get("num_feature"),
                         as_frame=False)
    return enc.model_spec()


def _task(info: dict, spec: dict | None) -> tuple[str, tuple[Any, ...] | None, bool]:
    """(task, classes, identity link) from the model's objective, the spec's labels winning."""
    objective = str(info.get("objective", "")).lower()
    n_class = int(info.get("num_class") or 0)
    spec = spec or {}
    if objective.startswith(("binary", "logloss", "crossentropy")) and objective != "cross_entropy":
        task, classes = "binary", tuple(info.get("classes") or (0, 1))
    elif objective.startswith("multi") and n_class > 1:
        task, classes = "multiclass", tuple(info.get("classes") or range(n_class))
    else:
        identity = objective.startswith(("reg:squared", "reg:absolute", "reg:pseudohuber", "reg:quantile",
                                         "regression", "huber", "fair", "quantile", "mape", "rmse", "mae"))
        return "regression", None, identity
    if spec.get("classes"):
        if len(spec["classes"]) != len(classes):
            raise InputError(f"spec: 'classes' lists {len(spec['classes'])} labels but the model has {len(classes)} "
                             "classes.")
        classes = tuple(spec["classes"])
    return task, classes, False


class NativeTreeAdapter(ClassView):
    """Adapter over a natively loaded tree booster (see the module docstring)."""

    framework = "native"
    randomisation_method = "retrained on permuted labels with the same parameters"
    batch_size = 100_000

    def __init__(self, model: Any, space: FeatureSpace, *, extra: dict, explained_class: Any = None,
                 counter: CallCounter | None = None) -> None:
        extra = with_native_info(model, extra)
        self.model = model
        self.space = space
        self.extra = extra
        self.info = dict(extra.get("native") or {})
        self.counter = counter or CallCounter()
        self.library = self.info.get("library", type(model).__module__.split(".")[0])
        self.framework = self.library
        self.backend = _BACKENDS[self.library](model, self.info)
        self.encoder = (_encoder(model, extra) or SpecEncoder.identity(space.names)).resolved(space)
        self.encoder.check_width(self.backend.n_features, f"{self.library} model")
        self.backend.labels = self.encoder.native_categories()
        self.task, self.classes, self.identity_link = _task(self.info, extra.get("spec"))
        self.output = ("probability" if self.classes is not None
                       else "value" if self.identity_link else "prediction (inverse link of the margin)")
        self.class_index = self._initial_class_index(explained_class)
        kinds = ("shap", "saabas") if self.library in ("xgboost", "lightgbm") else ("shap",)
        self.capabilities = Capabilities(margin=True, per_class=self.classes is not None,
                                         randomisation=self.randomisation_method, tree_contributions=kinds)

    # -- identity ---------------------------------------------------------------------------
    @property
    def native(self) -> Any:
        return self.model

    @property
    def tree_model(self) -> Any:
        """The object shap's TreeExplainer takes."""
        return self.model

    @property
    def type_name(self) -> str:
        return f"{self.library} {type(self.model).__name__} ({self.info.get('objective', '?')}, " \
               f"{self.info.get('trees', '?')} trees)"

    # -- inputs -----------------------------------------------------------------------------
    def transform(self, X: np.ndarray) -> np.ndarray:
        """The matrix the trees see for the encoded raw rows ``X``."""
        return self.encoder.transform(np.asarray(X, dtype=float), self.space)

    @cached_property
    def transform_map(self) -> TransformMap:
        return self.encoder.transform_map(self.space)

    # -- calls ------------------------------------------------------------------------------
    def _run(self, fn: Any, X: np.ndarray) -> np.ndarray:
        self.counter.add(len(X))
        try:
            return np.asarray(fn(self.transform(X)), dtype=float)
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ModelError(f"{self.type_name} prediction failed on {len(X)} row(s): {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - library errors (XGBoostError, LightGBMError, CatBoostError)
            raise ModelError(f"{self.type_name} prediction failed on {len(X)} row(s): {exc}") from exc

    def _scores(self, X: np.ndarray) -> np.ndarray:
        return batched(lambda b: self._run(self.backend.predict, b), np.asarray(X, dtype=float), self.batch_size)

    def _margins(self, X: np.ndarray) -> np.ndarray:
        return batched(lambda b: self._run(self.backend.raw, b), np.asarray(X, dtype=float), self.batch_size)

    def predict_all(self, X: np.ndarray) -> np.ndarray:
        out = self._scores(X)
        if self.task == "binary":
            p = out.reshape(len(out), -1)[:, -1]
            return np.column_stack([1 - p, p])
        return out.reshape(len(out), -1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The explained score: the explained class's probability, or the regression output."""
        out = self.predict_all(X)
        return out[:, 0] if self.task == "regression" else out[:, self.class_index]

    def margin(self, X: np.ndarray) -> np.ndarray:
        """The explained class's raw output (log-odds for binary models), which the trees add up to."""
        raw = self._margins(X).reshape(len(X), -1)
        if self.task == "multiclass":
            return raw[:, self.class_index]
        return self.binary_sign * raw[:, 0]

    def predict_label(self, X: np.ndarray) -> np.ndarray:
        if self.task == "regression":
            return self.predict(X)
        return np.asarray(self.classes, dtype=object)[np.argmax(self.predict_all(X), axis=1)]

    # -- tree contributions -----------------------------------------------------------------
    def tree_contributions(self, Z: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """(values n x model columns, base n) of the explained class's margin for the model's input rows ``Z``:
        ``kind`` "shap" (path-dependent TreeSHAP) or "saabas" (see the module docstring)."""
        if kind not in self.capabilities.tree_contributions:
            raise ModelError(f"{self.type_name}: no native {kind} contributions.")
        self.counter.add(len(Z))
        out = np.asarray(self.backend.contributions(np.asarray(Z, dtype=float), kind), dtype=float)
        k = self.class_index if self.task == "multiclass" else 0
        if out.ndim == 3:
            out = out[:, k, :]
        sign = self.binary_sign if self.task == "binary" else 1.0
        return sign * out[:, :-1], sign * out[:, -1]

    # -- sanity check -----------------------------------------------------------------------
    def randomised(self, dataset: Any, rng: np.random.Generator) -> NativeTreeAdapter:
        """The same kind of model retrained on permuted labels (Adebayo et al. 2018 model randomisation)."""
        y = np.asarray(dataset.target)
        if self.classes is not None:
            index = {str(c): i for i, c in enumerate(self.classes)}
            y = np.array([index.get(str(v), -1) for v in y])
            if (y < 0).any():
                raise ModelError("the target holds labels that are not the model's classes")
        y = y[rng.permutation(len(y))].astype(float)
        model = self.backend.retrain(self.transform(dataset.X), y, int(rng.integers(0, 2**31 - 1)))
        clone = NativeTreeAdapter(model, self.space, extra=self.extra, counter=self.counter)
        clone.class_index = self.class_index
        return clone


# -- library backends: the only code that knows each library's calls -----------------------------
class _XGBoost:
    def __init__(self, booster: Any, info: dict) -> None:
        self.booster = booster
        self.n_features = int(booster.num_features())

    def _dm(self, Z: np.ndarray) -> Any:
        import xgboost as xgb

        return xgb.DMatrix(Z, feature_names=self.booster.feature_names, feature_types=self.booster.feature_types,
                           enable_categorical=True, missing=np.nan)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.booster.predict(self._dm(Z), validate_features=False)

    def raw(self, Z: np.ndarray) -> np.ndarray:
        return self.booster.predict(self._dm(Z), output_margin=True, validate_features=False)

    def contributions(self, Z: np.ndarray, kind: str) -> np.ndarray:
        return self.booster.predict(self._dm(Z), pred_contribs=True, approx_contribs=kind == "saabas",
                                    validate_features=False)

    def retrain(self, Z: np.ndarray, y: np.ndarray, seed: int) -> Any:
        import json

        import xgboost as xgb

        config = json.loads(self.booster.save_config())
        learner = config["learner"]
        params = {**learner["generic_param"], **learner["gradient_booster"].get("tree_train_param", {}),
                  "objective": learner["objective"]["name"], "seed": seed}
        if int(learner["learner_model_param"].get("num_class", 0)) > 1:
            params["num_class"] = int(learner["learner_model_param"]["num_class"])
        params = {k: v for k, v in params.items() if k not in ("device",)}
        dm = xgb.DMatrix(Z, label=y, feature_names=self.booster.feature_names,
                         feature_types=self.booster.feature_types, enable_categorical=True)
        return xgb.train(params, dm, num_boost_round=self.booster.num_boosted_rounds())


class _LightGBM:
    def __init__(self, booster: Any, info: dict) -> None:
        self.booster = booster
        self.n_features = int(booster.num_feature())

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return self.booster.predict(Z)

    def raw(self, Z: np.ndarray) -> np.ndarray:
        return self.booster.predict(Z, raw_score=True)

    def contributions(self, Z: np.ndarray, kind: str) -> np.ndarray:
        if kind == "shap":
            out = np.asarray(self.booster.predict(Z, pred_contrib=True))
            k = self.booster.num_model_per_iteration()
            return out.reshape(len(Z), k, -1) if k > 1 else out
        return self._saabas(Z)

    @cached_property
    def _paths(self) -> tuple[list[np.ndarray], list[float], bool]:
        """Per tree, each leaf's Saabas contribution row (leaves x features) and the root value."""
        dump = self.booster.dump_model()
        p = self.n_features
        tables, roots = [], []
        for tree in dump["tree_info"]:
            leaves = int(tree["num_leaves"])
            table = np.zeros((leaves, p))
            root = tree["tree_structure"]
            if "leaf_value" in root:
                tables.append(table)
                roots.append(float(root["leaf_value"]))
                continue
            means = _node_means(root)
            stack = [(root, np.zeros(p))]
            while stack:
                node, acc = stack.pop()
                for side in ("left_child", "right_child"):
                    child = node[side]
                    step = acc.copy()
                    step[int(node["split_feature"])] += means[id(child)] - means[id(node)]
                    if "leaf_index" in child:
                        table[int(child["leaf_index"])] = step
                    else:
                        stack.append((child, step))
            tables.append(table)
            roots.append(means[id(root)])
        return tables, roots, bool(dump.get("average_output"))

    def _saabas(self, Z: np.ndarray) -> np.ndarray:
        tables, roots, average = self._paths
        leaves = np.asarray(self.booster.predict(Z, pred_leaf=True), dtype=np.int64).reshape(len(Z), -1)
        k = self.booster.num_model_per_iteration()
        out = np.zeros((len(Z), k, self.n_features + 1))
        for t, (table, root) in enumerate(zip(tables, roots)):
            out[:, t % k, :-1] += table[leaves[:, t]]
            out[:, t % k, -1] += root
        if average:
            out /= max(1, len(tables) // k)
        return out if k > 1 else out[:, 0, :]

    def retrain(self, Z: np.ndarray, y: np.ndarray, seed: int) -> Any:
        import lightgbm as lgb

        keep = ("objective", "num_class", "num_leaves", "learning_rate", "max_depth", "min_data_in_leaf",
                "lambda_l1", "lambda_l2", "boosting", "bagging_fraction", "feature_fraction", "max_bin",
                "categorical_feature")
        params = {k: v for k, v in self.booster.params.items() if k in keep}
        params.update(verbose=-1, seed=seed, num_threads=1)
        rounds = self.booster.current_iteration()
        return lgb.train(params, lgb.Dataset(Z, label=y), num_boost_round=max(1, rounds))


def _node_means(root: dict) -> dict[int, float]:
    """Hessian-weighted mean of the leaf values below each node (keyed by id), without recursion."""
    means: dict[int, float] = {}
    weight: dict[int, float] = {}
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        if "leaf_index" not in node:
            stack += [node["left_child"], node["right_child"]]
    for node in reversed(order):
        if "leaf_index" in node:
            means[id(node)] = float(node["leaf_value"])
            weight[id(node)] = float(node.get("leaf_weight", node.get("leaf_count", 1.0)))
            continue
        a, b = node["left_child"], node["right_child"]
        w = weight[id(a)] + weight[id(b)]
        means[id(node)] = (means[id(a)] * weight[id(a)] + means[id(b)] * weight[id(b)]) / w if w > 0 else \
            0.5 * (means[id(a)] + means[id(b)])
        weight[id(node)] = w
    return means


class _CatBoost:
    def __init__(self, model: Any, info: dict) -> None:
        self.model = model
        self.n_features = len(model.feature_names_)
        self.cat = list(model.get_cat_feature_indices())
        loss = str(info.get("objective", ""))
        self.classifier = loss in ("Logloss", "CrossEntropy", "MultiClass")

    labels: dict[int, tuple[Any, ...]] = {}  # model column -> category labels (set from the spec)

    def _pool(self, Z: np.ndarray, y: np.ndarray | None = None) -> Any:
        from catboost import Pool

        if not self.cat:
            return Pool(Z, label=y)
        import pandas as pd

        cols: dict[str, Any] = {}
        for i, name in enumerate(self.model.feature_names_):
            col = Z[:, i]
            if i in self.cat:
                labels = np.array([str(c) for c in self.labels.get(i, ())] + ["nan"], dtype=object)
                idx = np.where(np.isnan(col), len(labels) - 1, np.nan_to_num(col)).astype(np.int64)
                if not self.labels.get(i):
                    cols[name] = np.where(np.isnan(col), "nan", col.astype(np.int64).astype(str))
                else:
                    cols[name] = labels[np.clip(idx, 0, len(labels) - 1)]
            else:
                cols[name] = col
        return Pool(pd.DataFrame(cols), label=y, cat_features=self.cat)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        kind = "Probability" if self.classifier else "RawFormulaVal"
        return np.asarray(self.model.predict(self._pool(Z), prediction_type=kind))

    def raw(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(self._pool(Z), prediction_type="RawFormulaVal"))

    def contributions(self, Z: np.ndarray, kind: str) -> np.ndarray:
        return np.asarray(self.model.get_feature_importance(self._pool(Z), type="ShapValues"))

    def retrain(self, Z: np.ndarray, y: np.ndarray, seed: int) -> Any:
        from catboost import CatBoost

        params = dict(self.model.get_params())
        params.update(random_seed=seed, verbose=False, thread_count=1, allow_writing_files=False)
        model = CatBoost(params)
        model.fit(self._pool(Z, y))
        return model


_BACKENDS = {"xgboost": _XGBoost, "lightgbm": _LightGBM, "catboost": _CatBoost}
