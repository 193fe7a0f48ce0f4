"""The reference principal reasons are measured against, per Regulation B's official commentary (issue #26):
near_cutoff (applicants at or slightly above the passing score), all_applicants, background."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from audit.commands.runner import run_audit
from audit.config import parse_config
from audit.measures.reason_reference import (
    CITATION,
    choose_reference,
    describe,
    draw_background,
    reference_values,
)
from audit.measures.reason_stability import reason_agreement
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

POLICY = "[policy]\nprotected_attributes = []\nrequire_randomisation_check = false\n"
QUIET = FAST_TOML + POLICY


FEATURES = ["x", "w1", "w2", "noise"]


def _threshold_data(tmp_path, n=1200, seed=3):
    """Approval mostly decided by x on [0, 10] (above about 6), nudged by w1 and w2, with a noise input; a
    logistic model fitted to it (its passing score is P(approve) = 0.5)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.uniform(0, 10, n), "w1": rng.normal(size=n), "w2": rng.normal(size=n),
                          "noise": rng.normal(size=n)})
    frame["approved"] = (frame["x"] + 0.6 * frame["w1"] - 0.4 * frame["w2"] + rng.normal(0, 0.3, n) > 6).astype(int)
    model = LogisticRegression(C=1.0).fit(frame[FEATURES], frame["approved"])
    data = tmp_path / "threshold.csv"
    frame.to_csv(data, index=False)
    return save_pickle(model, tmp_path / "threshold.pkl"), data, model, frame


def _run(model, data, extra: str = "", **overrides):
    toml = f"{FAST_TOML}favorable_class = '1'\n[reasons]\n{extra}\n{POLICY}"
    return run_audit(model, data, config=parse_config(toml, overrides={"target": "approved", **overrides}))


def test_near_cutoff_background_rows_are_the_applicants_just_above_the_models_cutoff(tmp_path):
    model_path, data, model, frame = _threshold_data(tmp_path)
    result = _run(model_path, data, 'reference = "near_cutoff"\nnear_cutoff_band = 0.2\nmin_reference_rows = 10',
                  explainers=["coefficients", "shap"])
    record = result.reason_reference
    p = model.predict_proba(frame[FEATURES])[:, 1]
    passing = p[p >= 0.5]
    # the cutoff is the lowest passing score; the candidates are every passing row up to cutoff + 0.2
    assert record["method"] == "near_cutoff" and record["cutoff"] == pytest.approx(passing.min(), abs=1e-6)
    in_band = (p >= passing.min()) & (p <= passing.min() + 0.2)
    assert in_band.sum() >= 10 and record["candidate_rows"] == int(in_band.sum())
    assert record["background_rows"] == min(40, int(in_band.sum()))
    assert record["band"][1] <= record["cutoff"] + 0.2 + 1e-9
    # every background row is one of those applicants: x just above the model's boundary (P = 0.5)
    bg_scores = model.predict_proba(pd.DataFrame(result.background, columns=FEATURES))[:, 1]
    assert np.all(bg_scores >= passing.min() - 1e-9) and np.all(bg_scores <= passing.min() + 0.2 + 1e-9)
    assert 5.0 < result.background[:, 0].mean() < 7.5  # near x = 6, far from the data's mean of 5
    # the reference values are that sample's mean: "too low" on x means below the near-cutoff applicants
    assert result.typical[0] == pytest.approx(result.background[:, 0].mean())
    assert CITATION in record["citation"]


def test_near_cutoff_widens_to_the_lowest_passing_scores_and_falls_back_without_a_favourable_class(tmp_path):
    scores = np.array([0.1, 0.2, 0.51, 0.9, 0.91, 0.92, 0.95])
    narrow = choose_reference("near_cutoff", scores, scores >= 0.5, band_width=0.05, min_rows=3)
    assert narrow.candidates.tolist() == [2, 3, 4] and narrow.band == (0.51, 0.91)
    few = choose_reference("near_cutoff", scores, scores >= 0.93, band_width=0.05, min_rows=3)
    assert few.method == "all_applicants" and "only 1 applicant" in few.fallback
    none = choose_reference("near_cutoff", None, None, band_width=0.1, min_rows=3)
    assert none.method == "all_applicants" and "no favourable class" in none.fallback
    # a regression model audited with the credit template: the fallback is recorded, not an error
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["y"] = 2 * frame["a"] - frame["b"]
    frame.to_csv(tmp_path / "reg.csv", index=False)
    path = save_pickle(LinearRegression().fit(frame[["a", "b"]], frame["y"]), tmp_path / "reg.pkl")
    result = run_audit(path, tmp_path / "reg.csv", config=parse_config(QUIET, overrides={"target": "y"}))
    assert result.reason_reference["method"] == "all_applicants"
    assert result.reason_reference["configured"] == "near_cutoff" and result.reason_reference["fallback"]


def test_all_applicants_and_background_references(tmp_path):
    X = np.arange(20, dtype=float).reshape(10, 2)
    uniform = choose_reference("background", None, None, band_width=0.1, min_rows=5)
    everyone = choose_reference("all_applicants", None, None, band_width=0.1, min_rows=5)
    # with every row as candidates the draw is the plain uniform sample of the seed
    rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
    assert np.array_equal(draw_background(uniform, X, 4, rng_a),
                          X[np.sort(rng_b.choice(10, size=4, replace=False))])
    sample = X[:2]
    assert reference_values(uniform, sample, X).tolist() == [1.0, 2.0]  # the background's own mean
    assert reference_values(everyone, sample, X).tolist() == [9.0, 10.0]  # the mean of all applicants
    model_path, data, _, frame = _threshold_data(tmp_path)
    result = _run(model_path, data, 'reference = "all_applicants"', explainers=["coefficients"])
    assert result.reason_reference["method"] == "all_applicants"
    assert result.typical[0] == pytest.approx(frame["x"].mean())


def test_the_default_reference_follows_the_template(tmp_path):
    model_path, data, _, _ = _threshold_data(tmp_path)
    credit = _run(model_path, data, explainers=["coefficients"])
    generic = run_audit(model_path, data, config=parse_config(
        f"{FAST_TOML}favorable_class = '1'\n[report]\ntemplate = 'generic'\n{POLICY}",
        overrides={"target": "approved", "explainers": ["coefficients"]}))
    assert credit.reason_reference["method"] == "near_cutoff"
    assert generic.reason_reference["method"] == "background"
    with pytest.raises(Exception, match="reference"):
        parse_config("[reasons]\nreference = 'median'\n")


@pytest.mark.parametrize("template_name", ["credit_decision", "generic"])
def test_every_reference_sentence_names_the_method_and_its_citation(template_name):
    template = load_template(template_name)
    base = {"candidate_rows": 112, "background_rows": 40, "cutoff": 0.5, "band": [0.5, 0.6], "fallback": None}
    for method in ("near_cutoff", "all_applicants", "background"):
        text = describe({**base, "method": method, "configured": method}, template)
        assert "112" in text and "40" in text and "{" not in text
        assert ("9(b)(2)-5" in text) == (template_name == "credit_decision")  # the citation is credit wording
    fallback = describe({**base, "method": "all_applicants", "configured": "near_cutoff", "band": None,
                         "fallback": "the model has no favourable class"}, template)
    assert "near_cutoff" in fallback and "no favourable class" in fallback


def test_rank_agreement_between_passing_explainers(tmp_path):
    model_path, data, _, _ = _threshold_data(tmp_path)
    result = _run(model_path, data, explainers=["coefficients", "shap"])
    pairs = result.reason_directions["between_explainers"]
    assert [p["methods"] for p in pairs] == [["coefficients", "shap"]]
    # linear SHAP against the same reference gives the coefficients' reasons: they agree
    assert pairs[0]["same_set_share"] > 0.9 and pairs[0]["same_first_share"] > 0.9

    class D:
        def __init__(self, adverse, a, b):
            self.adverse = adverse
            self.reasons_by_method = {"a": tuple({"feature": f} for f in a), "b": tuple({"feature": f} for f in b)}

    found = reason_agreement([D(True, "xy", "yx"), D(True, "xz", "yz"), D(False, "x", "y")], ["a", "b"])
    assert found == [{"methods": ["a", "b"], "decisions": 2, "same_set_share": 0.5, "mean_overlap": 0.75,
                      "same_first_share": 0.0}]


def test_audit_reasons_records_the_reference(credit_logreg, tmp_path):
    import json

    from audit.commands.reasons import run_reasons

    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    config = parse_config(QUIET, overrides={"target": "risk"})
    run_reasons(path, SAMPLES / "german_credit.csv", tmp_path / "r.csv", config=config,
                template=load_template("credit_decision"), explainer="coefficients")
    meta = json.loads((tmp_path / "r.csv.meta.json").read_text())
    assert meta["reason_reference"]["method"] == "near_cutoff"
    assert meta["reason_reference"]["background_rows"] == 40


def test_every_decision_page_and_the_methodology_name_the_reference(tmp_path):
    from pypdf import PdfReader

    from audit.report import write_outputs

    model_path, data, _, _ = _threshold_data(tmp_path)
    result = _run(model_path, data, explainers=["coefficients"])
    write_outputs(result, tmp_path / "out", template=load_template("credit_decision"))
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "out" / "report.pdf").pages]
    decision_pages = [p for p in pages if "Principal reasons" in p and "Decision for data row" in p]
    assert decision_pages
    n = result.reason_reference["candidate_rows"]
    for page in decision_pages:
        assert f"Reference: the {n} applicants at or slightly above the passing score" in page
        assert "9(b)(2)-5" in page
    assert any("Reference of the reasons." in p and "9(b)(2)-5" in p for p in pages)
