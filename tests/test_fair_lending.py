"""Fair lending in depth (issue #31): intersectional groups counted by hand on a small table, the adverse
impact ratio by score band against a hand computation, explanation parity, and the gate's and config's
handling of each."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from audit.config import Policy
from audit.errors import ConfigError
from audit.gate import ProtectedEvidence, protected_checks
from audit.measures.fairness import fairness_evidence, measure_fairness
from audit.measures.protected import check_protected_names
from audit.types import Dataset, FeatureSpace
from tests.conftest import CATEGORICAL, FAST_TOML, NUMERIC, SAMPLES, save_pickle

# sex x age band, 4 cells; (rows, approved) per cell, chosen so each cell's rate differs
CELLS = {("female", 20.0): (12, 3), ("female", 50.0): (10, 6), ("male", 20.0): (8, 6), ("male", 50.0): (30, 27)}


def _small_table() -> tuple[Dataset, np.ndarray]:
    """60 rows: sex (categorical input), age (two values, so each value is a group) and the decisions."""
    sex, age, label = [], [], []
    for (s, a), (n, k) in CELLS.items():
        sex += [0.0 if s == "female" else 1.0] * n
        age += [a] * n
        label += ["1"] * k + ["0"] * (n - k)
    space = FeatureSpace(("sex", "age"), {"sex": ("female", "male")})
    return Dataset("small.csv", "", np.column_stack([sex, age]), space), np.array(label)


def test_intersectional_rates_equal_hand_counts_on_a_small_table():
    """Catches crossed groups that are mislabelled, miscounted, or judged without the small-group rule."""
    ds, labels = _small_table()
    record = measure_fairness(ds, labels, classes=["0", "1"], favorable="1", favorable_source="config",
                              protected=["sex", "age"], bins={}, min_group_size=10, n_bootstrap=20, seed=0,
                              intersections=[["sex", "age"]])
    crossed = record["attributes"]["sex x age"]
    got = {g["group"]: (g["rows"], g["selection_rate"], g["judged"]) for g in crossed["groups"]}
    assert got == {f"{s} & {a:g}": (n, k / n, n >= 10) for (s, a), (n, k) in CELLS.items()}
    assert [g["group"] for g in crossed["groups"]] == ["female & 20", "female & 50", "male & 20", "male & 50"]
    assert crossed["too_small"] == ["male & 20"]
    # judged cells only: lowest female & 20 (3/12), highest male & 50 (27/30)
    ratio = crossed["selection_rate_ratio"]
    assert ratio["value"] == pytest.approx((3 / 12) / (27 / 30), abs=1e-12)
    assert (ratio["lowest"], ratio["highest"]) == ("female & 20", "male & 50")
    assert crossed["grouping"] == "crossed: sex by categories; age by categories"
    # the single attributes are unchanged by the intersection
    sex = {g["group"]: g["selection_rate"] for g in record["attributes"]["sex"]["groups"]}
    assert sex == pytest.approx({"female": 9 / 22, "male": 33 / 38})


def test_the_gate_runs_every_fairness_check_on_the_crossed_groups():
    """Catches an intersection that is measured but never judged (no four-fifths check, no small-group finding)."""
    ds, labels = _small_table()
    record = measure_fairness(ds, labels, classes=["0", "1"], favorable="1", favorable_source="config",
                              protected=["sex", "age"], bins={}, min_group_size=10, n_bootstrap=20, seed=0,
                              intersections=[["sex", "age"]])
    policy = Policy(protected_attributes=["sex", "age"], intersections=[["sex", "age"]], min_group_size=10)
    checks = {c.name: c for c in protected_checks(policy, ProtectedEvidence(
        attributes=("sex", "age"), fairness=fairness_evidence(record)))}
    ratio = checks["selection_rate_ratio:sex x age"]
    assert not ratio.passed and ratio.blocking and ratio.value == pytest.approx(0.25 / 0.9)
    assert not checks["group_size:sex x age"].passed and "'male & 20' (8 rows)" in checks["group_size:sex x age"].message


def test_intersections_must_name_protected_attributes():
    """Catches a misspelt or single-attribute intersection that would silently measure nothing."""
    with pytest.raises(ValueError, match="at least two different"):
        Policy(protected_attributes=["sex", "age"], intersections=[["sex"]])
    with pytest.raises(ValueError, match="'race', which is not in policy.protected_attributes"):
        Policy(protected_attributes=["sex", "age"], intersections=[["sex", "race"]])
    ds, _ = _small_table()
    with pytest.raises(ConfigError, match="policy.intersections names 'race'"):
        check_protected_names(["sex", "age"], ds, intersections=[["sex", "race"]])


def test_air_by_band_equals_a_hand_computation_at_two_cutoffs():
    """Catches a cutoff taken at the wrong quantile, a ratio over the wrong groups, or a too-small group compared."""
    from audit.measures.score_disparity import air_by_band

    rng = np.random.default_rng(5)
    groups = np.array(["a"] * 120 + ["b"] * 80 + ["c"] * 5, dtype=object)
    scores = np.r_[rng.beta(4, 2, 120), rng.beta(2, 3, 80), np.ones(5)]  # c: tiny and always approved
    bands = air_by_band(scores, groups, ["a", "b", "c"], min_group_size=30, quantiles=[0.3, 0.7])
    for band, q in zip(bands, [0.3, 0.7]):
        pos = q * (len(scores) - 1)
        lo, frac = int(np.floor(pos)), pos - np.floor(pos)
        ordered = np.sort(scores)
        cutoff = ordered[lo] + frac * (ordered[lo + 1] - ordered[lo])
        rate_a = np.sum(scores[:120] >= cutoff) / 120
        rate_b = np.sum(scores[120:200] >= cutoff) / 80
        # numpy's default (linear) quantile, by hand
        assert band["cutoff"] == pytest.approx(cutoff, abs=1e-12)
        assert band["air"] == pytest.approx(min(rate_a, rate_b) / max(rate_a, rate_b), abs=1e-12)
        assert (band["lowest"], band["highest"]) == ("b", "a")
    assert bands[0]["air"] > bands[1]["air"]  # the disparity deepens as the cutoff rises


def test_smd_and_its_seeded_bootstrap_interval():
    """Catches an SMD with the wrong sign or scale, a CI that misses it, or a bootstrap that is not seeded."""
    from audit.measures.score_disparity import standardized_mean_difference

    rng = np.random.default_rng(1)
    scores = np.r_[rng.normal(0.6, 0.1, 200), rng.normal(0.5, 0.1, 150)]
    groups = np.array(["x"] * 200 + ["y"] * 150, dtype=object)
    smd = standardized_mean_difference(scores, groups, ["x", "y"], min_group_size=30, n_bootstrap=300,
                                       rng=np.random.default_rng(0))
    expected = (scores[200:].mean() - scores[:200].mean()) / scores.std()
    assert smd["value"] == pytest.approx(expected, abs=1e-12) and (smd["lowest"], smd["highest"]) == ("y", "x")
    assert smd["ci95"][0] < expected < smd["ci95"][1] < 0
    again = standardized_mean_difference(scores, groups, ["x", "y"], min_group_size=30, n_bootstrap=300,
                                         rng=np.random.default_rng(0))
    assert again == smd


def _parity_case(noisy: bool):
    """A logistic model on 6 seeded inputs plus `sex`; its exact logit attribution w * (x - mean), with heavy
    seeded noise added on the rows of men when ``noisy`` (explanations built to be wrong for one group)."""
    from audit.faithfulness.metrics import Baseline
    from audit.faithfulness.scoring import FaithfulnessContext

    rng = np.random.default_rng(11)
    n = 240
    X = np.column_stack([rng.normal(size=(n, 6)), np.r_[np.zeros(n // 2), np.ones(n // 2)]])
    w = np.array([2.0, -1.5, 1.0, 0.5, -0.25, 0.1, 0.0])

    def predict(Z):
        return 1 / (1 + np.exp(-(Z @ w)))

    A = w * (X - X.mean(0))
    if noisy:
        A[n // 2:] += rng.normal(scale=2.0, size=(n // 2, 7))
    space = FeatureSpace((*(f"x{i}" for i in range(6)), "sex"), {"sex": ("female", "male")})
    ds = Dataset("parity.csv", "", X, space)
    ctx = FaithfulnessContext(predict, X, Baseline(X.mean(0)[None]), seed=0, n_random=4, n_bootstrap=50)
    return ds, ctx, A


@pytest.mark.parametrize("noisy", [True, False])
def test_explanation_parity_flags_explanations_built_to_be_noisy_for_one_group(noisy):
    """Catches a per-group score on another scale than the audit's, a gap that misses an explainer wrong only for
    men, a clean explainer flagged, and a check that blocks without max_explanation_gap set (or not with it)."""
    from audit.faithfulness.scoring import subset_score
    from audit.gate import explanation_parity_checks
    from audit.measures.explanation_parity import measure_explanation_parity

    ds, ctx, A = _parity_case(noisy)
    rows = ctx.row_scores(A)
    everyone = np.ones(ds.n_rows, bool)
    assert subset_score(rows, everyone) == pytest.approx(ctx.score(A).score, abs=1e-12)  # same scale as the audit
    stability = (np.arange(0, 240, 4), np.r_[np.ones(30), np.full(30, 0.6)])  # 30 decisions per group
    record = measure_explanation_parity(ds, "exact", np.arange(ds.n_rows), rows, stability, protected=["sex"],
                                        bins={}, intersections=[], min_group_size=30)
    groups = {g["group"]: g for g in record["attributes"]["sex"]}
    female = subset_score(rows, np.arange(240) < 120)
    assert groups["female"]["faithfulness_score"] == pytest.approx(female, abs=1e-12) and female > 0.8
    assert (groups["female"]["reason_stability"], groups["male"]["reason_stability"]) == pytest.approx((1.0, 0.6))
    assert record["gaps"]["sex"]["reason_stability"] == pytest.approx(0.4)
    gap = record["gaps"]["sex"]["faithfulness"]
    default = {c.name: c for c in explanation_parity_checks(Policy(protected_attributes=["sex"]), record)}
    strict = {c.name: c for c in explanation_parity_checks(Policy(protected_attributes=["sex"],
                                                                  max_explanation_gap=0.2), record)}
    if noisy:
        assert gap > 0.3 and groups["male"]["faithfulness_score"] < female - 0.3
        assert default["explanation_gap:sex"].verdict == "finding"
        assert strict["explanation_gap:sex"].verdict == "fail" and strict["explanation_gap:sex"].blocking
        assert "'female'" in strict["explanation_gap:sex"].message
    else:
        assert gap < 0.1 and default["explanation_gap:sex"].verdict == "pass"
    assert default["reason_stability_gap:sex"].verdict == "finding"  # 1.0 vs 0.6 over 30 decisions each


def test_explanation_parity_is_not_measured_for_groups_too_small():
    """Catches a gap computed from a group of a handful of rows (it must be not measured, never a pass)."""
    from audit.gate import explanation_parity_checks
    from audit.measures.explanation_parity import measure_explanation_parity

    ds, ctx, A = _parity_case(False)
    rows = {k: v[100:140] for k, v in ctx.row_scores(A).items()}  # scored: 20 women, 20 men
    record = measure_explanation_parity(ds, "exact", np.arange(100, 140), rows, None, protected=["sex"], bins={}, intersections=[], min_group_size=30)
    assert record["gaps"]["sex"] == {"faithfulness": None, "reason_stability": None}
    checks = explanation_parity_checks(Policy(protected_attributes=["sex"], max_explanation_gap=0.1), record)
    assert [c.verdict for c in checks] == ["not_measured", "not_measured"] and all(c.blocking for c in checks)


E2E_TOML = (FAST_TOML + 'explainers = ["coefficients"]\nfavorable_class = "1"\nreason_stability_rows = 10\n'
            '[policy]\nprotected_attributes = ["sex", "age"]\nintersections = [["sex", "age"]]\n'
            'group_bins = {age = [30]}\n')


@pytest.fixture(scope="module")
def audited(credit, tmp_path_factory):
    """One audit of the sample logistic regression (it uses sex and age) on the credit data, with the new keys."""
    from typer.testing import CliRunner

    from audit.cli import app
    from samples.make_samples import credit_logreg

    tmp = tmp_path_factory.mktemp("fair_lending")
    model = credit_logreg().fit(credit[CATEGORICAL + NUMERIC], credit["risk"])
    (tmp / "audit.toml").write_text(E2E_TOML)
    args = ["run", save_pickle(model, tmp / "m.pkl"), SAMPLES / "german_credit.csv", "--target", "risk",
            "--config", tmp / "audit.toml", "--out", tmp / "out"]
    res = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code in (0, 1), res.stderr
    result = json.loads((tmp / "out" / "results.json").read_text())
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp / "out" / "report.pdf").pages).split())
    return model, result, text


def test_a_run_measures_reports_and_gates_the_new_fairness_measures(audited, credit):
    """Catches a measure computed but left out of results.json, the gate or the PDF, or an AIR at the policy
    cutoff that disagrees with the model's own decisions."""
    model, result, text = audited
    protected = result["protected_attributes"]
    crossed = protected["outcome_fairness"]["attributes"]["sex x age"]
    decided = model.predict(credit[CATEGORICAL + NUMERIC]) == 1
    cells = credit["sex"] + " & " + np.where(credit["age"] < 30, "< 30", ">= 30")
    assert {g["group"]: g["rows"] for g in crossed["groups"]} == cells.value_counts().to_dict()
    rate = pd.Series(decided).groupby(cells.to_numpy()).mean()
    assert {g["group"]: g["selection_rate"] for g in crossed["groups"]} == pytest.approx(rate.to_dict())
    names = {c["name"] for c in result["gate"]["checks"]}
    assert {"selection_rate_ratio:sex x age", "group_size:sex x age", "explanation_gap:sex",
            "reason_stability_gap:sex"} <= names
    band = protected["score_disparity"]
    sex = band["attributes"]["sex"]
    assert len(sex["air_by_band"]) == 9 and sex["smd"]["lowest"] == "female"
    p = model.predict_proba(credit[CATEGORICAL + NUMERIC])[:, 1]
    assert band["policy_cutoff"] == pytest.approx(p[decided].min())
    at = pd.Series(p >= band["policy_cutoff"]).groupby(credit["sex"].to_numpy()).mean()
    assert sex["air_at_policy_cutoff"] == pytest.approx(at.min() / at.max())
    parity = protected["explanation_parity"]
    assert parity["method"] == "coefficients" and set(parity["attributes"]) == {"sex", "age", "sex x age"}
    assert sum(g["rows"] for g in parity["attributes"]["sex"]) == 40  # every scored row in one group
    assert "Disparity by score band" in text and "standard deviations of the score" in text
    assert "Explanation parity" in text and "sex x age" in text
    assert result["lda"] is None and "search for less discriminatory alternatives was not run" in text
