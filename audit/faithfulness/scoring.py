"""Scoring an attribution against measured controls.

A :class:`FaithfulnessContext` is built once per set of explained rows: the baseline, the model's
output, the random-subset probe and single-feature effects (shared by every attribution), and the
per-row metrics of the controls: the *random* control (the mean over several random attributions)
and the *reference* (``oracle`` in results for compatibility). The reference never comes from an
explainer: it is the known generating function when one is given, otherwise, per row and metric, the
best value reached by attributions found by querying the model (greedy deletion search, cross-fitted
least squares, occlusion; see :mod:`audit.faithfulness.reference`).

Invariants of the score:

- every metric is sign-aware: the exact negation of the truth scores about -1 on each;
- per metric, ``normalised = (metric - random) / (reference - random)``, clipped to ``SCORE_RANGE``
  (the clip is recorded); the random control is about 0 and the reference 1;
- a metric whose reference beats random by less than ``INFORMATIVE_FLOOR`` of the metric's unit is
  *uninformative on this model*: flagged, listed, and left out of the score (never averaged);
- the score is the mean of the clipped scores of the informative metrics (NaN if there are none); its
  bootstrap 95% CI resamples rows and applies the same clipping and exclusion to every replicate;
- ``identity_with_reference`` says when the attribution ranks the features exactly as a reference
  candidate does on at least ``IDENTITY_SHARE`` of the rows: that score is an identity, not evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.faithfulness import metrics as M
from audit.faithfulness import reference as R

__all__ = ["METRICS", "EXTRA_METRICS", "SCORE_RANGE", "INFORMATIVE_FLOOR", "IDENTITY_SHARE", "MetricResult",
           "FaithfulnessScores", "FaithfulnessContext", "subset_score", "stability", "max_sensitivity", "captum_infidelity"]

# name: (higher is better, what it measures); these seven make up the score
METRICS: dict[str, tuple[bool, str]] = {
    "deletion_auc": (False, "score left as top-ranked features are removed first (area; lower is better)"),
    "insertion_auc": (True, "score recovered as top-ranked features are restored first (area; higher is better)"),
    "comprehensiveness": (True, "drop in score when the top-k features are removed (ERASER AOPC)"),
    "sufficiency": (False, "score lost when only the top-k features are kept (ERASER)"),
    "faithfulness_correlation": (True, "correlation of summed attributions with the effect of removing random subsets (Bhatt 2020)"),
    "monotonicity": (True, "rank correlation of the signed attribution with each feature's own signed removal effect"),
    "infidelity": (False, "2(1 - cosine) between summed attributions and subset-removal effects, non-negative scale (Yeh 2019)"),
}
# reported with controls and a normalised value, never part of the score
EXTRA_METRICS: dict[str, tuple[bool, str]] = {
    "monotonicity_abs": (True, "Spearman of |attribution| with |own removal effect| (Nguyen 2020; Quantus "
                               "MonotonicityCorrelation, sign-blind)"),
}
_ALL = {**METRICS, **EXTRA_METRICS}
_CURVES = ("deletion_auc", "insertion_auc", "comprehensiveness", "sufficiency")

SCORE_RANGE = (-1.0, 1.5)  # per-metric normalised scores are clipped to this range
INFORMATIVE_FLOOR = 0.05  # reference must beat random by this fraction of the metric's unit
IDENTITY_SHARE = 0.95  # rows ranked exactly as a reference candidate for a score to count as an identity


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float
    ci: tuple[float, float]
    control: float
    oracle: float
    score: float | None  # clipped; None when the metric is uninformative on this model
    score_ci: tuple[float, float] | None
    higher_is_better: bool
    baseline: str
    calls: int
    seconds: float
    raw_score: float | None  # before clipping
    clipped: bool
    informative: bool
    in_score: bool
    unit: float
    reference_winners: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value, "ci95": list(self.ci), "random_control": self.control, "oracle": self.oracle,
            "normalised_score": self.score, "normalised_score_ci95": list(self.score_ci) if self.score_ci else None,
            "higher_is_better": self.higher_is_better, "baseline": self.baseline, "model_calls": self.calls,
            "seconds": round(self.seconds, 4), "raw_normalised_score": self.raw_score, "clipped": self.clipped,
            "informative": self.informative, "in_score": self.in_score, "unit": self.unit,
            "reference_winners": dict(self.reference_winners),
        }


@dataclass(frozen=True)
class FaithfulnessScores:
    metrics: dict[str, MetricResult]
    score: float
    score_ci: tuple[float, float]
    additivity_error: float | None
    additivity_max: float | None
    uninformative: tuple[str, ...]
    clipped: tuple[str, ...]
    identity_with_reference: bool
    identity_share: float
    identity_candidate: str | None
    reference_kind: str
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The keys results.json shows next to the score (added keys; nothing renamed)."""
        return {
            "uninformative_metrics": list(self.uninformative), "clipped_metrics": list(self.clipped),
            "identity_with_reference": self.identity_with_reference, "identity_share": self.identity_share,
            "identity_candidate": self.identity_candidate, "score_range": list(SCORE_RANGE),
            "informative_floor": INFORMATIVE_FLOOR, "reference_kind": self.reference_kind,
        }


def _values(ctx: FaithfulnessContext, A: np.ndarray) -> dict[str, np.ndarray]:
    deletion, insertion = M.ablation_curves(ctx.predict, ctx.X, A, ctx.baseline)
    return {
        "deletion_auc": M.curve_auc(deletion),
        "insertion_auc": M.curve_auc(insertion),
        "comprehensiveness": M.comprehensiveness(deletion),
        "sufficiency": M.sufficiency(insertion, ctx.full),
        "faithfulness_correlation": M.faithfulness_correlation(A, ctx.probe),
        "monotonicity": M.monotonicity(A, ctx.effects),
        "infidelity": M.infidelity(A, ctx.probe),
        "monotonicity_abs": M.monotonicity_abs(A, ctx.effects),
    }


def _per_row(ctx: FaithfulnessContext, A: np.ndarray) -> tuple[dict[str, np.ndarray], int, float]:
    t0 = time.perf_counter()
    calls0 = ctx.calls()
    out = _values(ctx, A)
    return out, ctx.calls() - calls0, time.perf_counter() - t0


def _normalise(m: np.ndarray, r: np.ndarray, o: np.ndarray, higher: bool, floor: float) -> np.ndarray:
    """Clipped (m - r) / (o - r) in the better direction; a gap below ``floor`` is held at ``floor``."""
    g = 1.0 if higher else -1.0
    return np.clip(g * (m - r) / np.maximum(g * (o - r), floor), *SCORE_RANGE)


class FaithfulnessContext:
    """Everything shared by the scoring of all attributions of the same rows.

    ``oracle``: the exact attribution of a known generating function; it then is the only reference.
    Otherwise the reference is found by querying the model (never an explainer's output).
    """

    def __init__(self, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, baseline: M.Baseline, *,
                 seed: int, n_random: int = 8, n_bootstrap: int = 200, oracle: np.ndarray | None = None,
                 oracle_kind: str | None = None, greedy_max_features: int = R.GREEDY_MAX_FEATURES) -> None:
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
        self.full = counted(self.X)
        self.probe = M.subset_probe(counted, self.X, baseline, rng=rng, full=self.full)
        self.effects = M.single_feature_effects(counted, self.X, baseline, self.full)
        n, f = self.X.shape
        emptied = self.full - M._call(counted, baseline, self.X, np.ones((n, f), dtype=bool))
        # Unit of the curve metrics: how far the explained score moves, per row, over every removal seen.
        moves = np.column_stack([np.zeros(n), self.probe.delta, self.effects, emptied])
        self.units = {k: 1.0 for k in _ALL}
        self.units.update({k: float(np.mean(moves.max(1) - moves.min(1))) for k in _CURVES})
        self.units["infidelity"] = 2.0  # 2(1 - cos): the same correlation unit as the two correlations
        self.shared_calls, self.shared_seconds = self.calls() - c0, time.perf_counter() - t0
        # The random control: the average, row by row, of several independent random attributions.
        t0, c0 = time.perf_counter(), self.calls()
        draws = [_values(self, rng.standard_normal((n, f))) for _ in range(n_random)]
        self.random = {k: np.mean([d[k] for d in draws], axis=0) for k in _ALL}
        if oracle is not None:
            self.reference = R.Reference({"oracle": np.asarray(oracle, dtype=float)},
                                         oracle_kind or "exact attribution of a known generating function")
        else:
            self.reference = R.build_reference(counted, self.X, baseline, self.effects, rng=rng, full=self.full,
                                               greedy_max_features=greedy_max_features)
        self.oracle_kind = self.reference.kind
        per_candidate = {c: _values(self, v) for c, v in self.reference.candidates.items()}
        self.oracle, self.reference_winners = R.best_per_row(per_candidate, {k: h for k, (h, _) in _ALL.items()})
        self.control_calls, self.control_seconds = self.calls() - c0, time.perf_counter() - t0
        self.gap, self.informative = {}, {}
        for k, (higher, _d) in _ALL.items():
            g = 1.0 if higher else -1.0
            self.gap[k] = g * float(self.oracle[k].mean() - self.random[k].mean())
            self.informative[k] = bool(self.gap[k] >= INFORMATIVE_FLOOR * self.units[k] and self.units[k] > 0)
        self.uninformative = tuple(k for k in METRICS if not self.informative[k])
        self._boot = rng.integers(0, n, size=(n_bootstrap, n))

    def calls(self) -> int:
        """Model calls made through this context so far."""
        return self._calls

    def identity(self, A: np.ndarray) -> tuple[float, str | None]:
        """Largest share of rows ranked exactly as one reference candidate, and that candidate."""
        shares = {c: R.identity_share(A, v) for c, v in self.reference.candidates.items()}
        best = max(shares, key=shares.get)
        return shares[best], best

    def row_scores(self, A: np.ndarray) -> dict[str, np.ndarray]:
        """Each row's normalised value of every metric of the score, against this context's controls and gaps:
        ``sign * (metric - random) / gap`` (NaN for a metric uninformative here). The mean over a set of rows,
        clipped and averaged over the metrics, is :meth:`score`'s score restricted to those rows
        (:func:`subset_score`), so groups of rows are scored on one scale (used for explanation parity)."""
        rows = _values(self, np.asarray(A, dtype=float))
        out = {}
        for name in METRICS:
            higher = METRICS[name][0]
            ok = self.informative[name] and self.gap[name] > 0
            out[name] = ((1.0 if higher else -1.0) * (rows[name] - self.random[name]) / self.gap[name] if ok
                         else np.full(len(self.X), np.nan))
        return out

    def score(self, A: np.ndarray, *, base: np.ndarray | None = None, output: np.ndarray | None = None) -> FaithfulnessScores:
        """Score one attribution (n x f) of ``self.X``; additivity when ``output`` is given.

        >>> # ctx = FaithfulnessContext(model.predict, X, Baseline(X.mean(0)[None]), seed=0)
        >>> # s = ctx.score(attribution); s.score, s.uninformative, s.identity_with_reference
        """
        A = np.asarray(A, dtype=float)
        rows, calls, seconds = _per_row(self, A)
        results: dict[str, MetricResult] = {}
        boot_scores = []
        for name, (higher, _desc) in _ALL.items():
            m, r, o = rows[name], self.random[name], self.oracle[name]
            mb, rb, ob = (x[self._boot].mean(1) for x in (m, r, o))
            floor = INFORMATIVE_FLOOR * self.units[name]
            informative = self.informative[name]
            raw = (1.0 if higher else -1.0) * float(m.mean() - r.mean()) / self.gap[name] if self.gap[name] > 0 else None
            score = score_ci = None
            clipped = False
            if informative and raw is not None:
                score = float(np.clip(raw, *SCORE_RANGE))
                clipped = score != raw
                sb = _normalise(mb, rb, ob, higher, floor)
                score_ci = (float(np.percentile(sb, 2.5)), float(np.percentile(sb, 97.5)))
                if name in METRICS:
                    boot_scores.append(sb)
            results[name] = MetricResult(
                name=name, value=float(m.mean()),
                ci=(float(np.percentile(mb, 2.5)), float(np.percentile(mb, 97.5))),
                control=float(r.mean()), oracle=float(o.mean()), score=score, score_ci=score_ci,
                higher_is_better=higher, baseline=self.baseline.kind, calls=calls, seconds=seconds,
                raw_score=raw, clipped=clipped, informative=informative, in_score=name in METRICS,
                unit=self.units[name], reference_winners=self.reference_winners[name],
            )
        used = [results[k].score for k in METRICS if results[k].score is not None]
        overall = float(np.mean(used)) if used else float("nan")
        if boot_scores:
            sb = np.mean(np.vstack(boot_scores), axis=0)
            ci = (float(np.percentile(sb, 2.5)), float(np.percentile(sb, 97.5)))
        else:
            ci = (float("nan"), float("nan"))
        add_mean = add_max = None
        if base is not None and output is not None:
            err = M.additivity_error(A, np.asarray(base), np.asarray(output), float(np.std(output)))
            add_mean, add_max = float(err.mean()), float(err.max())
        share, candidate = self.identity(A)
        return FaithfulnessScores(
            results, overall, ci, add_mean, add_max, uninformative=self.uninformative,
            clipped=tuple(k for k in METRICS if results[k].clipped), identity_with_reference=share >= IDENTITY_SHARE,
            identity_share=share, identity_candidate=candidate if share >= IDENTITY_SHARE else None,
            reference_kind=self.reference.kind,
        )


def subset_score(row_scores: dict[str, np.ndarray], mask: np.ndarray) -> float:
    """The faithfulness score of the rows in ``mask`` from :meth:`FaithfulnessContext.row_scores`: per metric the
    mean over those rows, clipped to ``SCORE_RANGE``, then the mean over the informative metrics (NaN if none)."""
    means = [float(np.clip(np.nanmean(v[mask]), *SCORE_RANGE)) for v in row_scores.values()
             if mask.any() and np.isfinite(v[mask]).any()]
    return float(np.mean(means)) if means else float("nan")


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
