"""One session for every command (audit/commands/session.py): the explainers are built once and given the budget's
parameters; policy that depends on the use is settled from the template, not from its name."""

from __future__ import annotations

import pytest

import audit.commands.session as session_module
from audit.commands.session import prepare
from audit.config import AuditConfig, parse_config
from audit.errors import ConfigError
from audit.gate import ProtectedEvidence, protected_checks, recourse_checks, stability_checks, threshold_check
from explainers.lime_tabular import Lime
from report_templates import load_template
from tests.conftest import SAMPLES

CREDIT = SAMPLES / "german_credit.csv"


def test_prepare_builds_the_explainers_once_with_the_budgets_parameters(monkeypatch):
    """Fails if the planner and the runner each select (build) the explainers, or if the built explainers
    keep the parameters they had before the budget set n_jobs and SHAP's budget."""
    calls = []
    real = session_module.select

    def counting(*args, **kw):
        calls.append(args[1])
        return real(*args, **kw)

    monkeypatch.setattr(session_module, "select", counting)
    config = parse_config('explainers = ["shap", "lime"]\naudit_budget_s = 5\nshap_algorithm = "permutation"',
                          overrides={"target": "risk"})
    s = prepare(SAMPLES / "models" / "credit_logreg.skops", CREDIT, config=config)
    assert calls == [["shap", "lime"]]
    assert s.plan is not None and s.config.n_jobs == s.plan.n_jobs
    by_name = {e.name: e for e in s.explainers}
    assert by_name["lime"].params.n_jobs == s.config.n_jobs
    assert by_name["shap"].params.budget_s == s.config.explain_budget_s
    assert len(s.explain_rows) == s.config.rows and len(s.background) == s.config.background


def test_with_params_is_the_same_object_when_nothing_changes():
    lime = Lime(n_jobs=1)
    assert lime.with_params(n_jobs=1) is lime
    other = lime.with_params(n_jobs=3)
    assert other is not lime and other.params.n_jobs == 3 and lime.params.n_jobs == 1


@pytest.mark.parametrize(("toml", "action"), [
    ("", "fail"),  # credit_decision's [policy_defaults]
    ('[report]\ntemplate = "generic"', "finding"),
    ('[policy]\nprotected_as_input = "finding"', "finding"),
    ('[policy]\nprotected_as_input = "fail"\n[report]\ntemplate = "generic"', "fail"),
])
def test_protected_input_is_settled_from_the_template_defaults(toml, action):
    assert parse_config(toml).protected_input.action == action


def test_the_legal_wording_comes_from_the_template_not_the_gate():
    """The credit template words the blocking check with ECOA / Regulation B; the generic one does not."""
    credit = AuditConfig().protected_input.fail_note
    generic = parse_config('[report]\ntemplate = "generic"').protected_input.fail_note
    assert "12 CFR 1002.6(b)(2)" in credit and "ECOA" not in generic
    ev = ProtectedEvidence(attributes=("sex",), direct_inputs=("sex",), input_action="fail", input_note=credit)
    check = protected_checks(AuditConfig().policy, ev)[0]
    assert check.verdict == "fail" and check.message.endswith(credit)


def test_a_template_with_a_bad_policy_default_is_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('name = "t"\n[policy_defaults]\nprotected_as_input = "block"\n')
    with pytest.raises(ConfigError, match="protected_as_input"):
        load_template(str(path))
    path.write_text('name = "t"\n[policy_defaults]\nsomething = "fail"\n')
    with pytest.raises(ConfigError, match="unknown key 'something'"):
        load_template(str(path))


def test_checks_with_their_own_sentence_still_go_through_threshold_check():
    """The verdict's own sentence follows the one wording; an empty ``what`` starts with the shown value."""
    c = threshold_check("x", 0.4, 0.5, "", shown="40% of 10 rows", tfmt=".0%", higher_is_better=True,
                        on_pass=" ok", on_fail="; too few")
    assert (c.passed, c.message) == (False, "40% of 10 rows < 50%; too few")
    from audit.config import Policy

    low, high = recourse_checks(Policy(), {"a": (0.2, 10), "b": (0.9, 10)})
    assert low.message.endswith("< 50%; the reasons point away from what would change the decision")
    assert high.message.endswith(">= 50%") and high.verdict == "pass"
    record = {"share_unchanged": float("nan"), "decisions": 3, "redraws": 5, "method": "shap"}
    assert not stability_checks(Policy(), record, "")[0].passed  # NaN never passes


@pytest.mark.parametrize(("toml", "inferred"), [
    ("", True),  # credit_decision: protected_attributes = "inferred"
    ('[report]\ntemplate = "generic"', False),
    ('[policy]\nprotected_attributes = []', False),
    ('[policy]\nprotected_attributes = ["sex"]', False),
])
def test_inferring_protected_attributes_is_the_templates_default(toml, inferred):
    """Fails if inference keys on the template's name again rather than its [policy_defaults]."""
    assert parse_config(toml).infers_protected is inferred
