"""Scoring an attribution against measured controls.

A :class:`FaithfulnessContext` is built once per set of explained rows: the baseline, the model's
output, the random-subset probe and single-feature effects (shared by every attribution), and the
per-row metrics of the controls: the *random* control (the mean over several random attributions)
and the *oracle* (the exact attribution when the truth is known, otherwise the occlusion reference:
each feature ranked by what removing it alone does to the score).

``faithfulness_score`` is the mean over metrics of (metric - random) / (oracle - random), so the
random control scores about 0 and the oracle 1, with a bootstrap 95% CI over rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.faithfulness import metrics as M

__all__ = ["METRICS", "MetricResult", "FaithfulnessScores", "FaithfulnessContext", "stability", "max_sensitivity",
           "captum_infidelity"]

# name: (higher is better, what it measures)
METRICS: dict[str, tuple[bool, str]] = {
    "deletion_auc": (False, "score left as top-ranked features are removed first (area; lower is better)"),
    "insertion_auc": (True, "score recovered as top-ranked features are restored first (area; higher is better)"),
    "comprehensiveness": (True, "drop in score when the top-k features are removed (ERASER AOPC)"),
    "sufficiency": (False, "score lost when only the top-k features are kept (ERASER)"),
    "faithfulness_correlation": (True, "correlation of summed attributions with the effect of removing random subsets (Bhatt 2020)"),
    "monotonicity": (True, "rank correlation of |attribution| with each feature's own removal effect (Nguyen 2020)"),
    "infidelity": (False, "squared error predicting subset-removal effects from attributions, scale-optimal (Yeh 2019)"),
}


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float
    ci: tuple[float, float]
    control: float
    oracle: float
    score: float | None
    score_ci: tuple[float, float] | None
    higher_is_better: bool
    baseline: str
    calls: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value, "ci95": list(self.ci), "random_control": self.control, "oracle": self.oracle,
            "normalised_score": self.score, "normalised_score_ci95": list(self.score_ci) if self.score_ci else None,
            "higher_is_better": self.higher_is_better, "baseline": self.baseline, "model_calls": self.calls,
            "seconds": round(self.seconds, 4),
        }


@dataclass(frozen=True)
class FaithfulnessScores:
    metrics: dict[str, MetricResult]
    score: float
    score_ci: tuple[float, float]
    additivity_error: float | None = None
    additivity_max: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _per_row(ctx: FaithfulnessContext, A: np.ndarray) -> tuple[dict[str, np.ndarray], int, float]:
    t0 = time.perf_counter()
    calls0 = ctx.calls()
    deletion, insertion = M.ablation_curves(ctx.predict, ctx.X, A, ctx.baseline)
    out = {
        "deletion_auc": M.curve_auc(deletion),
        "insertion_auc": M.curve_auc(insertion),
        "comprehensiveness": M.comprehensiveness(deletion),
        "sufficiency": M.sufficiency(insertion, ctx.full),
        "faithfulness_correlation": M.faithfulness_correlation(A, ctx.probe),
        "monotonicity": M.monotonicity(A, ctx.effects),
        "infidelity": M.infidelity(A, ctx.probe),
    }
    return out, ctx.calls() - calls0, time.perf_counter() - t0


class FaithfulnessContext:
    """Everything shared by the scoring of all attributions of the same rows."""

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, baseline: M.Baseline, *,
                 seed: int, n_random: int = 8, n_bootstrap: int = 200, oracle: np.ndarray | None = None,
                 oracle_kind: str | None = None) -> None:
        self._calls = 0

        def counted(Z: np.ndarray) -> np.ndarray:
            self._calls += 1
            return predict(Z)

        self.predict = counted
        self.X = np.asarray(X, dtype=float)
        self.baseline = baseline
        self.seed = seed
        self.n_bootstrap = n_bootstrap
        rng = np.random.default_rng(seed)
        t0, c0 = time.perf_counter(), self.calls()
        self.full = predict(self.X)
        self.probe = M.subset_probe(predict, self.X, baseline, rng=rng, full=self.full)
        self.effects = M.single_feature_effects(predict, self.X, baseline, self.full)
        self.shared_calls, self.shared_seconds = self.calls() - c0, time.perf_counter() - t0
        n, f = self.X.shape
        # The random control: the average, row by row, of several independent random attributions.
        t0, c0 = time.perf_counter(), self.calls()
        draws = [_per_row(self, rng.standard_normal((n, f)))[0] for _ in range(n_random)]
        self.random = {k: np.mean([d[k] for d in draws], axis=0) for k in METRICS}
        self.oracle_kind = oracle_kind or "occlusion reference (features ranked by their own removal effect)"
        self.oracle_values = self.effects if oracle is None else np.asarray(oracle, dtype=float)
        self.oracle = _per_row(self, self.oracle_values)[0]
        self.control_calls, self.control_seconds = self.calls() - c0, time.perf_counter() - t0
        self._boot = rng.integers(0, n, size=(n_bootstrap, n))

    def calls(self) -> int:
        """Model calls made through this context so far."""
        return self._calls

    def score(self, A: np.ndarray, *, base: np.ndarray | None = None, output: np.ndarray | None = None) -> FaithfulnessScores:
        """Score one attribution (n x f) of ``self.X``; additivity when ``output`` is given."""
        rows, calls, seconds = _per_row(self, np.asarray(A, dtype=float))
        results: dict[str, MetricResult] = {}
        boot_scores = []
        for name, (higher, _desc) in METRICS.items():
            m, r, o = rows[name], self.random[name], self.oracle[name]
            mb, rb, ob = (x[self._boot].mean(1) for x in (m, r, o))
            denom = o.mean() - r.mean()
            usable = abs(denom) > 1e-9 * max(1.0, abs(o.mean()), abs(r.mean()))
            score = float((m.mean() - r.mean()) / denom) if usable else None
            score_ci = None
            if usable:
                bdenom = np.where(np.abs(ob - rb) > 1e-12, ob - rb, np.nan)
                sb = (mb - rb) / bdenom
                boot_scores.append(sb)
                score_ci = (float(np.nanpercentile(sb, 2.5)), float(np.nanpercentile(sb, 97.5)))
            results[name] = MetricResult(
                name=name, value=float(m.mean()),
                ci=(float(np.percentile(mb, 2.5)), float(np.percentile(mb, 97.5))),
                control=float(r.mean()), oracle=float(o.mean()), score=score, score_ci=score_ci,
                higher_is_better=higher, baseline=self.baseline.kind, calls=calls, seconds=seconds,
            )
        usable_scores = [m.score for m in results.values() if m.score is not None]
        overall = float(np.mean(usable_scores)) if usable_scores else float("nan")
        if boot_scores:
            sb = np.nanmean(np.vstack(boot_scores), axis=0)
            ci = (float(np.nanpercentile(sb, 2.5)), float(np.nanpercentile(sb, 97.5)))
        else:
            ci = (float("nan"), float("nan"))
        add_mean = add_max = None
        if base is not None and output is not None:
            err = M.additivity_error(np.asarray(A), np.asarray(base), np.asarray(output), float(np.std(output)))
            add_mean, add_max = float(err.mean()), float(err.max())
        return FaithfulnessScores(results, overall, ci, add_mean, add_max)


def stability(attributions: list[np.ndarray], k: int) -> float:
    """Mean pairwise top-k Jaccard of the same rows explained with different seeds (1 = identical)."""
    vals = [M.topk_jaccard(a, b, k).mean() for i, a in enumerate(attributions) for b in attributions[i + 1 :]]
    return float(np.mean(vals)) if vals else 1.0


def max_sensitivity(explain: Callable[[np.ndarray], np.ndarray], X: np.ndarray, A: np.ndarray,
                    categorical: np.ndarray, scale: np.ndarray, *, radius: float = 0.05, n_perturb: int = 4,
                    rng: np.random.Generator) -> float:
    """Yeh et al. (2019) max-sensitivity: the largest relative change of the attribution when numeric
    inputs move by up to ``radius`` standard deviations. One explain call over all perturbed rows."""
    n, f = X.shape
    noise = rng.uniform(-radius, radius, size=(n_perturb, n, f)) * scale[None, None, :]
    noise[:, :, categorical] = 0.0
    Xp = (X[None] + noise).reshape(n_perturb * n, f)
    Ap = explain(Xp).reshape(n_perturb, n, f)
    num = np.linalg.norm(Ap - A[None], axis=2)
    den = np.linalg.norm(A, axis=1)[None]
    rel = np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)
    return float(rel.max(0).mean())


def captum_infidelity(adapter: Any, X: np.ndarray, A: np.ndarray, *, seed: int, sigma: float = 0.1,
                      n_perturb: int = 16) -> float:
    """``captum.metrics.infidelity`` on a torch adapter, in the model's input space.

    Numeric inputs (standardised) get Gaussian noise of ``sigma``; one-hot inputs are left alone, so
    only the raw attributions of numeric columns enter (their input column is the raw column). The
    explained function is the same margin the gradient methods explain. Lower is better.
    """
    import torch
    from captum.metrics import infidelity

    numeric = np.zeros(adapter.n_inputs, dtype=bool)
    A_in = np.zeros((len(X), adapter.n_inputs))
    for j, cols in enumerate(adapter.feature_groups):
        if adapter.space.names[j] not in adapter.space.categories:
            numeric[cols] = True
            A_in[:, cols[0]] = A[:, j]
    mask = torch.as_tensor(numeric, dtype=adapter.dtype, device=adapter.device)
    gen = torch.Generator(device=adapter.device).manual_seed(seed)

    def perturb(inputs: Any) -> tuple[Any, Any]:
        noise = torch.randn(inputs.shape, generator=gen, device=inputs.device) * sigma * mask
        return noise, inputs - noise

    inputs = adapter.tensor(X)
    attributions = torch.as_tensor(A_in, dtype=adapter.dtype, device=adapter.device)
    with torch.no_grad():
        value = infidelity(adapter.margin_tensor, perturb, inputs, attributions, n_perturb_samples=n_perturb,
                           max_examples_per_batch=max(len(X), min(4096, len(X) * n_perturb)), normalize=True)
    return float(value.double().mean().cpu())
