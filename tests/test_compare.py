"""`audit compare`: two versions of the German credit model (one without its most important input) and a
model against itself, from models and from results.json files; expected values recomputed from the models
and the two audits' own results.json, never from compare's code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pypdf import PdfReader
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from tests.conftest import CATEGORICAL, FAST_TOML, NUMERIC, SAMPLES, save_pickle, with_value

DROPPED = "checking_account"  # the largest global importance of the logistic regression (coefficients)
CONFIG = (FAST_TOML + 'explainers = ["coefficients"]\nfavorable_class = "1"\nprotected_rows = 100\n'
          '[policy]\nprotected_attributes = ["sex", "age"]\n'
          '[report.outcomes]\n"1" = "approved"\n"0" = "declined"\n')
LOOSE = ("[policy.compare]\nmax_performance_drop = 0.2\nmin_importance_rank_correlation = 0.0\n"
         "min_importance_topk_overlap = 0.0\nmax_reason_change_rate = 1.0\nmax_flip_rate = 0.5\n")


@pytest.fixture(scope="module")
def models(credit, credit_logreg, tmp_path_factory):
    """The sample logistic regression and the same pipeline refitted without `checking_account`."""
    from sklearn.base import clone

    from samples.make_samples import credit_logreg as pipeline

    tmp = tmp_path_factory.mktemp("compare")
    keep_cat = [c for c in CATEGORICAL if c != DROPPED]
    candidate = pipeline()
    candidate.set_params(pre__transformers=[("onehot", clone(candidate.named_steps["pre"].transformers[0][1]), keep_cat),
                                            candidate.named_steps["pre"].transformers[1]])
    candidate.fit(credit[keep_cat + NUMERIC], credit["risk"])
    (tmp / "audit.toml").write_text(CONFIG)
    return (save_pickle(credit_logreg, tmp / "baseline.pkl"), save_pickle(candidate, tmp / "candidate.pkl"),
            tmp / "audit.toml", credit_logreg, candidate)


@pytest.fixture(scope="module")
def changed(models, tmp_path_factory):
    """`audit compare` of the two versions under the default [policy.compare]."""
    out = tmp_path_factory.mktemp("changed") / "out"
    code, stdout, stderr = _cli("compare", models[0], models[1], SAMPLES / "german_credit.csv", "--target", "risk",
                                "--config", models[2], "--out", out, "--quiet", "--format", "github")
    return code, stdout, stderr, out, json.loads((out / "compare.json").read_text())


@pytest.fixture(scope="module")
def itself(models, tmp_path_factory):
    out = tmp_path_factory.mktemp("itself") / "out"
    code, _, stderr = _cli("compare", models[0], models[0], SAMPLES / "german_credit.csv", "--target", "risk",
                           "--config", models[2], "--out", out, "--quiet", "--junit", out.parent / "junit.xml")
    return code, stderr, out, json.loads((out / "compare.json").read_text())


def _cli(*args):
    from typer.testing import CliRunner

    from audit.cli import app

    res = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _verdicts(record):
    return {c["name"]: c["verdict"] for c in record["gate"]["checks"]}


def test_removing_the_most_important_input_fails_the_default_policy(changed):
    """Catches a compare gate that ignores drift: the candidate loses checking_account, so performance,
    importance ranking, principal reasons and decisions move past the defaults, and the exit code is 1."""
    code, stdout, _, out, record = changed
    assert code == 1 and not record["gate"]["passed"]
    verdicts = _verdicts(record)
    for name in ("compare:performance", "compare:importance_rank", "compare:reason_change", "compare:flip_rate"):
        assert verdicts[name] == "fail", name
    assert {"compare.json", "compare.pdf", "baseline.results.json", "candidate.results.json"} <= {
        p.name for p in out.iterdir()}
    assert "::error title=audit gate%3A compare%3Aperformance::" in stdout
    assert stdout.strip().endswith(f"FAILED ({sum(v == 'pass' for v in verdicts.values())} of {len(verdicts)} "
                                   "checks passed)")


def test_flips_match_the_models_own_decisions_by_group(changed, models, credit):
    """Catches flips counted on the wrong rows, in the wrong direction or in the wrong group: every count is
    recomputed from the two fitted models' predictions on every row of the data."""
    record = changed[4]
    base, cand = models[3].predict(credit), models[4].predict(credit)
    flips = record["flips"]
    assert flips["rows"] == len(credit) and flips["flipped"] == int((base != cand).sum())
    assert flips["to_adverse"] == int(((base == 1) & (cand == 0)).sum())
    assert flips["to_favourable"] == int(((base == 0) & (cand == 1)).sum())
    by_sex = {g["group"]: g for g in flips["by_group"]["sex"]["groups"]}
    for sex in ("female", "male"):
        rows = (credit["sex"] == sex).to_numpy()
        assert by_sex[sex]["rows"] == rows.sum()
        assert by_sex[sex]["to_adverse"] == int(((base == 1) & (cand == 0) & rows).sum())
    rates = [by_sex[s]["adverse_rate"] for s in ("female", "male")]
    assert flips["by_group"]["sex"]["gap"] == pytest.approx(max(rates) - min(rates))
    ages = flips["by_group"]["age"]["groups"]
    assert [g["group"] for g in ages][0].startswith("< ") and ages[-1]["group"].startswith(">= ")
    assert sum(g["rows"] for g in ages) == len(credit)


def test_performance_delta_is_the_difference_of_the_models_auc(changed, models, credit):
    """Catches a delta taken the wrong way round or on other rows: AUCs recomputed with scikit-learn."""
    auc = changed[4]["performance"]["values"]["auc"]
    base = roc_auc_score(credit["risk"], models[3].predict_proba(credit)[:, 1])
    cand = roc_auc_score(credit["risk"], models[4].predict_proba(credit)[:, 1])
    assert auc["baseline"] == pytest.approx(base) and auc["candidate"] == pytest.approx(cand)
    assert auc["delta"] == pytest.approx(cand - base) and cand < base
    lo, hi = auc["delta_ci95"]
    assert lo <= cand - base <= hi and hi < 0  # losing the strongest input is a real loss, not noise


def test_importance_drift_and_reason_change_follow_the_two_audits(changed):
    """Catches drift measured on the wrong vectors or reasons compared on different rows: recomputed from
    the two results.json files the compare wrote; every row whose baseline principal reason was the
    removed input must count as changed."""
    out, record = changed[3], changed[4]
    base = json.loads((out / "baseline.results.json").read_text())
    cand = json.loads((out / "candidate.results.json").read_text())
    gi_b, gi_c = base["explanations"][0]["global_importance"], cand["explanations"][0]["global_importance"]
    names = list(gi_b)
    expected = spearmanr([gi_b[n] for n in names], [gi_c.get(n, 0.0) for n in names]).statistic
    drift = record["explanation_drift"]["by_method"]["coefficients"]
    assert drift["spearman"] == pytest.approx(expected, abs=1e-4)
    assert drift["only_baseline"] == [DROPPED] and drift["only_candidate"] == []
    first = {d["row"]: d["reasons"][0]["feature"] if d["reasons"] else None for d in cand["decisions"]}
    changed_rows = [d["row"] for d in base["decisions"]
                    if (d["reasons"][0]["feature"] if d["reasons"] else None) != first[d["row"]]]
    assert record["reasons"]["rows"] == len(base["decisions"]) == 40
    assert record["reasons"]["principal_changed"] == len(changed_rows) > 0
    removed = [d["row"] for d in base["decisions"] if d["reasons"] and d["reasons"][0]["feature"] == DROPPED]
    assert removed and set(removed) <= set(changed_rows)


def test_a_model_compared_with_itself_shows_no_drift_and_passes(itself):
    """Catches drift from anything but the models (different rows, seeds or an unpaired bootstrap): the
    same model twice measures exactly zero on every measure, a zero-width paired CI, and exit 0."""
    code, _, out, record = itself
    assert code == 0 and record["gate"]["passed"]
    assert set(_verdicts(record).values()) == {"pass"}
    assert f'tests="{len(record["gate"]["checks"])}" failures="0"' in (out.parent / "junit.xml").read_text()
    auc = record["performance"]["values"]["auc"]
    assert auc["delta"] == 0 and auc["delta_ci95"] == [0, 0]
    drift = record["explanation_drift"]["by_method"]["coefficients"]
    assert drift["spearman"] == 1 and drift["topk_overlap"] == 1 and drift["faithfulness"]["delta"] == 0
    assert record["reasons"]["principal_changed"] == 0 and record["flips"]["flipped"] == 0
    assert all(g["gap"] == 0 for g in record["flips"]["by_group"].values())


def test_results_files_compare_with_the_threshold_deciding_the_verdict(changed, tmp_path):
    """Catches thresholds read from the wrong keys and a results mode that claims what it cannot measure:
    the same two results.json files fail the default policy and pass a loose one, and compare.json says that
    flips by group and the paired CI need the models."""
    out = changed[3]
    files = (out / "baseline.results.json", out / "candidate.results.json")
    verdict = {}
    for name, toml in (("default", ""), ("loose", LOOSE)):
        (tmp_path / f"{name}.toml").write_text(toml)
        code, _, stderr = _cli("compare", *files, "--config", tmp_path / f"{name}.toml",
                               "--out", tmp_path / name, "--quiet")
        verdict[name] = (code, json.loads((tmp_path / name / "compare.json").read_text()))
    assert verdict["default"][0] == 1 and verdict["loose"][0] == 0
    record = verdict["loose"][1]
    assert record["mode"] == "results"
    assert not record["availability"]["flips_by_group"]["available"]
    assert not record["availability"]["performance_ci"]["available"]
    assert record["performance"]["values"]["auc"]["delta_ci95"] == [None, None]
    assert record["performance"]["values"]["auc"]["delta"] == pytest.approx(
        changed[4]["performance"]["values"]["auc"]["delta"])
    assert record["flips"]["rows"] == 40 and record["flips"]["by_group"] == {}
    assert not (tmp_path / "loose" / "baseline.results.json").exists()
    assert record["report"]["outcomes"] == {"1": "approved", "0": "declined"}  # the audits' own labels


def test_the_compare_report_prints_the_gate_verdicts(changed):
    """Catches a PDF that omits a section or states a verdict the gate did not give."""
    pages = PdfReader(str(changed[3] / "compare.pdf")).pages
    text = " ".join(" ".join(p.extract_text() for p in pages).replace("\u200b", "").split())  # break hints in names
    for title in ("VERDICT: FAILED", "Summary of the change", "Performance: baseline against candidate",
                  "Explanation drift", "Principal reasons on the same rows", "Decisions that flip", "By sex",
                  "Model-change policy gate", "Appendix: reproducibility", "Sign-off"):
        assert title in text, title
    for check in changed[4]["gate"]["checks"]:
        word = {"pass": "PASS", "fail": "FAIL", "finding": "FAIL (finding)"}[check["verdict"]]
        assert f"{check['name']} {word}" in text, check["name"]
    assert "approved → declined" in text


@pytest.mark.parametrize("case", ["model_and_results", "models_without_data", "results_with_data", "bad_key"])
def test_bad_compare_input_is_exit_2_in_one_line_with_nothing_written(case, changed, models, tmp_path):
    """Catches a traceback or a half-written report on inputs the user can get wrong."""
    data, out = SAMPLES / "german_credit.csv", tmp_path / "out"
    results = changed[3] / "baseline.results.json"
    (tmp_path / "bad.toml").write_text("[policy.compare]\nmax_flip_rat = 0.1\n")
    args = {"model_and_results": (models[0], results, data),
            "models_without_data": (models[0], models[1]),
            "results_with_data": (results, results, data),
            "bad_key": (models[0], models[1], data, "--config", tmp_path / "bad.toml")}[case]
    code, _, stderr = _cli("compare", *args, "--out", out, "--quiet")
    assert code == 2 and stderr.startswith("error:") and len(stderr.strip().splitlines()) == 1, stderr
    assert "Traceback" not in stderr and not out.exists()
    if case == "bad_key":
        assert "max_flip_rat" in stderr and "max_flip_rate" in stderr


def test_small_groups_are_reported_as_too_small_without_rates():
    """Catches a rate published for a group too small to support it (and a gap taken over it)."""
    from audit.commands.compare import decision_flips

    base = np.array(["1"] * 10 + ["1"] * 3)
    cand = np.array(["1"] * 9 + ["0"] + ["0"] * 3)
    group = np.array(["big"] * 10 + ["tiny"] * 3)
    flips = decision_flips(base, cand, "1", {"g": group}, min_rows=5)
    tiny = flips["by_group"]["g"]["groups"][1]
    assert tiny == {"group": "tiny", "rows": 3, "too_small": True, "flipped": None, "to_adverse": None,
                    "rate": None, "adverse_rate": None}
    assert flips["by_group"]["g"]["gap"] is None and flips["to_adverse"] == 4


def test_audit_schema_compare_prints_a_schema_that_rejects_broken_output(cli, itself):
    """Catches a compare schema too loose to protect a reader."""
    import jsonschema

    code, out, _ = cli("schema", "--compare")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    record = itself[3]
    assert not list(validator.iter_errors(record))
    for path, bad in ((("flips", "rate"), 1.5), (("gate", "passed"), "yes"), (("mode",), "diff"),
                      (("baseline", "sha256"), "abc")):
        assert list(validator.iter_errors(with_value(record, path, bad))), path


def test_each_threshold_decides_its_check_at_the_measured_value(changed):
    """Catches a check compared with the wrong threshold key or in the wrong direction: with thresholds set a
    hair either side of the values measured between the two versions, each check flips between pass and fail."""
    from audit.config import ComparePolicy
    from audit.gate import CompareEvidence, evaluate_compare

    rec = changed[4]
    auc, drift = rec["performance"]["values"]["auc"], rec["explanation_drift"]["by_method"]["coefficients"]
    reasons, flips = rec["reasons"], rec["flips"]
    evidence = CompareEvidence(
        performance=("auc", auc["delta"], tuple(auc["delta_ci95"])), method="coefficients",
        importance_rank=drift["spearman"], importance_topk=drift["topk_overlap"],
        reason_change=(reasons["principal_change_rate"], reasons["rows"]),
        # a drop (negative delta) of the measured size, whichever model was the more faithful: the policy's
        # max_faithfulness_drop cannot be below 0, so the edge must be a drop
        faithfulness_delta=-abs(drift["faithfulness"]["delta"]), flip_rate=(flips["rate"], flips["rows"]),
        group_gaps={a: (g["gap"], g["high"], g["low"]) for a, g in flips["by_group"].items()})
    eps = 1e-6
    # key -> (check, the threshold at which the measured value sits exactly, +1 when a larger threshold is laxer)
    cases = {"max_performance_drop": ("compare:performance", -auc["delta"], 1),
             "min_importance_rank_correlation": ("compare:importance_rank", drift["spearman"], -1),
             "min_importance_topk_overlap": ("compare:importance_topk", drift["topk_overlap"], -1),
             "max_reason_change_rate": ("compare:reason_change", reasons["principal_change_rate"], 1),
             "max_faithfulness_drop": ("compare:faithfulness", abs(drift["faithfulness"]["delta"]), 1),
             "max_flip_rate": ("compare:flip_rate", flips["rate"], 1),
             "max_group_flip_gap": ("compare:group_flip:age", flips["by_group"]["age"]["gap"], 1)}
    for key, (check, edge, lax) in cases.items():
        for direction, verdict in ((lax, "pass"), (-lax, "fail")):
            gate = evaluate_compare(ComparePolicy(**{key: edge + direction * eps}), evidence)
            assert gate.check(check).verdict == verdict, (key, verdict)


def test_every_compare_section_has_a_builder_and_templates_order_only_those(tmp_path):
    """Catches a compare section registered without a renderer (or the reverse), and a template naming one
    that does not exist."""
    from audit.errors import ConfigError
    from audit.report.sections import COMPARE_SECTIONS
    from report_templates import available_templates, load_template

    assert COMPARE_SECTIONS and all(callable(render) for render in COMPARE_SECTIONS.values())
    for name in available_templates():
        assert set(load_template(name).compare_sections) <= set(COMPARE_SECTIONS)
    (tmp_path / "t.toml").write_text('compare_sections = ["compare_cover", "compare_flops"]\n')
    with pytest.raises(ConfigError, match="compare_flops"):
        load_template(str(tmp_path / "t.toml"))
