"""The gate: which checks block, per-explainer thresholds, and the verdict the report reads."""

from __future__ import annotations

from audit.config import ExplainerPolicy, Policy
from audit.gate import ExplainerEvidence, evaluate


def _ev(name, score, **kw):
    return ExplainerEvidence(name, score, (score - 0.1, score + 0.1), **kw)


def test_a_failing_explainer_is_a_non_blocking_finding_when_another_passes():
    policy = Policy(require_randomisation_check=False)
    gate = evaluate(policy, [_ev("good", 0.9), _ev("bad", 0.1)])
    assert gate.passed and gate.passing_explainers == ("good",)
    bad = gate.check("faithfulness:bad")
    assert not bad.passed and not bad.blocking and bad.verdict == "finding"
    assert "explainers_passing" in bad.role
    assert gate.check("explainers_passing").blocking and gate.check("explainers_passing").verdict == "pass"
    assert [c.name for c in gate.failed] == ["faithfulness:bad"]


def test_blocking_checks_decide_the_gate():
    policy = Policy(require_randomisation_check=False, min_explainers_passing=2, max_protected_share=0.2)
    gate = evaluate(policy, [_ev("a", 0.9), _ev("b", 0.1)], {"a": 0.5})
    assert not gate.passed
    assert {c.name for c in gate.failed if c.blocking} == {"explainers_passing", "protected:a"}
    assert gate.check("protected:a").verdict == "fail"


def test_per_explainer_threshold_of_zero_is_applied_as_zero():
    """A per-explainer 0.0 must not fall back to the global 0.5 (the report once printed 0.5)."""
    policy = Policy(require_randomisation_check=False,
                    explainers={"lime": ExplainerPolicy(min_faithfulness_score=0.0)})
    gate = evaluate(policy, [_ev("lime", 0.1)])
    check = gate.check("faithfulness:lime")
    assert check.threshold == 0.0 and check.passed


def test_results_json_carries_blocking_and_verdict():
    gate = evaluate(Policy(require_randomisation_check=False), [_ev("x", 0.2)])
    js = gate.to_json()["checks"]
    assert {c["name"]: (c["blocking"], c["verdict"]) for c in js} == {
        "faithfulness:x": (False, "finding"), "randomisation:x": (False, "not_required"),
        "explainers_passing": (True, "fail")}


def test_a_minimum_on_an_uninformative_metric_says_so():
    policy = Policy(require_randomisation_check=False, metric_minimums={"deletion_auc": 0.3})
    gate = evaluate(policy, [_ev("x", 0.9, metric_scores={"deletion_auc": None},
                                 uninformative_metrics=("deletion_auc",))])
    check = gate.check("metric:deletion_auc:x")
    assert not check.passed and "uninformative on this model" in check.message


def test_performance_floors_block_and_say_when_they_cannot_be_measured():
    """Fails if a floor is ignored, compared the wrong way, or passes silently without a target."""
    policy = Policy(require_randomisation_check=False, min_auc=0.7, min_r2=0.5)
    perf = {"auc": 0.65, "accuracy": 0.8, "data_role": "holdout"}
    gate = evaluate(policy, [_ev("x", 0.9)], performance=perf)
    auc = gate.check("performance:auc")
    assert not gate.passed and not auc.passed and auc.blocking and auc.value == 0.65 and "holdout" in auc.message
    r2 = gate.check("performance:r2")
    assert not r2.passed and "does not apply" in r2.message
    gate = evaluate(Policy(require_randomisation_check=False, min_auc=0.6), [_ev("x", 0.9)], performance=perf)
    assert gate.passed and gate.check("performance:auc").passed
    gate = evaluate(Policy(require_randomisation_check=False, min_accuracy=0.5), [_ev("x", 0.9)], performance=None)
    assert not gate.passed and "no target column" in gate.check("performance:accuracy").message
    assert evaluate(Policy(require_randomisation_check=False), [_ev("x", 0.9)], performance=perf).check(
        "performance:auc") is None
