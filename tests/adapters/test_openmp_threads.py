"""Model calls run with one OpenMP thread (issue #29): scikit-learn's OpenMP loops spin on shared cores, and
each row is predicted on its own, so the values are the same with one thread as with the library's default."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_info

from audit.adapters._sklearn import SklearnAdapter
from audit.types import FeatureSpace

rng = np.random.default_rng(29)
X = rng.normal(size=(3000, 5))
Y = (X[:, 0] + X[:, 1] * X[:, 2] + rng.logistic(size=3000) > 0).astype(int)


def _openmp_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"]


def test_predictions_are_identical_and_use_one_openmp_thread(monkeypatch):
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, Y)
    expected = model.predict_proba(X)[:, 1]  # the library's default thread count
    before = _openmp_threads()
    seen: list[list[int]] = []
    real = model.predict_proba
    monkeypatch.setattr(model, "predict_proba", lambda Z: seen.append(_openmp_threads()) or real(Z))
    adapter = SklearnAdapter(model, FeatureSpace(tuple("abcde"), as_frame=False))
    np.testing.assert_array_equal(adapter.predict(X), expected)
    assert seen and all(threads and set(threads) == {1} for threads in seen)
    assert _openmp_threads() == before  # restored after the call
