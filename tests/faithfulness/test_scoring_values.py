"""Scoring values that are known in advance: the normalisation against the controls, the uninformative
and NaN branches, stability across seeds and max-sensitivity.

The expected numbers are analytic (a linear model with a zero baseline, whose exact attribution is
``w * x``) or recomputed here from the metric functions and the stated formula
``(metric - random) / (reference - random)``.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from audit.faithfulness import metrics as M
from audit.faithfulness.evaluate import EvaluationSettings, _stability
from audit.faithfulness.scoring import (
    INFORMATIVE_FLOOR,
    METRICS,
    SCORE_RANGE,
    FaithfulnessContext,
    max_sensitivity,
    stability,
)

W = np.array([4.0, -3.0, 2.0, 1.0, -0.5, 0.25])


@pytest.fixture(scope="module")
def ctx():
    X = np.random.default_rng(0).normal(size=(30, 6))
    return FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=6,
                               n_bootstrap=60, oracle=X * W)


def test_the_exact_attribution_scores_one_on_every_metric_and_is_an_identity(ctx):
    """Fails if the normalisation is not (m - r) / (o - r): the reference itself must score exactly 1."""
    s = ctx.score(ctx.X * W)
    assert s.score == pytest.approx(1.0)
    for name in METRICS:
        assert s.metrics[name].score == pytest.approx(1.0), name
        assert s.metrics[name].raw_score == pytest.approx(1.0) and not s.metrics[name].clipped
    assert s.identity_with_reference and s.identity_share == 1.0 and s.identity_candidate == "oracle"
    assert s.uninformative == () and s.clipped == ()
    assert all(s.metrics[m].in_score for m in METRICS) and not s.metrics["monotonicity_abs"].in_score
    assert s.score_ci[0] <= 1.0 + 1e-9 and s.score_ci[1] >= 1.0 - 1e-9


def test_normalised_scores_follow_the_formula_for_any_attribution(ctx):
    """Recompute each metric with the metric functions and normalise by hand (direction from METRICS)."""
    A = np.random.default_rng(5).normal(size=(30, 6)) + 0.5 * ctx.X * W
    s = ctx.score(A)
    deletion, insertion = M.ablation_curves(ctx.predict, ctx.X, A, ctx.baseline)
    values = {"deletion_auc": M.curve_auc(deletion), "insertion_auc": M.curve_auc(insertion),
              "comprehensiveness": M.comprehensiveness(deletion), "sufficiency": M.sufficiency(insertion, ctx.full),
              "faithfulness_correlation": M.faithfulness_correlation(A, ctx.probe),
              "monotonicity": M.monotonicity(A, ctx.effects), "infidelity": M.infidelity(A, ctx.probe)}
    used = []
    for name, v in values.items():
        higher = METRICS[name][0]
        r, o = ctx.random[name].mean(), ctx.oracle[name].mean()
        raw = (v.mean() - r) / (o - r)
        assert (o - r) * (1 if higher else -1) > 0, name  # the reference beats random in the better direction
        assert s.metrics[name].value == pytest.approx(v.mean())
        assert s.metrics[name].raw_score == pytest.approx(raw), name
        assert s.metrics[name].score == pytest.approx(min(max(raw, SCORE_RANGE[0]), SCORE_RANGE[1])), name
        assert s.metrics[name].higher_is_better is higher
        used.append(min(max(raw, SCORE_RANGE[0]), SCORE_RANGE[1]))
    assert s.score == pytest.approx(np.mean(used))
    assert not s.identity_with_reference


def test_the_negated_truth_scores_about_minus_one_and_is_clipped_at_most_at_the_floor(ctx):
    """Sign-awareness: fails if any metric is computed on |A| or the direction of a lower-is-better
    metric is not reversed."""
    s = ctx.score(-ctx.X * W)
    assert s.score < -0.6
    for name in METRICS:
        assert SCORE_RANGE[0] <= s.metrics[name].score < 0, name
    assert all(s.metrics[c].raw_score < SCORE_RANGE[0] for c in s.clipped)


def test_units_of_the_curve_metrics_are_the_mean_spread_of_the_model_moves():
    """Closed form, not the code's formula: a linear model on two live inputs with a zero baseline moves by
    0, c0, c1 or c0 + c1 (c_j = w_j x_j) whatever is removed, so the spread of its moves on a row is
    |c0| + |c1| (fails if a removal is left out of the unit, or the unit is a max, a signed mean or a sum)."""
    rng = np.random.default_rng(3)
    X = np.zeros((40, 6))
    X[:, :2] = rng.normal(size=(40, 2))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=2,
                            n_bootstrap=10, oracle=X * W)
    expected = np.mean(np.abs(4.0 * X[:, 0]) + np.abs(-3.0 * X[:, 1]))
    for name in ("deletion_auc", "insertion_auc", "comprehensiveness", "sufficiency"):
        assert c.units[name] == pytest.approx(expected, rel=1e-9), name
    assert c.units["infidelity"] == 2.0 and c.units["monotonicity"] == 1.0


def test_a_model_that_ignores_its_inputs_is_uninformative_and_scores_nan():
    """No metric can tell anything on a constant model: every metric uninformative, score and CI NaN
    (fails if the score defaults to 0 or 1, which would pass or fail the gate for no reason)."""
    X = np.random.default_rng(1).normal(size=(12, 4))
    c = FaithfulnessContext(lambda Z: np.full(len(Z), 0.3), X, M.Baseline(np.zeros((1, 4))), seed=0, n_random=3,
                            n_bootstrap=20, oracle=np.ones((12, 4)))
    s = c.score(np.random.default_rng(2).normal(size=(12, 4)))
    assert set(s.uninformative) == set(METRICS)
    assert math.isnan(s.score) and all(math.isnan(v) for v in s.score_ci)
    assert all(s.metrics[m].score is None and not s.metrics[m].informative for m in METRICS)
    assert s.clipped == () and not any(s.metrics[m].clipped for m in METRICS)  # nothing was clipped


def test_informative_floor_is_relative_to_the_unit():
    """The same model scaled by 1e-4 is as informative as the unscaled one (fails if the floor were an absolute
    difference: every gap would then be below 0.05), and a reference that is the exact negation of the truth
    beats random in the wrong direction on every metric, so no metric is informative (fails if the gap lost
    its sign or the comparison let a negative gap through)."""
    X = np.random.default_rng(0).normal(size=(30, 6))

    def flags(scale: float, oracle: np.ndarray) -> dict[str, bool]:
        c = FaithfulnessContext(lambda Z: scale * (Z @ W), X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=6,
                                n_bootstrap=20, oracle=oracle)
        return c.informative

    assert all(flags(1.0, X * W).values())
    assert flags(1e-4, 1e-4 * X * W) == flags(1.0, X * W)
    negated = flags(1.0, -X * W)
    assert not any(negated[m] for m in METRICS), negated


def test_additivity_error_is_reported_when_the_output_is_given(ctx):
    A = ctx.X * W
    base = np.full(30, 0.5)  # off by 0.5 on every row
    s = ctx.score(A, base=base, output=ctx.full)
    assert s.additivity_error == pytest.approx(0.5 / np.std(ctx.full))
    assert s.additivity_max == pytest.approx(0.5 / np.std(ctx.full))
    assert ctx.score(A).additivity_error is None


# --- stability ---------------------------------------------------------------------------------------

def test_stability_is_the_mean_pairwise_topk_jaccard():
    """Fails if stability is a constant 1.0, ignores some pairs, or uses signed values."""
    a = np.array([[3.0, 2.0, 1.0, 0.0]])
    b = np.array([[-3.0, 0.0, 1.0, 2.0]])  # top-2 by size {0, 3}: Jaccard with {0, 1} = 1/3
    c = np.array([[0.0, 0.0, 5.0, 4.0]])  # {2, 3}: with a 0, with b 1/3
    assert stability([a, a], 2) == 1.0
    assert stability([a, b], 2) == pytest.approx(1 / 3)
    assert stability([a, b, c], 2) == pytest.approx((1 / 3 + 0 + 1 / 3) / 3)
    assert stability([a], 2) == 1.0


class _SeedDependent:
    """A sampled explainer whose top feature is the seed's column: every pair of seeds disagrees on it."""

    name = "fake"
    sampling = True

    def explain(self, adapter, X, *, background, seed):
        values = np.tile(np.array([0.0, 0.0, 0.0, 1.0, 2.0]), (len(X), 1))
        values[:, seed % 3] = 10.0
        return SimpleNamespace(values=values)


def test_stability_of_a_sampled_explainer_is_measured_across_its_seeds():
    """Seeds 0, 1, 2 give top-3 sets {0,4,3}, {1,4,3}, {2,4,3}: pairwise Jaccard 2/4 = 0.5. Fails if the
    runs reuse one seed (stability 1.0) or the value is not recorded."""
    X = np.zeros((4, 5))
    A0 = SimpleNamespace(meta={})
    faith: dict = {}
    settings = EvaluationSettings(seed=0, stability_rows=3, stability_seeds=3)
    first = np.arange(4)
    stab = _stability(_SeedDependent(), None, X, A0, X, settings, faith, first)
    assert stab == pytest.approx(0.5)
    assert faith["stability_topk_jaccard"] == {"value": stab, "seeds": 3, "rows": 3, "k": 3,
                                               "higher_is_better": True}
    assert _stability(_NotSampled(), None, X, A0, X, settings, {}, first) is None
    # shap's Permutation / Kernel declare it per attribution
    assert _stability(_NotSampled(), None, X, SimpleNamespace(meta={"sampled": True}), X, settings, {}, first) == 0.5


class _Counted(_SeedDependent):
    def __init__(self):
        self.seeds = []

    def explain(self, adapter, X, *, background, seed):
        self.seeds.append(seed)
        return super().explain(adapter, X, background=background, seed=seed)


def test_stability_reuses_the_explained_rows_for_the_first_seed_only_when_identical():
    """A per-row-seeded attribution of the first rows is the first seed's run: it is reused (one explain call
    fewer, same value); on other rows (a scoring sample) or without per-row seeds every seed is re-run."""
    X = np.zeros((4, 5))
    settings = EvaluationSettings(seed=0, stability_rows=3, stability_seeds=3)
    seed0 = _SeedDependent().explain(None, X, background=X, seed=0).values
    A0 = SimpleNamespace(meta={"parameters": {"per_row_seed": "(seed, row position)"}}, values=seed0)
    ex = _Counted()
    assert _stability(ex, None, X, A0, X, settings, {}, np.arange(4)) == pytest.approx(0.5) and ex.seeds == [1, 2]
    ex = _Counted()
    assert _stability(ex, None, X, A0, X, settings, {}, np.array([0, 2, 5, 7])) == pytest.approx(0.5)
    assert ex.seeds == [0, 1, 2]  # positions 0, 2, 5 are not the rows a re-run at positions 0, 1, 2 would seed
    ex = _Counted()
    _stability(ex, None, X, SimpleNamespace(meta={}, values=seed0), X, settings, {}, np.arange(4))
    assert ex.seeds == [0, 1, 2]


class _NotSampled(_SeedDependent):
    sampling = False


# --- max-sensitivity -----------------------------------------------------------------------------------

def test_max_sensitivity_of_a_linear_explanation_is_bounded_by_the_radius():
    """explain(x) = w * x moves by at most radius * scale * |w| per feature; categorical columns never move."""
    X = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 1.0]])
    w = np.array([1.0, 1.0, 1.0])
    cat = np.array([False, False, True])
    scale = np.array([1.0, 1.0, 1.0])
    seen = []

    def explain(Xp):
        seen.append(Xp.copy())
        return Xp * w

    value = max_sensitivity(explain, X, X * w, cat, scale, radius=0.05, n_perturb=4,
                            rng=np.random.default_rng(0))
    Xp = seen[0].reshape(4, 2, 3)
    assert (Xp[:, :, 2] == X[None, :, 2]).all()
    assert np.abs(Xp - X[None]).max() <= 0.05
    expected = (np.linalg.norm(Xp - X[None], axis=2) / np.linalg.norm(X, axis=1)[None]).max(0).mean()
    assert value == pytest.approx(expected) and 0 < value
    constant = max_sensitivity(lambda Xp: np.ones_like(Xp), X, np.ones_like(X), cat, scale,
                               rng=np.random.default_rng(0))
    assert constant == 0.0


def test_score_range_and_informative_floor_are_the_documented_ones():
    """README ("How faithfulness is scored") promises scores clipped to [-1, 1.5] and a floor of 0.05 of a
    metric's unit; a silent change of either moves every verdict near a threshold."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    lo, hi = re.search(r"clipped to \*\*\[(-?[\d.]+), ([\d.]+)\]\*\*", readme).groups()
    floor = re.search(r"by less than \*\*([\d.]+) of its unit\*\*", readme)[1]
    assert SCORE_RANGE == (float(lo), float(hi)) and INFORMATIVE_FLOOR == float(floor)


def test_a_score_above_the_range_is_clipped_and_recorded():
    """A reference that only half-ranks the truth: the true attribution beats it, and any per-metric score
    above the upper bound is held at exactly that bound, with ``clipped`` set and the raw score kept."""
    X = np.random.default_rng(4).normal(size=(30, 6))
    weak = X * W * np.array([1.0, 0.05, 0.05, 0.05, 0.05, 0.05]) + np.random.default_rng(5).normal(size=(30, 6))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=6, n_bootstrap=40,
                            oracle=weak)
    s = c.score(X * W)
    over = [m for m in METRICS if s.metrics[m].raw_score is not None and s.metrics[m].raw_score > SCORE_RANGE[1]]
    assert over, {m: s.metrics[m].raw_score for m in METRICS}
    for m in over:
        assert s.metrics[m].score == SCORE_RANGE[1] and s.metrics[m].clipped and m in s.clipped


def test_max_sensitivity_defaults_match_what_results_json_records():
    """evaluate.py records ``radius_std = 0.05`` and ``perturbations = 4`` next to the value; the function's
    defaults must be those numbers."""
    X = np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 2.0]])
    seen = []

    def explain(Xp):
        seen.append(Xp.copy())
        return Xp

    max_sensitivity(explain, X, X, np.array([False, False]), np.ones(2), rng=np.random.default_rng(0))
    moved = seen[0].reshape(-1, 3, 2) - X[None]
    assert moved.shape[0] == 4
    assert 0.04 < np.abs(moved).max() <= 0.05


def test_units_count_the_move_to_the_all_removed_row_when_the_baseline_output_is_not_zero():
    """With an intercept the model at the baseline is not 0, so the 'every feature removed' move differs
    from f(x) itself (fails if that move is dropped or its sign flipped)."""
    X = np.abs(np.random.default_rng(6).normal(size=(10, 3))) + 1.0
    w = np.array([1.0, 1.0, 1.0])
    c = FaithfulnessContext(lambda Z: Z @ w + 100.0, X, M.Baseline(np.zeros((1, 3))), seed=0, n_random=2,
                            n_bootstrap=10, oracle=X * w)
    # every removal lowers the output; the largest drop is removing all features: sum(x)
    assert c.units["deletion_auc"] == pytest.approx(np.mean(X.sum(1)))
    s = c.score(X * w, base=np.full(10, 100.0))
    assert s.additivity_error is None  # no output given: not measured


def test_model_calls_are_counted_as_documented():
    """Few, large model calls: shared probes take 1 (f(x)) + 1 (subsets) + 1 (every single-feature effect)
    + 1 (all removed) calls; each scored attribution 1 (every curve step at once); the controls n_random + 1
    (the given reference) calls."""
    X = np.random.default_rng(0).normal(size=(8, 6))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=3,
                            n_bootstrap=10, oracle=X * W)
    assert c.shared_calls == 4 and c.control_calls == 3 + 1
    before = c.calls()
    s = c.score(X * W)
    assert c.calls() - before == 1 and all(s.metrics[m].calls == 1 for m in METRICS)
    assert c.reference.kind == "exact attribution of a known generating function" == s.reference_kind


def test_identity_needs_95_percent_of_rows_ranked_as_the_reference():
    X = np.random.default_rng(1).normal(size=(20, 6))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=2,
                            n_bootstrap=10, oracle=X * W)
    A = X * W
    A[0] = -A[0]  # 19 of 20 rows ranked as the reference: exactly 0.95
    s = c.score(A)
    assert s.identity_share == pytest.approx(0.95) and s.identity_with_reference
    A[1] = -A[1]
    assert not c.score(A).identity_with_reference


def test_max_sensitivity_scales_each_column_by_its_spread():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 1.0]])
    scale = np.array([10.0, 0.1, 1.0])
    seen = []

    def explain(Xp):
        seen.append(Xp.copy())
        return Xp

    max_sensitivity(explain, X, X, np.zeros(3, dtype=bool), scale, rng=np.random.default_rng(0))
    moved = np.abs(seen[0].reshape(4, 2, 3) - X[None]).max(axis=(0, 1))
    assert (moved <= 0.05 * scale).all() and (moved > 0.02 * scale).all()


def test_scores_are_frozen_values():
    import dataclasses

    X = np.random.default_rng(2).normal(size=(6, 6))
    c = FaithfulnessContext(lambda Z: Z @ W, X, M.Baseline(np.zeros((1, 6))), seed=0, n_random=2,
                            n_bootstrap=5, oracle=X * W)
    s = c.score(X * W)
    for value in (s, s.metrics["deletion_auc"]):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.score = 0.0
