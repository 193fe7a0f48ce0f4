"""Outcome fairness per protected group: the four-fifths rule on real credit data (a model trained on
decisions biased against women fails it, the model without sex and age passes it), groups too small to
judge, equalised odds and equal opportunity against hand-computed rates, the bootstrap CI against an
independent resampling, policy bins, and what is not measured."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from audit.config import Policy, parse_config
from audit.errors import ConfigError
from audit.gate import FairnessEvidence, fairness_checks
from audit.measures.fairness import group_labels, measure_fairness, outcome_fairness
from tests.conftest import CATEGORICAL, FAST_TOML, NUMERIC, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"
POLICY = (FAST_TOML + 'explainers = ["coefficients"]\nfavorable_class = "1"\n'
          '[policy]\nprotected_attributes = ["sex", "age"]\n')


@pytest.fixture(scope="module")
def models(credit, tmp_path_factory):
    """A logistic regression trained on historical decisions that declined a seeded fifth of the women who
    were good risks (so it uses `sex` strongly), and the sample model without `sex` and `age`."""
    from samples.make_samples import PROTECTED, credit_logreg, credit_logreg_fair

    tmp = tmp_path_factory.mktemp("fairness")
    X = credit[CATEGORICAL + NUMERIC]
    y = credit["risk"].to_numpy().copy()
    rng = np.random.default_rng(0)
    y[(credit["sex"].to_numpy() == "female") & (y == 1) & (rng.random(len(y)) < 0.2)] = 0
    biased = credit_logreg().fit(X, y)
    inputs = [c for c in X.columns if c not in PROTECTED]
    fair = credit_logreg_fair().fit(X[inputs], credit["risk"])
    return {"biased": (biased, save_pickle(biased, tmp / "biased.pkl"), list(X.columns)),
            "fair": (fair, save_pickle(fair, tmp / "fair.pkl"), inputs)}


def _ratio_by_hand(selected: np.ndarray, groups: pd.Series) -> float:
    rates = pd.Series(selected).groupby(groups.to_numpy()).mean()
    return float(rates.min() / rates.max())


def _age_quartiles(age: pd.Series) -> pd.Series:
    edges = np.quantile(age, [0.25, 0.5, 0.75])
    return pd.cut(age, [-np.inf, *edges, np.inf], right=False).astype(str)


def _audit(cli, model_path, data, tmp_path, toml=POLICY):
    cfg = tmp_path / "audit.toml"
    cfg.write_text(toml)
    code, _, err = cli("run", model_path, data, "--target", "risk", "--config", cfg, "--out", tmp_path / "out")
    return code, err, json.loads((tmp_path / "out" / "results.json").read_text())


def _check(result: dict, name: str) -> dict:
    return next(c for c in result["gate"]["checks"] if c["name"] == name)


def test_a_model_using_sex_fails_the_four_fifths_rule_with_its_ratio_and_ci(models, credit, cli, tmp_path):
    """Catches a four-fifths check that passes a model whose approval rate for women is well under 0.8 of
    men's, a ratio that is not the lowest over the highest group's rate, or a CI that does not hold it."""
    model, path, inputs = models["biased"]
    expected = _ratio_by_hand(model.predict(credit[inputs]) == 1, credit["sex"])
    assert expected < 0.7  # the premise: this model really fails the rule on its own data
    code, err, result = _audit(cli, path, CREDIT, tmp_path)
    check = _check(result, "selection_rate_ratio:sex")
    measured = result["protected_attributes"]["outcome_fairness"]["attributes"]["sex"]["selection_rate_ratio"]
    assert code == 1 and "selection_rate_ratio:sex" in " ".join(err.split())
    assert check["verdict"] == "fail" and check["blocking"] and check["threshold"] == 0.8
    assert check["value"] == pytest.approx(expected, abs=1e-12) == measured["value"]
    assert measured["lowest"] == "female" and measured["highest"] == "male"
    low, high = measured["ci95"]
    assert low <= expected <= high < 0.8
    assert f"{expected:.3f} (95% CI {low:.3f} to {high:.3f})" in check["message"]


def test_the_model_without_sex_and_age_passes_the_four_fifths_rule(models, credit):
    """Catches a check that fails a model whose groups are approved at nearly the same rate, or that bins
    age differently from the documented quartiles."""
    from audit.commands.runner import run_audit

    model, path, inputs = models["fair"]
    selected = model.predict(credit[inputs]) == 1
    result = json.loads(run_audit(path, CREDIT, config=parse_config(POLICY, overrides={"target": "risk"})).dumps())
    record = result["protected_attributes"]["outcome_fairness"]
    assert record["rows"] == len(credit) and record["with_target"]
    for attr, groups in (("sex", credit["sex"]), ("age", _age_quartiles(credit["age"]))):
        expected = _ratio_by_hand(selected, groups)
        check = _check(result, f"selection_rate_ratio:{attr}")
        assert expected >= 0.8 and check["verdict"] == "pass"
        assert check["value"] == pytest.approx(expected, abs=1e-12)
        assert [g["rows"] for g in record["attributes"][attr]["groups"]] == groups.value_counts(sort=False).sort_index().tolist()
        assert _check(result, f"group_size:{attr}")["verdict"] == "pass"


def test_a_group_of_three_rows_is_reported_too_small_in_json_gate_and_pdf(models, credit, cli, tmp_path):
    """Catches a tiny group that is silently passed, folded into the comparison, or missing from the report."""
    model, path, inputs = models["fair"]
    data = credit.copy()
    data.loc[[5, 50, 500], "sex"] = "diverse"
    data.to_csv(tmp_path / "credit3.csv", index=False)
    _, _, result = _audit(cli, path, tmp_path / "credit3.csv", tmp_path)
    sex = result["protected_attributes"]["outcome_fairness"]["attributes"]["sex"]
    assert sex["too_small"] == ["diverse"]
    assert {g["group"]: (g["rows"], g["judged"]) for g in sex["groups"]}["diverse"] == (3, False)
    check = _check(result, "group_size:sex")
    assert check["verdict"] == "finding" and not check["passed"] and check["value"] == 3.0
    assert "'diverse' (3 rows)" in check["message"]
    judged = data["sex"] != "diverse"
    expected = _ratio_by_hand((model.predict(data[inputs]) == 1)[judged.to_numpy()], data.loc[judged, "sex"])
    assert sex["selection_rate_ratio"]["value"] == pytest.approx(expected, abs=1e-12)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp_path / "out" / "report.pdf").pages).split())
    assert "Outcome fairness" in text and "too small to judge" in text and "'diverse' (3 rows)" in text


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two groups with known rates: group b is approved less often and its good risks less often too."""
    rng = np.random.default_rng(seed)
    groups = np.where(rng.random(n) < 0.4, "b", "a")
    positive = rng.random(n) < 0.7
    p_select = np.where(groups == "a", np.where(positive, 0.9, 0.4), np.where(positive, 0.7, 0.3))
    return groups, positive, rng.random(n) < p_select


def test_equalised_odds_and_equal_opportunity_match_rates_counted_by_hand():
    """Catches swapped true- and false-positive rates, an equalised-odds difference that is not the larger
    of the two gaps, or positives that are not the favourable target."""
    groups, positive, selected = _synthetic(4000, 1)
    frame = pd.DataFrame({"g": groups, "y": positive, "s": selected})
    tpr = frame[frame.y].groupby("g").s.mean()
    fpr = frame[~frame.y].groupby("g").s.mean()
    out = outcome_fairness(groups, ["a", "b"], selected, positive, min_group_size=30, n_bootstrap=100,
                           rng=np.random.default_rng(0))
    gap_t, gap_f = abs(tpr.a - tpr.b), abs(fpr.a - fpr.b)
    assert out["equal_opportunity_difference"]["value"] == pytest.approx(gap_t, abs=1e-12)
    assert out["equalized_odds_difference"]["value"] == pytest.approx(max(gap_t, gap_f), abs=1e-12)
    rows = {g["group"]: g for g in out["groups"]}
    assert rows["b"]["true_positive_rate"] == pytest.approx(tpr.b) and rows["b"]["false_positive_rate"] == pytest.approx(fpr.b)
    assert rows["a"]["positives"] == int(frame[frame.g == "a"].y.sum())


def test_bootstrap_ci_agrees_with_an_independent_resampling_of_rows():
    """Catches a CI that is too narrow or too wide: the module's binomial draws must match a plain
    resampling of row indices within each group (4000 replicates) to about 0.02."""
    groups, positive, selected = _synthetic(1200, 2)
    out = outcome_fairness(groups, ["a", "b"], selected, None, min_group_size=30, n_bootstrap=4000,
                           rng=np.random.default_rng(3))
    rng = np.random.default_rng(4)
    rates = {}
    for g in ("a", "b"):
        s = selected[groups == g]
        rates[g] = s[rng.integers(0, len(s), size=(4000, len(s)))].mean(1)
    ratio = np.minimum(rates["a"], rates["b"]) / np.maximum(rates["a"], rates["b"])
    lo, hi = np.percentile(ratio, [2.5, 97.5])
    got = out["selection_rate_ratio"]["ci95"]
    assert got == pytest.approx([lo, hi], abs=0.02)
    # the width decides the level: a 90% interval labelled 95% is about 16% narrower and must fail here
    lo90, hi90 = np.percentile(ratio, [5, 95])
    assert (hi90 - lo90) < 0.9 * (hi - lo)
    assert got[1] - got[0] == pytest.approx(hi - lo, rel=0.06)
    assert hi - lo > 0.05  # not degenerate


def test_too_few_judged_groups_is_a_finding_never_a_pass():
    """Catches a ratio that is reported as passing when no two groups are large enough to compare."""
    groups, positive, selected = _synthetic(100, 5)
    out = outcome_fairness(groups, ["a", "b"], selected, positive, min_group_size=80, n_bootstrap=50,
                           rng=np.random.default_rng(0))
    assert out["selection_rate_ratio"] is None and out["judged_groups"] <= 1
    ev = FairnessEvidence(group_rows=tuple((g["group"], g["rows"]) for g in out["groups"]), min_group_size=80,
                          with_target=True)
    checks = {c.name.split(":")[0]: c for c in fairness_checks(Policy(max_equalized_odds_difference=0.1,
                                                                      min_group_size=80), "x", ev)}
    assert checks["group_size"].verdict == "finding"
    for name in ("selection_rate_ratio", "equalized_odds_difference"):  # not measured: blocks, never a pass
        assert checks[name].verdict == "not_measured" and checks[name].blocking and not checks[name].passed, name
        assert "fewer than two groups of 'x' have at least 80 rows" in checks[name].message, name


def test_a_model_that_approves_nobody_has_an_undefined_ratio_reported_as_a_finding():
    """Catches a 0/0 selection-rate ratio that is passed (or crashes) instead of being reported as undefined."""
    from audit.measures.fairness import fairness_evidence

    groups = np.array(["a"] * 50 + ["b"] * 50)
    out = outcome_fairness(groups, ["a", "b"], np.zeros(100, bool), None, min_group_size=30, n_bootstrap=20,
                           rng=np.random.default_rng(0))
    assert out["selection_rate_ratio"]["value"] is None
    ev = fairness_evidence({"attributes": {"x": out}, "min_group_size": 30, "with_target": False})["x"]
    check = {c.name: c for c in fairness_checks(Policy(), "x", ev)}["selection_rate_ratio:x"]
    assert check.verdict == "not_measured" and "undefined" in check.message and not check.passed


def test_configured_odds_limits_gate_and_fail_without_a_target():
    """Catches an equalised-odds or equal-opportunity limit that is ignored, compared the wrong way, or
    passed when there is no target to measure it with."""
    ev = FairnessEvidence(group_rows=(("a", 100), ("b", 100)), min_group_size=30,
                          selection_rate_ratio=(0.9, (0.8, 0.95), "b", "a"),
                          equalized_odds_difference=(0.15, (0.12, 0.2)),
                          equal_opportunity_difference=(0.05, (0.01, 0.09)), with_target=True)
    policy = Policy(max_equalized_odds_difference=0.1, max_equal_opportunity_difference=0.1)
    checks = {c.name: c for c in fairness_checks(policy, "x", ev)}
    assert checks["equalized_odds_difference:x"].verdict == "fail"
    assert checks["equal_opportunity_difference:x"].verdict == "pass"
    assert "interval includes the threshold" not in checks["equalized_odds_difference:x"].message
    assert "equalized_odds_difference:x" not in {c.name for c in fairness_checks(Policy(), "x", ev)}
    blind = FairnessEvidence(group_rows=ev.group_rows, min_group_size=30, selection_rate_ratio=ev.selection_rate_ratio)
    check = {c.name: c for c in fairness_checks(policy, "x", blind)}["equalized_odds_difference:x"]
    assert check.verdict == "not_measured" and check.blocking and "no target column" in check.message


def test_policy_bins_group_a_numeric_attribute_and_refuse_a_categorical_one(models, cli, tmp_path):
    """Catches edges applied off by one (a value on an edge belongs to the bin above) and bins on a
    categorical attribute that pass silently instead of exit 2 before any work."""
    age = np.array([19.0, 25, 39.9, 40, 62, 75, np.nan])
    labels, order, how = group_labels(age, False, [25, 40, 62])
    assert list(labels) == ["< 25", "25 to < 40", "25 to < 40", "40 to < 62", ">= 62", ">= 62", "missing"]
    assert order == ["< 25", "25 to < 40", "40 to < 62", ">= 62", "missing"] and how == "edges from policy.group_bins"
    assert group_labels(np.array([1.0, 2, 2, 3]), False)[1] == ["1", "2", "3"]  # few values: categories
    with pytest.raises(ConfigError, match="group_bins"):
        parse_config('[policy]\nprotected_attributes = ["age"]\ngroup_bins = {age = [40, 25]}\n')
    cfg = tmp_path / "bad.toml"
    cfg.write_text(POLICY + "group_bins = {sex = [1, 2]}\n")
    code, _, err = cli("run", models["fair"][1], CREDIT, "--target", "risk", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "group_bins.sex" in err and "categorical" in err and not (tmp_path / "o").exists()


def test_regression_and_multiclass_without_a_favourable_class_are_not_measured():
    """Catches a selection rate invented for a model that makes no favourable decision."""
    from audit.types import Dataset, FeatureSpace

    ds = Dataset("d.csv", "0" * 64, np.array([[1.0], [2.0]]), FeatureSpace(("x",)))
    common = dict(favorable_source="assumed", protected=["x"], bins={}, min_group_size=1, n_bootstrap=20, seed=0)
    regression = measure_fairness(ds, np.array([0.3, 0.5]), classes=None, favorable=None, **common)
    multiclass = measure_fairness(ds, np.array(["a", "b"]), classes=["a", "b", "c"], favorable=None, **common)
    assert regression["attributes"] == {} and "regression" in regression["not_measured"]
    assert multiclass["attributes"] == {} and "favorable_class" in multiclass["not_measured"]
    # nothing protected: nothing measured and nothing to explain
    nothing = measure_fairness(ds, np.array([0.3, 0.5]), classes=None, favorable=None,
                               **{**common, "protected": []})
    assert nothing == {"attributes": {}}


def test_groups_keep_their_order_and_a_rate_without_its_rows_is_undefined_not_zero():
    """The groups come in the grouping's order (age bands, not alphabetical); a group with no good risks has no
    true-positive rate and one with no bad risks no false-positive rate (undefined, not 0, which would widen
    the odds gaps); 0/1 integer arrays are read as the booleans they stand for."""
    rng = np.random.default_rng(2)
    groups = np.array(["z"] * 60 + ["a"] * 60 + ["m"] * 60)
    positive = np.r_[np.zeros(60, bool), np.ones(60, bool), rng.random(60) < 0.5]
    selected = rng.random(180) < 0.6
    kwargs = dict(min_group_size=30, n_bootstrap=50)
    out = outcome_fairness(groups, ["z", "a", "m"], selected, positive, rng=np.random.default_rng(0), **kwargs)
    assert [g["group"] for g in out["groups"]] == ["z", "a", "m"]
    rows = {g["group"]: g for g in out["groups"]}
    assert rows["z"]["true_positive_rate"] is None and rows["z"]["false_positive_rate"] == pytest.approx(selected[:60].mean())
    assert rows["a"]["false_positive_rate"] is None and rows["a"]["true_positive_rate"] == pytest.approx(selected[60:120].mean())
    m = slice(120, 180)
    assert rows["m"]["true_positive_rate"] == pytest.approx(selected[m][positive[m]].mean())
    # the odds gaps compare only the rates that exist: z's FPR with m's, a's TPR with m's
    gap_t = abs(selected[60:120].mean() - selected[m][positive[m]].mean())
    gap_f = abs(selected[:60].mean() - selected[m][~positive[m]].mean())
    assert out["equal_opportunity_difference"]["value"] == pytest.approx(gap_t)
    assert out["equalized_odds_difference"]["value"] == pytest.approx(max(gap_t, gap_f))
    as_ints = outcome_fairness(groups, ["z", "a", "m"], selected.astype(int), positive.astype(int),
                               rng=np.random.default_rng(0), **kwargs)
    assert as_ints == out


def test_with_a_target_the_good_risks_are_the_favourable_class_and_the_target_is_never_a_group():
    """measure_fairness on a Dataset with a target: a good risk is a row whose target is the favourable class
    (true-positive rates by hand); the target named as a protected attribute or in an intersection is not
    grouped; the odds difference is the larger gap even when it is the false-positive one; the bootstrap
    intervals of the rates' gaps stay within [0, 1] around their estimate; the record is plain JSON."""
    from audit.types import Dataset, FeatureSpace

    rng = np.random.default_rng(11)
    n = 600
    sex = (rng.random(n) < 0.5).astype(float)  # 0 female, 1 male
    target = np.where(rng.random(n) < 0.6, "good", "bad").astype(object)
    # equal true-positive rates, very different false-positive rates: the odds gap is the FPR gap
    p = np.where(target == "good", 0.8, np.where(sex == 0, 0.1, 0.6))
    labels = np.where(rng.random(n) < p, "good", "bad")
    ds = Dataset("d.csv", "0" * 64, sex[:, None], FeatureSpace(("sex",), {"sex": ("female", "male")}),
                 target=target, target_name="risk")
    record = measure_fairness(ds, labels, classes=["bad", "good"], favorable="good", favorable_source="config",
                              protected=["sex", "risk"], bins={}, min_group_size=30, n_bootstrap=200, seed=0,
                              intersections=[["sex", "risk"]])
    assert list(record["attributes"]) == ["sex"]
    rows = {g["group"]: g for g in record["attributes"]["sex"]["groups"]}
    for code, name in ((0.0, "female"), (1.0, "male")):
        good, chosen = (target == "good") & (sex == code), (labels == "good") & (sex == code)
        assert rows[name]["positives"] == good.sum()
        assert rows[name]["true_positive_rate"] == pytest.approx((chosen & good).sum() / good.sum())
        assert rows[name]["false_positive_rate"] == pytest.approx((chosen & ~good).sum() / (~good & (sex == code)).sum())
    a = record["attributes"]["sex"]
    gap_t = abs(rows["female"]["true_positive_rate"] - rows["male"]["true_positive_rate"])
    gap_f = abs(rows["female"]["false_positive_rate"] - rows["male"]["false_positive_rate"])
    assert gap_f > 0.3 > gap_t and a["equalized_odds_difference"]["value"] == pytest.approx(gap_f)
    for key in ("equalized_odds_difference", "equal_opportunity_difference", "selection_rate_ratio"):
        lo, hi = a[key]["ci95"]
        assert 0.0 <= lo <= a[key]["value"] <= hi <= 1.0, key
    json.dumps(record)
