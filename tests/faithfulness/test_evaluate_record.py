"""How ``audit/faithfulness/evaluate.py`` combines groups of explained rows (one group per explained class, say)
into one record (issue #28: its full mutation run left most of the record's fields unpinned). The combined
record must be the row-weighted mean of what each group gives alone, with counts summed, flags combined, and the
controls, sensitivity and additivity records as documented."""

from __future__ import annotations

import numpy as np
import pytest

from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness.evaluate import EvaluationSettings, ExplainedGroup, _feature_scale, evaluate_explainer
from explainers import select
from tests.adapters.test_toy_framework import CallableAdapter

SIZES = (30, 10)
SETTINGS = EvaluationSettings(stability_rows=5, stability_seeds=2, sensitivity_rows=3, max_additivity_error=0.01)


def _world():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 4))
    adapter = CallableAdapter(lambda Z: 2.0 * Z[:, 0] - Z[:, 1] + 0.5 * Z[:, 2] * Z[:, 3], ["a", "b", "c", "d"])
    shap = select(adapter, ["shap"])[0][0]
    return X, adapter, shap, X[100:160]


def _groups(X, adapter, ex, background, which, *, scramble=False):
    """Fresh groups (their own contexts, so each counts its own model calls)."""
    baseline = Baseline.from_background(background, adapter.space.categorical_mask)
    starts = np.cumsum((0,) + SIZES)
    out = []
    for i in which:
        g = ExplainedGroup(adapter, np.arange(starts[i], starts[i + 1]), f"group {i}")
        g.ctx = FaithfulnessContext(adapter.predict, X[g.rows], baseline, seed=0, n_random=4, n_bootstrap=50)
        a = ex.explain(adapter, X[g.rows], background=background, seed=0)
        if scramble:  # still marked additive, but no longer adding up
            a = type(a)(a.values * 3.0, a.base_values, a.feature_names, a.method, a.kind, output_space=a.output_space,
                        additive=True, meta={**a.meta, "findings": ["from the explainer"]})
        g.attributions[ex.name] = a
        out.append(g)
    return out


def _evaluate(which, **kw):
    X, adapter, ex, background = _world()
    groups = _groups(X, adapter, ex, background, which, **kw)
    return evaluate_explainer(ex, groups, X, background, SETTINGS, randomised=None, randomised_note="no refit here",
                              seconds=0.0)


def test_two_groups_combine_as_the_row_weighted_mean_of_each_alone():
    both, first, second = _evaluate([0, 1]), _evaluate([0]), _evaluate([1])
    w = np.array(SIZES) / sum(SIZES)
    metrics = [k for k, v in both.result.faithfulness.items() if "normalised_score" in v and "random_control" in v]
    assert len(metrics) >= 5
    for m in metrics:
        got, a, b = (e.result.faithfulness[m] for e in (both, first, second))
        for key in ("value", "random_control", "oracle", "normalised_score", "raw_normalised_score"):
            assert got[key] == pytest.approx(w[0] * a[key] + w[1] * b[key], abs=1e-12), (m, key)
        assert got["model_calls"] == a["model_calls"] + b["model_calls"]
        assert got["informative"] == (a["informative"] and b["informative"])
        assert got["clipped"] == (a["clipped"] or b["clipped"])
    assert both.result.faithfulness_score == pytest.approx(
        w[0] * first.result.faithfulness_score + w[1] * second.result.faithfulness_score, abs=1e-12)
    summary, s1, s2 = (e.result.faithfulness_summary for e in (both, first, second))
    assert summary["rows_scored"] == sum(SIZES)
    assert summary["identity_share"] == pytest.approx(w[0] * s1["identity_share"] + w[1] * s2["identity_share"])
    assert summary["uninformative_metrics"] == sorted(set(s1["uninformative_metrics"]) | set(s2["uninformative_metrics"]))
    assert summary["clipped_metrics"] == sorted(set(s1["clipped_metrics"]) | set(s2["clipped_metrics"]))
    assert summary["identity_with_reference"] is (s1["identity_with_reference"] and s2["identity_with_reference"])
    evidence = both.evidence
    assert evidence.metric_scores == {m: both.result.faithfulness[m]["normalised_score"]
                                      for m in both.result.faithfulness if "normalised_score" in both.result.faithfulness[m]}
    assert evidence.uninformative_metrics == tuple(summary["uninformative_metrics"])


def test_exact_shapley_values_add_up_and_the_record_says_so():
    ev = _evaluate([0, 1])
    add = ev.result.faithfulness["additivity_error"]
    assert add["value"] == ev.result.additivity_error < 1e-9 and add["max"] < 1e-9
    assert (add["higher_is_better"], add["output_space"]) == (False, ev.attribution.output_space)
    assert not [f for f in ev.result.findings if "additivity" in f]


def test_an_attribution_marked_additive_that_does_not_add_up_is_a_finding():
    ev = _evaluate([0, 1], scramble=True)
    assert ev.result.additivity_error > 0.01
    assert any(f.startswith("additivity fails: mean error") for f in ev.result.findings)
    assert ev.result.findings.count("from the explainer") == 2  # each group's own findings are kept
    assert "findings" not in ev.result.algorithm


def test_sensitivity_randomisation_and_the_summary_name_what_was_measured():
    ev = _evaluate([0, 1])
    sens = ev.result.faithfulness["max_sensitivity"]
    assert (sens["radius_std"], sens["perturbations"], sens["rows"], sens["higher_is_better"]) == (0.05, 4, 3, False)
    assert sens["value"] == ev.result.max_sensitivity and ev.result.max_sensitivity >= 0
    assert ev.result.randomisation == {"similarity": None, "not_run": "no refit here"}
    assert ev.evidence.randomisation_note == "no refit here" and ev.evidence.randomisation_similarity is None
    assert ev.result.rows_explained == sum(SIZES)
    if not ev.result.faithfulness_summary["identity_with_reference"]:
        assert ev.result.faithfulness_summary["identity_candidate"] is None


def test_feature_scale_is_the_spread_or_one():
    X = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, np.nan], [np.nan, 5.0, np.nan]])
    np.testing.assert_array_equal(_feature_scale(X), [1.0, 1.0, 1.0])
    Y = np.array([[0.0, 2.0], [4.0, 2.0]])
    np.testing.assert_array_equal(_feature_scale(Y), [2.0, 1.0])


def test_flags_combine_across_groups_that_differ():
    """A model of one input, and a second group whose rows hold that input at the baseline's value: removing inputs
    moves nothing there, so some of its metrics are uninformative or clipped, and it is no identity with the
    reference, while the first group is one. The combined record takes every group into account."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(200, 4))
    background = X[100:160]
    X[30:40, 0] = background[:, 0].mean()
    adapter = CallableAdapter(lambda Z: 2.0 * Z[:, 0], ["a", "b", "c", "d"])
    ex = select(adapter, ["shap"])[0][0]
    baseline = Baseline.from_background(background, adapter.space.categorical_mask)
    groups = []
    for rows in (np.arange(0, 30), np.arange(30, 40)):
        g = ExplainedGroup(adapter, rows, "g")
        g.ctx = FaithfulnessContext(adapter.predict, X[rows], baseline, seed=0, n_random=4, n_bootstrap=50)
        g.attributions[ex.name] = ex.explain(adapter, X[rows], background=background, seed=0)
        groups.append(g)
    alone = [evaluate_explainer(ex, [g], X, background, SETTINGS, randomised=None, randomised_note="",
                                seconds=0.0).result for g in groups]
    assert alone[0].faithfulness_summary["identity_with_reference"] is True
    assert alone[1].faithfulness_summary["uninformative_metrics"] and alone[1].faithfulness_summary["clipped_metrics"]
    both = evaluate_explainer(ex, groups, X, background, SETTINGS, randomised=None, randomised_note="", seconds=0.0)
    summary = both.result.faithfulness_summary
    assert summary["uninformative_metrics"] == alone[1].faithfulness_summary["uninformative_metrics"]
    assert summary["clipped_metrics"] == alone[1].faithfulness_summary["clipped_metrics"]
    assert summary["identity_with_reference"] is False and summary["identity_candidate"] is None
    assert both.evidence.identity_with_reference is False
    for m, v in both.result.faithfulness.items():
        if "informative" in v:
            assert v["informative"] is (alone[0].faithfulness[m]["informative"] and alone[1].faithfulness[m]["informative"])
            assert v["clipped"] is (alone[0].faithfulness[m]["clipped"] or alone[1].faithfulness[m]["clipped"])
