"""End-to-end through the Python API: results, randomisation check, gate."""

from __future__ import annotations

import json

import numpy as np
import pytest

import explainers
from audit.commands.runner import run_audit
from audit.config import AuditConfig, Policy, parse_config
from explainers._base import ExplainerBase
from tests.conftest import FAST_TOML, SAMPLES, save_pickle


class FeatureValues(ExplainerBase):
    """An 'explainer' that ignores the model: it returns the (centred) feature values."""

    name = "feature_values"
    kind = "approximate"

    def supports(self, adapter):
        return True

    def explain(self, adapter, X, *, background, seed):
        return self.attribution(adapter, X - background.mean(0), np.zeros(len(X)), meta={"algorithm": "x - mean"})


def _config(**overrides) -> AuditConfig:
    base = parse_config(FAST_TOML)
    return base.model_copy(update=overrides)


@pytest.fixture(scope="module")
def logreg_result(credit_logreg, tmp_path_factory):
    path = save_pickle(credit_logreg, tmp_path_factory.mktemp("m") / "logreg.pkl")
    return run_audit(path, SAMPLES / "german_credit.csv", config=_config(target="risk"))


def test_results_json_text_is_the_record_with_one_decision_per_line(logreg_result):
    """Fails if the fast writer drops, reorders or alters anything the record holds, or a decision spans lines."""
    import dataclasses

    text = logreg_result.dumps()
    record = json.loads(json.dumps(logreg_result.to_json()))
    assert json.loads(text) == record and list(json.loads(text)) == list(record)
    lines = [ln for ln in text.splitlines() if ln.startswith('    {"row": ')]
    assert len(lines) == len(record["decisions"]) > 0
    empty = dataclasses.replace(logreg_result, decisions=())
    assert json.loads(empty.dumps())["decisions"] == []


def test_results_json_has_the_contract_keys(logreg_result):
    j = json.loads(logreg_result.dumps())
    for key in ("schema_version", "tool_version", "created_at", "model", "data", "gate", "explanations", "controls",
                "decisions"):
        assert key in j
    assert set(j["model"]) >= {"path", "sha256", "framework", "type", "task"}
    assert j["model"]["framework"] == "sklearn" and j["model"]["task"] == "binary"
    assert set(j["data"]) >= {"path", "sha256", "rows", "features"}
    assert set(j["gate"]) >= {"passed", "checks"}
    for c in j["gate"]["checks"]:
        assert set(c) >= {"name", "passed", "value", "threshold", "message"}
    for e in j["explanations"]:
        assert set(e) >= {"method", "kind", "rows_explained", "seconds", "global_importance", "faithfulness",
                          "faithfulness_score"}
        assert 0 <= e["faithfulness_score"] <= 1.5
        assert e["algorithm"]["algorithm"]
    assert "random" in j["controls"] and "deletion_auc" in j["controls"]["random"]
    d = j["decisions"][0]
    assert set(d) >= {"row", "prediction", "outcome", "reasons"}
    assert set(d["reasons"][0]) >= {"feature", "value", "contribution"}


def test_global_importance_is_keyed_by_raw_columns_only(logreg_result):
    raw = {"sex", "job", "housing", "saving_accounts", "checking_account", "credit_amount", "duration", "purpose", "age"}
    for e in logreg_result.explanations:
        assert set(e.global_importance) == raw, e.method


def test_randomisation_check_passes_for_a_real_model(logreg_result):
    checks = {c.name: c for c in logreg_result.gate.checks}
    for method in ("coefficients", "shap"):
        c = checks[f"randomisation:{method}"]
        assert c.passed and c.value < 0.5
        assert "(refit on permuted labels)" in c.message
    shap = next(e for e in logreg_result.explanations if e.method == "shap")
    assert shap.randomisation["method"] == "refit on permuted labels (Adebayo et al. 2018)"


def test_randomisation_check_fails_for_an_explainer_that_ignores_the_model(credit_logreg, tmp_path, monkeypatch):
    monkeypatch.setattr(explainers, "_BUILTIN", explainers._BUILTIN + (FeatureValues,))
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=_config(target="risk", explainers=["coefficients", "feature_values"]))
    checks = {c.name: c for c in result.gate.checks}
    bad = checks["randomisation:feature_values"]
    assert not bad.passed and bad.value > 0.99
    assert checks["randomisation:coefficients"].passed
    assert "feature_values" not in result.gate.passing_explainers


def test_gate_uses_thresholds_from_the_policy(credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    strict = Policy(min_faithfulness_score=0.99, require_randomisation_check=False)
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=_config(target="risk", explainers=["lime"], policy=strict))
    assert not result.gate.passed
    check = next(c for c in result.gate.checks if c.name == "faithfulness:lime")
    assert check.threshold == 0.99 and not check.passed and check.value < 0.99


def test_protected_attribute_share_is_measured_and_gated(credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    policy = Policy(protected_attributes=["sex", "age"], max_protected_share=0.01, require_randomisation_check=False)
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=_config(target="risk", explainers=["coefficients"], policy=policy))
    share = result.protected["by_explainer"]["coefficients"]["share"]
    assert 0.01 < share < 1
    assert not result.gate.passed
    assert any(c.name == "protected:coefficients" and not c.passed for c in result.gate.checks)


def test_adverse_decisions_have_at_most_four_reasons_pushing_towards_decline(logreg_result):
    adverse = [d for d in logreg_result.decisions if d.adverse]
    assert len(adverse) >= 5
    for d in adverse:
        assert 1 <= len(d.reasons) <= 4
        assert all(r["contribution"] < 0 for r in d.reasons)  # lowered the approval score
        contributions = [r["contribution"] for r in d.reasons]
        assert contributions == sorted(contributions)


def test_every_method_gives_per_decision_reasons(logreg_result):
    methods = {e.method for e in logreg_result.explanations}
    for d in logreg_result.decisions:
        assert set(d.reasons_by_method) == methods
        assert d.reasons == d.reasons_by_method[d.method]
        for reasons in d.reasons_by_method.values():
            assert len(reasons) <= 4
            assert all(r["value"] == d.values[r["feature"]] for r in reasons)


def test_performance_and_challenger_when_target_given(logreg_result):
    assert 0.5 < logreg_result.performance["auc"] <= 1
    assert logreg_result.challenger["best_challenger"]
    assert logreg_result.challenger["metric"] == "auc"


def test_multiclass_explains_each_rows_predicted_class(credit, tmp_path):
    from sklearn.ensemble import RandomForestClassifier

    frame = credit[["duration", "credit_amount", "age", "housing"]].copy()
    X = frame[["duration", "credit_amount", "age"]]
    model = RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(X, frame["housing"])
    data = tmp_path / "mc.csv"
    frame.to_csv(data, index=False)
    path = save_pickle(model, tmp_path / "mc.pkl")
    result = run_audit(path, data, config=_config(target="housing", explainers=["tree_path", "shap"]))
    assert result.model["task"] == "multiclass" and result.model["explained_class_per_row"]
    assert result.explanations[0].rows_explained == 40
    forced = run_audit(path, data, config=_config(target="housing", explainers=["tree_path"], explained_class="rent"))
    assert forced.model["explained_class"] == "rent"


def test_sampled_shap_gets_a_stability_check(credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=_config(target="risk", explainers=["shap"], shap_algorithm="permutation", rows=10))
    shap = result.explanations[0]
    assert shap.algorithm["choice"] == "permutation" and shap.stability is not None
    assert any(c.name == "stability:shap" for c in result.gate.checks)
