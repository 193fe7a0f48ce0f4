"""Not measured is never a pass; waivers, not-required checks, decide_on and identities (issue #23)."""

from __future__ import annotations

import numpy as np
import pytest

from audit.config import ComparePolicy, Policy, parse_config
from audit.errors import ConfigError
from audit.gate import (
    CompareEvidence,
    ExplainerEvidence,
    FairnessEvidence,
    ProtectedEvidence,
    evaluate,
    evaluate_compare,
    recourse_checks,
)
from audit.measures.protected import flip_test, infer_protected, protected_evidence

ALL_MISSING = {name: "not available" for name in (
    "compare:performance", "compare:importance_rank", "compare:importance_topk", "compare:reason_change",
    "compare:faithfulness", "compare:flip_rate")}


def _ev(name="m", score=0.9, ci=(0.8, 1.0), **kw):
    return ExplainerEvidence(name, score, ci, **kw)


def test_a_compare_whose_every_measure_is_missing_does_not_pass():
    gate = evaluate_compare(ComparePolicy(), CompareEvidence(missing=dict(ALL_MISSING)))
    assert not gate.passed
    assert {c.verdict for c in gate.checks} == {"not_measured"}
    assert all(c.blocking and not c.passed for c in gate.checks)
    assert len(gate.checks) == 6


def test_a_compare_waiver_names_the_check_and_prints_the_reason():
    policy = ComparePolicy(waive=["compare:flip_rate"], waive_reason="candidate scored on another population")
    ev = CompareEvidence(performance=("auc", 0.0, (0.0, 0.0)), method="shap", importance_rank=1.0,
                         importance_topk=1.0, reason_change=(0.0, 40), faithfulness_delta=0.0,
                         missing={"compare:flip_rate": "no shared rows"})
    gate = evaluate_compare(policy, ev)
    flip = gate.check("compare:flip_rate")
    assert gate.passed and flip.verdict == "waived" and "another population" in flip.message
    assert not evaluate_compare(ComparePolicy(), ev).passed


def test_a_flip_test_on_one_observed_value_is_not_measured_and_blocks():
    X = np.column_stack([np.zeros(40), np.arange(40.0)])  # column 0 holds one value only
    out = flip_test(lambda Z: Z[:, 1] > 20, X, 0, categorical=True, rng=np.random.default_rng(0))
    assert out["rate"] is None and "fewer than two observed values" in out["not_measured"]
    ev = protected_evidence({"attributes": ["sex"], "direct_inputs": ["sex"], "flip_test": {"sex": out}}, "finding")
    gate = evaluate(Policy(require_randomisation_check=False), [_ev()], protected=ev)
    check = gate.check("protected_flip:sex")
    assert check.verdict == "not_measured" and check.blocking and not gate.passed
    waived = evaluate(Policy(require_randomisation_check=False, waive=["protected_flip"],
                             waive_reason="a single-sex portfolio"), [_ev()], protected=ev)
    assert waived.passed and waived.check("protected_flip:sex").verdict == "waived"


def test_a_randomisation_check_that_could_not_refit_is_not_measured_until_waived():
    ev = _ev(randomisation_note="model randomisation failed: the library refused")
    gate = evaluate(Policy(), [ev])
    assert gate.check("randomisation:m").verdict == "not_measured" and not gate.passed
    policy = Policy(waive=["randomisation"], waive_reason="vendor model, no training access")
    gate = evaluate(policy, [ev])
    check = gate.check("randomisation:m")
    assert gate.passed and check.verdict == "waived" and "vendor model" in check.message
    assert gate.passing_explainers == ("m",)


def test_a_waiver_needs_a_reason():
    with pytest.raises(ConfigError, match="waive_reason"):
        parse_config('[policy]\nwaive = ["randomisation"]\n')
    assert parse_config('[policy]\nwaive = ["randomisation"]\nwaive_reason = "x"\n').policy.waive == ["randomisation"]


def test_a_waiver_never_turns_a_measured_failure_into_a_pass():
    policy = Policy(require_randomisation_check=False, waive=["faithfulness"], waive_reason="r")
    gate = evaluate(policy, [_ev(score=0.1, ci=(0.0, 0.2))])
    assert gate.check("faithfulness:m").verdict == "finding" and not gate.passed


def test_fairness_that_cannot_be_judged_is_not_measured_and_blocks():
    ev = ProtectedEvidence(("sex",), (), "fail", fairness={"sex": FairnessEvidence((("f", 10), ("m", 500)), 30)})
    gate = evaluate(Policy(require_randomisation_check=False), [_ev()], protected=ev)
    ratio = gate.check("selection_rate_ratio:sex")
    assert ratio.verdict == "not_measured" and ratio.blocking and not gate.passed


def test_recourse_consistency_without_verified_recourse_is_not_measured():
    (check,) = recourse_checks(Policy(), {"shap": (None, 0)})
    assert check.verdict == "not_measured" and not check.passed and not check.blocking


@pytest.mark.parametrize("decide_on,passes", [("estimate", True), ("interval", False)])
def test_decide_on_interval_uses_the_conservative_bound(decide_on, passes):
    policy = Policy(require_randomisation_check=False, decide_on=decide_on, min_faithfulness_score=0.5)
    gate = evaluate(policy, [_ev(score=0.6, ci=(0.45, 0.7))])
    check = gate.check("faithfulness:m")
    assert check.passed is passes and gate.passed is passes and check.value == 0.6
    assert ("lower 95% bound 0.450" in check.message) is (decide_on == "interval")


@pytest.mark.parametrize("decide_on,passes", [("estimate", True), ("interval", False)])
def test_decide_on_interval_uses_the_upper_bound_of_a_lower_is_better_measure(decide_on, passes):
    ev = ProtectedEvidence(("sex",), ("sex",), "finding", flip_rates={"sex": (0.005, (0.0, 0.02), 400)})
    policy = Policy(require_randomisation_check=False, decide_on=decide_on, max_protected_flip_rate=0.01)
    check = evaluate(policy, [_ev()], protected=ev).check("protected_flip:sex")
    assert check.passed is passes and check.interval == (0.0, 0.02)


def test_an_identity_with_the_reference_does_not_count_toward_min_explainers_passing():
    policy = Policy(require_randomisation_check=False, min_explainers_passing=1)
    gate = evaluate(policy, [_ev("shap", identity_with_reference=True)])
    check = gate.check("explainers_passing")
    assert not gate.passed and check.value == 0.0 and "identity with the reference" in check.message
    assert gate.passing_explainers == ("shap",)  # still passes its own checks (and may give reasons)
    both = evaluate(policy, [_ev("shap", identity_with_reference=True), _ev("lime")])
    assert both.passed and both.check("explainers_passing").value == 1.0


def test_protected_attributes_are_inferred_from_names_case_and_separator_insensitive():
    found = infer_protected(["SEX", "Applicant_Age", "date-of-birth", "Race", "skin_colour", "Ethnicity",
                             "religion", "nationalOrigin", "Citizenship", "marital_status", "duration",
                             "savings", "usage_count", "page"])
    assert found == {"SEX": "sex", "Applicant_Age": "age", "date-of-birth": "age", "Race": "race",
                     "skin_colour": "colour", "Ethnicity": "ethnicity", "religion": "religion",
                     "nationalOrigin": "national origin", "Citizenship": "national origin",
                     "marital_status": "marital status"}


def _compare_evidence(**kw):
    base = dict(performance=("auc", -0.01, (-0.03, 0.02)), method="shap", importance_rank=0.9, importance_topk=1.0,
                reason_change=(0.05, 40), faithfulness_delta=0.0, flip_rate=(0.02, 1000),
                group_gaps={"sex": (0.01, "F", "M")})
    return CompareEvidence(**{**base, **kw})


def test_a_compare_states_the_performance_interval_and_how_many_rows_each_share_is_of():
    """Survivors of the gate/compare.py mutation run (issue #28): the paired interval appended to the performance
    check, the rows behind each share, the adverse-outcome wording of a group gap, and the flip-rate check's
    presence only when it was measured or reported missing."""
    gate = evaluate_compare(ComparePolicy(), _compare_evidence())
    assert gate.passed and [c.name for c in gate.checks] == [
        "compare:performance", "compare:importance_rank", "compare:importance_topk", "compare:reason_change",
        "compare:faithfulness", "compare:flip_rate", "compare:group_flip:sex"]
    assert gate.check("compare:performance").message == (
        "change in auc (candidate - baseline) -0.010 >= -0.02 (paired bootstrap 95% CI -0.030 to +0.020)")
    assert "global importance (shap) 0.900" in gate.check("compare:importance_rank").message
    unnamed = evaluate_compare(ComparePolicy(), _compare_evidence(method=None)).check("compare:faithfulness")
    assert "faithfulness score of the reporting method (candidate" in unnamed.message
    assert "principal reason changed (40 rows) 0.050" in gate.check("compare:reason_change").message
    assert "share of decisions that flip (1000 rows) 0.020" in gate.check("compare:flip_rate").message
    assert "flipped to the adverse outcome between sex groups 'F' and 'M'" in gate.check("compare:group_flip:sex").message
    anyflip = evaluate_compare(ComparePolicy(), _compare_evidence(adverse_flips=False)).check("compare:group_flip:sex")
    assert "rows flipped between sex groups" in anyflip.message
    no_ci = evaluate_compare(ComparePolicy(), _compare_evidence(performance=("auc", -0.01, (None, None))))
    assert "CI" not in no_ci.check("compare:performance").message
    unpaired = evaluate_compare(ComparePolicy(), _compare_evidence(flip_rate=None))
    assert unpaired.passed and unpaired.check("compare:flip_rate") is None


def test_a_group_whose_flip_gap_could_not_be_measured_gets_its_own_blocking_check():
    gone = {"compare:group_flip:age:band": "fewer than 30 rows in a group", "compare:faithfulness": "no scores"}
    gate = evaluate_compare(ComparePolicy(waive=["compare:faithfulness"], waive_reason="r"),
                            _compare_evidence(faithfulness_delta=None, missing=gone))
    age = gate.check("compare:group_flip:age:band")  # a column name may hold a colon
    assert not gate.passed and age.verdict == "not_measured" and age.blocking and age.higher_is_better is False
    assert age.message == "not measured: gap in flips between age:band groups: fewer than 30 rows in a group"
    assert gate.check("compare:group_flip:sex").verdict == "pass"  # measured: not duplicated as not measured
    assert [c.name for c in gate.checks].count("compare:group_flip:sex") == 1
    assert gate.check("compare:faithfulness").verdict == "waived"
    waived = evaluate_compare(ComparePolicy(waive=["compare:group_flip:age:band", "compare:faithfulness"],
                                            waive_reason="r"), _compare_evidence(faithfulness_delta=None, missing=gone))
    assert waived.passed
