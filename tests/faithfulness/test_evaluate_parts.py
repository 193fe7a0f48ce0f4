"""The parts of ``audit/faithfulness/evaluate.py`` around the scored metrics, each against values derived here:
which seeds the stability check explains and when it reuses the explained rows, the rows and the categorical
inputs max-sensitivity perturbs, Captum's infidelity record, the model-randomisation check (which view, which rows,
the larger of the signed and absolute similarities), the controls record, how the randomised model is made, the
additivity threshold at its boundary, and the types the record promises (issue #28: the module's mutation run left
these parts unpinned)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import spearmanr

from audit.config import parse_config
from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness.evaluate import (
    EvaluationSettings,
    ExplainedGroup,
    _captum_infidelity,
    _combined,
    _feature_scale,
    _randomisation,
    _rows,
    _sensitivity,
    _stability,
    controls_record,
    evaluate_explainer,
    randomisation_similarity,
    randomised_model,
)
from audit.faithfulness.scoring import max_sensitivity, stability
from audit.types import Attribution
from tests.adapters.test_toy_framework import CallableAdapter

NAMES = ("a", "b", "c", "d", "e")


class Recorder:
    """An explainer whose attribution is a seeded draw (so each seed ranks the inputs differently), recording
    every call: the adapter, the rows and the seed."""

    name, kind = "fake", "approximate"

    def __init__(self, *, sampling: bool | None = None, fail: bool = False, local_r2: bool = False) -> None:
        if sampling is not None:
            self.sampling = sampling
        self.fail, self.local_r2, self.calls = fail, local_r2, []

    def explain(self, adapter, X, *, background, seed):  # noqa: ARG002 - the protocol's signature
        self.calls.append((adapter, np.array(X), seed))
        if self.fail:
            raise RuntimeError("boom")
        noise = np.random.default_rng(seed).normal(size=X.shape)
        values = np.asarray(X) + noise
        if getattr(adapter, "flip", False):  # a randomised twin whose first input's contribution changes sign
            values[:, 0] *= -1
        r2 = np.linspace(0.2, 0.9, len(X)) if self.local_r2 else None
        return Attribution(values, np.zeros(len(X)), NAMES[: X.shape[1]], self.name, self.kind, local_r2=r2)


def _attribution(X, *, meta=None, seed=99):
    values = np.asarray(X) + np.random.default_rng(seed).normal(size=X.shape)
    return Attribution(values, np.zeros(len(X)), NAMES[: X.shape[1]], "fake", "approximate", meta=meta or {})


def _X(n=10, f=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, f))


def test_the_settings_defaults_are_the_configuration_defaults():
    assert EvaluationSettings() == EvaluationSettings.from_config(parse_config(""))


# --- stability --------------------------------------------------------------------------------------------


def test_stability_is_not_measured_for_a_method_that_does_not_sample():
    """No ``sampling`` attribute and no ``sampled`` in the attribution's meta: no record, no extra explain call."""
    ex, X0, faith = Recorder(), _X(), {}
    assert _stability(ex, None, X0, _attribution(X0), None, EvaluationSettings(), faith, np.arange(10)) is None
    assert faith == {} and ex.calls == []


def test_stability_explains_the_first_rows_once_per_seed_and_records_its_parameters():
    ex, X0, faith = Recorder(sampling=True), _X(), {}
    settings = EvaluationSettings(seed=7, stability_rows=4, stability_seeds=3)
    value = _stability(ex, "adapter", X0, _attribution(X0), "bg", settings, faith, np.arange(10))
    assert [c[2] for c in ex.calls] == [7, 8, 9]
    assert all(c[0] == "adapter" and np.array_equal(c[1], X0[:4]) for c in ex.calls)
    runs = [X0[:4] + np.random.default_rng(s).normal(size=(4, 5)) for s in (7, 8, 9)]
    assert value == stability(runs, 3) and 0 < value < 1
    assert faith["stability_topk_jaccard"] == {"value": value, "seeds": 3, "rows": 4, "k": 3, "higher_is_better": True}


def test_stability_reuses_the_explained_rows_as_the_first_seed_only_when_they_are_the_first_rows():
    """A method seeding each row from (seed, row position), declared through the attribution's meta: the first
    seed's run is the attribution itself when the scored rows start at position 0, never otherwise; k is at
    most the number of inputs."""
    X0 = _X(f=2)
    A0 = _attribution(X0, meta={"sampled": True, "parameters": {"per_row_seed": True}})
    settings = EvaluationSettings(seed=7, stability_rows=4, stability_seeds=3)
    ex, faith = Recorder(sampling=False), {}
    value = _stability(ex, None, X0, A0, None, settings, faith, np.arange(10))
    assert [c[2] for c in ex.calls] == [8, 9]
    runs = [A0.values[:4]] + [X0[:4] + np.random.default_rng(s).normal(size=(4, 2)) for s in (8, 9)]
    assert value == stability(runs, 2) and faith["stability_topk_jaccard"]["k"] == 2
    moved = Recorder(sampling=False)
    _stability(moved, None, X0, A0, None, settings, {}, np.arange(10) + 5)
    assert [c[2] for c in moved.calls] == [7, 8, 9]


# --- max-sensitivity --------------------------------------------------------------------------------------


def _space(mask):
    return SimpleNamespace(space=SimpleNamespace(categorical_mask=np.asarray(mask)))


def test_sensitivity_perturbs_the_first_rows_numeric_inputs_only_and_records_the_value():
    X0 = _X(n=6, f=3)
    A0 = _attribution(X0)
    mask = [False, True, False]
    scale = np.array([1.0, 2.0, 0.5])
    for rows, want in ((10, 6), (3, 3)):
        ex, faith, findings = Recorder(), {}, []
        settings = EvaluationSettings(seed=4, sensitivity_rows=rows)
        value = _sensitivity(ex, _space(mask), X0, A0, None, scale, settings, np.random.default_rng(3), faith, findings)
        (adapter, Xp, seed), = ex.calls
        assert seed == 4 and len(Xp) == 4 * want
        np.testing.assert_array_equal(Xp[:, 1], np.tile(X0[:want, 1], 4))  # the categorical input never moves
        assert not np.array_equal(Xp[:, 0], np.tile(X0[:want, 0], 4))
        again = max_sensitivity(lambda Z: Recorder().explain(None, Z, background=None, seed=4).values, X0[:want],
                                A0.values[:want], np.asarray(mask), scale, rng=np.random.default_rng(3))
        assert value == again and findings == []
        assert faith["max_sensitivity"] == {"value": value, "radius_std": 0.05, "perturbations": 4, "rows": want,
                                            "higher_is_better": False}


def test_an_explainer_that_cannot_be_rerun_is_a_sensitivity_finding_not_a_crash():
    X0 = _X(n=6, f=3)
    faith, findings = {}, []
    got = _sensitivity(Recorder(fail=True), _space([False] * 3), X0, _attribution(X0), None, np.ones(3),
                       EvaluationSettings(), np.random.default_rng(0), faith, findings)
    assert got is None and faith == {}
    assert findings == ["max-sensitivity not measured: RuntimeError: boom"]


def test_feature_scale_keeps_a_spread_below_one():
    np.testing.assert_array_equal(_feature_scale(np.array([[0.0], [1.0]])), [0.5])


# --- Captum infidelity ------------------------------------------------------------------------------------


def test_captum_infidelity_records_the_value_and_a_random_control_on_at_most_200_rows():
    pytest.importorskip("captum")
    from audit.faithfulness.scoring import captum_infidelity
    from tests.faithfulness.test_scoring_strength import _torch_adapter

    adapter = _torch_adapter()
    rng = np.random.default_rng(5)
    X0 = np.column_stack([rng.normal(size=250), rng.normal(size=250), rng.integers(0, 3, size=250)]).astype(float)
    A0 = Attribution(np.tile([1.0, 0.5, 0.0], (250, 1)), np.zeros(250), ("a", "b", "c"), "fake", "approximate")
    faith, findings = {}, []
    _captum_infidelity(adapter, X0, A0, 3, np.random.default_rng(8), faith, findings)
    control = np.random.default_rng(8).standard_normal((200, 3))
    assert faith["infidelity_captum"] == {
        "value": captum_infidelity(adapter, X0[:200], A0.values[:200], seed=3),
        "random_control": captum_infidelity(adapter, X0[:200], control, seed=3), "rows": 200, "sigma": 0.1,
        "higher_is_better": False, "note": "captum.metrics.infidelity, numeric inputs perturbed, normalized"}
    assert faith["infidelity_captum"]["value"] < faith["infidelity_captum"]["random_control"]
    assert findings == []


def test_captum_infidelity_that_cannot_run_is_a_finding():
    X0 = _X(n=4, f=2)
    faith, findings = {}, []
    _captum_infidelity(CallableAdapter(lambda Z: Z[:, 0], ["a", "b"]), X0, _attribution(X0), 0,
                       np.random.default_rng(0), faith, findings)
    assert faith == {} and len(findings) == 1 and findings[0].startswith("captum infidelity not measured: ")


def test_a_differentiable_model_gets_captum_infidelity_in_its_evaluation():
    pytest.importorskip("captum")
    from tests.faithfulness.test_scoring_strength import _rows as torch_rows
    from tests.faithfulness.test_scoring_strength import _torch_adapter

    adapter = _torch_adapter()
    assert adapter.capabilities.differentiable
    X = torch_rows(60)
    ex = Recorder()
    g = ExplainedGroup(adapter, np.arange(20), "all")
    g.ctx = FaithfulnessContext(adapter.predict, X[:20], Baseline.from_background(X[20:], adapter.space.categorical_mask),
                                seed=0, n_random=4, n_bootstrap=20)
    g.attributions[ex.name] = ex.explain(adapter, X[:20], background=X[20:], seed=0)
    ev = evaluate_explainer(ex, [g], X, X[20:], EvaluationSettings(stability_rows=5, sensitivity_rows=3),
                            randomised=None, randomised_note="", seconds=0.0)
    assert ev.result.faithfulness["infidelity_captum"]["rows"] == 20


# --- model randomisation ----------------------------------------------------------------------------------


def test_randomisation_similarity_is_the_mean_row_spearman_of_signed_values_and_of_sizes():
    A = np.array([[3.0, 1.0, 2.0, -4.0], [1.0, -2.0, 3.0, 0.5], [0.1, 0.2, 0.3, 0.4]])
    B = np.array([[3.0, 1.0, 2.0, -4.0], [-1.0, 2.0, -3.0, -0.5], [0.4, 0.1, 0.3, 0.2]])
    signed, absolute = randomisation_similarity(A, B)
    want_signed = np.mean([spearmanr(a, b)[0] for a, b in zip(A, B)])
    want_abs = np.mean([spearmanr(np.abs(a), np.abs(b))[0] for a, b in zip(A, B)])
    assert (signed, absolute) == (pytest.approx(want_signed), pytest.approx(want_abs))
    assert type(signed) is float and type(absolute) is float and signed < absolute


def test_randomisation_not_run_keeps_the_note_and_a_failed_refit_says_what_failed():
    adapter = SimpleNamespace(capabilities=SimpleNamespace(randomisation="refit on shuffled labels"))
    X0 = _X()
    args = (Recorder(), adapter, X0, _attribution(X0), None, EvaluationSettings())
    assert _randomisation(*args, None, "no target") == ({"similarity": None, "not_run": "no target"}, None, "no target")
    note = "model randomisation (refit on shuffled labels) failed: cannot refit"
    assert _randomisation(*args, ValueError("cannot refit"), None) == ({"similarity": None, "not_run": note}, None, note)


class _Twin:
    """A randomised model whose class views are recorded."""

    def __init__(self):
        self.views = []

    def for_class(self, k):
        self.views.append(k)
        return ("view", k)


@pytest.mark.parametrize("class_index", [None, 1])
def test_randomisation_explains_the_randomised_view_of_the_explained_class_on_the_first_rows(class_index):
    adapter = SimpleNamespace(class_index=class_index, capabilities=SimpleNamespace(randomisation="weights reset"))
    X0 = _X(n=8)
    A0 = _attribution(X0)
    twin, ex = _Twin(), Recorder()
    info, similarity, note = _randomisation(ex, adapter, X0, A0, None, EvaluationSettings(seed=6, randomisation_rows=5),
                                            twin, None)
    (view, rows, seed), = ex.calls
    assert view == (twin if class_index is None else ("view", 1)) and twin.views == ([] if class_index is None else [1])
    assert seed == 6 and np.array_equal(rows, X0[:5])
    signed, absolute = randomisation_similarity(A0.values[:5], ex.explain(None, X0[:5], background=None, seed=6).values)
    assert similarity == (signed, absolute) and note is None
    assert info == {"similarity": max(signed, absolute), "similarity_signed": signed, "similarity_abs": absolute,
                    "rows": 5, "method": "weights reset (Adebayo et al. 2018)",
                    "metric": "mean per-row Spearman correlation, the larger of signed values and of |values|"}


def test_a_sign_flipped_explanation_of_the_randomised_model_counts_as_similar():
    """The randomised model's attribution is the explained one negated: signed -1, sizes +1, recorded 1."""
    X0 = _X(n=6)
    A0 = _attribution(X0)

    class Negated(Recorder):
        def explain(self, adapter, X, *, background, seed):
            return Attribution(-A0.values[: len(X)], np.zeros(len(X)), NAMES, "fake", "approximate")

    adapter = SimpleNamespace(class_index=None, capabilities=SimpleNamespace(randomisation="weights reset"))
    info, similarity, _ = _randomisation(Negated(), adapter, X0, A0, None, EvaluationSettings(), _Twin(), None)
    assert similarity == pytest.approx((-1.0, 1.0)) and info["similarity"] == pytest.approx(1.0)


def test_the_randomised_model_is_refit_with_its_own_seeded_generator_and_failures_are_kept():
    ds = SimpleNamespace(target=np.zeros(3))
    refits = []

    def refit(dataset, rng):
        refits.append(dataset)
        return rng.random()

    adapter = SimpleNamespace(capabilities=SimpleNamespace(randomisation="refit"), randomised=refit)
    assert randomised_model(adapter, ds, 5) == (np.random.default_rng(5 + 7919).random(), None) and refits == [ds]
    assert randomised_model(adapter, SimpleNamespace(target=None), 5) == (None, "no target column to refit on")
    assert randomised_model(SimpleNamespace(capabilities=SimpleNamespace(randomisation=None)), ds, 5) == (
        None, "model cannot be randomised")
    error = ValueError("no")

    def broken(dataset, rng):
        raise error

    assert randomised_model(SimpleNamespace(capabilities=adapter.capabilities, randomised=broken), ds, 5) == (error, None)


def test_an_evaluation_with_a_randomised_model_carries_both_similarities_into_the_evidence():
    X = _X(n=80, f=3, seed=2)
    adapter = CallableAdapter(lambda Z: Z[:, 0] - 2 * Z[:, 1], ["a", "b", "c"])
    adapter.capabilities = type(adapter.capabilities)(margin=True, randomisation="refit")
    ex = Recorder(local_r2=True)
    g = ExplainedGroup(adapter, np.arange(30), "all")
    g.ctx = FaithfulnessContext(adapter.predict, X[:30], Baseline.from_background(X[40:], adapter.space.categorical_mask),
                                seed=0, n_random=4, n_bootstrap=20)
    g.attributions[ex.name] = ex.explain(adapter, X[:30], background=X[40:], seed=0)
    twin = CallableAdapter(lambda Z: Z[:, 2], ["a", "b", "c"])
    twin.flip = True
    ev = evaluate_explainer(ex, [g], X, X[40:], EvaluationSettings(stability_rows=5, sensitivity_rows=3),
                            randomised=twin, randomised_note=None, seconds=1.5)
    rec = ev.result.randomisation
    assert ev.evidence.randomisation_similarity == rec["similarity_signed"]
    assert ev.evidence.randomisation_similarity_abs == rec["similarity_abs"]
    assert rec["similarity_signed"] < rec["similarity_abs"] == pytest.approx(1.0)
    assert ev.evidence.randomisation_method == "refit" and ev.evidence.randomisation_note is None
    assert ev.result.mean_local_r2 == pytest.approx(np.linspace(0.2, 0.9, 30).mean())
    assert type(ev.result.mean_local_r2) is float and ev.result.seconds == 1.5


# --- the record's arithmetic and types --------------------------------------------------------------------


def _credit_like_group(X, adapter, ex, rows, background):
    g = ExplainedGroup(adapter, rows, "g")
    g.ctx = FaithfulnessContext(adapter.predict, X[rows], Baseline.from_background(background, adapter.space.categorical_mask),
                                seed=0, n_random=4, n_bootstrap=50)
    g.attributions[ex.name] = ex.explain(adapter, X[rows], background=background, seed=0)
    return g


def _shap_world():
    from explainers import select

    X = _X(n=200, f=4, seed=11)
    adapter = CallableAdapter(lambda Z: 2.0 * Z[:, 0] - Z[:, 1] + 0.5 * Z[:, 2] * Z[:, 3], ["a", "b", "c", "d"])
    return X, adapter, select(adapter, ["shap"])[0][0], X[100:160]


def test_the_record_s_intervals_counts_and_seconds_have_the_promised_form():
    """Two groups: the score's interval is the row-weighted mean of each group's own ends; counts are ints;
    seconds are rounded to 4 places; the sensitivity check draws from the generator seeded seed + 1."""
    X, adapter, ex, background = _shap_world()
    settings = EvaluationSettings(seed=3, stability_rows=5, stability_seeds=2, sensitivity_rows=3)
    groups = [_credit_like_group(X, adapter, ex, rows, background) for rows in (np.arange(30), np.arange(30, 40))]
    alone = [evaluate_explainer(ex, [_credit_like_group(X, adapter, ex, g.rows, background)], X, background, settings,
                                randomised=None, randomised_note="", seconds=0.0).result for g in groups]
    both = evaluate_explainer(ex, groups, X, background, settings, randomised=None, randomised_note="", seconds=0.0).result
    w = np.array([30, 10]) / 40
    for end in (0, 1):
        assert both.faithfulness_score_ci[end] == pytest.approx(
            w[0] * alone[0].faithfulness_score_ci[end] + w[1] * alone[1].faithfulness_score_ci[end], abs=1e-12)
    assert both.faithfulness_score_ci[0] < both.faithfulness_score_ci[1]
    assert type(both.faithfulness_score) is float and type(both.faithfulness_summary["rows_scored"]) is int
    assert type(both.faithfulness_summary["identity_share"]) is float
    for v in both.faithfulness.values():
        if "model_calls" in v:
            assert type(v["model_calls"]) is int and v["seconds"] == round(v["seconds"], 4)
            assert type(v["value"]) is float
    A0 = groups[0].attributions[ex.name]
    want = max_sensitivity(lambda Z: ex.explain(adapter, Z, background=background, seed=3).values, X[:3],
                           A0.values[:3], adapter.space.categorical_mask, _feature_scale(X), rng=np.random.default_rng(4))
    assert both.max_sensitivity == want


def test_additivity_at_exactly_the_threshold_passes_and_just_above_fails():
    X, adapter, ex, background = _shap_world()
    groups = [_credit_like_group(X, adapter, ex, np.arange(30), background)]
    scrambled = groups[0].attributions[ex.name]
    groups[0].attributions[ex.name] = Attribution(scrambled.values * 1.5, scrambled.base_values, scrambled.feature_names,
                                                  ex.name, scrambled.kind, output_space="score", additive=True)

    def findings(limit):
        ev = evaluate_explainer(ex, groups, X, background, EvaluationSettings(stability_rows=5, sensitivity_rows=3,
                                                                              max_additivity_error=limit),
                                randomised=None, randomised_note="", seconds=0.0)
        return ev.result.additivity_error, [f for f in ev.result.findings if f.startswith("additivity fails")]

    error, _ = findings(0.01)
    assert error > 0.01
    assert findings(error) == (error, [])
    assert len(findings(np.nextafter(error, 0))[1]) == 1


class _NoMargin(CallableAdapter):
    def margin(self, X):  # noqa: ARG002 - a model without a margin output
        return None


def test_additivity_is_checked_against_the_output_space_the_attribution_names():
    """An additive attribution of the score needs no margin; one of the margin on a model without one is a
    finding, and then no additivity record."""
    X = _X(n=100, f=3, seed=1)
    adapter = _NoMargin(lambda Z: Z[:, 0] + Z[:, 1], ["a", "b", "c"])
    background = X[50:]
    values = (X[:20] - background.mean(0)) * np.array([1.0, 1.0, 0.0])
    base = np.full(20, float(adapter.predict(background).mean()))
    out = {}
    for space in ("score", "margin"):
        ex = Recorder()
        g = ExplainedGroup(adapter, np.arange(20), "all")
        g.ctx = FaithfulnessContext(adapter.predict, X[:20], Baseline.from_background(background, adapter.space.categorical_mask),
                                    seed=0, n_random=4, n_bootstrap=20)
        g.attributions[ex.name] = Attribution(values, base, ("a", "b", "c"), ex.name, "approximate", output_space=space,
                                              additive=True)
        out[space] = evaluate_explainer(ex, [g], X, background, EvaluationSettings(stability_rows=5, sensitivity_rows=3),
                                        randomised=None, randomised_note="", seconds=0.0).result
    assert out["score"].additivity_error == pytest.approx(0.0, abs=1e-12)
    assert not [f for f in out["score"].findings if "additivity" in f]
    assert out["margin"].additivity_error is None and "additivity_error" not in out["margin"].faithfulness
    assert "additivity not measurable: the model has no margin output" in out["margin"].findings


# --- rows, groups combined, controls ----------------------------------------------------------------------


def test_rows_of_an_attribution_keep_everything_but_the_other_rows():
    X = _X(n=5, f=2)
    a = Attribution(X, np.arange(5.0), ("a", "b"), "fake", "approximate", output_space="margin", additive=True,
                    meta={"k": 1}, local_r2=np.linspace(0, 1, 5))
    assert _rows(a, np.arange(5)) is a
    b = _rows(a, np.array([4, 1]))
    np.testing.assert_array_equal(b.values, X[[4, 1]])
    np.testing.assert_array_equal(b.base_values, [4.0, 1.0])
    np.testing.assert_array_equal(b.local_r2, [1.0, 0.25])
    assert (b.output_space, b.additive, dict(b.meta)) == ("margin", True, {"k": 1})
    assert _rows(Attribution(X, np.zeros(5), ("a", "b"), "fake", "approximate"), np.array([0])).local_r2 is None


def test_groups_combine_into_data_order_with_their_fits_and_rules():
    def part(rows, r2=True, rules=True):
        values = np.column_stack([rows, -rows]).astype(float)
        return Attribution(values, rows * 10.0, ("a", "b"), "fake", "approximate", output_space="margin", additive=True,
                           meta={"m": 2}, local_r2=rows / 10.0 if r2 else None,
                           rules=tuple(f"rule {r}" for r in rows) if rules else None)

    def groups(*parts):
        out = []
        for rows, a in parts:
            g = ExplainedGroup(None, rows, "g")
            g.attributions["fake"] = a
            out.append(g)
        return out

    r1, r2 = np.array([3, 0, 4]), np.array([1, 2])
    c = _combined("fake", groups((r1, part(r1)), (r2, part(r2))), part(r1))
    np.testing.assert_array_equal(c.values[:, 0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(c.base_values, [0, 10, 20, 30, 40])
    np.testing.assert_array_equal(c.rows, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(c.local_r2, [0, 0.1, 0.2, 0.3, 0.4])
    assert c.rules == ("rule 0", "rule 1", "rule 2", "rule 3", "rule 4")
    assert (c.output_space, c.additive, dict(c.meta), c.feature_names) == ("margin", True, {"m": 2}, ("a", "b"))
    partial = _combined("fake", groups((r1, part(r1, r2=False)), (r2, part(r2, rules=False))), part(r1))
    assert partial.local_r2 is None and partial.rules is None


def test_the_controls_record_averages_each_group_s_draws_and_sums_their_costs():
    def group(label, random, oracle, kind, calls):
        ctx = SimpleNamespace(random=random, oracle=oracle, oracle_kind=kind, uninformative=(f"u{label}",),
                              reference_winners={"m": label}, reference=SimpleNamespace(model_calls=calls),
                              shared_calls=calls + 1, control_calls=calls + 2, control_seconds=calls / 10)
        return SimpleNamespace(label=label, ctx=ctx)

    record = controls_record([group("x", {"m": [1.0, 3.0]}, {"m": [2.0, 6.0]}, "first", 5),
                              group("y", {"n": [5.0]}, {"n": [7.0, 9.0]}, "last", 7)], "mean", 16)
    assert record == {"random": {"m": 2.0, "n": 5.0}, "oracle": {"m": 4.0, "n": 8.0}, "oracle_kind": "last",
                      "uninformative_metrics": {"x": ["ux"], "y": ["uy"]}, "reference_winners": {"x": {"m": "x"},
                                                                                                "y": {"m": "y"}},
                      "reference_model_calls": 12, "baseline": "mean", "random_draws": 16,
                      "shared_probe_model_calls": 14, "control_model_calls": 16, "control_seconds": pytest.approx(1.2)}
    assert all(type(v) is float for v in record["random"].values())
