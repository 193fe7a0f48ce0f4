"""Decision-path rules read back against the tree: the report test only checked that a model without
rules prints none (``"Decision path" not in text or "->" in text``), which holds for any text.

Each row's rule, parsed back into interval conditions, must select exactly the rows that reach the same
leaf of the fitted tree (scikit-learn's ``apply``), and name that leaf's majority class.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from explainers.tree_path import TreePath
from tests.families import Family, materialise

COND = re.compile(r"^(?:(?P<lo>[-\d.e+]+) < )?(?P<name>\w+) (?P<op><=|>) (?P<t>[-\d.e+]+)$")


def _build(credit):
    frame = credit[["duration", "age", "risk"]].copy()
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame[["duration", "age"]], frame["risk"])
    return model, frame, "risk"


def _selects(rule: str, frame) -> np.ndarray:
    conds, outcome = rule.split(" -> ")
    keep = np.ones(len(frame), dtype=bool)
    for cond in conds.split(" and "):
        m = COND.match(cond)
        assert m, cond
        x = frame[m["name"]].to_numpy(dtype=float)
        t = float(m["t"])
        keep &= (x <= t) if m["op"] == "<=" else (x > t)
        if m["lo"]:
            keep &= x > float(m["lo"])
    return keep


def test_each_rule_selects_exactly_its_rows_leaf(credit, tmp_path):
    model, ds, adapter, *_ = materialise(Family("tree3", _build, ("tree_path",)), credit, tmp_path)
    rows = np.arange(0, 400, 7)
    a = TreePath().explain(adapter, ds.X[rows], background=ds.X[:50], seed=0)
    assert a.rules is not None and len(a.rules) == len(rows)
    frame = ds.frame(np.arange(ds.n_rows))
    leaves = model.apply(frame[["duration", "age"]])
    for i, r in enumerate(rows):
        rule = a.rules[i]
        assert " -> class " in rule
        selected = _selects(rule, frame)
        np.testing.assert_array_equal(selected, leaves == leaves[r], err_msg=rule)
        leaf_class = model.classes_[np.argmax(model.tree_.value[leaves[r], 0])]
        assert rule.split(" -> class ")[1].startswith(f"{leaf_class} (p=")
