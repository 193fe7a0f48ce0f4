"""``audit compare``'s measures as pure functions of two audits' records, against values counted here by hand
(issue #28: the module's tests ran whole audits and left most of the record's fields unpinned): decision flips
and their groups, the principal-reason change, importance drift and the gated method, the results-file mode's
performance and flips, what is missing and why, the warnings, the report settings and the gate's evidence."""

from __future__ import annotations

import numpy as np
import pytest

from audit.commands.compare import (
    AVAILABILITY,
    _evidence,
    _flips,
    _missing,
    _performance,
    _report,
    _same_task,
    _side,
    _warnings,
    compare_results,
    decision_flips,
    explanation_drift,
    reason_change,
)
from audit.config import parse_config
from audit.errors import DataError


def test_flips_count_each_direction_and_every_transition():
    base = np.array(["good", "good", "bad", "bad", "good", "bad"])
    cand = np.array(["bad", "good", "good", "bad", "bad", "bad"])
    f = decision_flips(base, cand, "good", {}, min_rows=1)
    assert f == {"rows": 6, "flipped": 3, "rate": 0.5, "favorable_class": "good",
                 "transitions": {"bad -> good": 1, "good -> bad": 2}, "min_group_rows": 1, "to_adverse": 2,
                 "to_favourable": 1, "by_group": {}}
    assert type(f["rate"]) is float and type(f["flipped"]) is int
    plain = decision_flips(base, cand, None, {}, min_rows=1)
    assert "to_adverse" not in plain and "to_favourable" not in plain and plain["flipped"] == 3


def test_group_flips_rate_each_group_and_take_the_gap_between_the_extremes():
    base = np.array(["1"] * 10)
    cand = np.array(["0", "0", "1", "1", "0", "1", "1", "1", "0", "1"])
    groups = {"sex": np.array(["f", "f", "f", "f", "m", "m", "m", "m", "x", "x"])}
    g = decision_flips(base, cand, "1", groups, min_rows=3)["by_group"]["sex"]
    assert g["groups"] == [
        {"group": "f", "rows": 4, "too_small": False, "flipped": 2, "to_adverse": 2, "rate": 0.5, "adverse_rate": 0.5},
        {"group": "m", "rows": 4, "too_small": False, "flipped": 1, "to_adverse": 1, "rate": 0.25,
         "adverse_rate": 0.25},
        {"group": "x", "rows": 2, "too_small": True, "flipped": None, "to_adverse": None, "rate": None,
         "adverse_rate": None}]
    assert (g["gap"], g["high"], g["low"]) == (0.25, "f", "m") and "note" not in g
    one = decision_flips(base, cand, "1", groups, min_rows=4)["by_group"]["sex"]
    assert one["groups"][2]["too_small"] and not one["groups"][0]["too_small"]  # exactly min_rows is rated
    lonely = decision_flips(base, cand, "1", groups, min_rows=5)["by_group"]["sex"]
    assert (lonely["gap"], lonely["high"], lonely["low"]) == (None, None, None)
    assert lonely["note"] == "fewer than two groups of at least 5 rows: no gap measured"


def test_without_a_favourable_class_any_flip_counts_toward_the_gap():
    base, cand = np.array(["a", "a", "b", "b"]), np.array(["b", "a", "a", "a"])
    g = decision_flips(base, cand, None, {"g": np.array(["p", "p", "q", "q"])}, min_rows=2)["by_group"]["g"]
    assert [x["adverse_rate"] for x in g["groups"]] == [0.5, 1.0] and (g["gap"], g["high"], g["low"]) == (0.5, "q", "p")


def _decision(row, outcome, reasons, method="shap", by_method=None):
    d = {"row": row, "outcome": outcome, "method": method, "reasons": [{"feature": f} for f in reasons]}
    if by_method is not None:
        d["reasons_by_method"] = {m: [{"feature": f} for f in fs] for m, fs in by_method.items()}
    return d


def test_reason_change_on_the_shared_rows():
    base = [_decision(1, "bad", ["x", "y"], by_method={"shap": ["x", "y"], "lime": ["x"]}),
            _decision(2, "bad", ["y", "z"], by_method={"shap": ["y", "z"], "lime": ["z"]}),
            _decision(3, "good", [], by_method={"shap": [], "lime": []}),
            _decision(9, "bad", ["x"], by_method={"shap": ["x"], "lime": ["x"]})]
    cand = [_decision(1, "bad", ["y", "x"], "lime", by_method={"shap": ["y", "x"], "lime": ["x"], "ig": ["x"]}),
            _decision(2, "good", ["y", "w"], "lime", by_method={"shap": ["y", "w"], "lime": ["w"], "ig": ["y"]}),
            _decision(3, "good", ["q"], "lime", by_method={"shap": [], "lime": ["q"], "ig": []})]
    r = reason_change(base, cand, examples=1)
    assert r["rows"] == 3 and r["principal_changed"] == 2
    assert r["principal_change_rate"] == pytest.approx(2 / 3) and r["reason_set_change_rate"] == pytest.approx(2 / 3)
    assert (r["baseline_method"], r["candidate_method"]) == ("shap", "lime")
    assert r["by_method"] == {"shap": {"principal_change_rate": pytest.approx(1 / 3),
                                       "reason_set_change_rate": pytest.approx(1 / 3)},
                              "lime": {"principal_change_rate": pytest.approx(2 / 3),
                                       "reason_set_change_rate": pytest.approx(2 / 3)}}
    assert r["examples"] == [{"row": 1, "baseline_outcome": "bad", "candidate_outcome": "bad", "baseline_reason": "x",
                              "candidate_reason": "y"}]
    assert len(reason_change(base, cand)["examples"]) == 2
    assert reason_change(base, [_decision(5, "bad", ["x"])]) is None
    assert type(r["principal_change_rate"]) is float


def _explanation(method, importance, score=None, ci=None):
    e = {"method": method, "global_importance": importance}
    if score is not None:
        e["faithfulness_score"], e["faithfulness_score_ci95"] = score, ci
    return e


def test_drift_judges_the_baseline_s_reporting_method_when_the_candidate_ran_it():
    imp = {"a": 3.0, "b": 2.0, "c": 1.0}
    base = {"explanations": [_explanation("lime", imp, 0.6, [0.5, 0.7]), _explanation("shap", imp, 0.8, [0.7, 0.9]),
                             _explanation("coefficients", imp)],
            "decisions": [{"method": "shap"}]}
    cand = {"explanations": [_explanation("shap", {"a": 1.0, "b": 2.0, "c": 3.0}, 0.5, [0.4, 0.6]),
                             _explanation("lime", imp), _explanation("ig", imp)]}
    d = explanation_drift(base, cand)
    assert d["method"] == "shap" and list(d["by_method"]) == ["lime", "shap"]
    assert d["only_baseline"] == ["coefficients"] and d["only_candidate"] == ["ig"]
    shap = d["by_method"]["shap"]
    assert shap["spearman"] == pytest.approx(-1.0)
    assert shap["faithfulness"] == {"baseline": 0.8, "candidate": 0.5, "delta": pytest.approx(-0.3),
                                    "baseline_ci95": [0.7, 0.9], "candidate_ci95": [0.4, 0.6]}
    assert d["by_method"]["lime"]["faithfulness"]["delta"] is None  # the candidate's lime has no score
    assert shap["baseline_importance"] == imp and shap["candidate_importance"] == {"a": 1.0, "b": 2.0, "c": 3.0}
    no_reports = explanation_drift({**base, "decisions": []}, cand)
    assert no_reports["method"] == "lime"  # the first explainer both ran
    assert explanation_drift({**base, "decisions": [{"method": "coefficients"}]}, cand)["method"] == "lime"
    assert explanation_drift(base, {"explanations": []})["method"] is None


def test_results_files_compare_their_float_figures_with_no_interval():
    base = {"model": {"task": "binary"}, "performance": {"auc": 0.8, "accuracy": 0.7, "rows": 100, "note": "x"}}
    cand = {"model": {"task": "binary"}, "performance": {"auc": 0.75, "accuracy": 0.72, "rows": 100}}
    p = _performance(base, cand, None, parse_config(""))
    assert p["measure"] == "auc" and p["paired_bootstrap"] == 0 and p["rows"] == 100
    assert p["values"] == {"auc": {"baseline": 0.8, "candidate": 0.75, "delta": pytest.approx(-0.05),
                                       "delta_ci95": [None, None]},
                           "accuracy": {"baseline": 0.7, "candidate": 0.72, "delta": pytest.approx(0.02),
                                        "delta_ci95": [None, None]}}
    assert _performance(base, {**cand, "performance": None}, None, parse_config("")) is None
    assert _performance({**base, "performance": {}}, cand, None, parse_config("")) is None


def test_results_files_flip_on_the_decisions_both_show():
    base = {"model": {"favorable_class": "good"}, "decisions": [{"row": 1, "outcome": "good"},
                                                                {"row": 2, "outcome": "bad"},
                                                                {"row": 3, "outcome": "good"}]}
    cand = {"decisions": [{"row": 3, "outcome": "bad"}, {"row": 1, "outcome": "good"}, {"row": 7, "outcome": "bad"}]}
    f = _flips(base, cand, None, parse_config(""))
    assert (f["rows"], f["flipped"], f["to_adverse"], f["by_group"]) == (2, 1, 1, {})
    assert _flips(base, {"decisions": [{"row": 8, "outcome": "bad"}]}, None, parse_config("")) is None


def test_what_could_not_be_measured_says_why():
    base = {"model": {"task": "binary"}}
    flips = {"by_group": {"sex": {"gap": None, "note": "too few"}, "age": {"gap": 0.1}}}
    got = _missing(base, None, None, None, None, True, ["sex", "age"])
    assert got == {"compare:performance": "no target column (--target), so performance was not measured",
                   **{f"compare:{k}": "the two audits ran no explainer in common (--explainers)"
                      for k in ("importance_rank", "importance_topk", "faithfulness")},
                   "compare:reason_change": "the two audits explained no row in common",
                   "compare:flip_rate": "the two audits explained no row in common"}
    got = _missing(base, {"values": {"accuracy": {}}}, "shap", {"rows": 3}, flips, False, ["sex", "age", "race"])
    assert got == {"compare:performance": "auc could not be measured on this data",
                   "compare:group_flip:sex": "too few"}
    regression = _missing({"model": {"task": "regression"}}, {"values": {"r2": {}}}, "shap", None, None, False, [])
    assert regression == {"compare:reason_change": "the two audits used different data"}


def test_warnings_name_different_data_an_assumed_favourable_class_and_different_seeds():
    base = {"model": {"favorable_class": "good", "favorable_class_source": "assumed"}, "reproducibility": {"seed": 1}}
    cand = {"model": {}, "reproducibility": {"seed": 2}}
    got = _warnings(base, cand, False)
    assert len(got) == 3 and got[0].startswith("the two audits used different data (SHA-256 differs)")
    assert got[1] == ("favorable_class is not set: flips to the adverse outcome assume class 'good' is favourable. "
                      "Set favorable_class in audit.toml.")
    assert got[2] == "the two audits used different seeds (1 and 2): they explained different rows"
    same = {"model": {"favorable_class_source": "config"}, "reproducibility": {"seed": 1}}
    assert _warnings(same, same, True) == []


def test_unset_report_settings_come_from_the_baseline_audit():
    config = parse_config('[report]\norganisation = "Bank A"\n')
    base = {"config": {"report": {"organisation": "Other", "title": "Scorecard v2"}}}
    got = _report(config, base)
    assert got["organisation"] == "Bank A" and got["title"] == "Scorecard v2"
    assert _report(config, {}) == config.report.model_dump(mode="json")


def test_the_gate_s_evidence_comes_from_the_gated_method_and_the_headline_measure():
    base = {"model": {"favorable_class": "good"}}
    performance = {"measure": "auc", "values": {"auc": {"delta": -0.02, "delta_ci95": [-0.04, 0.0]}}}
    drift = {"method": "shap", "by_method": {"shap": {"spearman": 0.9, "topk_overlap": 2 / 3,
                                                      "faithfulness": {"delta": -0.1}},
                                             "lime": {"spearman": 0.1}}}
    flips = {"rate": 0.1, "rows": 50, "by_group": {"sex": {"gap": 0.2, "high": "f", "low": "m"},
                                                   "age": {"gap": None}}}
    e = _evidence(base, performance, drift, {"principal_change_rate": 0.3, "rows": 20}, flips, {"x": "y"})
    assert e.performance == ("auc", -0.02, (-0.04, 0.0)) and e.method == "shap"
    assert (e.importance_rank, e.importance_topk, e.faithfulness_delta) == (0.9, 2 / 3, -0.1)
    assert e.reason_change == (0.3, 20) and e.flip_rate == (0.1, 50)
    assert e.group_gaps == {"sex": (0.2, "f", "m")} and e.adverse_flips and e.missing == {"x": "y"}
    empty = _evidence({"model": {}}, None, {"method": None, "by_method": {}}, None, None, {})
    assert (empty.performance, empty.importance_rank, empty.reason_change, empty.flip_rate) == (None, None, None, None)
    assert empty.group_gaps == {} and not empty.adverse_flips


def test_a_side_keeps_the_audit_s_identity_and_verdict():
    record = {"model": {"path": "m.pkl", "sha256": "ab", "type": "LogisticRegression", "task": "classification",
                        "favorable_class": "good"}, "data": {"features": ["a"]}, "gate": {"passed": False},
              "explanations": [{"method": "shap"}, {"method": "lime"}], "decisions": [{"method": "lime"}],
              "created_at": "2026-12-05"}
    assert _side(record) == {"path": "m.pkl", "sha256": "ab", "type": "LogisticRegression", "task": "classification",
                             "features": ["a"], "gate_passed": False, "explainers": ["shap", "lime"],
                             "reporting_method": "lime", "favorable_class": "good", "created_at": "2026-12-05"}
    assert _side({**record, "decisions": [], "data": {}})["reporting_method"] is None


@pytest.mark.parametrize("key", ["task", "classes"])
def test_models_of_another_task_or_classes_are_refused(key):
    base = {"model": {"task": "classification", "classes": ["bad", "good"]}}
    cand = {"model": {**base["model"], key: "other"}}
    with pytest.raises(DataError, match=f"baseline and candidate differ in {key}"):
        _same_task(base, cand)
    _same_task(base, {"model": dict(base["model"])})


def test_results_mode_availability_is_recorded_as_documented():
    record = {"model": {"task": "binary", "classes": ["0", "1"], "path": "m", "sha256": "s", "type": "t",
                        "favorable_class": "1", "favorable_class_source": "config"},
              "data": {"path": "d.csv", "sha256": "d", "rows": 4, "features": ["a"]}, "gate": {"passed": True},
              "explanations": [_explanation("shap", {"a": 1.0}, 0.7, [0.6, 0.8])],
              "decisions": [_decision(1, "1", ["a"]), _decision(2, "0", ["a"])], "performance": {"auc": 0.8},
              "reproducibility": {"seed": 0}}
    result = compare_results(record, record, config=parse_config(""))
    assert result.availability == {k: {"available": ok, "note": note} for k, (ok, note) in AVAILABILITY["results"].items()}
    assert result.mode == "results" and result.data["same_data"] and result.flips["flipped"] == 0
    assert result.reasons["principal_change_rate"] == 0.0 and result.warnings == ()
