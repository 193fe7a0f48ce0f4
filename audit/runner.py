"""The only orchestrator: load, adapt, explain, score, gate, assemble the result.

>>> # run_audit(Path("model.skops"), Path("data.csv"), config=AuditConfig(target="risk"))
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from audit import __version__
from audit.adapters import describe_model, make_adapter
from audit.config import AuditConfig
from audit.errors import ConfigError, DataError, InputError, ModelError, name_some
from audit.faithfulness import Baseline, FaithfulnessContext
from audit.faithfulness import metrics as M
from audit.faithfulness.scoring import max_sensitivity, stability
from audit.gate import ExplainerEvidence, evaluate
from audit.loading import load_data, load_model, sha256_bytes
from audit.results import AuditResult, Decision, ExplanationResult
from audit.types import Attribution, Dataset
from explainers import registry, select

__all__ = ["run_audit", "Progress"]


class Progress:
    """Progress sink; the CLI passes a rich-backed one, the API a silent one."""

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        yield

    def note(self, message: str) -> None:
        pass


@dataclass
class _Group:
    """Rows explained for one explained class (one group unless multiclass per-row classes)."""

    adapter: Any
    rows: np.ndarray  # indices into the dataset
    label: str
    ctx: FaithfulnessContext | None = None
    attributions: dict[str, Attribution] = field(default_factory=dict)


def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "scikit-learn", "shap", "lime", "reportlab", "pydantic", "torch", "captum", "skops"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def _check_model_runs(adapter: Any, ds: Dataset) -> np.ndarray:
    """Predict every row once; a failure becomes a DataError naming the column and row."""
    try:
        return adapter.predict(ds.X)
    except ModelError as exc:
        nan_cols = [j for j in range(ds.X.shape[1]) if np.isnan(ds.X[:, j]).any()]
        if nan_cols:
            j = nan_cols[0]
            row = int(np.flatnonzero(np.isnan(ds.X[:, j]))[0]) + 1
            raise DataError(
                f"data {ds.path}: column {ds.feature_names[j]!r} is empty (NaN) at row {row} (line {row + 1})"
                f"{f' and {len(nan_cols) - 1} other column(s) have gaps' if len(nan_cols) > 1 else ''}; "
                f"this model cannot take missing values. Impute or drop those rows, or use a model/pipeline "
                f"with an imputer."
            ) from None
        lo, hi = 0, len(ds.X)
        while hi - lo > 1:  # bisect to the first row the model rejects
            mid = (lo + hi) // 2
            try:
                adapter.predict(ds.X[lo:mid])
                lo = mid
            except ModelError:
                hi = mid
        raise DataError(f"data {ds.path}: the model rejects row {lo + 1} (line {lo + 2}): {exc.__cause__ or exc}. "
                        "Fix that row's values.") from None


def _oracle(adapter: Any, X: np.ndarray, background: np.ndarray, seed: int) -> tuple[np.ndarray | None, str | None]:
    """No explainer's output is ever the upper reference (a score of 1.00 would be an identity): without
    ``--oracle`` the faithfulness context finds its reference by querying the model itself."""
    return None, None


def _known_oracle(fn: Callable[[Any, Any], Any], ds: Dataset, X: np.ndarray,
                  background: np.ndarray) -> tuple[np.ndarray, str]:
    import pandas as pd

    name = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
    names = list(ds.feature_names)

    def frame(Z: np.ndarray) -> pd.DataFrame:
        decoded = ds.space.decode(Z)
        return decoded.reset_index(drop=True) if isinstance(decoded, pd.DataFrame) else pd.DataFrame(decoded, columns=names)

    try:
        out = fn(frame(X), frame(background))
    except Exception as exc:  # noqa: BLE001 - the user's function: one clear message
        raise InputError(f"--oracle {name}: raised {type(exc).__name__}: {exc}. Fix the function.") from None
    if isinstance(out, pd.DataFrame):
        missing = [c for c in names if c not in out.columns]
        if missing:
            raise InputError(f"--oracle {name}: the returned DataFrame lacks column(s) {name_some(missing)}. "
                             "Return one column per model input.")
        out = out[names]
    try:
        values = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        values = np.empty(0)
    if values.shape != X.shape or not np.isfinite(values).all():
        raise InputError(f"--oracle {name}: returned {type(out).__name__} of shape {getattr(values, 'shape', '?')}; "
                         f"expected finite numbers of shape {X.shape} (one row per explained row, one column per "
                         f"model input in the order {name_some(names, 12)}).")
    return values, f"exact attribution from the known generating function {name}"


def _output_in_space(adapter: Any, X: np.ndarray, space: str, score: np.ndarray) -> np.ndarray | None:
    if space == "score":
        return score
    return adapter.margin(X)


def run_audit(model_path: Path, data_path: Path, *, config: AuditConfig, config_text: str = "",
              trust_model: bool = False, model_class: str | None = None, progress: Progress | None = None,
              command_line: str | None = None, oracle: Callable[[Any, Any], Any] | None = None) -> AuditResult:
    """Run a whole audit and return its :class:`AuditResult` (nothing is written here).

    ``oracle``: the exact attribution of a known generating function (validation on synthetic data),
    called as ``oracle(rows, background)`` with DataFrames of raw input values and returning one value
    per row and model input (an array in the data's column order, or a DataFrame with those columns).
    It replaces the occlusion reference as the upper control of every faithfulness metric.
    """
    progress = progress or Progress()
    t_start = time.perf_counter()
    known = registry()
    unknown = [name for name in config.policy.explainers if name not in known]
    if unknown:
        raise ConfigError(f"[policy.explainers.{unknown[0]}]: there is no explainer called {unknown[0]!r}. "
                          f"Valid names: {', '.join(known)}. Fix the section name in the config.")
    timings: dict[str, float] = {}

    @contextmanager
    def timed(name: str, label: str) -> Iterator[None]:
        t0 = time.perf_counter()
        with progress.step(label):
            yield
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0

    with timed("load", f"Loading model {model_path.name}"):
        loaded = load_model(model_path, trust_model=trust_model, model_class=model_class)
        spec = describe_model(loaded.obj, loaded.extra)
    with timed("load", f"Reading data {data_path.name}"):
        ds = load_data(data_path, spec, target=config.target)
        extra = dict(loaded.extra)
        extra["device"] = config.device
        adapter = make_adapter(loaded.obj, ds.space, extra=extra, explained_class=config.explained_class)
        if hasattr(adapter, "set_probe_rows"):
            adapter.set_probe_rows(ds.X)
        score_all = _check_model_runs(adapter, ds)
        labels_all = adapter.predict_label(ds.X)
    warnings = list(ds.warnings)

    rng = np.random.default_rng(config.seed)
    n = ds.n_rows
    explain_rows = np.sort(rng.choice(n, size=min(config.rows, n), replace=False))
    background = ds.X[np.sort(rng.choice(n, size=min(config.background, n), replace=False))]
    favorable = _favorable_class(adapter, config)

    groups = _make_groups(adapter, ds, explain_rows, config)
    options = config.model_dump(include={"shap_algorithm", "shap_tree_mode", "lime_num_samples",
                                         "shap_gradient_samples", "ig_steps", "gradient_shap_samples", "n_jobs"})
    options["device"] = config.device
    explainers, skipped = select(adapter, config.explainers, **options)
    warnings += [f"explainer skipped: {s}" for s in skipped]
    categorical = ds.space.categorical_mask
    baseline = Baseline.from_background(background, categorical, config.baseline, seed=config.seed)
    scale = np.nanstd(ds.X, axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    counter = adapter.counter

    with timed("controls", "Measuring controls (random and oracle attributions)"):
        for g in groups:
            X = ds.X[g.rows]
            if oracle is not None:
                o_vals, o_kind = _known_oracle(oracle, ds, X, background)
            else:
                o_vals, o_kind = _oracle(g.adapter, X, background, config.seed)
            g.ctx = FaithfulnessContext(g.adapter.predict, X, baseline, seed=config.seed,
                                        n_random=config.random_controls, n_bootstrap=config.bootstrap,
                                        oracle=o_vals, oracle_kind=o_kind)

    results: list[ExplanationResult] = []
    evidence: list[ExplainerEvidence] = []
    combined: dict[str, Attribution] = {}
    randomised = _randomised_adapter(adapter, ds, config) if ds.target is not None else None
    for ex in explainers:
        with timed(f"explain:{ex.name}", f"Explaining {len(explain_rows)} rows with {ex.name}"):
            t0 = time.perf_counter()
            for g in groups:
                g.attributions[ex.name] = ex.explain(g.adapter, ds.X[g.rows], background=background, seed=config.seed)
            seconds = time.perf_counter() - t0
        with timed(f"faithfulness:{ex.name}", f"Scoring faithfulness of {ex.name}"):
            res, ev, attr = _score_explainer(ex, groups, ds, background, config, scale, categorical, randomised, seconds)
        results.append(res)
        evidence.append(ev)
        combined[ex.name] = attr

    protected = _protected_shares(combined, config.policy.protected_attributes, ds)
    gate = evaluate(config.policy, evidence, {k: v["share"] for k, v in protected.get("by_explainer", {}).items()})
    agreement = _agreement(combined)
    primary = _primary_explainer(results, gate)
    decisions = _decisions(ds, explain_rows, score_all, labels_all, adapter, favorable, config, primary, combined)
    performance = challenger = None
    if ds.target is not None:
        with timed("performance", "Model performance and interpretable challenger"):
            from audit.performance import challenger_benchmark, model_performance

            performance = model_performance(adapter, ds, score_all, labels_all)
            challenger = challenger_benchmark(adapter, ds, performance, seed=config.seed)

    controls = {}
    for g in groups:
        controls.setdefault("random", {}).update({k: float(np.mean(v)) for k, v in g.ctx.random.items()})
        controls.setdefault("oracle", {}).update({k: float(np.mean(v)) for k, v in g.ctx.oracle.items()})
        controls["oracle_kind"] = g.ctx.oracle_kind
        controls["baseline"] = baseline.kind
        controls["random_draws"] = config.random_controls
        controls["shared_probe_model_calls"] = controls.get("shared_probe_model_calls", 0) + g.ctx.shared_calls
        controls["control_model_calls"] = controls.get("control_model_calls", 0) + g.ctx.control_calls
        controls["control_seconds"] = controls.get("control_seconds", 0.0) + g.ctx.control_seconds

    timings["total_before_report"] = time.perf_counter() - t_start
    classes = [str(c) for c in adapter.classes] if adapter.classes is not None else None
    model_info = {
        "path": loaded.path, "sha256": loaded.sha256, "framework": adapter.framework, "type": adapter.type_name,
        "task": adapter.task, "format": loaded.format, "loaded_with": loaded.how, "trusted": loaded.trusted,
        "output": adapter.output, "classes": classes,
        "explained_class": None if len(groups) > 1 else _s(groups[0].adapter.explained_class),
        "explained_class_per_row": len(groups) > 1, "favorable_class": _s(favorable),
        "device": getattr(adapter, "device", "cpu"),
        **{k: v for k, v in loaded.extra.items() if k in ("model_class", "spec_path", "spec_sha256")},
    }
    data_info = {
        "path": ds.path, "sha256": ds.sha256, "rows": ds.n_rows, "features": list(ds.feature_names),
        "categorical": {k: [str(c) for c in v] for k, v in ds.space.categories.items()},
        "target": ds.target_name, "ignored_columns": list(ds.ignored_columns),
        "missing_values": {name: int(np.isnan(ds.X[:, j]).sum()) for j, name in enumerate(ds.feature_names)},
        "class_balance": _class_balance(ds, classes), "explained_rows": [int(r) + 1 for r in explain_rows],
        "background_rows": int(len(background)),
    }
    repro = {
        "command_line": command_line or " ".join(sys.argv), "seed": config.seed,
        "config_sha256": sha256_bytes(config_text.encode()), "config_text": config_text,
        "package_versions": _package_versions(), "platform": platform.platform(), "timings_seconds": timings,
        "model_calls_total": counter.calls, "model_rows_total": counter.rows,
    }
    return AuditResult(
        tool_version=__version__, created_at=_created_at(),
        model=model_info, data=data_info, config=config.model_dump(mode="json", by_alias=True), gate=gate,
        explanations=tuple(results), controls=controls, decisions=tuple(decisions), agreement=agreement,
        performance=performance, challenger=challenger, protected=protected, reproducibility=repro,
        warnings=tuple(warnings), attributions=combined,
    )


def _created_at() -> str:
    """Now, or SOURCE_DATE_EPOCH when set (reproducible builds convention), as ISO 8601 UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), timezone.utc).isoformat(timespec="seconds")
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _s(x: Any) -> Any:
    return None if x is None else str(x)


def _favorable_class(adapter: Any, config: AuditConfig) -> Any:
    if adapter.classes is None:
        return None
    if config.favorable_class is not None:
        for c in adapter.classes:
            if str(c) == str(config.favorable_class):
                return c
        raise DataError(f"favorable_class {config.favorable_class!r} is not a class of the model "
                        f"({[str(c) for c in adapter.classes]}). Fix audit.toml.")
    return adapter.classes[-1] if adapter.task == "binary" else None


def _make_groups(adapter: Any, ds: Dataset, rows: np.ndarray, config: AuditConfig) -> list[_Group]:
    if adapter.task != "multiclass" or config.explained_class is not None:
        return [_Group(adapter, rows, _s(adapter.explained_class) or "output")]
    predicted = np.argmax(adapter.predict_all(ds.X[rows]), axis=1)
    return [_Group(adapter.for_class(int(k)), rows[predicted == k], str(adapter.classes[k]))
            for k in np.unique(predicted)]


def _randomised_adapter(adapter: Any, ds: Dataset, config: AuditConfig) -> Any:
    """The model-randomisation check's model (Adebayo et al. 2018): scikit-learn models refit on permuted
    labels, torch models with every parameter re-initialised; None if the adapter has no such model."""
    if not hasattr(adapter, "randomised"):
        return None
    try:
        return adapter.randomised(ds, np.random.default_rng(config.seed + 7919))
    except Exception as exc:  # noqa: BLE001 - the check is then reported as not run
        return exc


def _score_explainer(ex: Any, groups: list[_Group], ds: Dataset, background: np.ndarray, config: AuditConfig,
                     scale: np.ndarray, categorical: np.ndarray, randomised: Any, seconds: float):
    weights, per_group = [], []
    findings: list[str] = []
    for g in groups:
        a = g.attributions[ex.name]
        X = ds.X[g.rows]
        out = _output_in_space(g.adapter, X, a.output_space, g.ctx.full) if a.additive else None
        if a.additive and out is None:
            findings.append(f"additivity not measurable: the model has no {a.output_space} output")
        s = g.ctx.score(a.values, base=a.base_values if out is not None else None, output=out)
        per_group.append(s)
        weights.append(len(g.rows))
        findings += list(a.meta.get("findings", []))
    w = np.asarray(weights, dtype=float) / sum(weights)
    first = per_group[0]
    faith = {}
    for name, m in first.metrics.items():
        ms = [s.metrics[name] for s in per_group]
        j = m.to_json()
        j["value"] = float(sum(wi * x.value for wi, x in zip(w, ms)))
        j["random_control"] = float(sum(wi * x.control for wi, x in zip(w, ms)))
        j["oracle"] = float(sum(wi * x.oracle for wi, x in zip(w, ms)))
        scores = [x.score for x in ms]
        j["normalised_score"] = None if any(v is None for v in scores) else float(sum(wi * v for wi, v in zip(w, scores)))
        j["model_calls"] = int(sum(x.calls for x in ms))
        j["seconds"] = round(sum(x.seconds for x in ms), 4)
        faith[name] = j
    score = float(sum(wi * s.score for wi, s in zip(w, per_group)))
    score_ci = (float(sum(wi * s.score_ci[0] for wi, s in zip(w, per_group))),
                float(sum(wi * s.score_ci[1] for wi, s in zip(w, per_group))))
    add = [s.additivity_error for s in per_group]
    additivity = None if any(a is None for a in add) else float(sum(wi * a for wi, a in zip(w, add)))
    if additivity is not None:
        faith["additivity_error"] = {"value": additivity, "max": max(s.additivity_max for s in per_group),
                                     "output_space": groups[0].attributions[ex.name].output_space,
                                     "higher_is_better": False, "note": "mean |sum(attr) + base - f(x)| / std(f)"}
        if additivity > config.policy.max_additivity_error:
            findings.append(f"additivity fails: mean error {additivity:.2e} of the output's spread "
                            f"(the method promises exact additivity)")
    g0 = groups[0]
    A0 = g0.attributions[ex.name]
    X0 = ds.X[g0.rows]
    k = min(3, X0.shape[1])
    rng = np.random.default_rng(config.seed + 1)
    stab = None
    if getattr(ex, "sampling", False) or A0.meta.get("sampled", False):  # results vary with the seed
        sub = X0[: config.stability_rows]
        runs = [ex.explain(g0.adapter, sub, background=background, seed=config.seed + s).values
                for s in range(config.stability_seeds)]
        stab = stability(runs, k)
        faith["stability_topk_jaccard"] = {"value": stab, "seeds": config.stability_seeds, "rows": len(sub), "k": k,
                                           "higher_is_better": True}
    sens_rows = min(config.sensitivity_rows, len(X0))
    try:
        sens = max_sensitivity(
            lambda Xp: ex.explain(g0.adapter, Xp, background=background, seed=config.seed).values,
            X0[:sens_rows], np.asarray(A0.values[:sens_rows]), categorical, scale, rng=rng)
        faith["max_sensitivity"] = {"value": sens, "radius_std": 0.05, "perturbations": 4, "rows": sens_rows,
                                    "higher_is_better": False}
    except Exception as exc:  # noqa: BLE001 - an explainer that cannot be re-run is a finding, not a crash
        sens = None
        findings.append(f"max-sensitivity not measured: {type(exc).__name__}: {exc}")
    if getattr(g0.adapter, "framework", None) == "torch":
        try:
            from audit.faithfulness.scoring import captum_infidelity

            m = min(len(X0), 200)
            value = captum_infidelity(g0.adapter, X0[:m], np.asarray(A0.values[:m]), seed=config.seed)
            control = captum_infidelity(g0.adapter, X0[:m], rng.standard_normal((m, X0.shape[1])), seed=config.seed)
            faith["infidelity_captum"] = {"value": value, "random_control": control, "rows": m, "sigma": 0.1,
                                          "higher_is_better": False,
                                          "note": "captum.metrics.infidelity, numeric inputs perturbed, normalized"}
        except Exception as exc:  # noqa: BLE001 - a metric that cannot run is a finding, not a crash
            findings.append(f"captum infidelity not measured: {type(exc).__name__}: {exc}")
    rand_info, similarity, note = None, None, None
    if randomised is None:
        note = "no target column to refit on" if ds.target is None else "model cannot be randomised"
    elif isinstance(randomised, Exception):
        note = f"model randomisation ({g0.adapter.randomisation_method}) failed: {randomised}"
    else:
        m = min(config.randomisation_rows, len(X0))
        rand_adapter = randomised.for_class(g0.adapter.class_index) if g0.adapter.class_index is not None else randomised
        Ar = ex.explain(rand_adapter, X0[:m], background=background, seed=config.seed).values
        similarity = float(np.mean(M.spearman_rows(np.asarray(A0.values[:m]), Ar)))
        rand_info = {"similarity": similarity, "rows": m, "method": f"{g0.adapter.randomisation_method} (Adebayo et al. 2018)",
                     "metric": "mean per-row Spearman correlation"}
    if note:
        rand_info = {"similarity": None, "not_run": note}
    values = np.vstack([g.attributions[ex.name].values for g in groups])
    base = np.concatenate([g.attributions[ex.name].base_values for g in groups])
    order = np.argsort(np.concatenate([g.rows for g in groups]))
    r2 = [g.attributions[ex.name].local_r2 for g in groups]
    local_r2 = None if any(x is None for x in r2) else np.concatenate(r2)[order]
    rules = [g.attributions[ex.name].rules for g in groups]
    combined = Attribution(values[order], base[order], A0.feature_names, ex.name, ex.kind,
                           output_space=A0.output_space, additive=A0.additive, meta=dict(A0.meta),
                           rows=np.sort(np.concatenate([g.rows for g in groups])), local_r2=local_r2,
                           rules=None if any(r is None for r in rules) else tuple(np.concatenate(rules)[order]))
    algorithm = {k: v for k, v in A0.meta.items() if k not in ("findings",)}
    res = ExplanationResult(
        method=ex.name, kind=ex.kind, rows_explained=int(len(values)), seconds=seconds,
        global_importance=combined.global_importance(), faithfulness=faith, faithfulness_score=score,
        faithfulness_score_ci=score_ci, algorithm=algorithm, output_space=A0.output_space, stability=stab,
        max_sensitivity=sens, additivity_error=additivity, randomisation=rand_info,
        mean_local_r2=None if local_r2 is None else float(np.mean(local_r2)), findings=tuple(findings),
    )
    ev = ExplainerEvidence(
        name=ex.name, score=score, score_ci=score_ci, additivity_error=additivity, stability=stab,
        randomisation_similarity=similarity, randomisation_note=note,
        randomisation_method=getattr(g0.adapter, "randomisation_method", None),
        metric_scores={k: v.get("normalised_score") for k, v in faith.items() if "normalised_score" in v},
    )
    return res, ev, combined


def _agreement(attrs: dict[str, Attribution]) -> dict[str, Any]:
    names = list(attrs)
    if len(names) < 2:
        return {"methods": names, "spearman": [[1.0]] * len(names), "topk_overlap": [[1.0]] * len(names), "k": 0}
    f = len(next(iter(attrs.values())).feature_names)
    k = min(3, f)
    sp = np.eye(len(names))
    ov = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            sp[i, j] = sp[j, i] = float(np.mean(M.rank_agreement(attrs[a].values, attrs[b].values)))
            ov[i, j] = ov[j, i] = float(np.mean(M.topk_overlap(attrs[a].values, attrs[b].values, k)))
    pairs = [(names[i], names[j], sp[i, j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    worst = min(pairs, key=lambda p: p[2])
    return {"methods": names, "spearman": sp.round(4).tolist(), "topk_overlap": ov.round(4).tolist(), "k": k,
            "least_agreeing_pair": {"a": worst[0], "b": worst[1], "spearman": worst[2]}}


def _primary_explainer(results: list[ExplanationResult], gate: Any) -> str:
    """The method whose reasons are reported: the most faithful among those that passed the gate."""
    pool = [r for r in results if r.method in gate.passing_explainers] or results
    return max(pool, key=lambda r: (r.faithfulness_score if r.faithfulness_score == r.faithfulness_score else -9,
                                    r.kind == "intrinsic")).method


def _decisions(ds: Dataset, rows: np.ndarray, score: np.ndarray, labels: np.ndarray, adapter: Any, favorable: Any,
               config: AuditConfig, method: str, all_attrs: dict[str, Attribution]) -> list[Decision]:
    if method not in all_attrs:
        return []
    rules = next((a.rules for a in all_attrs.values() if a.rules is not None), None)
    categorical = ds.space.categorical_mask
    typical = np.nanmedian(ds.X, axis=0)
    explained = adapter.explained_class

    def reasons_for(contrib: np.ndarray, r: int, adverse: bool) -> tuple[dict[str, Any], ...]:
        if favorable is not None and explained is not None:
            # Reasons for an adverse outcome are what pushed the favourable class's score down.
            sign = 1.0 if str(explained) == str(favorable) else -1.0
            direction = -sign if adverse else sign
            order = np.argsort(direction * -contrib, kind="stable")
            picked = [j for j in order if direction * contrib[j] > 0][: config.report.max_reasons]
        else:
            picked = list(np.argsort(-np.abs(contrib), kind="stable")[: config.report.max_reasons])
        return tuple({"feature": ds.feature_names[j], "value": ds.space.display(j, ds.X[r, j]),
                      "contribution": float(contrib[j]),
                      "above_typical": None if categorical[j] or np.isnan(ds.X[r, j]) else bool(ds.X[r, j] > typical[j])}
                     for j in picked)

    out = []
    for i, r in enumerate(rows):
        label = labels[r]
        adverse = favorable is not None and str(label) != str(favorable)
        by_method = {name: reasons_for(np.asarray(a.values[i]), r, adverse) for name, a in all_attrs.items()}
        values = {name: ds.space.display(j, ds.X[r, j]) for j, name in enumerate(ds.feature_names)}
        out.append(Decision(row=int(r) + 1, prediction=float(score[r]), outcome=str(label), adverse=adverse,
                            reasons=by_method[method], method=method, values=values,
                            rule=rules[i] if rules else None, reasons_by_method=by_method))
    return out


def _class_balance(ds: Dataset, classes: list[str] | None) -> dict[str, int] | None:
    from audit.performance import class_labels

    if ds.target is None:
        return None
    vals, counts = np.unique(class_labels(ds.target, classes), return_counts=True)
    return {str(v): int(c) for v, c in zip(vals, counts)} if len(vals) <= 20 else None


def _protected_shares(attrs: dict[str, Attribution], protected: list[str], ds: Dataset) -> dict[str, Any]:
    if not protected:
        return {"attributes": [], "by_explainer": {}}
    missing = [p for p in protected if p not in ds.feature_names]
    idx = [ds.feature_names.index(p) for p in protected if p in ds.feature_names]
    by = {}
    for name, a in attrs.items():
        mass = np.abs(a.values).mean(0)
        total = mass.sum()
        by[name] = {"share": float(mass[idx].sum() / total) if total > 0 else 0.0,
                    "per_attribute": {ds.feature_names[j]: float(mass[j] / total) if total > 0 else 0.0 for j in idx}}
    return {"attributes": protected, "not_model_inputs": missing, "by_explainer": by}

