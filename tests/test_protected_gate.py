"""Protected attributes as the gate sees them: direct inputs, the flip test, proxies, a scaffold that
hides its use of `sex` from LIME and SHAP, disagreement between explainers, randomisation by sign."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from audit.adapters import describe_model, make_adapter
from audit.commands.runner import run_audit
from audit.config import Policy, parse_config
from audit.errors import ConfigError
from audit.faithfulness.evaluate import randomisation_similarity
from audit.gate import AgreementEvidence, ExplainerEvidence, evaluate
from audit.loading import load_data, load_model
from audit.measures.protected import (
    _binned,
    _extra_codes,
    check_protected_names,
    flip_test,
    infer_protected,
    measure_protected,
    protected_evidence,
    protected_shares,
    proxies,
)
from audit.types import Attribution
from tests.conftest import CATEGORICAL, FAST_TOML, NUMERIC, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"
PROTECTED = FAST_TOML + '\nexplainers = ["coefficients", "shap"]\n[policy]\nprotected_attributes = ["sex"]\n'


def _logreg(categorical, numeric, drop=()):
    pre = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), categorical),
                             ("scale", StandardScaler(), numeric), *([("drop", "drop", list(drop))] if drop else [])])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=2000))])


@pytest.fixture(scope="module")
def models(credit, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("protected")
    cats = [c for c in CATEGORICAL if c != "sex"]
    with_sex = _logreg(CATEGORICAL, NUMERIC).fit(credit[CATEGORICAL + NUMERIC], credit["risk"])
    without = _logreg(cats, NUMERIC).fit(credit[cats + NUMERIC], credit["risk"])
    # takes `sex` (so it is an input the data must hold) but its preprocessing drops it: never used
    unused = _logreg(cats, NUMERIC, drop=["sex"]).fit(credit[CATEGORICAL + NUMERIC], credit["risk"])
    return {name: save_pickle(m, tmp / f"{name}.pkl") for name, m in
            (("with_sex", with_sex), ("without", without), ("unused", unused))}


def _run(path, toml=PROTECTED, **kw):
    return run_audit(path, CREDIT, config=parse_config(toml, overrides={"target": "risk"}), **kw)


def test_sex_as_an_input_fails_the_credit_template_with_a_finding_naming_it(models, cli, tmp_path):
    cfg = tmp_path / "audit.toml"
    cfg.write_text(PROTECTED)
    code, _, err = cli("run", models["with_sex"], CREDIT, "--target", "risk", "--config", cfg, "--out", tmp_path / "o")
    assert code == 1
    assert "protected_input:sex: 'sex' is a direct model input" in " ".join(err.split())
    result = _run(models["with_sex"])
    check = result.gate.check("protected_input:sex")
    assert not check.passed and check.blocking
    flip = result.protected["flip_test"]["sex"]
    assert flip["rate"] > 0.02 and flip["ci95"][0] <= flip["rate"] <= flip["ci95"][1]
    assert not result.gate.check("protected_flip:sex").passed


def test_generic_template_reports_a_direct_input_as_a_finding(models):
    result = _run(models["with_sex"], PROTECTED + "\n[report]\ntemplate = \"generic\"\n")
    check = result.gate.check("protected_input:sex")
    assert not check.passed and not check.blocking and check.verdict == "finding"


def test_flip_test_is_zero_for_an_input_the_model_never_uses(models):
    result = _run(models["unused"])
    assert result.protected["flip_test"]["sex"]["rate"] == 0.0
    assert result.gate.check("protected_flip:sex").passed
    assert not result.gate.check("protected_input:sex").passed  # still an input the model takes


def test_a_model_without_the_attribute_passes_the_protected_checks_and_lists_proxies(models):
    result = _run(models["without"])
    assert result.gate.check("protected_input:sex").passed
    assert result.gate.check("protected_flip:sex") is None  # nothing to flip
    proxies = result.protected["proxies"]["sex"]
    assert len(proxies) == 3 and all(0 <= p["association"] <= 1 for p in proxies)
    assert proxies == sorted(proxies, key=lambda p: -p["association"])
    assert set(proxies[0]["attribution_share"]) == {"coefficients", "shap"}
    # Which inputs: normalised mutual information with sex computed here from a contingency table (numbers in
    # deciles) ranks housing 0.0367, age 0.0292, purpose 0.0095, then job 0.0050 and the rest lower.
    assert [p["feature"] for p in proxies] == ["housing", "age", "purpose"]
    assert proxies[0]["association"] == pytest.approx(_nmi(_credit()["sex"], _credit()["housing"]), abs=1e-4)
    gated = _run(models["without"], PROTECTED + "max_proxy_association = 0.0\n")
    assert not gated.gate.check("protected_proxy:sex").passed


def _credit():
    import pandas as pd

    return pd.read_csv(CREDIT)


def _nmi(a, b) -> float:
    """Normalised mutual information (arithmetic mean of the entropies) from the contingency table."""
    import pandas as pd

    joint = pd.crosstab(a, b).to_numpy() / len(a)
    pa, pb = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])).sum())
    h = [float(-(p[p > 0] * np.log(p[p > 0])).sum()) for p in (pa, pb)]
    return mi / (sum(h) / 2)


def test_proxies_rank_a_planted_copy_first_then_a_noisy_copy_and_leave_out_the_unrelated():
    """Fails if the strongest proxy is not first, if the attribute's own column is not excluded, or if the
    association is not normalised (an exact copy is 1)."""
    rng = np.random.default_rng(0)
    sex = rng.integers(0, 2, 400).astype(float)
    noisy = np.where(rng.random(400) < 0.8, sex, 1 - sex)  # agrees with sex on about 80% of rows
    X = np.column_stack([rng.normal(size=400), noisy, sex, sex, rng.integers(0, 3, 400)])
    out = proxies(X, ("income", "noisy", "sex", "copy", "region"), np.array([False, True, True, True, True]), sex,
                  True, exclude="sex", top=2)
    assert [p["feature"] for p in out] == ["copy", "noisy"]
    assert out[0]["association"] == 1.0
    assert out[1]["association"] == pytest.approx(_nmi(sex, noisy), abs=1e-4) and out[1]["association"] < 1.0


def test_a_misspelt_protected_attribute_is_exit_2(models, cli, tmp_path):
    cfg = tmp_path / "audit.toml"
    cfg.write_text(PROTECTED.replace('["sex"]', '["sexx"]'))
    code, _, err = cli("run", models["with_sex"], CREDIT, "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "'sexx' is not a column" in err and "'sex'" in err
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def scaffold(credit, tmp_path_factory):
    """A scaffold that decides by sex on real rows and by duration off-manifold (Slack et al. 2020)."""
    from tests.scaffold import Scaffold

    pre = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
                            remainder="passthrough").fit(credit[CATEGORICAL + NUMERIC])
    names = list(pre.get_feature_names_out())
    sex_cols = tuple(i for i, n in enumerate(names) if n.startswith("onehot__sex_"))
    model = Pipeline([("pre", pre), ("scaffold", Scaffold(protected=names.index("onehot__sex_male"),
                                                           ignore=sex_cols,
                                                           innocuous=names.index("remainder__duration")))])
    model.fit(credit[CATEGORICAL + NUMERIC], credit["risk"])
    return save_pickle(model, tmp_path_factory.mktemp("scaffold") / "scaffold.pkl")


def test_a_scaffold_hiding_sex_from_lime_and_shap_fails_through_the_flip_test(scaffold):
    """With the generic template a direct input is only a finding, so the gate must fail on what the
    model does: changing only `sex` on real rows flips the decision of every row."""
    toml = FAST_TOML + ('\nexplainers = ["shap", "lime"]\n[policy]\nprotected_attributes = ["sex"]\n'
                        'require_randomisation_check = false\n[report]\ntemplate = "generic"\n')
    result = run_audit(scaffold, CREDIT, config=parse_config(toml, overrides={"target": "risk"}), trust_model=True)
    assert not result.gate.passed
    flip = result.gate.check("protected_flip:sex")
    assert not flip.passed and flip.blocking and flip.value > 0.9
    # the explanations were fooled: little weight on sex, which is why the flip test is needed
    assert all(v["share"] < 0.25 for v in result.protected["by_explainer"].values())


def test_flip_test_on_a_continuous_attribute_moves_it_within_its_range():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 70, 200), rng.normal(size=200)])
    out = flip_test(lambda Z: Z[:, 0] > 60, X, 0, categorical=False, rng=rng)
    # rows whose decision differs at some percentile of age: all of them (p90 of age is above 60)
    assert out["rate"] == 1.0 and out["alternatives"] == 5
    out = flip_test(lambda Z: Z[:, 1] > 0, X, 0, categorical=False, rng=rng)
    assert out["rate"] == 0.0
    # age is only ever moved inside what was observed: a decision that changes only beyond the oldest or below
    # the youngest applicant never flips (fails if the alternatives leave the observed range)
    for outside in (lambda Z: Z[:, 0] > X[:, 0].max(), lambda Z: Z[:, 0] < X[:, 0].min()):
        assert flip_test(outside, X, 0, categorical=False, rng=rng)["rate"] == 0.0
    seen = []
    flip_test(lambda Z: seen.append(Z[:, 0].copy()) or Z[:, 0] > 60, X, 0, categorical=False, rng=rng)
    moved = np.unique(seen[1])
    assert len(moved) == 5 and X[:, 0].min() < moved.min() and moved.max() < X[:, 0].max()
    # the values the method names in results.json: the 10th, 25th, 50th, 75th and 90th percentiles
    assert out["method"] == "moved to the 10/25/50/75/90th percentiles of its observed values"
    assert np.array_equal(moved, np.percentile(X[:, 0], [10, 25, 50, 75, 90]))
    # the five values spread over the range: the lowest in the bottom quarter, the highest in the top quarter
    assert moved.min() < np.sort(X[:, 0])[50] and moved.max() > np.sort(X[:, 0])[150]


def test_disagreement_between_passing_explainers_fails_the_gate():
    policy = Policy(require_randomisation_check=False, min_method_agreement=0.5, min_topk_agreement=0.5)
    ev = [ExplainerEvidence(n, 0.9, (0.8, 1.0)) for n in ("shap", "lime", "bad")]
    agreement = AgreementEvidence(("shap", "lime", "bad"), ((1, 0.45, 0.9), (0.45, 1, 0.1), (0.9, 0.1, 1)),
                                  ((1, 0.8, 1), (0.8, 1, 0), (1, 0, 1)))
    gate = evaluate(policy, ev[:2], agreement=agreement)
    rank = gate.check("agreement:rank")
    assert not gate.passed and not rank.passed and rank.value == 0.45 and "shap and lime" in rank.message
    assert gate.check("agreement:topk").passed
    # only explainers that passed are compared: with one passer the check says it was not assessed
    gate = evaluate(Policy(require_randomisation_check=False, min_faithfulness_score=0.95), ev[:2],
                    agreement=agreement)
    assert gate.check("agreement:rank").value is None and gate.check("agreement:rank").verdict == "not_required"


def test_an_explanation_that_only_flips_sign_fails_the_randomisation_check():
    A = np.random.default_rng(0).normal(size=(20, 6))
    signed, absolute = randomisation_similarity(A, -A)
    assert signed == pytest.approx(-1.0) and absolute == pytest.approx(1.0)
    ev = ExplainerEvidence("m", 0.9, (0.8, 1.0), randomisation_similarity=signed,
                           randomisation_similarity_abs=absolute)
    check = evaluate(Policy(), [ev]).check("randomisation:m")
    assert not check.passed and check.value == pytest.approx(1.0)


def test_flip_test_on_a_categorical_attribute_tries_every_observed_category():
    """A category held by one row in twenty is not a percentile of the codes, but it is a value the attribute
    takes: a decision that changes only for that category flips every row (fails if categories were moved to
    percentiles like a number)."""
    codes = np.array([0.0] * 10 + [1.0] * 9 + [7.0])
    X = np.column_stack([codes, np.arange(20.0)])
    out = flip_test(lambda Z: Z[:, 0] == 7, X, 0, categorical=True, rng=np.random.default_rng(0))
    assert out["alternatives"] == 3 and out["rate"] == 1.0 and out["changed"] == 20


def test_flip_test_with_a_tolerance_counts_only_moves_beyond_it():
    """A continuous output (a regression, a score) changes when it moves by more than the tolerance: a move of
    0.05 is not a change at tolerance 0.1, a move of 0.5 is."""
    X = np.column_stack([np.tile([0.0, 1.0], 10), np.arange(20.0)])
    rng = np.random.default_rng(0)
    small = flip_test(lambda Z: 0.05 * Z[:, 0] + Z[:, 1], X, 0, categorical=True, rng=rng, tolerance=0.1)
    large = flip_test(lambda Z: 0.5 * Z[:, 0] + Z[:, 1], X, 0, categorical=True, rng=rng, tolerance=0.1)
    assert (small["rate"], small["changed"]) == (0.0, 0) and (large["rate"], large["changed"]) == (1.0, 20)
    at = flip_test(lambda Z: 0.5 * Z[:, 0] + Z[:, 1], X, 0, categorical=True, rng=rng, tolerance=0.5)
    assert at["rate"] == 0.0  # a move of exactly the tolerance is not beyond it


def test_missing_values_are_a_code_of_their_own_for_the_proxy_measure():
    codes = _binned(np.array([0.0, 1.0, 2.0, np.nan]), True)
    assert list(codes[:3]) == [0, 1, 2] and codes[3] not in codes[:3]
    codes = _binned(np.array([*np.arange(20.0), np.nan]), False)
    assert codes[-1] not in codes[:-1] and len(set(codes[:-1])) == 10


def test_a_prohibited_basis_written_as_a_phrase_inside_a_longer_name_is_inferred():
    found = infer_protected(["applicant_date_of_birth", "national_origin_code", "customer_marital_status_flag",
                             "home_stage", "message_count"])
    assert found == {"applicant_date_of_birth": "age", "national_origin_code": "national origin",
                     "customer_marital_status_flag": "marital status"}


def test_kept_protected_columns_are_numbers_when_they_are_numbers_and_codes_otherwise():
    values, categorical = _extra_codes(np.array([25, 40, 33, None], dtype=object))
    assert not categorical and np.array_equal(values[:3], [25.0, 40.0, 33.0]) and np.isnan(values[3])
    values, categorical = _extra_codes(np.array(["f", "m", None, "f"], dtype=object))
    assert categorical and np.array_equal(values[[0, 1, 3]], [0.0, 1.0, 0.0]) and np.isnan(values[2])


@pytest.fixture(scope="module")
def fair_credit():
    """The fair sample model (no sex, no age among its inputs) on the credit data, sex and age kept aside."""
    loaded = load_model(SAMPLES / "models" / "credit_logreg_fair.skops")
    ds = load_data(CREDIT, describe_model(loaded.obj, loaded.extra), target="risk", keep=("sex", "age"))
    return ds, make_adapter(loaded.obj, ds)


def test_proxies_of_protected_columns_that_are_not_inputs_and_the_rows_measured(fair_credit):
    """age is a number kept aside: its proxies are measured on its ten percentile bins. On these 300 rows its
    strongest proxy is the loan's purpose, association about 0.08; read as about 50 categories (one per age
    seen) the mutual information inflates and credit_amount comes first at about 0.24. Each proxy names its
    association and each explainer's share; the record says how many rows were measured."""
    ds, adapter = fair_credit
    assert "age" not in ds.feature_names and set(ds.extra) == {"sex", "age"}
    out = measure_protected(ds, {}, ["sex", "age"], decide=adapter.predict, tolerance=None, rows=300, seed=0)
    assert out["rows"] == 300 and out["direct_inputs"] == [] and out["flip_test"] == {}
    assert set(out["proxies"]) == {"sex", "age"} and all(len(v) == 3 for v in out["proxies"].values())
    strongest = out["proxies"]["age"][0]
    assert strongest["feature"] == "purpose" and 0 < strongest["association"] < 0.15 and strongest["attribution_share"] == {}
    assert [p["association"] for p in out["proxies"]["age"]] == sorted((p["association"] for p in out["proxies"]["age"]),
                                                                         reverse=True)
    assert measure_protected(ds, {}, ["sex"], decide=adapter.predict, tolerance=None, rows=5_000, seed=0)["rows"] == ds.n_rows
    assert measure_protected(ds, {}, [], decide=adapter.predict, tolerance=None, rows=300, seed=0) == \
        {"attributes": [], "by_explainer": {}}


def test_protected_names_group_bins_and_intersections_must_name_protected_columns(fair_credit):
    ds, _ = fair_credit
    check_protected_names(["sex", "age"], ds, bins={"age": [30]}, intersections=[["sex", "age"]])
    with pytest.raises(ConfigError, match="categorical"):  # the bins themselves are checked too
        check_protected_names(["sex", "age"], ds, bins={"sex": [1]})
    for kwargs, words in (({"protected": ["gender"]}, "gender"),
                          ({"protected": ["sex"], "bins": {"age": [30]}}, r"group_bins names 'age', which is not a protected attribute \('sex'\)"),
                          ({"protected": ["sex"], "intersections": [["sex", "age"]]}, r"intersections names 'age', which is not a protected attribute \('sex'\)")):
        with pytest.raises(ConfigError, match=words):
            check_protected_names(kwargs.pop("protected"), ds, **kwargs)


def test_flip_test_of_a_constant_or_empty_number_is_not_measured():
    """A numeric attribute with one observed value has five equal percentiles: one value, nothing to move it to
    (fails if the percentiles are not de-duplicated); one with no observed value has none."""
    rng = np.random.default_rng(0)
    for column in (np.full(20, 35.0), np.full(20, np.nan)):
        X = np.column_stack([column, np.arange(20.0)])
        out = flip_test(lambda Z: Z[:, 1] > 9, X, 0, categorical=False, rng=rng)
        assert out["rate"] is None and out["not_measured"] == ("fewer than two observed values in the 20 sampled rows: "
                                                               "nothing to change it to")
        assert out["alternatives"] == (1 if column[0] == 35 else 0)


def test_flip_test_interval_is_a_bootstrap_of_the_rate_in_plain_json():
    """Half of 40 rows flip: the 95% bootstrap interval of the share is about +-1.96 * sqrt(.25 / 40) = +-0.15
    around 0.5 (fails if the resamples are averaged the wrong way, which shrinks it to a few hundredths), and
    the record holds plain JSON numbers."""
    X = np.column_stack([np.tile([0.0, 1.0], 20), np.repeat([0.0, 1.0], 20)])
    out = flip_test(lambda Z: Z[:, 0] * Z[:, 1], X, 0, categorical=True, rng=np.random.default_rng(0))
    assert out["rate"] == 0.5 and out["changed"] == 20
    low, high = out["ci95"]
    assert 0.3 < low < 0.4 and 0.6 < high < 0.7
    assert json.loads(json.dumps(out)) == out and type(out["changed"]) is int and type(out["rate"]) is float
    # the percentile bootstrap written out: 200 resamples of the 40 rows, their 2.5th and 97.5th percentiles
    changed = np.repeat([False, True], 20)  # the rows with the second input 1
    boot = changed[np.random.default_rng(0).integers(0, 40, size=(200, 40))].mean(1)
    assert out["ci95"] == [np.percentile(boot, 2.5), np.percentile(boot, 97.5)]


def test_protected_share_of_explanations_that_are_all_zero_is_zero_not_undefined():
    """An explainer that gives every input zero weight (a constant model) puts no share on sex: 0.0, not NaN
    from 0 / 0, and not 1."""
    zero = Attribution(np.zeros((4, 2)), np.zeros(4), ("income", "sex"), "m", "approximate")
    some = Attribution(np.array([[0.375, 0.125]] * 4), np.zeros(4), ("income", "sex"), "n", "approximate")  # total < 1
    out = protected_shares({"m": zero, "n": some}, ["sex", "age"], ("income", "sex"))
    assert out["by_explainer"]["m"] == {"share": 0.0, "per_attribute": {"sex": 0.0}}
    assert out["by_explainer"]["n"] == {"share": 0.25, "per_attribute": {"sex": 0.25}}
    assert out["not_model_inputs"] == ["age"] and out["attributes"] == ["sex", "age"]


def test_a_name_saying_two_bases_gets_the_same_one_under_every_hash_seed():
    """`age_sex` says age and sex; the basis recorded is the first word in sorted order, never the first a set
    happens to yield (string hashing differs between Python processes)."""
    # in this process as well, so that coverage-based test selection (bench/mutate.py) sees this test reach it
    assert infer_protected(["sex_age", "race_religion"]) == {"sex_age": "age", "race_religion": "race"}
    code = "from audit.measures.protected import infer_protected; print(infer_protected(['sex_age', 'race_religion']))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout.strip() for seed in range(6)}
    assert seen == {"{'sex_age': 'age', 'race_religion': 'race'}"}


def test_the_strongest_proxy_the_gate_reads_is_the_most_associated_input():
    measured = {"attributes": ["sex"], "proxies": {"sex": [{"feature": "purpose", "association": 0.31},
                                                           {"feature": "housing", "association": 0.12}],
                                                   "age": []}}
    assert protected_evidence(measured, "finding").strongest_proxy == {"sex": ("purpose", 0.31)}
    # the template's wording of the blocking check reaches the gate when there is one
    assert protected_evidence(measured, "block", "ECOA wording").input_note == "ECOA wording"
    assert protected_evidence(measured, "block").input_note == protected_evidence({}, "block").input_note != "ECOA wording"


def test_a_proxys_attribution_share_is_its_share_of_mean_absolute_attribution(fair_credit):
    """Each explainer's share of a proxy: its mean |attribution| over the explained rows against the sum over all
    inputs; signs do not cancel (fails on signed means or means across inputs)."""
    ds, adapter = fair_credit
    rng = np.random.default_rng(3)
    values = rng.normal(size=(30, len(ds.feature_names)))
    attrs = {"m": Attribution(values, np.zeros(30), ds.feature_names, "m", "approximate")}
    out = measure_protected(ds, attrs, ["age"], decide=adapter.predict, tolerance=None, rows=300, seed=0)
    mass = np.abs(values).mean(0)
    for proxy in out["proxies"]["age"]:
        k = list(ds.feature_names).index(proxy["feature"])
        assert proxy["attribution_share"] == {"m": pytest.approx(mass[k] / mass.sum(), rel=1e-12)}
