"""One session for every command: load, adapt, select the explainers, plan the budget, sample the rows.

``audit run``, ``audit compare`` (through the runner) and ``audit reasons`` (its choice audit, and the
same steps for the chunks it streams) start from the same sequence, written here once:

1. the model file is loaded under the allow-list and described (:func:`open_model`);
2. DATA is read and validated against that description, the protected attributes settled and checked;
3. the model is wrapped in its adapter for the data's feature space (:func:`adapt`);
4. the explainers are built once (:func:`build_explainers`); the budget planner asks those same objects
   what a row costs (:func:`audit.commands.budget.budgeted`), and the configuration it returns re-parameterises
   them (``n_jobs``, ``explain_budget_s``; :func:`explainers.reconfigure`), never re-selects them;
5. the reference of the principal reasons is chosen (:mod:`audit.measures.reason_reference`: the applicants near the
   passing score, all applicants, or a uniform sample), and the explained rows and the background, from
   that reference's rows, are drawn from the seed (:func:`audit.commands.budget.sample`).

The result is an :class:`AuditSession`, a frozen value the runner reads and never rebuilds. ``audit
reasons`` streams DATA in chunks rather than reading it whole: :func:`prepare_stream` takes steps 1, 3 and
4 (one named explainer, no budget) on DATA's first chunk, with the background of its choice audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.adapters import Adapter, describe_model, first_predictions, make_adapter
from audit.commands.budget import AuditPlan, budgeted, sample
from audit.config import AuditConfig
from audit.loading import load_data, load_model
from audit.measures.decisions import favorable_class
from audit.measures.evidence import check_direction_names
from audit.measures.protected import check_protected_names, settle_protected
from audit.measures.reason_reference import Reference, draw_background, reference_values, session_reference
from audit.progress import Clock, Progress
from audit.recourse import check_recourse_names, data_columns
from audit.types import Dataset, FeatureSpace
from explainers import check_names, reconfigure, select

__all__ = ["AuditSession", "prepare", "StreamSession", "prepare_stream", "open_model", "adapt", "build_explainers",
           "load_and_adapt", "check_lda_names"]


@dataclass(frozen=True)
class AuditSession:
    """Everything an audit of one model on one DATA file starts from, prepared once.

    ``config`` is the configuration the rest of the run uses: protected attributes settled from DATA's
    columns and the row counts, ``n_jobs`` and SHAP's budget set by the ``plan``. ``explainers`` were
    built once and carry that configuration's parameters."""

    loaded: Any  # audit.loading.LoadedModel: the object, its SHA-256 and how it was loaded
    dataset: Dataset
    adapter: Adapter
    explainers: tuple[Any, ...]
    skipped: tuple[str, ...]  # requested explainers that do not apply to the model, with why
    config: AuditConfig
    plan: AuditPlan | None  # None: no selected explainer is budgeted
    explain_rows: np.ndarray  # indices into the dataset
    background: np.ndarray  # encoded background rows
    scores: np.ndarray  # every row's score
    labels: np.ndarray  # every row's decision
    protected_source: str  # configured, declared_none, inferred or none
    inferred_bases: dict[str, str]  # inferred protected column -> its prohibited basis
    reference: Reference  # the applicants the background is drawn from (Regulation B's reference methods)
    favorable: Any  # the favourable class (None without one)
    development: Dataset | None = None  # --reference-data: the development sample population stability compares with
    development_adapter: Adapter | None = None  # the model's adapter over that sample's feature space


def open_model(model_path: Path, config: AuditConfig, *, trust_model: bool = False,
               model_class: str | None = None) -> tuple[Any, Any]:
    """The loaded model (allow-list, byte budget) and its description of what DATA must hold."""
    loaded = load_model(model_path, trust_model=trust_model, model_class=model_class,
                        max_model_bytes=config.max_model_bytes)
    return loaded, describe_model(loaded.obj, loaded.extra)


def adapt(loaded: Any, space: FeatureSpace, X: np.ndarray, config: AuditConfig) -> Adapter:
    """The model's adapter for ``space`` on the configured device and explained class, prepared on ``X``."""
    adapter = make_adapter(loaded.obj, space, extra={**loaded.extra, "device": config.device},
                           explained_class=config.explained_class)
    adapter.prepare(X)
    return adapter


def build_explainers(adapter: Adapter, config: AuditConfig, names: list[str] | None = None
                     ) -> tuple[list[Any], list[str]]:
    """The explainers ``names`` (default: the configured ones) built with the configuration's parameters,
    and why any requested one was skipped."""
    return select(adapter, config.explainers if names is None else names, top_level=config.top_level(),
                  settings=config.explainer_settings)


def prepare(model_path: Path, data_path: Path, *, config: AuditConfig, trust_model: bool = False,
            model_class: str | None = None, clock: Clock | None = None,
            reference_data: Path | None = None) -> AuditSession:
    """Load, validate, adapt, build the explainers, plan the budget and sample: the start of every audit.

    ``clock`` times the steps and shows them as progress (default: silent). ``reference_data``: the
    development or training sample (``--reference-data``), read and validated like DATA."""
    clock = clock or Clock(Progress())
    check_names(config.policy.explainers, "[policy.explainers.{name}]")
    with clock("load", f"Loading model {model_path.name}"):
        loaded, spec = open_model(model_path, config, trust_model=trust_model, model_class=model_class)
    with clock("load", f"Reading data {data_path.name}"):
        ds, config, source, bases = _read(data_path, spec, config)
        adapter = adapt(loaded, ds.space, ds.X, config)
        scores = first_predictions(adapter, ds)
        labels = adapter.predict_label(ds.X)
        check_direction_names(config.policy, ds)
        development = _development(reference_data, spec, loaded, config)
        check_lda_names(config, ds)
    built, skipped = build_explainers(adapter, config)
    with clock("plan", "Counting the model-agnostic work against audit_budget_s"):
        planned, plan = budgeted(adapter, ds, config, built)
    explainers = reconfigure(built, before=config.top_level(), after=planned.top_level(),
                             settings=planned.explainer_settings)
    config = planned
    favorable = favorable_class(adapter, config.favorable_class)
    reference = session_reference(config, adapter, ds.X, labels, favorable)
    explain_rows, background = sample(ds, config, reference)
    return AuditSession(loaded, ds, adapter, tuple(explainers), tuple(skipped), config, plan, explain_rows,
                        background, scores, labels, source, bases, reference, favorable, *development)


def load_and_adapt(model_path: Path, data_path: Path, *, config: AuditConfig, trust_model: bool = False,
                   model_class: str | None = None) -> tuple[Any, Dataset, AuditConfig, Adapter, np.ndarray, Any]:
    """The first steps of :func:`prepare` alone, for commands that explain nothing (``audit lda``): the loaded
    model, DATA validated with its protected attributes settled, the settled config, the adapter, every row's
    decision and the favourable class."""
    loaded, spec = open_model(model_path, config, trust_model=trust_model, model_class=model_class)
    ds, config, _source, _bases = _read(data_path, spec, config)
    check_lda_names(config, ds)
    adapter = adapt(loaded, ds.space, ds.X, config)
    return loaded, ds, config, adapter, adapter.predict_label(ds.X), favorable_class(adapter, config.favorable_class)


def check_lda_names(config: AuditConfig, ds: Dataset) -> None:
    """``[lda] attribute`` names a protected attribute of DATA, or one ConfigError before the long work."""
    attr = config.lda.attribute
    if attr is not None and attr not in config.policy.protected_attributes:
        from audit.errors import ConfigError

        raise ConfigError(f"lda.attribute {attr!r} is not a protected attribute of {ds.path} "
                          f"({', '.join(config.policy.protected_attributes) or 'none'}). Fix audit.toml.")


def _development(path: Path | None, spec: Any, loaded: Any, config: AuditConfig
                 ) -> tuple[Dataset | None, Adapter | None]:
    """The ``--reference-data`` sample read like DATA (the same model description), and the model's adapter
    over its feature space (its categories may be coded differently from DATA's)."""
    if path is None:
        return None, None
    development = load_data(path, spec, target=None, infer_target=False)
    return development, adapt(loaded, development.space, development.X, config)


def _read(data_path: Path, spec: Any, config: AuditConfig) -> tuple[Dataset, AuditConfig, str, dict[str, str]]:
    """DATA validated against the model's description, with the protected attributes settled from its
    columns (kept even when they are not model inputs) and every configured column name checked."""
    ds = load_data(data_path, spec, target=config.target, infer_target=config.infer_target,
                   keep=lambda columns, target: settle_protected(config, columns, target)[0].policy.protected_attributes)
    config, source, bases = settle_protected(config, _columns(ds), ds.target_name)
    check_protected_names(config.policy.protected_attributes, ds, bins=config.policy.group_bins,
                          intersections=config.policy.intersections)
    check_recourse_names(config, ds.space, data_columns(ds))
    return ds, config, source, bases


def _columns(ds: Dataset) -> list[str]:
    """Every column of DATA: the model's inputs, the target and the ignored ones."""
    return [*ds.feature_names, *([ds.target_name] if ds.target_name else []), *ds.ignored_columns]


@dataclass(frozen=True)
class StreamSession:
    """What ``audit reasons`` explains DATA's chunks with: the same loading, adapter and explainer building as
    an audit, for data read in chunks (DATA is never held whole). ``first`` is DATA's first chunk (its start
    row, encoded rows and feature space); ``rest`` yields the others."""

    loaded: Any
    spec: Any  # the model's description of DATA (the chunks are read against it)
    adapter: Adapter
    explainer: Any
    background: np.ndarray
    typical: np.ndarray
    reference: dict[str, Any] | None  # what the reasons are measured against (Reference.record)
    first: tuple[int, np.ndarray, FeatureSpace]
    rest: Iterator[tuple[int, np.ndarray, FeatureSpace]]


def prepare_stream(model_path: Path, config: AuditConfig, *, method: str,
                   chunks: Callable[[Any, int], Iterator[tuple[int, np.ndarray, FeatureSpace]]], chunk_rows: int,
                   reference: tuple[np.ndarray, np.ndarray, dict[str, Any] | None] | None = None,
                   pool_rows: int = 5000, fixed: dict[str, Any] | None = None,
                   trust_model: bool = False, model_class: str | None = None) -> StreamSession:
    """Load the model, read DATA's first chunk (``chunks(spec, rows)`` iterates DATA in chunks of ``rows``),
    adapt the model to it and build ``method``. ``reference``: the background, typical values and reference
    record to explain with (an audit's, so reasons match its report); otherwise all three come from DATA's
    first ``pool_rows`` rows by the configured reference method, drawn with the seed whatever the chunk
    size, so chunking never changes a reason. ``fixed``: automatic choices already made (e.g. ``tree_mode``),
    applied to the parameters the explainer has and left at ``"auto"``, so no chunk decides them again."""
    loaded, spec = open_model(model_path, config, trust_model=trust_model, model_class=model_class)
    rest = chunks(spec, chunk_rows)
    first = next(rest)
    adapter = adapt(loaded, first[2], first[1], config)
    (explainer,), _ = build_explainers(adapter, config, [method])
    explainer = _settled(explainer, fixed or {})
    if reference is None:
        _, pool, _ = next(chunks(spec, pool_rows))
        reference = _pool_reference(adapter, pool, config)
    return StreamSession(loaded, spec, adapter, explainer, reference[0], reference[1], reference[2], first, rest)


def _settled(explainer: Any, fixed: dict[str, Any]) -> Any:
    """``explainer`` with the automatic choices in ``fixed`` settled (those of its parameters left at "auto")."""
    params = getattr(explainer, "params", None)
    settle = {k: v for k, v in fixed.items() if getattr(params, k, None) == "auto"}
    if not settle or not hasattr(explainer, "with_params"):
        return explainer
    return explainer.with_params(**{**params.model_dump(), **settle})


def _pool_reference(adapter: Adapter, pool: np.ndarray, config: AuditConfig
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The background, reference values and reference record from the first ``pool`` rows, by the configured
    reference method as an audit would choose them."""
    favorable = favorable_class(adapter, config.favorable_class)
    reference = session_reference(config, adapter, pool, adapter.predict_label(pool), favorable)
    background = draw_background(reference, pool, config.background, np.random.default_rng(config.seed))
    return background, reference_values(reference, background, pool), reference.record(len(background), len(pool))
