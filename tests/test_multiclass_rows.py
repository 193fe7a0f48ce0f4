"""Multiclass audits explain each row's predicted class: the right class for the right row, in data order.

Every row is explained and the background is every row, so the coefficients attribution is known in
closed form from scikit-learn alone: ``coef_[k] * (x - mean(X))`` with ``k`` the row's predicted class.
A defect that groups rows by class and then fails to restore data order, or that explains one class
for all rows, attaches values (and reasons) to the wrong row or class and fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from audit.commands.runner import run_audit
from audit.config import parse_config
from tests.conftest import save_pickle

N = 60


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mc")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(N, 3)) * [1.0, 2.0, 0.5]
    y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.8, 0.8])]
    frame = pd.DataFrame(X, columns=["income", "debt", "tenure"]).assign(band=y)
    data = tmp / "mc.csv"
    frame.to_csv(data, index=False)
    model = LogisticRegression(max_iter=2000).fit(frame[["income", "debt", "tenure"]], y)
    path = save_pickle(model, tmp / "mc.pkl")
    toml = (f"rows = {N}\nbackground = {N}\nbootstrap = 20\nrandom_controls = 2\nrandomisation_rows = 10\n"
            "[policy]\nrequire_randomisation_check = false\n")
    config = parse_config(toml, overrides={"target": "band", "explainers": ["coefficients"]})
    result = run_audit(path, data, config=config)
    return model, frame, result


def test_each_row_is_explained_for_its_own_predicted_class(audited):
    model, frame, result = audited
    X = frame[["income", "debt", "tenure"]].to_numpy()
    k = np.argmax(model.predict_proba(frame[["income", "debt", "tenure"]]), axis=1)
    assert len(set(k)) == 3  # every class is some row's prediction
    expected = model.coef_[k] * (X - X.mean(0))
    attr = result.attributions["coefficients"]
    assert list(attr.rows) == list(range(N))
    np.testing.assert_allclose(attr.values, expected, rtol=0, atol=1e-9)
    assert result.model["explained_class_per_row"] and result.explanations[0].rows_explained == N


def test_decisions_carry_the_row_its_predicted_class_and_that_rows_reasons(audited):
    model, frame, result = audited
    X = frame[["income", "debt", "tenure"]].to_numpy()
    predicted = model.predict(frame[["income", "debt", "tenure"]])
    k = np.argmax(model.predict_proba(frame[["income", "debt", "tenure"]]), axis=1)
    contrib = model.coef_[k] * (X - X.mean(0))
    names = ["income", "debt", "tenure"]
    assert [d.row for d in result.decisions] == list(range(1, N + 1))
    for i, d in enumerate(result.decisions):
        assert d.outcome == predicted[i] and not d.adverse  # no favourable class for multiclass
        want = [names[j] for j in np.argsort(-np.abs(contrib[i]), kind="stable")]
        assert [r["feature"] for r in d.reasons] == want, f"row {i + 1}"
        np.testing.assert_allclose([r["contribution"] for r in d.reasons], contrib[i][[names.index(w) for w in want]],
                                   atol=1e-9)
