"""Tree decision paths: Saabas path contributions and readable rules in raw-feature terms.

Along each row's path, the change in node value at a split is credited to the split's feature; the
contributions plus the root value (the bias) equal the tree's output exactly. Forests average their
trees; gradient boosting sums them times the learning rate on top of the initial raw prediction;
HistGradientBoosting sums its predictors on top of its baseline, in raw (log-odds) space, following its
native categorical (bitset) splits and missing-value routing exactly as its predictor does
(``explainers._hgb_trees``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.types import Attribution
from explainers._base import ExplainerBase, is_tree_model
from explainers._hgb_trees import hist_forest, hist_supported, output_column, predictor_matrix, saabas

__all__ = ["TreePath", "path_contributions"]


def _node_values(tree: Any, class_index: int | None, classifier: bool) -> np.ndarray:
    value = np.asarray(tree.value, dtype=float)[:, 0, :]
    if classifier:
        value = value / value.sum(1, keepdims=True)
        return value[:, class_index]
    return value[:, 0]


def path_contributions(tree: Any, Z: np.ndarray, n_features: int, *, class_index: int | None = None,
                       classifier: bool = False) -> tuple[np.ndarray, float]:
    """Saabas contributions (n x p) and bias of one fitted ``sklearn.tree._tree.Tree``.

    >>> from sklearn.tree import DecisionTreeRegressor
    >>> t = DecisionTreeRegressor(max_depth=2).fit([[0.], [1.], [2.], [3.]], [0., 1., 2., 3.])
    >>> c, b = path_contributions(t.tree_, np.array([[3.0]]), 1)
    >>> float(c.sum() + b)
    3.0
    """
    v = _node_values(tree, class_index, classifier)
    children = np.concatenate([tree.children_left, tree.children_right])
    parents = np.concatenate([np.arange(tree.node_count)] * 2)
    keep = children >= 0
    parent_of = np.full(tree.node_count, -1)
    parent_of[children[keep]] = parents[keep]
    nodes = np.flatnonzero(parent_of >= 0)
    step = np.zeros((tree.node_count, n_features))
    step[nodes, tree.feature[parent_of[nodes]]] = v[nodes] - v[parent_of[nodes]]
    path = tree.decision_path(np.ascontiguousarray(Z, dtype=np.float32))
    return np.asarray(path @ step), float(v[0])


class TreePath(ExplainerBase):
    """Decision trees, random forests, extra trees, gradient boosting (sklearn ``tree_`` models) and
    HistGradientBoosting (numeric and native categorical splits, missing values)."""

    name = "tree_path"
    kind = "intrinsic"

    def supports(self, adapter: Any) -> bool:
        return (is_tree_model(adapter) or "saabas" in adapter.capabilities.tree_contributions
                or (adapter.capabilities.in_space and hist_supported(adapter.final_estimator)))

    def explain(self, adapter: Any, X: np.ndarray, *, background: np.ndarray, seed: int) -> Attribution:
        if not adapter.capabilities.in_space:  # a natively loaded booster (a TreeAdapter)
            from explainers._native_trees import native_saabas

            values, base, space, meta = native_saabas(adapter, X)
            return self.attribution(adapter, values, base, output_space=space, additive=True, meta=meta)
        final = adapter.final_estimator
        if hist_supported(final):
            return self._hist(final, X, adapter)
        Z = adapter.transform(X)
        p = Z.shape[1]
        classifier = adapter.task != "regression"
        k = adapter.class_index
        name = type(final).__name__
        if name.startswith("GradientBoosting"):
            values, base, space = self._boosting(final, Z, p, adapter)
        elif hasattr(final, "estimators_"):
            parts = [path_contributions(t.tree_, Z, p, class_index=k, classifier=classifier) for t in final.estimators_]
            values = sum(c for c, _ in parts) / len(parts)
            base = np.full(len(Z), sum(b for _, b in parts) / len(parts))
            space = "score"
        else:
            values, b = path_contributions(final.tree_, Z, p, class_index=k, classifier=classifier)
            base, space = np.full(len(Z), b), "score"
        tmap = adapter.transform_map
        rules = None
        if hasattr(final, "tree_"):
            rules = tuple(decision_rules(final, Z, tmap, adapter, k))
        meta = {"algorithm": "Saabas path contributions", "trees": int(len(getattr(final, "estimators_", [final]))),
                "output_space": space}
        return self.attribution(adapter, tmap.to_raw(values), base, output_space=space, additive=True,
                                meta=meta, rules=rules)

    def _hist(self, final: Any, X: np.ndarray, adapter: Any) -> Attribution:
        """Raw (log-odds / value) contributions summed over the boosting iterations, read from the estimator's
        own predictors (its encoding of categorical columns, bitset splits and missing-value sides)."""
        column, sign = output_column(final, adapter)
        forest = hist_forest(final, column)
        values, bias = saabas(forest, predictor_matrix(adapter, X))
        space = "margin" if adapter.task != "regression" else "score"
        meta = {"algorithm": "Saabas path contributions", "trees": len(final._predictors), "output_space": space,
                "categorical_splits": bool(forest.categorical.any())}
        return self.attribution(adapter, adapter.transform_map.to_raw(sign * values), np.full(len(X), sign * bias),
                                output_space=space, additive=True, meta=meta)

    def _boosting(self, final: Any, Z: np.ndarray, p: int, adapter: Any) -> tuple[np.ndarray, np.ndarray, str]:
        lr = float(final.learning_rate)
        init = np.asarray(final._raw_predict_init(np.ascontiguousarray(Z, dtype=np.float32)), dtype=float)
        trees = final.estimators_
        col = 0 if trees.shape[1] == 1 else (adapter.class_index or 0)
        values = np.zeros((len(Z), p))
        base = init[:, col].copy()
        for t in trees[:, col]:
            c, b = path_contributions(t.tree_, Z, p)
            values += lr * c
            base += lr * b
        if trees.shape[1] == 1 and adapter.binary_sign < 0:
            values, base = -values, -base
        return values, base, "margin"


def decision_rules(tree_model: Any, Z: np.ndarray, tmap: Any, adapter: Any, class_index: int | None) -> list[str]:
    """Each row's decision path as ``cond and cond -> outcome`` in raw-feature terms."""
    tree = tree_model.tree_
    path = tree.decision_path(np.ascontiguousarray(Z, dtype=np.float32)).tocsr()
    names = adapter.feature_names
    leaf_values = np.asarray(tree.value, dtype=float)[:, 0, :]
    out = []
    for i in range(len(Z)):
        nodes = path.indices[path.indptr[i] : path.indptr[i + 1]]
        nodes = np.sort(nodes)
        bounds: dict[str, list] = {}
        cats: list[str] = []
        for node, nxt in zip(nodes[:-1], nodes[1:]):
            f, t = int(tree.feature[node]), float(tree.threshold[node])
            left = nxt == tree.children_left[node]
            if f in tmap.onehot:
                j, cat = tmap.onehot[f]
                cats.append(f"{names[j]} {'!=' if left else '='} {cat}")
            elif f in tmap.linear:
                j, a, b = tmap.linear[f]
                x = (t - b) / a
                upper = left == (a > 0)
                lo, hi = bounds.setdefault(names[j], [None, None])
                if upper:
                    bounds[names[j]][1] = x if hi is None else min(hi, x)
                else:
                    bounds[names[j]][0] = x if lo is None else max(lo, x)
            else:
                cats.append(f"{tmap.names[f]} {'<=' if left else '>'} {t:.4g}")
        conds = []
        for feat, (lo, hi) in bounds.items():
            if lo is not None and hi is not None:
                conds.append(f"{lo:.4g} < {feat} <= {hi:.4g}")
            elif lo is not None:
                conds.append(f"{feat} > {lo:.4g}")
            else:
                conds.append(f"{feat} <= {hi:.4g}")
        conds += [c for c in dict.fromkeys(cats) if not _implied(c, cats)]
        leaf = leaf_values[nodes[-1]]
        if adapter.task == "regression":
            outcome = f"predicted value = {leaf[0]:.4g}"
        else:
            probs = leaf / leaf.sum()
            cls = adapter.classes[int(np.argmax(probs))]
            outcome = f"class {cls} (p={probs.max():.2f})"
        out.append(" and ".join(conds or ["(root)"]) + " -> " + outcome)
    return out


def _implied(cond: str, conds: list[str]) -> bool:
    """A '!= x' condition is implied when the same feature has an '= y' condition."""
    if " != " not in cond:
        return False
    feat = cond.split(" != ")[0]
    return any(c.startswith(feat + " = ") for c in conds)
