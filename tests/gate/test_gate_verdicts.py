"""The gate's verdict on hand-built evidence: every threshold at, just above and just below its boundary.

Expected verdicts are read off the policy text in README/DESIGN (">= minimum passes", "<= maximum
passes"), never from the gate's own output. Each test names the defect it is written to catch.
"""

from __future__ import annotations

import pytest

from audit.config import ExplainerPolicy, Policy
from audit.gate import AgreementEvidence, Check, ExplainerEvidence, ProtectedEvidence, evaluate

NAN = float("nan")


def _policy(**kw) -> Policy:
    return Policy(require_randomisation_check=False, **kw)


def _ev(name: str = "m", score: float = 0.9, **kw) -> ExplainerEvidence:
    return ExplainerEvidence(name, score, (score - 0.1, score + 0.1), **kw)


# --- faithfulness score -------------------------------------------------------------------------

@pytest.mark.parametrize("score,passes", [(0.5, True), (0.5 + 1e-9, True), (0.5 - 1e-9, False), (NAN, False)])
def test_faithfulness_score_boundary_and_nan(score, passes):
    """Fails if ``>=`` becomes ``>`` (a score equal to the minimum fails), if the comparison flips, or if
    the NaN guard is dropped or inverted (NaN compares False both ways, so ``not score < t`` would pass)."""
    gate = evaluate(_policy(min_faithfulness_score=0.5), [_ev(score=score)])
    check = gate.check("faithfulness:m")
    assert check.passed is passes and gate.passed is passes
    assert check.threshold == 0.5 and check.higher_is_better is True and check.blocking is False
    assert check.explainer == "m"
    if score != score:  # NaN: not measured, never a pass
        assert check.status == "not_measured" and check.value is None and "not measured" in check.message
    else:
        assert (">= 0.5" if passes else "< 0.5") in check.message


def test_nan_score_fails_even_with_a_minimum_of_minus_one():
    """A NaN score (no informative metric) is no evidence: it must fail at the lowest allowed minimum."""
    gate = evaluate(_policy(min_faithfulness_score=-1.0), [_ev(score=NAN)])
    assert not gate.check("faithfulness:m").passed and not gate.passed
    assert gate.check("faithfulness:m").verdict == "not_measured"


def test_faithfulness_message_carries_the_score_and_its_interval():
    check = evaluate(_policy(), [_ev(score=0.75)]).check("faithfulness:m")
    assert "0.750 (95% CI 0.650..0.850)" in check.message


# --- additivity, stability ----------------------------------------------------------------------

@pytest.mark.parametrize("err,passes", [(0.01, True), (0.0, True), (0.0100001, False), (5.0, False)])
def test_additivity_error_is_a_maximum(err, passes):
    """Fails if ``<=`` turns into ``<`` or ``>=`` (exact additivity would then fail, or any error pass)."""
    gate = evaluate(_policy(max_additivity_error=0.01), [_ev(additivity_error=err)])
    check = gate.check("additivity:m")
    assert check.passed is passes and check.value == err and check.threshold == 0.01
    assert check.higher_is_better is False and gate.passed is passes


def test_no_additivity_check_when_the_method_promises_none():
    gate = evaluate(_policy(), [_ev(additivity_error=None)])
    assert gate.check("additivity:m") is None


@pytest.mark.parametrize("stab,passes", [(0.6, True), (1.0, True), (0.59, False), (0.0, False)])
def test_stability_is_a_minimum(stab, passes):
    """Fails if stability is not compared with ``min_stability`` (e.g. always passes, or ``>`` used)."""
    gate = evaluate(_policy(min_stability=0.6), [_ev(stability=stab)])
    check = gate.check("stability:m")
    assert check.passed is passes and check.value == stab and check.threshold == 0.6
    assert gate.passed is passes and check.higher_is_better is True


def test_per_explainer_overrides_apply_to_their_explainer_only():
    """Fails if the override leaks to other explainers or the global value wins over it."""
    policy = _policy(min_stability=0.9, max_additivity_error=0.5,
                     explainers={"lime": ExplainerPolicy(min_stability=0.2, max_additivity_error=0.001)})
    gate = evaluate(policy, [_ev("lime", stability=0.3, additivity_error=0.01),
                             _ev("shap", stability=0.3, additivity_error=0.01)])
    assert gate.check("stability:lime").threshold == 0.2 and gate.check("stability:lime").passed
    assert gate.check("stability:shap").threshold == 0.9 and not gate.check("stability:shap").passed
    assert gate.check("additivity:lime").threshold == 0.001 and not gate.check("additivity:lime").passed
    assert gate.check("additivity:shap").threshold == 0.5 and gate.check("additivity:shap").passed
    assert gate.passing_explainers == ()


# --- randomisation ------------------------------------------------------------------------------

@pytest.mark.parametrize("signed,absolute,worst,passes", [
    (0.5, None, 0.5, True), (0.2, 0.5, 0.5, True), (0.2, 0.51, 0.51, False), (0.51, 0.1, 0.51, False),
    (-0.9, None, -0.9, True)])
def test_randomisation_uses_the_worse_of_signed_and_absolute(signed, absolute, worst, passes):
    """Fails if the check reads only one of the two similarities, uses min, or compares the wrong way."""
    gate = evaluate(_policy(max_randomisation_similarity=0.5),
                    [_ev(randomisation_similarity=signed, randomisation_similarity_abs=absolute)])
    check = gate.check("randomisation:m")
    assert check.value == pytest.approx(worst) and check.passed is passes and check.threshold == 0.5


def test_a_required_randomisation_check_that_did_not_run_fails():
    """Fails if a missing randomisation check is silently skipped when the policy requires it."""
    gate = evaluate(Policy(), [_ev(randomisation_note="no target column")])
    check = gate.check("randomisation:m")
    assert not check.passed and check.value is None and "no target column" in check.message
    assert check.verdict == "not_measured" and not gate.passed
    unrequired = evaluate(_policy(), [_ev()]).check("randomisation:m")
    assert unrequired.passed and unrequired.verdict == "not_required" and unrequired.message.startswith("not required")


# --- metric minimums ----------------------------------------------------------------------------

def test_metric_minimums_are_evaluated_at_their_boundary():
    """Fails if ``metric_minimums`` are parsed but not compared, or compared with ``>``."""
    policy = _policy(metric_minimums={"deletion_auc": 0.3, "monotonicity": 0.5})
    gate = evaluate(policy, [_ev(metric_scores={"deletion_auc": 0.3, "monotonicity": 0.49})])
    assert gate.check("metric:deletion_auc:m").passed
    mono = gate.check("metric:monotonicity:m")
    assert not mono.passed and mono.value == 0.49 and mono.threshold == 0.5 and not mono.blocking
    assert "0.490 < 0.5" in mono.message
    assert gate.passing_explainers == () and not gate.passed


def test_per_explainer_metric_minimums_merge_over_the_global_ones():
    """Per-explainer entries replace the global value for that metric and add new metrics; the global
    entries still apply. Fails if the merge order is reversed or either side is dropped."""
    policy = _policy(metric_minimums={"deletion_auc": 0.3, "insertion_auc": 0.2},
                     explainers={"lime": ExplainerPolicy(metric_minimums={"deletion_auc": 0.8, "sufficiency": 0.1})})
    scores = {"deletion_auc": 0.5, "insertion_auc": 0.25, "sufficiency": 0.05}
    gate = evaluate(policy, [_ev("lime", metric_scores=scores), _ev("shap", metric_scores=scores)])
    lime = {c.name: (c.threshold, c.passed) for c in gate.checks if c.name.startswith("metric:") and c.explainer == "lime"}
    shap = {c.name: (c.threshold, c.passed) for c in gate.checks if c.name.startswith("metric:") and c.explainer == "shap"}
    assert lime == {"metric:deletion_auc:lime": (0.8, False), "metric:insertion_auc:lime": (0.2, True),
                    "metric:sufficiency:lime": (0.1, False)}
    assert shap == {"metric:deletion_auc:shap": (0.3, True), "metric:insertion_auc:shap": (0.2, True)}
    assert gate.passing_explainers == ("shap",) and gate.passed


def test_a_missing_metric_value_fails_its_minimum():
    """The 'missing value fails' branch: a metric that was not measured cannot show a minimum is met,
    even a minimum below any possible score."""
    gate = evaluate(_policy(metric_minimums={"infidelity": -5.0}), [_ev(metric_scores={})])
    check = gate.check("metric:infidelity:m")
    assert not check.passed and check.value is None and check.verdict == "not_measured"
    assert "uninformative" not in check.message


# --- counting passers, required explainers ------------------------------------------------------

@pytest.mark.parametrize("need,passes", [(0, True), (1, True), (2, True), (3, False)])
def test_min_explainers_passing_counts_only_explainers_that_pass_everything(need, passes):
    """Two of three explainers pass. Fails if the count includes the failing one, is off by one, or the
    comparison is strict."""
    evidence = [_ev("a"), _ev("b"), _ev("c", stability=0.1)]
    gate = evaluate(_policy(min_explainers_passing=need), evidence)
    check = gate.check("explainers_passing")
    assert check.value == 2.0 and check.threshold == float(need) and check.passed is passes
    assert gate.passed is passes and check.blocking
    assert gate.passing_explainers == ("a", "b")
    assert "2 explainer(s) passed every check (a, b); need" in check.message


def test_no_passer_is_named_none():
    gate = evaluate(_policy(), [_ev(score=0.0)])
    assert "(none)" in gate.check("explainers_passing").message and not gate.passed


def test_a_required_explainer_that_never_ran_fails_the_gate():
    """A required explainer missing from the evidence (not supported, or skipped) must block the gate
    even when enough other explainers pass."""
    policy = _policy(explainers={"shap": ExplainerPolicy(required=True)})
    gate = evaluate(policy, [_ev("lime")])
    check = gate.check("required:shap")
    assert check is not None and not check.passed and check.blocking and check.verdict == "fail"
    assert gate.check("explainers_passing").passed and not gate.passed
    assert "did not pass" in check.message


def test_a_required_explainer_that_fails_one_check_blocks_and_one_that_passes_does_not():
    policy = _policy(explainers={"shap": ExplainerPolicy(required=True), "lime": ExplainerPolicy()})
    failing = evaluate(policy, [_ev("lime"), _ev("shap", stability=0.0)])
    assert not failing.passed and not failing.check("required:shap").passed
    passing = evaluate(policy, [_ev("lime"), _ev("shap")])
    assert passing.passed and passing.check("required:shap").passed and "passed its checks" in \
        passing.check("required:shap").message
    assert passing.check("required:lime") is None


# --- protected attributes -----------------------------------------------------------------------

@pytest.mark.parametrize("share,passes", [(0.2, True), (0.0, True), (0.2000001, False)])
def test_protected_share_is_a_blocking_maximum(share, passes):
    gate = evaluate(_policy(max_protected_share=0.2), [_ev("a")], {"a": share})
    check = gate.check("protected:a")
    assert check.passed is passes and check.blocking and gate.passed is passes and check.value == share


def test_direct_protected_input_blocks_or_is_a_finding():
    """Fails if ``input_action`` is ignored or an attribute that is not an input is reported as one."""
    ev = ProtectedEvidence(attributes=("sex", "race"), direct_inputs=("sex",), input_action="fail")
    gate = evaluate(_policy(), [_ev()], protected=ev)
    sex, race = gate.check("protected_input:sex"), gate.check("protected_input:race")
    assert not sex.passed and sex.blocking and sex.value == 1.0 and sex.threshold == 0.0
    assert race.passed and race.value == 0.0 and "not a model input" in race.message
    assert not gate.passed
    finding = evaluate(_policy(), [_ev()], protected=ProtectedEvidence(("sex",), ("sex",), "finding"))
    sex = finding.check("protected_input:sex")
    assert not sex.passed and not sex.blocking and sex.verdict == "finding" and finding.passed


@pytest.mark.parametrize("rate,passes", [(0.01, True), (0.0, True), (0.0101, False)])
def test_flip_rate_is_a_blocking_maximum(rate, passes):
    ev = ProtectedEvidence(("sex",), (), flip_rates={"sex": (rate, (0.0, 0.05), 200)})
    gate = evaluate(_policy(max_protected_flip_rate=0.01), [_ev()], protected=ev)
    check = gate.check("protected_flip:sex")
    assert check.passed is passes and check.blocking and gate.passed is passes and check.value == rate
    assert "200 real rows" in check.message


@pytest.mark.parametrize("nmi,passes", [(0.3, True), (0.31, False)])
def test_proxy_association_is_gated_only_when_a_maximum_is_set(nmi, passes):
    ev = ProtectedEvidence(("sex",), (), strongest_proxy={"sex": ("job", nmi)})
    gate = evaluate(_policy(max_proxy_association=0.3), [_ev()], protected=ev)
    check = gate.check("protected_proxy:sex")
    assert check.passed is passes and gate.passed is passes and "'job'" in check.message
    assert evaluate(_policy(), [_ev()], protected=ev).check("protected_proxy:sex") is None


# --- agreement ----------------------------------------------------------------------------------

def _agreement(rank_ab: float, topk_ab: float) -> AgreementEvidence:
    return AgreementEvidence(("a", "b", "c"), ((1, rank_ab, 0.0), (rank_ab, 1, 0.0), (0.0, 0.0, 1)),
                             ((1, topk_ab, 0.0), (topk_ab, 1, 0.0), (0.0, 0.0, 1)))


@pytest.mark.parametrize("value,passes", [(0.4, True), (0.39, False)])
def test_agreement_between_passing_explainers_is_a_minimum(value, passes):
    """c fails its own checks, so its zero agreement must not count. Fails if the comparison is
    strict, if non-passing explainers are compared, or if the best rather than the worst pair is used."""
    evidence = [_ev("a"), _ev("b"), _ev("c", score=0.0)]
    gate = evaluate(_policy(min_method_agreement=0.4, min_topk_agreement=0.4), evidence,
                    agreement=_agreement(value, value))
    for name in ("agreement:rank", "agreement:topk"):
        check = gate.check(name)
        assert check.value == value and check.passed is passes and check.blocking
    assert gate.passed is passes


def test_agreement_reports_the_least_agreeing_pair():
    ev = AgreementEvidence(("a", "b", "c"), ((1, 0.9, 0.5), (0.9, 1, 0.7), (0.5, 0.7, 1)),
                           ((1, 0.6, 0.9), (0.6, 1, 0.8), (0.9, 0.8, 1)))
    gate = evaluate(_policy(min_method_agreement=0.0, min_topk_agreement=0.0), [_ev(n) for n in "abc"],
                    agreement=ev)
    assert gate.check("agreement:rank").value == 0.5 and "a and c" in gate.check("agreement:rank").message
    assert gate.check("agreement:topk").value == 0.6 and "a and b" in gate.check("agreement:topk").message


# --- the Check value type -----------------------------------------------------------------------

def test_check_verdicts_roles_and_json():
    """Fails if a non-blocking failure is reported as a blocking 'fail' (or vice versa)."""
    assert Check("x", True, 1.0, 0.5, "", blocking=True).verdict == "pass"
    assert Check("x", True, 1.0, 0.5, "", blocking=False).verdict == "pass"
    assert Check("x", False, 0.0, 0.5, "", blocking=True).verdict == "fail"
    assert Check("x", False, 0.0, 0.5, "", explainer="lime", blocking=False).verdict == "finding"
    assert Check("x", False, 0.0, 0.5, "", blocking=True).role == "blocks the gate when it fails"
    assert "lime" in Check("x", False, 0.0, 0.5, "", explainer="lime", blocking=False).role
    js = Check("x", False, 0.0, 0.5, "msg", explainer="e", blocking=False, higher_is_better=True).to_json()
    assert js == {"name": "x", "passed": False, "value": 0.0, "threshold": 0.5, "message": "msg", "explainer": "e",
                  "blocking": False, "verdict": "finding", "higher_is_better": True, "status": "measured",
                  "interval": None}


def test_gate_json_and_failed_list():
    gate = evaluate(_policy(), [_ev("a"), _ev("b", score=0.1)])
    js = gate.to_json()
    assert js["passed"] is True and js["passing_explainers"] == ["a"]
    assert [c.name for c in gate.failed] == ["faithfulness:b"]
    assert gate.check("nope") is None


def test_agreement_is_not_assessed_with_fewer_than_two_passers_and_does_not_block():
    """Fails if the 'not assessed' checks fail the gate, or name a passer that is not there."""
    ev = AgreementEvidence(("a", "b"), ((1, -1.0), (-1.0, 1)), ((1, 0.0), (0.0, 1)))
    one = evaluate(_policy(), [_ev("a"), _ev("b", score=0.0)], agreement=ev)
    none = evaluate(_policy(min_explainers_passing=0), [_ev("a", score=0.0)], agreement=ev)
    for gate, who in ((one, "(a)"), (none, "(none)")):
        for name in ("agreement:rank", "agreement:topk"):
            check = gate.check(name)
            assert check.passed and check.value is None and check.verdict == "not_required"
            assert "no pair to compare" in check.message and who in check.message
            assert check.higher_is_better is True and check.blocking
    assert one.passed and none.passed
    assert one.check("agreement:rank").threshold == 0.4 and one.check("agreement:topk").threshold == 0.4
    two = evaluate(_policy(min_topk_agreement=0.0, min_method_agreement=-1.0), [_ev("a"), _ev("b")], agreement=ev)
    assert "mean top-3 overlap" in two.check("agreement:topk").message


def test_summary_checks_declare_their_direction():
    gate = evaluate(_policy(), [_ev("a")], {"a": 0.1})
    assert gate.check("explainers_passing").higher_is_better is True
    assert gate.check("protected:a").higher_is_better is False


@pytest.mark.parametrize("value", [
    Check("x", True, 1.0, 0.5, ""), evaluate(_policy(), [_ev()]), _ev(), ProtectedEvidence(),
    AgreementEvidence(("a",), ((1.0,),), ((1.0,),))])
def test_evidence_and_verdicts_are_frozen(value):
    """The report reads these values and must not be able to change a verdict after the gate."""
    import dataclasses

    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, None)


@pytest.mark.parametrize("name,evidence,policy", [
    ("faithfulness", {"score": 0.0}, {}),
    ("additivity", {"additivity_error": 1.0}, {}),
    ("stability", {"stability": 0.0}, {}),
    ("randomisation", {"randomisation_similarity": 0.9}, {}),
    ("randomisation", {}, {"require_randomisation_check": True}),
    ("metric:sufficiency", {"metric_scores": {"sufficiency": 0.0}}, {"metric_minimums": {"sufficiency": 0.5}}),
])
def test_a_per_explainer_failure_is_a_finding_when_another_explainer_passes(name, evidence, policy):
    """Per-explainer checks never block by themselves (DESIGN: the gate passes when enough explainers
    pass). Fails if one of them is made blocking, or gets the wrong direction."""
    kw = {"require_randomisation_check": False, **policy}
    good = {"randomisation_similarity": 0.0} if kw["require_randomisation_check"] else {}
    good["metric_scores"] = {"sufficiency": 1.0}
    gate = evaluate(Policy(**kw), [_ev("bad", **evidence), _ev("good", **good)])
    check = gate.check(f"{name}:bad")
    assert not check.passed and not check.blocking
    assert check.verdict == ("not_measured" if check.value is None else "finding")
    assert check.higher_is_better is (name not in ("additivity", "randomisation"))
    assert gate.passed and gate.passing_explainers == ("good",)


def test_protected_and_agreement_checks_declare_their_direction_and_blocking():
    """The report draws 'lower is better' from ``higher_is_better``; fails if a protected check claims
    higher is better, or a non-input attribute under input_action 'finding' stops blocking."""
    ev = ProtectedEvidence(("sex", "race"), ("sex",), "finding", flip_rates={"sex": (0.0, (0.0, 0.0), 10)},
                           strongest_proxy={"sex": ("job", 0.1)})
    gate = evaluate(_policy(max_proxy_association=0.5), [_ev("a"), _ev("b")], protected=ev,
                    agreement=_agreement(0.9, 0.9))
    for name in ("protected_input:sex", "protected_input:race", "protected_flip:sex", "protected_proxy:sex"):
        assert gate.check(name).higher_is_better is False, name
    assert gate.check("protected_input:race").blocking and not gate.check("protected_input:sex").blocking
    assert gate.check("protected_flip:sex").blocking and gate.check("protected_proxy:sex").blocking
    for name in ("agreement:rank", "agreement:topk"):
        assert gate.check(name).higher_is_better is True


def test_default_wording_of_the_randomisation_checks():
    ran = evaluate(_policy(), [_ev(randomisation_similarity=0.1)]).check("randomisation:m")
    assert "(refit on permuted labels)" in ran.message and "depends on what the model learned" in ran.message
    named = evaluate(_policy(), [_ev(randomisation_similarity=0.1, randomisation_method="cascading")])
    assert "(cascading)" in named.check("randomisation:m").message
    missing = evaluate(Policy(), [_ev()]).check("randomisation:m")
    assert missing.message.endswith("not run: no target column") and missing.threshold == 0.5


def test_two_passers_in_full_agreement_are_named_as_the_pair():
    ev = AgreementEvidence(("a", "b"), ((1.0, 1.0), (1.0, 1.0)), ((1.0, 1.0), (1.0, 1.0)))
    gate = evaluate(_policy(), [_ev("a"), _ev("b")], agreement=ev)
    assert "a and b" in gate.check("agreement:rank").message and gate.check("agreement:rank").value == 1.0
