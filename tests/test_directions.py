"""Direction words on adverse reasons are verified by the model (issue #26, DESIGN: a direction word is
printed only when the model confirms it on that applicant)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from audit.commands.runner import run_audit
from audit.config import parse_config
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"
TOP = FAST_TOML.replace("rows = 40", "rows = 200")
QUIET = TOP + "[policy]\nprotected_attributes = []\nrequire_randomisation_check = false\n"


class Valley(ClassifierMixin, BaseEstimator):
    """Approval is least likely for a credit amount near 2,500 and rises both ways (a U-shape), and falls with
    duration (monotone)."""

    classes_ = np.array([0, 1])
    feature_names_in_ = np.array(["duration", "credit_amount", "age"], dtype=object)
    n_features_in_ = 3

    def fit(self, X, y):
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        z = ((X[:, 1] - 2500.0) / 1500.0) ** 2 - 0.06 * (X[:, 0] - 20.0) - 0.8
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _directions(result, feature=None):
    return [r.get("direction") for d in result.decisions if d.adverse for r in d.reasons
            if r.get("above_typical") is not None and (feature is None or r["feature"] == feature)]


def test_every_worded_reason_of_a_logistic_model_is_confirmed(credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    result = run_audit(path, CREDIT, config=parse_config(QUIET, overrides={"target": "risk", "explainers": ["coefficients"]}))
    found = _directions(result)
    assert len(found) > 20 and set(found) == {"confirmed"}
    summary = result.reason_directions
    assert summary["accuracy"] == 1.0 and summary["contradicted_printed"] == 0
    assert result.gate.check("reason_directions").verdict == "pass"


def test_a_u_shaped_input_gets_neutral_words_and_a_monotone_one_keeps_them(tmp_path):
    path = save_pickle(Valley(), tmp_path / "valley.pkl")
    config = parse_config("favorable_class = '1'\n" + QUIET, overrides={"target": "risk", "explainers": ["shap"]})
    result = run_audit(path, CREDIT, config=config, trust_model=True)
    duration = _directions(result, "duration")
    assert duration and set(duration) == {"confirmed"}
    # near the bottom of the valley a change either way raises the approval score: no direction word holds
    near = [r["direction"] for d in result.decisions if d.adverse for r in d.reasons
            if r["feature"] == "credit_amount" and abs(float(r["value"]) - 2500.0) < 300]
    assert len(near) >= 5 and set(near) == {"non_monotone"}
    assert result.reason_directions["non_monotone"] >= len(near)
    template = load_template("credit_decision")
    from audit.measures.directions import worded

    for d in result.decisions:
        for r in d.reasons:
            text = template.reason(r["feature"], r["value"], above_typical=worded(r))
            if r["feature"] == "credit_amount" and d.adverse and r.get("direction") != "confirmed":
                assert "too" not in text and r["value"] in text
            if r["feature"] == "duration" and d.adverse and r.get("above_typical") is not None:
                assert "too long" in text or "too short" in text


@pytest.mark.parametrize("words,verdict", [("verified", "pass"), ("typical", "fail")])
def test_the_gate_fails_when_contradicted_words_would_be_printed(credit_gbm, tmp_path, words, verdict):
    path = save_pickle(credit_gbm, tmp_path / "gbm.pkl")
    config = parse_config(QUIET + f"[report]\ndirection_words = '{words}'\n",
                          overrides={"target": "risk", "explainers": ["tree_path"]})
    result = run_audit(path, CREDIT, config=config)
    summary = result.reason_directions
    assert summary["contradicted"] > 0  # the typical-value comparison is wrong on some applicants of this model
    check = result.gate.check("reason_directions")
    assert check.verdict == verdict and check.blocking
    assert check.value == (0 if words == "verified" else summary["contradicted"])
    assert (not result.gate.passed) if verdict == "fail" else True


def test_reason_codes_and_directions_reach_audit_reasons_and_uncovered_inputs_are_a_finding(credit_logreg, tmp_path):
    import pandas as pd

    from audit.commands.reasons import run_reasons

    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    config = parse_config(QUIET, overrides={"target": "risk"})
    template = load_template("credit_decision")
    run_reasons(path, CREDIT, tmp_path / "r.csv", config=config, template=template, explainer="coefficients")
    out = pd.read_csv(tmp_path / "r.csv", dtype=str)
    adverse = out[out["adverse"] == "True"]
    assert len(adverse) > 50
    for _, row in adverse.iterrows():
        code, feature = row["reason_code_1"], row["feature_1"]
        assert code == template.code(feature) and code.startswith("C")
        assert row["reason_1"].startswith(template.reason(feature, row["value_1"], above_typical=None)[:12]) or \
            row["direction_1"] == "confirmed"
    assert set(adverse["direction_1"].dropna()) <= {"confirmed", "contradicted", "non_monotone"}
    # the generic template words no input itself: every reason input is listed as uncovered
    generic = parse_config(QUIET.replace("[policy]", "[report]\ntemplate = 'generic'\n[policy]"),
                           overrides={"target": "risk", "explainers": ["coefficients"]})
    result = run_audit(path, CREDIT, config=generic)
    finding = next(w for w in result.warnings if w.startswith("reason coverage:"))
    for feature in {r["feature"] for d in result.decisions if d.adverse for r in d.reasons}:
        assert feature in finding
    covered = run_audit(path, CREDIT, config=parse_config(QUIET, overrides={"target": "risk",
                                                                             "explainers": ["coefficients"]}))
    assert not any(w.startswith("reason coverage:") for w in covered.warnings)


@pytest.mark.parametrize("model,background,stable", [("credit_gbm", 5, False), ("credit_logreg", 800, True)])
def test_reason_stability_catches_reasons_that_follow_the_random_draw(model, background, stable):
    """A tiny random background (5 rows) makes TreeSHAP's reasons follow the draw: caught. Linear SHAP with a
    large reference (800 of the 1,000 applicants, Regulation B's all-applicants method) keeps nearly every
    reason set: passes."""
    toml = TOP.replace("background = 40", f"background = {background}") + "[reasons]\nreference = 'all_applicants'\n" + \
        "[policy]\nprotected_attributes = []\nrequire_randomisation_check = false\n"
    result = run_audit(SAMPLES / "models" / f"{model}.skops", CREDIT,
                       config=parse_config(toml, overrides={"target": "risk", "explainers": ["shap"]}))
    record = result.reason_directions["stability"]
    check = result.gate.check("reason_stability")
    assert record["decisions"] == 40 and record["redraws"] == 5 and record["background_rows"] == background
    if stable:
        assert record["share_unchanged"] > 0.95 and check.verdict == "pass"
    else:
        assert record["share_unchanged"] < 0.5 and check.verdict == "finding" and not check.blocking
        assert "follow the random draw" in check.message
        blocking = parse_config(toml + "reason_stability_blocks = true\n",
                                overrides={"target": "risk", "explainers": ["shap"]})
        strict = run_audit(SAMPLES / "models" / f"{model}.skops", CREDIT, config=blocking)
        assert strict.gate.check("reason_stability").verdict == "fail" and not strict.gate.passed
