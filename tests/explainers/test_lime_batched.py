"""Batched LIME equals lime's own ``explain_instance`` row by row on the same draws (issue #29): the
perturbations come from lime's sampler with the same per-row generators, and the kernel-weighted ridge is
lime's Ridge(alpha=1) solved for all rows together."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from audit.adapters import describe_model, make_adapter
from audit.loading import load_data, load_model
from explainers.lime_tabular import (
    _explain_rows,
    _log_sum2,
    explain_rows_per_row,
    truncnorm_ppf,
    weighted_ridge,
)
from tests.conftest import SAMPLES


def _adapter(name):
    loaded = load_model(SAMPLES / "models" / f"{name}.skops")
    data = SAMPLES / ("german_credit.csv" if name.startswith("credit") else "models/synthetic_loans.csv")
    ds = load_data(data, describe_model(loaded.obj, loaded.extra), target="risk" if name.startswith("credit")
                   else None, infer_target=True)
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    return adapter, ds


@pytest.mark.parametrize("name", ["credit_logreg", "credit_gbm", "synthetic_logreg"])
def test_batched_lime_equals_lime_per_row(name):
    adapter, ds = _adapter(name)
    assert name == "synthetic_logreg" or ds.space.categorical_indices  # the credit models have categories
    train, rows = ds.X[:200], ds.X[300:312]
    batched = _explain_rows(adapter, rows, 7, train, 3, 300)
    reference = explain_rows_per_row(adapter, rows, 7, train, 3, 300)
    for got, want in zip(batched, reference):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    assert np.abs(batched[0]).max() > 1e-4  # real attributions, not zeros on both sides


def test_batched_lime_is_split_invariant_and_calls_the_model_once_per_block(loans):
    adapter, ds = _adapter("synthetic_logreg")
    rows = ds.X[:10]
    calls = adapter.counter.calls
    whole = _explain_rows(adapter, rows, 0, ds.X[:100], 1, 200)
    assert adapter.counter.calls - calls == 1
    halves = [_explain_rows(adapter, rows[:4], 0, ds.X[:100], 1, 200), _explain_rows(adapter, rows[4:], 4, ds.X[:100], 1, 200)]
    np.testing.assert_array_equal(whole[0], np.vstack([h[0] for h in halves]))


def test_weighted_ridge_matches_sklearn_on_random_problems():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 80, 4))
    X[..., 3] = 1.0  # a constant column: coefficient 0, as in Ridge
    y, w = rng.normal(size=(5, 80)), rng.uniform(0.1, 1, size=(5, 80))
    b, c, r2 = weighted_ridge(X, y, w, 1.0)
    for i in range(5):
        ridge = Ridge(alpha=1.0).fit(X[i], y[i], sample_weight=w[i])
        np.testing.assert_allclose(b[i], ridge.coef_, atol=1e-10)
        assert c[i] == pytest.approx(ridge.intercept_, abs=1e-10)
        assert r2[i] == pytest.approx(ridge.score(X[i], y[i], sample_weight=w[i]), abs=1e-10)


def test_batched_lime_on_a_knn_pipeline_with_numeric_inputs(loans):
    from audit.types import FeatureSpace

    X = loans.drop(columns=["default"]).to_numpy(float)[:400]
    y = loans["default"].to_numpy()[:400]
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(15)).fit(X, y)
    space = FeatureSpace(tuple(f"x{j}" for j in range(X.shape[1])), as_frame=False)
    adapter = make_adapter(model, space)
    adapter.prepare(X)
    got, want = _explain_rows(adapter, X[:6], 0, X[:150], 5, 250), explain_rows_per_row(adapter, X[:6], 0, X[:150], 5, 250)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)


def test_truncnorm_ppf_is_scipys_bit_for_bit():
    """The quartile draws' inverse CDF: computed once per distinct (a, b), the rest scipy's own steps, so every
    value is scipy's exactly; lower and upper tails, infinite bounds, both ends of q, a zero scale and an empty
    interval (NaN) included."""
    from scipy.special import logsumexp
    from scipy.stats import truncnorm

    rng = np.random.default_rng(11)
    n = 200_000
    bounds = np.sort(rng.normal(size=(30, 2)) * 2.5, axis=1)
    bounds[:6] = [[-np.inf, 0.3], [0.2, np.inf], [3.5, 9.0], [-9.0, -4.0], [1.0, 1.0], [-0.5, 0.5]]
    pick = rng.integers(0, len(bounds), n)
    a, b = bounds[pick, 0], bounds[pick, 1]
    q = rng.uniform(size=n)
    q[:4] = [0.0, 0.0, 1.0, 0.5]
    loc, scale = rng.normal(size=n), np.abs(rng.normal(size=n))
    scale[10:20] = 0.0
    want = truncnorm.ppf(q, a, b, loc=loc, scale=scale)
    assert np.isnan(want).any() and np.isfinite(want).sum() > n * 0.9
    np.testing.assert_array_equal(truncnorm_ppf(q, a, b, loc, scale), want)
    np.testing.assert_array_equal(truncnorm_ppf(q, a, b, loc, scale, groups=pick * 3 + 2), want)
    p, r = rng.normal(size=n) * 30, rng.normal(size=n) * 30
    r[:5], p[:3] = p[:5], -np.inf  # ties and -inf terms
    np.testing.assert_array_equal(_log_sum2(p, r), logsumexp([p, r], axis=0))


def test_chunks_and_blocks_change_no_value(monkeypatch):
    """Issue #29: how rows are grouped into neighbourhood and ridge chunks changes no value (every number of one
    row comes from that row's generator and that row's own ridge problem). Blocks of model calls change only
    what the model itself returns for a different batch (scikit-learn's BLAS products: 1e-16 here)."""
    import explainers.lime_tabular as lime_tabular

    adapter, ds = _adapter("credit_logreg")
    rows, train = ds.X[:23], ds.X[100:300]
    whole = _explain_rows(adapter, rows, 5, train, 2, 150)
    monkeypatch.setattr(lime_tabular, "CHUNK_ELEMENTS", 150 * rows.shape[1] * 3)  # three rows per chunk
    for a, b in zip(whole, _explain_rows(adapter, rows, 5, train, 2, 150)):
        np.testing.assert_array_equal(a, b)
    calls = adapter.counter.calls
    monkeypatch.setattr(lime_tabular, "BLOCK_MODEL_VALUES", 150 * rows.shape[1] * 7)  # seven rows per model call
    small = _explain_rows(adapter, rows, 5, train, 2, 150)
    assert adapter.counter.calls - calls == 4  # 23 rows in blocks of 7
    for a, b in zip(whole, small):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


def test_batched_lime_with_only_categorical_inputs_equals_lime_per_row():
    """No input is discretised (lime's quartile tables are empty): only the category draws remain."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    from audit.types import FeatureSpace

    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, size=(300, 2)).astype(float)
    space = FeatureSpace(("a", "b"), {"a": ("x", "y", "z"), "b": ("u", "v", "w")})
    y = ((codes[:, 0] == 2) ^ (rng.uniform(size=300) < 0.2)).astype(int)
    model = make_pipeline(OneHotEncoder(), LogisticRegression()).fit(space.decode(codes), y)
    adapter = make_adapter(model, space)
    adapter.prepare(codes)
    got, want = _explain_rows(adapter, codes[:8], 0, codes[:200], 6, 200), explain_rows_per_row(
        adapter, codes[:8], 0, codes[:200], 6, 200)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    assert np.abs(got[0][:, 0]).max() > 1e-3 and isinstance(space.decode(codes[:1]), pd.DataFrame)
