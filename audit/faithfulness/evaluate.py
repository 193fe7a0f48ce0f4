"""The evaluation of one explainer: every faithfulness measure, aggregated over explained-class groups.

Rows are explained in *groups*, one per explained class (a single group unless a multiclass model is
explained for each row's predicted class). :func:`evaluate_explainer` scores each group's attribution
against that group's :class:`FaithfulnessContext`, weights the groups by their row counts, and adds
the measures that re-run the explainer (stability across seeds for sampled methods, max-sensitivity,
the model-randomisation check) and Captum's infidelity for differentiable models. It returns the
typed result, the gate's evidence and the attribution of every explained row in data order.

Invariant: every number here is measured on the model through the adapter; nothing is printed or
read from files, and every random draw comes from a generator seeded by ``settings.seed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.faithfulness import metrics as M
from audit.faithfulness.scoring import FaithfulnessContext, FaithfulnessScores, max_sensitivity, stability
from audit.gate import ExplainerEvidence
from audit.records import ControlsRecord, RandomisationRecord
from audit.results import ExplanationResult
from audit.types import Attribution, Dataset

__all__ = ["ExplainedGroup", "Evaluation", "EvaluationSettings", "evaluate_explainer", "randomisation_similarity",
           "controls_record", "randomised_model"]


@dataclass
class ExplainedGroup:
    """Rows explained for one explained class, the adapter viewing that class, and their scoring context."""

    adapter: Adapter
    rows: np.ndarray  # indices into the dataset
    label: str
    ctx: FaithfulnessContext | None = None
    attributions: dict[str, Attribution] = field(default_factory=dict)
    scored: np.ndarray | None = None  # positions within ``rows`` that faithfulness is estimated on (None: all)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Choose (seeded) the positions faithfulness is estimated on: all rows when there are at most ``n``."""
        m = len(self.rows)
        self.scored = np.arange(m) if m <= n else np.sort(rng.choice(m, size=n, replace=False))
        return self.rows[self.scored]

    @property
    def scored_positions(self) -> np.ndarray:
        return np.arange(len(self.rows)) if self.scored is None else self.scored


@dataclass(frozen=True)
class EvaluationSettings:
    """The sizes and thresholds one evaluation needs (taken from the audit configuration)."""

    seed: int = 0
    stability_rows: int = 20
    stability_seeds: int = 5
    sensitivity_rows: int = 10
    randomisation_rows: int = 50
    max_additivity_error: float = 0.01

    @classmethod
    def from_config(cls, config: Any) -> EvaluationSettings:
        return cls(seed=config.seed, stability_rows=config.stability_rows, stability_seeds=config.stability_seeds,
                   sensitivity_rows=config.sensitivity_rows, randomisation_rows=config.randomisation_rows,
                   max_additivity_error=config.policy.max_additivity_error)


@dataclass(frozen=True)
class Evaluation:
    result: ExplanationResult
    evidence: ExplainerEvidence
    attribution: Attribution  # every explained row, in data order


def evaluate_explainer(ex: Any, groups: list[ExplainedGroup], X: np.ndarray, background: np.ndarray,
                       settings: EvaluationSettings, *, randomised: Adapter | Exception | None,
                       randomised_note: str | None, seconds: float) -> Evaluation:
    """Score the attributions ``ex`` gave every group (``group.attributions[ex.name]``) of rows of ``X``."""
    faith, score, score_ci, additivity, findings, summary = _scored_groups(ex.name, groups, settings)
    g0 = groups[0]
    A0 = _rows(g0.attributions[ex.name], g0.scored_positions)
    X0 = X[g0.rows[g0.scored_positions]]
    rng = np.random.default_rng(settings.seed + 1)
    stab = _stability(ex, g0.adapter, X0, A0, background, settings, faith, g0.scored_positions)
    sens = _sensitivity(ex, g0.adapter, X0, A0, background, _feature_scale(X), settings, rng, faith, findings)
    if g0.adapter.capabilities.differentiable:
        _captum_infidelity(g0.adapter, X0, A0, settings.seed, rng, faith, findings)
    rand_info, similarity, note = _randomisation(ex, g0.adapter, X0, A0, background, settings, randomised,
                                                 randomised_note)
    combined = _combined(ex.name, groups, g0.attributions[ex.name])
    result = ExplanationResult(
        method=ex.name, kind=ex.kind, rows_explained=combined.n_rows, seconds=seconds,
        global_importance=combined.global_importance(), faithfulness=faith, faithfulness_score=score,
        faithfulness_score_ci=score_ci, algorithm={k: v for k, v in A0.meta.items() if k != "findings"},
        output_space=A0.output_space, stability=stab, max_sensitivity=sens, additivity_error=additivity,
        randomisation=rand_info, findings=tuple(findings), faithfulness_summary=summary,
        mean_local_r2=None if combined.local_r2 is None else float(np.mean(combined.local_r2)),
    )
    evidence = ExplainerEvidence(
        name=ex.name, score=score, score_ci=score_ci, additivity_error=additivity, stability=stab,
        randomisation_similarity=None if similarity is None else similarity[0],
        randomisation_similarity_abs=None if similarity is None else similarity[1], randomisation_note=note,
        randomisation_method=g0.adapter.capabilities.randomisation,
        metric_scores={k: v.get("normalised_score") for k, v in faith.items() if "normalised_score" in v},
        uninformative_metrics=tuple(summary["uninformative_metrics"]),
        identity_with_reference=bool(summary["identity_with_reference"]),
    )
    return Evaluation(result, evidence, combined)


def _group_scores(name: str, g: ExplainedGroup, findings: list[str]) -> FaithfulnessScores:
    """The group's attribution scored on its scoring sample (every explained row unless ``score_rows``
    is smaller than the group)."""
    a = g.attributions[name]
    idx = g.scored_positions
    out = None
    if a.additive:
        out = g.ctx.full if a.output_space == "score" else g.adapter.margin(g.ctx.X)
        if out is None:
            findings.append(f"additivity not measurable: the model has no {a.output_space} output")
    findings += list(a.meta.get("findings", []))
    return g.ctx.score(a.values[idx], base=a.base_values[idx] if out is not None else None, output=out)


def _scored_groups(name: str, groups: list[ExplainedGroup], settings: EvaluationSettings) -> tuple:
    """Per-metric values, the score and its CI, additivity: each a row-weighted mean over the groups."""
    findings: list[str] = []
    per_group = [_group_scores(name, g, findings) for g in groups]
    w = np.asarray([len(g.rows) for g in groups], dtype=float)  # groups weigh by all their explained rows
    w /= w.sum()

    def mean(values: list[float]) -> float:
        return float(sum(wi * v for wi, v in zip(w, values)))

    faith: dict[str, Any] = {}
    for metric in per_group[0].metrics:
        ms = [s.metrics[metric] for s in per_group]
        j = ms[0].to_json()
        j["value"], j["random_control"], j["oracle"] = (mean([x.value for x in ms]), mean([x.control for x in ms]),
                                                        mean([x.oracle for x in ms]))
        scores, raw = [x.score for x in ms], [x.raw_score for x in ms]
        j["normalised_score"] = None if any(v is None for v in scores) else mean(scores)
        j["raw_normalised_score"] = None if any(v is None for v in raw) else mean(raw)
        j["informative"] = all(x.informative for x in ms)
        j["clipped"] = any(x.clipped for x in ms)
        j["model_calls"] = int(sum(x.calls for x in ms))
        j["seconds"] = round(sum(x.seconds for x in ms), 4)
        faith[metric] = j
    summary = _summary(per_group, w)
    summary["rows_scored"] = int(sum(len(g.scored_positions) for g in groups))
    score = mean([s.score for s in per_group])
    score_ci = (mean([s.score_ci[0] for s in per_group]), mean([s.score_ci[1] for s in per_group]))
    add = [s.additivity_error for s in per_group]
    additivity = None if any(a is None for a in add) else mean(add)
    if additivity is not None:
        faith["additivity_error"] = {"value": additivity, "max": max(s.additivity_max for s in per_group),
                                     "output_space": groups[0].attributions[name].output_space,
                                     "higher_is_better": False, "note": "mean |sum(attr) + base - f(x)| / std(f)"}
        if additivity > settings.max_additivity_error:
            findings.append(f"additivity fails: mean error {additivity:.2e} of the output's spread "
                            f"(the method promises exact additivity)")
    return faith, score, score_ci, additivity, findings, summary


def _summary(per_group: list[FaithfulnessScores], w: np.ndarray) -> dict[str, Any]:
    """What stands next to the score: uninformative and clipped metrics (any group), and whether the
    attribution coincides with the reference by construction (in every group)."""
    out = per_group[0].summary()
    out["uninformative_metrics"] = sorted({m for s in per_group for m in s.uninformative})
    out["clipped_metrics"] = sorted({m for s in per_group for m in s.clipped})
    out["identity_with_reference"] = all(s.identity_with_reference for s in per_group)
    out["identity_share"] = float(sum(wi * s.identity_share for wi, s in zip(w, per_group)))
    if not out["identity_with_reference"]:
        out["identity_candidate"] = None
    return out


def _stability(ex: Any, adapter: Adapter, X0: np.ndarray, A0: Attribution, background: np.ndarray,
               settings: EvaluationSettings, faith: dict[str, Any], positions: np.ndarray) -> float | None:
    """Top-k Jaccard across seeds, for methods whose results vary with the seed (declared by the class,
    or by the attribution's meta for algorithms chosen per model: shap's Permutation and Kernel).

    The first seed's run is the explained rows' own attribution when it would be identical: a method
    that seeds each row from (seed, row position), on rows that were the first ones explained."""
    if not (getattr(ex, "sampling", False) or A0.meta.get("sampled", False)):
        return None
    k = min(3, X0.shape[1])
    sub = X0[: settings.stability_rows]
    n = len(sub)
    reuse = bool(A0.meta.get("parameters", {}).get("per_row_seed")) and np.array_equal(positions[:n], np.arange(n))
    runs = [np.asarray(A0.values[:n])] if reuse else []
    runs += [ex.explain(adapter, sub, background=background, seed=settings.seed + s).values
             for s in range(len(runs), settings.stability_seeds)]
    stab = stability(runs, k)
    faith["stability_topk_jaccard"] = {"value": stab, "seeds": settings.stability_seeds, "rows": len(sub), "k": k,
                                       "higher_is_better": True}
    return stab


def _sensitivity(ex: Any, adapter: Adapter, X0: np.ndarray, A0: Attribution, background: np.ndarray,
                 scale: np.ndarray, settings: EvaluationSettings, rng: np.random.Generator, faith: dict[str, Any],
                 findings: list[str]) -> float | None:
    """Max-sensitivity (Yeh et al. 2019) of the explainer on the first rows, numeric inputs moved by a
    share of ``scale`` (each column's spread over the data); a failure is a finding."""
    rows = min(settings.sensitivity_rows, len(X0))
    categorical = adapter.space.categorical_mask
    try:
        sens = max_sensitivity(lambda Xp: ex.explain(adapter, Xp, background=background, seed=settings.seed).values,
                               X0[:rows], np.asarray(A0.values[:rows]), categorical, scale, rng=rng)
    except Exception as exc:  # noqa: BLE001 - an explainer that cannot be re-run is a finding, not a crash
        findings.append(f"max-sensitivity not measured: {type(exc).__name__}: {exc}")
        return None
    faith["max_sensitivity"] = {"value": sens, "radius_std": 0.05, "perturbations": 4, "rows": rows,
                                "higher_is_better": False}
    return sens


def _feature_scale(X: np.ndarray) -> np.ndarray:
    """Each column's standard deviation over the data (1 where it is zero or undefined)."""
    scale = np.nanstd(X, axis=0)
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def _captum_infidelity(adapter: Adapter, X0: np.ndarray, A0: Attribution, seed: int, rng: np.random.Generator,
                       faith: dict[str, Any], findings: list[str]) -> None:
    try:
        from audit.faithfulness.scoring import captum_infidelity

        m = min(len(X0), 200)
        value = captum_infidelity(adapter, X0[:m], np.asarray(A0.values[:m]), seed=seed)
        control = captum_infidelity(adapter, X0[:m], rng.standard_normal((m, X0.shape[1])), seed=seed)
        faith["infidelity_captum"] = {"value": value, "random_control": control, "rows": m, "sigma": 0.1,
                                      "higher_is_better": False,
                                      "note": "captum.metrics.infidelity, numeric inputs perturbed, normalized"}
    except Exception as exc:  # noqa: BLE001 - a metric that cannot run is a finding, not a crash
        findings.append(f"captum infidelity not measured: {type(exc).__name__}: {exc}")


def randomisation_similarity(A: np.ndarray, A_random: np.ndarray) -> tuple[float, float]:
    """Mean per-row Spearman correlation between explanations of the model and of its randomised twin,
    of the signed values and of their sizes: an explanation that merely flips sign is as similar as one
    that does not change (either above the threshold fails).

    >>> a = np.array([[3.0, 1.0, 2.0]])
    >>> randomisation_similarity(a, -a)
    (-1.0, 1.0)
    """
    A, A_random = np.asarray(A), np.asarray(A_random)
    return (float(np.mean(M.spearman_rows(A, A_random))),
            float(np.mean(M.spearman_rows(np.abs(A), np.abs(A_random)))))


def _randomisation(ex: Any, adapter: Adapter, X0: np.ndarray, A0: Attribution, background: np.ndarray,
                   settings: EvaluationSettings, randomised: Adapter | Exception | None,
                   note: str | None) -> tuple[RandomisationRecord, float | None, str | None]:
    """The model-randomisation sanity check (Adebayo et al. 2018) for this explainer."""
    if randomised is None or isinstance(randomised, Exception):
        if isinstance(randomised, Exception):
            note = f"model randomisation ({adapter.capabilities.randomisation}) failed: {randomised}"
        return {"similarity": None, "not_run": note}, None, note
    m = min(settings.randomisation_rows, len(X0))
    view = randomised.for_class(adapter.class_index) if adapter.class_index is not None else randomised
    Ar = ex.explain(view, X0[:m], background=background, seed=settings.seed).values
    signed, absolute = randomisation_similarity(A0.values[:m], Ar)
    info = {"similarity": max(signed, absolute), "similarity_signed": signed, "similarity_abs": absolute, "rows": m,
            "method": f"{adapter.capabilities.randomisation} (Adebayo et al. 2018)",
            "metric": "mean per-row Spearman correlation, the larger of signed values and of |values|"}
    return info, (signed, absolute), None


def _rows(a: Attribution, idx: np.ndarray) -> Attribution:
    """The attribution of some of its rows."""
    if len(idx) == a.n_rows:
        return a
    return Attribution(a.values[idx], a.base_values[idx], a.feature_names, a.method, a.kind,
                       output_space=a.output_space, additive=a.additive, meta=dict(a.meta),
                       local_r2=None if a.local_r2 is None else a.local_r2[idx])


def _combined(name: str, groups: list[ExplainedGroup], A0: Attribution) -> Attribution:
    """One attribution over every group's rows, in data order."""
    parts = [g.attributions[name] for g in groups]
    rows = np.concatenate([g.rows for g in groups])
    order = np.argsort(rows)
    r2 = [a.local_r2 for a in parts]
    rules = [a.rules for a in parts]
    return Attribution(np.vstack([a.values for a in parts])[order], np.concatenate([a.base_values for a in parts])[order],
                       A0.feature_names, name, A0.kind, output_space=A0.output_space, additive=A0.additive,
                       meta=dict(A0.meta), rows=np.sort(rows),
                       local_r2=None if any(x is None for x in r2) else np.concatenate(r2)[order],
                       rules=None if any(r is None for r in rules) else tuple(np.concatenate(rules)[order]))


def controls_record(groups: list[ExplainedGroup], baseline: str, draws: int) -> ControlsRecord:
    """results.json's ``controls``: the random and reference metric values and what they cost (summed over
    the groups; per group label where a multiclass model is explained one predicted class at a time)."""
    random: dict[str, float] = {}
    oracle: dict[str, float] = {}
    for g in groups:
        random.update({k: float(np.mean(v)) for k, v in g.ctx.random.items()})
        oracle.update({k: float(np.mean(v)) for k, v in g.ctx.oracle.items()})
    return {"random": random, "oracle": oracle, "oracle_kind": groups[-1].ctx.oracle_kind,
            "uninformative_metrics": {g.label: list(g.ctx.uninformative) for g in groups},
            "reference_winners": {g.label: g.ctx.reference_winners for g in groups},
            "reference_model_calls": sum(g.ctx.reference.model_calls for g in groups),
            "baseline": baseline, "random_draws": draws,
            "shared_probe_model_calls": sum(g.ctx.shared_calls for g in groups),
            "control_model_calls": sum(g.ctx.control_calls for g in groups),
            "control_seconds": sum(g.ctx.control_seconds for g in groups)}


def randomised_model(adapter: Adapter, ds: Dataset, seed: int) -> tuple[Any, str | None]:
    """The model-randomisation check's model (Adebayo et al. 2018), an exception if making it failed, or
    None with the reason it cannot run."""
    if ds.target is None:
        return None, "no target column to refit on"
    if adapter.capabilities.randomisation is None:
        return None, "model cannot be randomised"
    try:
        return adapter.randomised(ds, np.random.default_rng(seed + 7919)), None
    except Exception as exc:  # noqa: BLE001 - the check is then reported as not run
        return exc, None
