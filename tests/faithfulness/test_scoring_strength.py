"""The parts of the score that a reader checks last and a defect hides in first: the bootstrap intervals,
the recorded costs (model calls, seconds) and Captum's infidelity on a torch model.

Expected values come from outside ``scoring.py``: the intervals are recomputed from the metric functions
with the context's own bootstrap rows and the documented formula; the infidelity of a linear model under
Gaussian input noise is known in closed form.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from audit.faithfulness import metrics as M
from audit.faithfulness.scoring import (
    INFORMATIVE_FLOOR,
    METRICS,
    SCORE_RANGE,
    FaithfulnessContext,
    captum_infidelity,
)

W = np.array([3.0, -2.0, 1.5, 1.0, -0.5])
N = 40


@pytest.fixture(scope="module")
def ctx() -> FaithfulnessContext:
    X = np.random.default_rng(11).normal(size=(N, len(W)))
    calls = []

    def model(Z: np.ndarray) -> np.ndarray:
        calls.append(len(Z))
        return Z @ W + 0.3 * np.tanh(Z[:, 0] * Z[:, 1])

    t0 = time.perf_counter()
    c = FaithfulnessContext(model, X, M.Baseline(np.zeros((1, len(W)))), seed=3, n_random=4, n_bootstrap=80)
    c.test_elapsed, c.test_calls, c.test_built_calls = time.perf_counter() - t0, calls, len(calls)
    return c


def _per_row(c: FaithfulnessContext, A: np.ndarray) -> dict[str, np.ndarray]:
    """The seven scored metrics per row, straight from the metric functions."""
    deletion, insertion = M.ablation_curves(c.predict, c.X, A, c.baseline)
    return {"deletion_auc": M.curve_auc(deletion), "insertion_auc": M.curve_auc(insertion),
            "comprehensiveness": M.comprehensiveness(deletion), "sufficiency": M.sufficiency(insertion, c.full),
            "faithfulness_correlation": M.faithfulness_correlation(A, c.probe),
            "monotonicity": M.monotonicity(A, c.effects), "infidelity": M.infidelity(A, c.probe)}


def _normalised(c: FaithfulnessContext, name: str, m: np.ndarray) -> np.ndarray:
    """Per bootstrap replicate: (metric - random) / (reference - random) in the better direction, the gap held
    at the floor, clipped to the score range (README, "How faithfulness is scored")."""
    g = 1.0 if METRICS[name][0] else -1.0
    mb, rb, ob = (x[c._boot].mean(1) for x in (m, c.random[name], c.oracle[name]))
    gap = np.maximum(g * (ob - rb), INFORMATIVE_FLOOR * c.units[name])
    return np.clip(g * (mb - rb) / gap, *SCORE_RANGE)


def test_bootstrap_resamples_every_row_and_only_rows(ctx):
    """Fails if the resampling leaves a row out (``integers(1, n)``) or draws past the last row."""
    assert ctx._boot.shape == (80, N)
    assert set(np.unique(ctx._boot)) == set(range(N))


def test_metric_and_score_intervals_are_the_2_5_and_97_5_percentiles_of_row_bootstrap_means(ctx):
    """Fails if an interval uses other percentiles, averages over the wrong axis, or leaves the clipping or
    the floor out of the replicates: each bound is recomputed here from the per-row metric values."""
    A = ctx.X * W + np.random.default_rng(0).normal(scale=0.5, size=ctx.X.shape)
    s = ctx.score(A)
    rows = _per_row(ctx, A)
    replicates = []
    for name in METRICS:
        r = s.metrics[name]
        means = rows[name][ctx._boot].mean(1)
        assert r.value == pytest.approx(rows[name].mean(), abs=1e-12)
        assert r.ci == pytest.approx((np.percentile(means, 2.5), np.percentile(means, 97.5)), abs=1e-12)
        if r.score is None:
            assert not r.informative and r.score_ci is None
            continue
        sb = _normalised(ctx, name, rows[name])
        assert r.score_ci == pytest.approx((np.percentile(sb, 2.5), np.percentile(sb, 97.5)), abs=1e-12)
        replicates.append(sb)
    assert len(replicates) >= 5  # the interval below really averages several metrics
    overall = np.mean(replicates, axis=0)
    assert s.score_ci == pytest.approx((np.percentile(overall, 2.5), np.percentile(overall, 97.5)), abs=1e-12)
    assert s.score_ci[0] < s.score < s.score_ci[1]


def test_model_calls_and_seconds_are_what_was_spent(ctx):
    """Fails if a recorded cost is not a difference (calls since the start, seconds since the start): the
    context's count matches the model's own count, and no recorded time exceeds the time measured around
    it."""
    assert ctx.calls() == len(ctx.test_calls)
    assert ctx.shared_calls + ctx.control_calls == ctx.test_built_calls
    assert 0 < ctx.shared_seconds and 0 < ctx.control_seconds
    assert ctx.shared_seconds + ctx.control_seconds <= ctx.test_elapsed
    before = len(ctx.test_calls)
    t0 = time.perf_counter()
    s = ctx.score(ctx.X * W)
    elapsed = time.perf_counter() - t0
    spent = len(ctx.test_calls) - before
    assert spent > 0 and ctx.calls() == len(ctx.test_calls)
    for name in METRICS:
        assert s.metrics[name].calls == spent
        assert 0 < s.metrics[name].seconds <= elapsed


def test_the_sign_blind_monotonicity_is_reported_higher_is_better_and_kept_out_of_the_score(ctx):
    """Fails if ``monotonicity_abs`` is declared lower-is-better (its gap would turn negative and the exact
    attribution would not score 1 on it) or if it enters the score."""
    exact = np.random.default_rng(1).normal(size=(N, len(W)))
    linear = FaithfulnessContext(lambda Z: Z @ W, exact, M.Baseline(np.zeros((1, len(W)))), seed=0, n_random=3,
                                 n_bootstrap=20, oracle=exact * W)
    s = linear.score(exact * W)
    m = s.metrics["monotonicity_abs"]
    assert m.higher_is_better and m.informative and m.score == pytest.approx(1.0) and not m.in_score
    used = [s.metrics[k].score for k in METRICS if s.metrics[k].score is not None]
    assert s.score == pytest.approx(np.mean(used))


# --- Captum infidelity on a torch model ----------------------------------------------------------------

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

W_NUM = np.array([1.0, 2.0])  # weights of the two standardised numeric inputs
W_CAT = np.array([5.0, -5.0, 3.0])  # weights of the one-hot columns of c


def _torch_adapter():
    from audit.adapters._torch import TorchAdapter
    from audit.types import FeatureSpace

    linear = torch.nn.Linear(5, 1).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[*W_NUM, *W_CAT]], dtype=torch.float64))
        linear.bias.zero_()
    spec = {"task": "regression", "features": [{"name": "a", "type": "numeric", "mean": 0.0, "std": 1.0},
                                               {"name": "b", "type": "numeric", "mean": 0.0, "std": 1.0},
                                               {"name": "c", "type": "categorical", "categories": ["x", "y", "z"]}]}
    space = FeatureSpace(names=("a", "b", "c"), categories={"c": ("x", "y", "z")})
    return TorchAdapter(linear, space, spec=spec, device="cpu")


def _rows(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 3, size=n)]).astype(float)


def test_captum_infidelity_is_zero_for_the_model_s_own_weights_whatever_the_categories_get():
    """For a linear margin, attributions equal to the numeric weights explain every Gaussian perturbation
    exactly. Fails if one-hot columns are perturbed (the categorical attribution, deliberately huge, would
    enter), if numeric columns are not perturbed, or if an attribution lands on the wrong input column."""
    adapter = _torch_adapter()
    X = _rows(50)
    A = np.column_stack([np.full(50, W_NUM[0]), np.full(50, W_NUM[1]), np.full(50, 1e3)])
    assert captum_infidelity(adapter, X, A, seed=0) == pytest.approx(0.0, abs=1e-12)


def test_captum_infidelity_of_a_partial_attribution_matches_its_closed_form():
    """Attributing only ``a``, at twice its weight: the fitted scale (normalize=True) halves it, and the
    unexplained move is ``w_b * noise_b``. With noise N(0, sigma^2), sigma = 0.1 (the documented default) and
    the scale fitted per row over 16 perturbations, the expected infidelity is
    (15/16) * sigma^2 * w_b^2 = 0.0375; without the fitted scale it would be sigma^2 * (w_a^2 + w_b^2) =
    0.05. Fails if the noise is scaled otherwise, the perturbed input is not x - noise, or the scale is not
    fitted."""
    adapter = _torch_adapter()
    X = _rows(400)
    A = np.column_stack([np.full(400, 2 * W_NUM[0]), np.zeros(400), np.zeros(400)])
    value = captum_infidelity(adapter, X, A, seed=0)
    expected = 15 / 16 * 0.1**2 * W_NUM[1] ** 2
    assert value == pytest.approx(expected, rel=0.06)
    assert captum_infidelity(adapter, X, A, seed=0) == value  # seeded
