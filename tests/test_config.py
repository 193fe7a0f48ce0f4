from __future__ import annotations

import pytest

from audit.config import AuditConfig, parse_config
from audit.errors import ConfigError
from audit.gate import ExplainerEvidence, evaluate


def test_defaults_and_overrides():
    cfg = parse_config("seed = 4\n[policy]\nmin_faithfulness_score = 0.7\n", overrides={"seed": 9})
    assert cfg.seed == 9 and cfg.policy.min_faithfulness_score == 0.7
    assert AuditConfig().rows == 200


def test_config_is_frozen():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        AuditConfig().seed = 3


@pytest.mark.parametrize("text,needle", [("sede = 1", "'sede'"), ("[report]\ntemplat = 'x'", "report.templat"),
                                         ("rows = -1", "'rows'"), ("= broken", "not valid TOML")])
def test_bad_config(text, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config(text)


def test_gate_per_explainer_override_and_required():
    from audit.config import Policy

    policy = Policy.model_validate({"require_randomisation_check": False, "explainers": {
        "lime": {"min_faithfulness_score": 0.2}, "shap": {"required": True}}})
    ev = [ExplainerEvidence("lime", 0.3, (0.2, 0.4)), ExplainerEvidence("shap", 0.45, (0.4, 0.5))]
    gate = evaluate(policy, ev)
    assert gate.passing_explainers == ("lime",)
    assert not gate.passed  # shap is required and scored below 0.5
    ev[1] = ExplainerEvidence("shap", 0.9, (0.8, 1.0))
    assert evaluate(policy, ev).passed


def test_gate_stability_and_additivity_checks():
    from audit.config import Policy

    policy = Policy(require_randomisation_check=False)
    gate = evaluate(policy, [ExplainerEvidence("lime", 0.9, (0.8, 1.0), stability=0.3),
                             ExplainerEvidence("shap", 0.9, (0.8, 1.0), additivity_error=0.5)])
    failed = {c.name for c in gate.checks if not c.passed}
    assert failed == {"stability:lime", "additivity:shap", "explainers_passing"}
    assert not gate.passed


@pytest.mark.parametrize("section", ["[policy.metric_minimums]", "[policy.explainers.shap.metric_minimums]"])
def test_unknown_metric_in_minimums_is_refused(section):
    with pytest.raises(ConfigError, match="unknown metric.*'deletion'.*valid: deletion_auc"):
        parse_config(f"{section}\ndeletion = 0.3")
    assert parse_config(f"{section}\ndeletion_auc = 0.3")


def test_policy_for_an_unknown_explainer_is_exit_2(cli, tmp_path, credit_logreg):
    from tests.conftest import SAMPLES, save_pickle

    model = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text("[policy.explainers.lmie]\nmin_faithfulness_score = 0.2\n")
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "policy.explainers.lmie" in err and "lime" in err
    assert not (tmp_path / "o").exists()


def test_max_model_bytes_from_audit_toml_bounds_the_load(tmp_path, cli, credit_logreg):
    """The config key reaches the loader: a budget below the file's size refuses it with exit 2."""
    from tests.conftest import SAMPLES, save_pickle

    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text("max_model_bytes = 2000\n")
    code, _, err = cli("run", path, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "2,000-byte budget" in err and not (tmp_path / "o").exists()


def test_cli_explainers_option_keeps_the_explainer_tables():
    """`--explainers shap` used to replace the [explainers] table, silently dropping every
    [explainers.NAME] parameter (an ONNX graph and its pipeline were then explained by different
    algorithms although the file asked for the same one)."""
    from audit.config import parse_config

    text = '[explainers]\nselect = ["shap", "lime"]\n[explainers.shap]\nalgorithm = "exact"\n'
    cfg = parse_config(text, overrides={"explainers": ["shap"]})
    assert cfg.explainers == ["shap"] and cfg.explainer_settings == {"shap": {"algorithm": "exact"}}
