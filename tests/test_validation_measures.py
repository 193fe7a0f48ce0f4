"""The validator's evidence measures (issue #27), each checked against an independent computation: scipy and
scikit-learn for AUC and KS, hand computations for Hosmer-Lemeshow, Spiegelhalter and PSI, known models for
calibration and expected directions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from audit.measures.validation import (
    PSI_FLOOR,
    ale,
    calibration,
    discrimination,
    ice_directions,
    psi,
    score_bands,
)


def _calibrated(n=4000, seed=0):
    """Outcomes drawn from known probabilities: p is calibrated by construction."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(0, 1.5, n)))
    return (rng.random(n) < p).astype(int), p


def test_a_squashed_model_is_miscalibrated_with_slope_above_one_and_a_calibrated_one_is_not():
    y, p = _calibrated()
    good = calibration(y, p)
    squashed = calibration(y, 0.5 + 0.4 * (p - 0.5))  # scores pulled toward 0.5
    assert good["ece"] < 0.03 and abs(good["slope"] - 1) < 0.15 and abs(good["intercept"]) < 0.1
    assert good["hosmer_lemeshow"]["p_value"] > 0.01
    assert squashed["ece"] > 0.08 and squashed["slope"] > 1.5
    assert squashed["hosmer_lemeshow"]["p_value"] < 1e-6
    assert sum(b["count"] for b in good["bins"]) == len(y) and len(good["bins"]) == 10
    for b in good["bins"]:
        lo, hi = b["observed_ci95"]
        assert lo <= b["observed_rate"] <= hi


def test_hosmer_lemeshow_spiegelhalter_and_brier_match_a_hand_computation():
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.5, 0.6, 0.65, 0.8, 0.9, 0.95])
    rec = calibration(y, p, bins=5)  # five groups of two rows, by score
    hl = 0.0
    for g in range(5):
        yy, pp = y[2 * g: 2 * g + 2], p[2 * g: 2 * g + 2]
        o1, e1 = yy.sum(), pp.sum()
        hl += (o1 - e1) ** 2 / e1 + ((2 - o1) - (2 - e1)) ** 2 / (2 - e1)
    assert rec["hosmer_lemeshow"]["statistic"] == pytest.approx(hl)
    assert rec["hosmer_lemeshow"]["df"] == 3
    assert rec["hosmer_lemeshow"]["p_value"] == pytest.approx(stats.chi2.sf(hl, 3))
    z = np.sum((y - p) * (1 - 2 * p)) / math.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p)))
    assert rec["spiegelhalter"]["z"] == pytest.approx(z)
    assert rec["spiegelhalter"]["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert rec["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert rec["ece"] == pytest.approx(np.mean([abs(y[2 * g: 2 * g + 2].mean() - p[2 * g: 2 * g + 2].mean())
                                                for g in range(5)]))


def test_auc_gini_and_ks_equal_sklearn_and_scipy_and_the_bands_sum_to_the_rows():
    y, p = _calibrated(1500, seed=2)
    rec = discrimination(y, p, bootstrap=50, seed=1)
    assert rec["auc"] == pytest.approx(roc_auc_score(y, p))
    assert rec["gini"] == pytest.approx(2 * roc_auc_score(y, p) - 1)
    assert rec["ks"] == pytest.approx(stats.ks_2samp(p[y == 1], p[y == 0]).statistic)
    assert rec["auc_ci95"][0] < rec["auc"] < rec["auc_ci95"][1]
    assert discrimination(y, p, bootstrap=50, seed=1) == rec  # seeded
    bands = score_bands(y, p)
    assert sum(b["count"] for b in bands) == len(y) and len(bands) == 10
    assert bands[0]["score_range"][0] > bands[-1]["score_range"][1]  # highest band first
    assert bands[-1]["cumulative_favourable_share"] == pytest.approx(1.0)
    assert bands[-1]["cumulative_adverse_share"] == pytest.approx(1.0)
    assert bands[0]["favourable_rate"] > bands[-1]["favourable_rate"]


def test_psi_is_zero_on_identical_data_hand_computed_on_a_shift_and_names_unseen_categories():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=5000)
    assert psi(ref, ref.copy())["psi"] == 0.0
    shifted = ref + 0.5
    rec = psi(ref, shifted)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / len(ref)
    a = np.bincount(np.searchsorted(edges, shifted, side="right"), minlength=10) / len(ref)
    r, a = np.maximum(r, PSI_FLOOR), np.maximum(a, PSI_FLOOR)
    assert rec["psi"] == pytest.approx(float(np.sum((a - r) * np.log(a / r))))
    assert rec["psi"] > 0.1
    cats = psi(np.array(["A", "A", "B", "B"]), np.array(["A", "B", "C", "C"]), categorical=True)
    assert cats["unseen_categories"] == ["C"]
    c = next(b for b in cats["bins"] if b["bin"] == "C")
    assert c["reference_share"] == 0 and c["data_share"] == 0.5
    assert c["contribution"] == pytest.approx((0.5 - PSI_FLOOR) * math.log(0.5 / PSI_FLOOR))
    gaps = psi(np.array([1.0, np.nan, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0]), bins=2)
    assert gaps["bins"][-1]["bin"] == "missing" and gaps["bins"][-1]["reference_share"] == 0.25


def _u_shaped(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-3, 3, n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X[:, 0] ** 2 - 3 + 0.5 * X[:, 1])))).astype(int)
    return X, y


def test_a_monotone_constrained_model_meets_the_expected_direction_and_the_unconstrained_one_does_not():
    X, y = _u_shaped()
    free = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, y)
    tied = HistGradientBoostingClassifier(max_iter=60, random_state=0, monotonic_cst=[1, 0]).fit(X, y)
    rows = np.arange(0, len(X), 30)
    fav = lambda m: (lambda Z: m.predict_proba(Z)[:, 1])  # noqa: E731
    constrained = ice_directions(fav(tied), X, rows, 0, "increasing")
    unconstrained = ice_directions(fav(free), X, rows, 0, "increasing")
    assert constrained["violation_share"] == 0.0
    assert unconstrained["violation_share"] > 0.5 and unconstrained["violating_rows"]
    assert unconstrained["curves"].shape == (len(rows), len(unconstrained["grid"]))


def test_ale_of_a_linear_score_is_the_line_and_is_centred():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(0, 10, 2000), rng.normal(size=2000)])
    rec = ale(lambda Z: 0.3 * Z[:, 0] - 2 * Z[:, 1], X, 0, bins=10)
    edges, curve = np.asarray(rec["edges"]), np.asarray(rec["ale"])
    assert rec["change"] == pytest.approx(0.3 * (edges[-1] - edges[0]))
    assert np.allclose(np.diff(curve), 0.3 * np.diff(edges))
    mids = (curve[1:] + curve[:-1]) / 2
    assert np.sum(mids * np.asarray(rec["counts"])) == pytest.approx(0.0, abs=1e-9)


def _credit_adapter(name="credit_gbm"):
    from pathlib import Path

    from audit.adapters import describe_model, make_adapter
    from audit.loading import load_data, load_model
    from tests.conftest import SAMPLES

    loaded = load_model(SAMPLES / "models" / f"{name}.skops")
    ds = load_data(Path(SAMPLES / "german_credit.csv"), describe_model(loaded.obj, loaded.extra), target="risk")
    adapter = make_adapter(loaded.obj, ds.space, extra=loaded.extra)
    adapter.prepare(ds.X)
    return adapter, ds


def test_evidence_on_the_credit_sample_and_its_checks():
    from audit.config import parse_config
    from audit.gate import evidence_checks
    from audit.measures.evidence import measure_evidence

    adapter, ds = _credit_adapter()
    config = parse_config("[policy]\nmax_calibration_error = 0.05\nexpected_directions = {duration = 'decreasing'}\n",
                          overrides={"target": "risk"})
    rows = np.arange(0, ds.n_rows, 5)
    X = np.array(ds.X, copy=True)
    j = ds.feature_names.index("duration")
    X[:, j] = X[:, j] * 1.6  # a development sample with much longer loans
    shifted = type(ds)(path="shifted.csv", sha256="0" * 64, X=X, space=ds.space, target=ds.target,
                       target_name=ds.target_name)
    ev = measure_evidence(adapter, ds, rows, adapter.classes[-1], config, top_inputs=["credit_amount"],
                          reference=shifted, reference_adapter=adapter).record()
    assert ev["discrimination"]["rows"] == ds.n_rows and ev["calibration"]["ece"] > 0.05
    assert ev["population_stability"]["inputs"]["duration"]["psi"] > 0.25
    assert ev["population_stability"]["inputs"]["age"]["psi"] == 0.0
    assert [e["feature"] for e in ev["effects"]] == ["duration", "credit_amount"]
    checks = {c.name: c for c in evidence_checks(config.policy, ev)}
    assert checks["calibration_error"].verdict == "fail"
    assert checks["characteristic_stability:duration"].verdict == "finding"
    assert "population_stability:score" in checks
    assert checks["expected_direction:duration"].verdict == "fail"  # the GBM's duration curve rises in places
    assert "duration" in checks["expected_direction:duration"].message
    # no target: calibration is not required (never "passed"), and nothing is measured against a reference
    blind = type(ds)(path=ds.path, sha256=ds.sha256, X=ds.X, space=ds.space)
    ev = measure_evidence(adapter, blind, rows, adapter.classes[-1], config).record()
    assert ev["calibration"] is None and "no target" in ev["not_measured"]["calibration"]
    assert "reference-data" in ev["not_measured"]["population_stability"]
    check = next(c for c in evidence_checks(config.policy, ev) if c.name == "calibration_error")
    assert check.verdict == "not_required" and "no target" in check.message


@pytest.mark.parametrize("n,ties", [(400, False), (900, True), (12_000, True)])
def test_each_bootstrap_draw_equals_sklearns_auc_and_scipys_ks(n, ties):
    """The resamples are scored from counts per distinct score, not by a sort each; every draw must still be the
    AUC scikit-learn gives (to rounding) and exactly the KS statistic scipy gives, in scipy's exact mode (both
    groups up to 10,000) and its asymptotic one, with and without tied scores."""
    from audit.measures.validation import _bootstrap_auc_ks

    rng = np.random.default_rng(n)
    p = rng.uniform(size=n)
    p = np.round(p, 2) if ties else p
    y = (rng.uniform(size=n) < p).astype(int)
    got = _bootstrap_auc_ks(y, p, np.random.default_rng([3, 2711]), 12)
    draw = np.random.default_rng([3, 2711])
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    for b in range(12):
        i = np.concatenate([draw.choice(pos, len(pos)), draw.choice(neg, len(neg))])
        assert got[b, 0] == pytest.approx(roc_auc_score(y[i], p[i]), abs=1e-14)
        assert got[b, 1] == stats.ks_2samp(p[i][y[i] == 1], p[i][y[i] == 0]).statistic
