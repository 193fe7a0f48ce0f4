"""Every threshold compares inclusively: a value exactly at its threshold passes (``>=`` for a floor, ``<=`` for
a ceiling), just past it fails, and NaN never passes (issue #28: a ``>`` for ``>=`` mutant must fail here)."""

from __future__ import annotations

import math

import pytest

from audit.config import Policy
from audit.gate import direction_checks, evidence_checks, stability_checks, threshold_check

EPS = 1e-9


@pytest.mark.parametrize("higher", [True, False])
def test_the_value_at_the_threshold_passes_and_just_past_it_fails(higher):
    at = threshold_check("x", 0.8, 0.8, "v", higher_is_better=higher)
    past = threshold_check("x", 0.8 - EPS if higher else 0.8 + EPS, 0.8, "v", higher_is_better=higher)
    assert at.passed and not past.passed
    assert (">=" if higher else "<=") in at.message and ("<" if higher else ">") in past.message
    assert not threshold_check("x", math.nan, 0.8, "v", higher_is_better=higher).passed


@pytest.mark.parametrize("higher", [True, False])
def test_the_conservative_bound_at_the_threshold_passes(higher):
    bound = (0.8, 0.9) if higher else (0.7, 0.8)
    ok = threshold_check("x", 0.85 if higher else 0.75, 0.8, "v", higher_is_better=higher, interval=bound,
                         decide_on="interval")
    moved = (0.8 - EPS, 0.9) if higher else (0.7, 0.8 + EPS)
    bad = threshold_check("x", 0.85 if higher else 0.75, 0.8, "v", higher_is_better=higher, interval=moved,
                          decide_on="interval")
    assert ok.passed and not bad.passed


def test_reason_stability_and_direction_words_at_their_limits():
    record = {"share_unchanged": 0.7, "decisions": 10, "redraws": 5, "method": "shap"}
    assert stability_checks(Policy(min_reason_stability=0.7), record, "")[0].passed
    assert not stability_checks(Policy(min_reason_stability=0.7 + EPS), record, "")[0].passed
    summary = {"claims": 4, "confirmed": 3, "contradicted": 1, "non_monotone": 0, "accuracy": 0.75,
               "contradicted_printed": 1, "printed_words": "typical"}
    assert direction_checks(Policy(max_contradicted_reason_words=1), summary)[0].passed
    assert not direction_checks(Policy(max_contradicted_reason_words=0), summary)[0].passed


def _evidence(ece=0.05, psi=0.1, violation=0.05):
    return {"calibration": {"ece": ece}, "not_measured": {},
            "population_stability": {"data_role": "holdout", "score": {"psi": psi},
                                     "inputs": {"a": {"psi": psi, "unseen_categories": []}}},
            "expected_directions": {"a": {"violation_share": violation, "rows": 100, "expected": "decreasing",
                                          "tolerance": 0.01, "ale_change": -0.2, "ale_agrees": True}}}


def test_validation_thresholds_are_inclusive():
    policy = Policy(max_calibration_error=0.05, psi_finding=0.1, psi_fail=0.25, max_direction_violation=0.05)
    at = {c.name: c for c in evidence_checks(policy, _evidence())}
    assert all(c.passed for c in at.values()), [c.message for c in at.values() if not c.passed]
    past = {c.name: c for c in evidence_checks(policy, _evidence(0.05 + EPS, 0.1 + EPS, 0.05 + EPS))}
    assert past["calibration_error"].verdict == "fail"
    assert past["population_stability:score"].verdict == "finding"
    assert past["characteristic_stability:a"].verdict == "finding"
    assert past["expected_direction:a"].verdict == "fail"
    assert evidence_checks(policy, _evidence(psi=0.25))[0:2][1].verdict == "finding"
    assert {c.name: c for c in evidence_checks(policy, _evidence(psi=0.25 + EPS))}[
        "population_stability:score"].verdict == "fail"


@pytest.mark.parametrize("signed,absolute", [(0.3, math.nan), (math.nan, 0.3)])
def test_a_nan_in_either_randomisation_similarity_never_passes(signed, absolute):
    """max(0.3, nan) is 0.3 in Python: a NaN correlation of the sizes must not be dropped silently."""
    from audit.gate import ExplainerEvidence, explainer_checks

    ev = ExplainerEvidence(name="lime", score=0.9, score_ci=(0.8, 0.95), randomisation_similarity=signed,
                           randomisation_similarity_abs=absolute)
    check = next(c for c in explainer_checks(Policy(), ev) if c.kind == "randomisation")
    assert not check.passed
    ok = ExplainerEvidence(name="lime", score=0.9, score_ci=(0.8, 0.95), randomisation_similarity=0.3,
                           randomisation_similarity_abs=0.2)
    assert next(c for c in explainer_checks(Policy(), ok) if c.kind == "randomisation").passed


def test_input_stability_findings_strongest_first_and_a_summary_only_when_none_shifted():
    """Mutation survivors of audit/gate/evidence.py (issue #28): the shifted inputs' findings were never
    checked for their order, and the one summary check when no input shifted was never checked at all."""
    policy = Policy(psi_finding=0.1, psi_fail=0.25)
    record = _evidence(psi=0.05)
    record["population_stability"]["inputs"] = {"a": {"psi": 0.12, "unseen_categories": []},
                                                "b": {"psi": 0.3, "unseen_categories": list("uvwxyz")},
                                                "c": {"psi": 0.01, "unseen_categories": []}}
    found = [c for c in evidence_checks(policy, record) if c.name.startswith("characteristic")]
    assert [c.name for c in found] == ["characteristic_stability:b", "characteristic_stability:a"]  # strongest first
    assert "categories absent from the reference: u, v, w, x, y)" in found[0].message  # at most five named
    assert not found[0].blocking and not found[0].higher_is_better
    record["population_stability"]["inputs"] = {"a": {"psi": 0.02, "unseen_categories": []},
                                                "c": {"psi": 0.1, "unseen_categories": []}}  # c at the threshold
    summary = [c for c in evidence_checks(policy, record) if c.name.startswith("characteristic")]
    assert [c.name for c in summary] == ["characteristic_stability"]
    assert summary[0].passed and summary[0].value == 0.1 and "(c)" in summary[0].message
    assert not summary[0].blocking and not summary[0].higher_is_better
    record["population_stability"]["score"] = None  # the score's PSI not measured: no check on it, inputs still
    checks = {c.name for c in evidence_checks(policy, record)}
    assert "population_stability:score" not in checks and "characteristic_stability" in checks


def test_calibration_not_measured_is_not_required_with_the_records_reason():
    policy = Policy(max_calibration_error=0.05)
    record = _evidence()
    record["calibration"], record["not_measured"] = None, {"calibration": "no target column was given"}
    check = next(c for c in evidence_checks(policy, record) if c.name == "calibration_error")
    assert check.status == "not_required" and "no target column was given" in check.message
    assert not check.higher_is_better


def test_reason_checks_without_evidence_are_not_required_and_an_unmeasured_recourse_check_can_be_waived():
    """Survivors of the gate/reasons.py mutation run (issue #28): the not-required branches of the direction-word
    and reason-stability checks, and policy.waive on the recourse consistency check, had no test."""
    from audit.gate import recourse_checks

    words = direction_checks(Policy(), {"claims": 0})
    assert [(c.name, c.status, c.passed) for c in words] == [("reason_directions", "not_required", True)]
    assert "no adverse reason on a numeric input carries a direction word" in words[0].message
    stable = stability_checks(Policy(reason_stability_blocks=True), None, "one explainer passed")
    assert [(c.name, c.status, c.blocking) for c in stable] == [("reason_stability", "not_required", True)]
    assert "one explainer passed" in stable[0].message
    assert words[0].higher_is_better is False and stable[0].higher_is_better is True  # results.json's direction
    policy = Policy(waive=["recourse_consistency:lime"], waive_reason="no recourse search for LIME yet")
    checks = recourse_checks(policy, {"lime": (None, 0)})
    assert checks[0].status == "waived" and checks[0].passed and "no recourse search for LIME yet" in checks[0].message


def _parity(faith_gap=0.3, stability_gap=None):
    groups = [{"group": "F", "faithfulness_score": 0.9, "reason_stability": 0.8},
              {"group": "M", "faithfulness_score": 0.6,
               "reason_stability": None if stability_gap is None else 0.8 - stability_gap},
              {"group": "X", "faithfulness_score": None, "reason_stability": None}]  # too small: never high or low
    return {"attributes": {"sex": groups}, "gaps": {"sex": {"faithfulness": faith_gap, "reason_stability": stability_gap}},
            "method": "shap", "min_group_size": 30}


def test_explanation_parity_gaps_at_the_limit_name_the_groups_and_block_only_when_the_key_is_set():
    """Survivors of the gate/reasons.py mutation run (issue #28): the explanation-parity checks had no test of
    their own (the loop over attributes deleted, the groups named, the blocking rule, the gap at the threshold)."""
    from audit.gate import explanation_parity_checks

    default = {c.name: c for c in explanation_parity_checks(Policy(), _parity(faith_gap=0.2 + EPS))}
    assert list(default) == ["explanation_gap:sex", "reason_stability_gap:sex"]
    gap = default["explanation_gap:sex"]
    assert (gap.verdict, gap.blocking, gap.higher_is_better, gap.value, gap.threshold) == (
        "finding", False, False, 0.2 + EPS, 0.2)
    assert "shap between groups of 'sex' ('F' 0.900, 'M' 0.600)" in gap.message
    assert "less accurate for one group" in gap.message
    unmeasured = default["reason_stability_gap:sex"]
    assert (unmeasured.status, unmeasured.passed, unmeasured.blocking, unmeasured.higher_is_better) == (
        "not_measured", False, False, False)
    assert "reason stability of shap per group of 'sex': fewer than two groups have 30 adverse decisions" in \
        unmeasured.message
    strict = Policy(max_explanation_gap=0.3)
    at = {c.name: c for c in explanation_parity_checks(strict, _parity(faith_gap=0.3, stability_gap=0.3))}
    assert at["explanation_gap:sex"].passed and at["explanation_gap:sex"].blocking
    assert at["reason_stability_gap:sex"].passed and "('F' 0.800, 'M' 0.500)" in at["reason_stability_gap:sex"].message
    past = {c.name: c for c in explanation_parity_checks(strict, _parity(faith_gap=0.3 + EPS))}
    assert past["explanation_gap:sex"].verdict == "fail"
    assert past["reason_stability_gap:sex"].verdict == "not_measured" and past["reason_stability_gap:sex"].blocking
    waived = explanation_parity_checks(Policy(waive=["reason_stability_gap"], waive_reason="small portfolio"),
                                       _parity())
    assert [c.status for c in waived] == ["measured", "waived"] and "small portfolio" in waived[1].message


def test_explanation_parity_without_attributes_is_not_required_only_when_the_record_says_why():
    from audit.gate import explanation_parity_checks

    assert explanation_parity_checks(Policy(), {"attributes": {}}) == []
    checks = explanation_parity_checks(Policy(), {"attributes": {}, "not_measured": "no explainer gave reasons"})
    assert [(c.name, c.status, c.passed, c.blocking, c.higher_is_better) for c in checks] == [
        ("explanation_gap", "not_required", True, False, False)]
    assert checks[0].message == "not required: explanation parity: no explainer gave reasons"


def test_direction_words_say_how_they_were_printed_and_record_the_threshold_as_a_number():
    """Survivors of the gate/reasons.py mutation run (issue #28): which sentence says how the words were printed
    (``==`` -> ``!=``), the threshold recorded as a float, and a not-measured recourse check's direction."""
    from audit.gate import recourse_checks

    summary = {"claims": 4, "confirmed": 4, "contradicted": 0, "non_monotone": 0, "accuracy": 1.0,
               "contradicted_printed": 0}
    verified = direction_checks(Policy(), {**summary, "printed_words": "verified"})[0]
    typical = direction_checks(Policy(), {**summary, "printed_words": "typical"})[0]
    assert "words printed only where the model confirms them)" in verified.message
    assert "report.direction_words = 'typical'" in typical.message and "confirms them" not in typical.message
    assert type(verified.threshold) is float and verified.message.endswith("<= 0.0")
    unmeasured = recourse_checks(Policy(), {"lime": (None, 0)})[0]
    assert unmeasured.higher_is_better is True and unmeasured.to_json()["higher_is_better"] is True


def test_a_checks_parts_verdict_and_defaults_are_what_the_report_and_results_read():
    """The report finds a check by its kind and subject (the parts of its name); every check blocks unless its
    caller says otherwise; ``passed`` is a JSON bool even for numpy inputs (a numpy bool is not serialisable)."""
    import json

    import numpy as np

    from audit.gate.checks import Check, meets, not_measured, not_required

    flip = threshold_check("protected_flip:sex", np.float64(0.02), 0.01, "flip rate", higher_is_better=False)
    assert (flip.kind, flip.subject, flip.verdict, flip.blocking) == ("protected_flip", "sex", "fail", True)
    assert Check("explainers_passing", True, 1.0, 1.0, "m").subject is None
    assert Check("explainers_passing", True, 1.0, 1.0, "m").blocking is True
    assert Check("compare:auc:shap", True, 1.0, 1.0, "m").subject == "auc:shap"
    assert not_measured("x:y", None, "why").blocking is True and not_required("x:y", None, "why").blocking is True
    assert type(meets(np.float64(0.5), np.float64(0.5), higher_is_better=True)) is bool
    json.dumps(flip.to_json())
