"""Recourse on adverse decisions: what would have changed each one, verified by the model.

For each adverse decision searched (the report's decision pages always are), up to ``counterfactuals``
diverse counterfactuals from :class:`audit.recourse.search.Search`, each then *verified*: the model is
called on the changed rows (one batch for the whole audit) and a counterfactual whose decision is not the
favourable class is dropped. Protected attributes (``policy.protected_attributes``) are always immutable;
``[recourse]`` adds immutables, directions, bounds and cost weights; the rest comes from the data
(observed values, ranges and categorical pairs: :mod:`audit.recourse.support`).

The reasons are tested by the recourse: per explainer, the share of adverse decisions with verified
recourse whose principal reasons name an input that some counterfactual changes (reason-recourse
consistency, a gate check in :func:`audit.gate.recourse_checks`).

>>> RecourseRun({"method": METHOD}, None).record["method"].startswith("seeded beam search")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from audit.config import AuditConfig
from audit.errors import ConfigError, name_some
from audit.gate import Gate, extend, recourse_checks
from audit.records import DecisionRecourseRecord, RecourseRecord
from audit.recourse.search import Counterfactual, RecourseRun, RowRecourse, Rules, Search
from audit.recourse.support import Support
from audit.results import Decision
from audit.types import Dataset, FeatureSpace

__all__ = ["RecourseRun", "attach_recourse", "build_search", "check_recourse_names", "data_columns", "verify", "describe", "consistency", "METHOD"]

METHOD = "seeded beam search over observed values (own implementation)"
_DIRECTION = {"increase": 1.0, "decrease": -1.0, "any": 0.0}


def check_recourse_names(config: AuditConfig, space: FeatureSpace, columns: Sequence[str] | None) -> None:
    """Every input named in ``[recourse]`` is a column of DATA (``columns``; None: any name that is not a model
    input passes, as it has nothing to change), and directions and bounds name numeric inputs; else one
    ConfigError naming the key, the input and the fix."""
    settings, names, cat = config.recourse, list(space.names), space.categorical_mask
    named = [*settings.immutable, *settings.directions, *settings.bounds, *settings.costs]
    unknown = [n for n in named if n not in names and columns is not None and n not in columns]
    if unknown:
        raise ConfigError(f"[recourse]: {name_some(unknown)} is not a column of DATA. Columns are: "
                          f"{name_some(list(columns or ()), 12)}. Fix the name in audit.toml.")
    for key in ("directions", "bounds"):
        wrong = [n for n in getattr(settings, key) if n in names and cat[names.index(n)]]
        if wrong:
            raise ConfigError(f"[recourse] {key}: {name_some(wrong)} is categorical; {key} apply to numeric inputs. "
                              f"Remove it, or list it under immutable.")


def build_search(config: AuditConfig, X: np.ndarray, space: FeatureSpace, adapter: Any, favorable: Any, *,
                 columns: Sequence[str] | None) -> Search:
    """The search for one model and data: support from ``X``, rules from ``[recourse]`` and the policy
    (names checked by :func:`check_recourse_names` against ``columns``)."""
    check_recourse_names(config, space, columns)
    settings, names = config.recourse, list(space.names)
    frozen = {*settings.immutable, *config.policy.protected_attributes}
    index = {n: j for j, n in enumerate(names)}
    low, high = np.full(len(names), -np.inf), np.full(len(names), np.inf)
    direction, weight = np.zeros(len(names)), np.ones(len(names))
    for n, (lo, hi) in settings.bounds.items():
        if n in index:
            low[index[n]], high[index[n]] = lo, hi
    for n, d in settings.directions.items():
        if n in index:
            direction[index[n]] = _DIRECTION[d]
    for n, w in settings.costs.items():
        if n in index:
            weight[index[n]] = w
    rules = Rules(np.array([n not in frozen for n in names]), direction, low, high, weight)
    fav_index = next(i for i, c in enumerate(adapter.classes) if str(c) == str(favorable))
    return Search(Support.from_data(X, space, seed=config.seed), rules, favorable, fav_index,
                  n=settings.counterfactuals, max_changes=settings.max_changes, budget=settings.max_evaluations,
                  max_ratio=settings.max_neighbour_ratio)


def verify(adapter: Any, rows: Sequence[np.ndarray], found: Sequence[RowRecourse], favorable: Any) -> list[RowRecourse]:
    """Call the model on every counterfactual (one batch) and keep those whose decision is the favourable
    class, with the model's decision and explained score."""
    flat = [(i, cf) for i, r in enumerate(found) for cf in r.counterfactuals]
    if not flat:
        return list(found)
    Z = np.vstack([cf.apply(rows[i]) for i, cf in flat])
    labels, scores = adapter.predict_label(Z), np.asarray(adapter.predict(Z), dtype=float)
    kept: list[list[Counterfactual]] = [[] for _ in found]
    for (i, cf), label, score in zip(flat, labels, scores):
        if str(label) == str(favorable):
            kept[i].append(replace(cf, outcome=str(label), score=float(score), verified=True))
    return [replace(r, counterfactuals=tuple(k),
                    why_none=r.why_none if k or not r.counterfactuals else "the model did not confirm the change")
            for r, k in zip(found, kept)]


def describe(r: RowRecourse, space: FeatureSpace) -> DecisionRecourseRecord:
    """The results.json form of one decision's recourse (values as the data shows them)."""
    return {"found": bool(r.counterfactuals), "why_none": r.why_none, "evaluations": r.evaluations,
            "counterfactuals": [{
                "changes": [{"feature": space.names[j], "from": space.display(j, a), "to": space.display(j, b)}
                            for j, a, b in cf.changes],
                "outcome": cf.outcome, "score": cf.score, "verified": cf.verified, "cost": cf.cost,
                "nn_distance": cf.nn_distance, "nn_ratio": cf.nn_ratio} for cf in r.counterfactuals]}


def consistency(decisions: Sequence[Decision]) -> dict[str, tuple[float | None, int]]:
    """Per explainer: the share of decisions with verified recourse whose principal reasons name an input a
    counterfactual changes, and how many decisions that share is over.

    >>> d = Decision(1, 0.2, "0", True, (), "m", reasons_by_method={"m": ({"feature": "a"},), "n": ({"feature": "b"},)},
    ...              recourse={"counterfactuals": [{"changes": [{"feature": "a"}]}]})
    >>> consistency([d])
    {'m': (1.0, 1), 'n': (0.0, 1)}
    """
    with_recourse = [d for d in decisions if d.recourse and d.recourse["counterfactuals"]]
    methods = list(dict.fromkeys(m for d in decisions for m in d.reasons_by_method))
    out: dict[str, tuple[float | None, int]] = {}
    for m in methods:
        hits = [any(r["feature"] in {c["feature"] for cf in d.recourse["counterfactuals"] for c in cf["changes"]}
                    for r in d.reasons_by_method.get(m, ())) for d in with_recourse]
        out[m] = (float(np.mean(hits)) if hits else None, len(hits))
    return out


def data_columns(ds: Dataset) -> list[str]:
    """Every column of DATA: model inputs, ignored columns and the target."""
    return [*ds.feature_names, *ds.ignored_columns, *ds.extra, *([ds.target_name] if ds.target_name else [])]


def attach_recourse(decisions: Sequence[Decision], gate: Gate, ds: Dataset, adapter: Any, favorable: Any,
                    config: AuditConfig) -> tuple[list[Decision], Gate, RecourseRun | None]:
    """Search and verify recourse for the adverse decisions (the first ``max(rows, adverse_decisions)``, so
    every decision page has it), attach it to them and add the consistency checks to the gate."""
    if not config.recourse.enabled or favorable is None or adapter.classes is None:
        return list(decisions), gate, None
    search = build_search(config, ds.X, ds.space, adapter, favorable, columns=data_columns(ds))
    targets = [i for i, d in enumerate(decisions) if d.adverse][:max(config.recourse.rows,
                                                                     config.report.adverse_decisions)]
    rows = ds.X[[decisions[i].row - 1 for i in targets]]
    found = verify(adapter, rows, search.run(adapter, rows) if len(rows) else [], favorable)
    attached = dict(zip(targets, found))
    out = [replace(d, recourse=describe(attached[i], ds.space)) if i in attached else d
           for i, d in enumerate(decisions)]
    agree = consistency(out)
    record = _record(config, search, ds.space, found, agree)
    return out, extend(gate, recourse_checks(config.policy, agree)), RecourseRun(record, search)


def _record(config: AuditConfig, search: Search, space: FeatureSpace, found: Sequence[RowRecourse],
            agree: dict[str, tuple[float | None, int]]) -> RecourseRecord:
    """The top-level ``recourse`` record of results.json."""
    s = config.recourse
    return {"method": METHOD, "decisions_searched": len(found),
            "decisions_with_recourse": sum(bool(r.counterfactuals) for r in found),
            "immutable": [n for j, n in enumerate(space.names) if not search.rules.actionable[j]],
            "directions": dict(s.directions), "bounds": {k: list(v) for k, v in s.bounds.items()},
            "costs": dict(s.costs), "counterfactuals": s.counterfactuals, "max_changes": s.max_changes,
            "max_evaluations": s.max_evaluations, "max_neighbour_ratio": s.max_neighbour_ratio,
            "typical_nn_distance": search.support.typical_nn, "model_rows": sum(r.evaluations for r in found),
            "consistency": {m: {"share": v, "decisions": n} for m, (v, n) in agree.items()}}
