"""Adverse-action reasons: which explainer's reasons are reported, and the principal reasons per row.

Regulation B (12 CFR 1002.9) asks for the specific principal reasons for an adverse action, at most
four being useful. Reasons for an adverse outcome are the inputs that pushed the favourable class's
score down, strongest first; for a favourable outcome, those that pushed it up. Without a favourable
class (regression, multiclass) the largest contributions by size are listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.errors import DataError
from audit.results import Decision, ExplanationResult
from audit.types import Attribution, Dataset

__all__ = ["favorable_class", "primary_explainer", "principal_reasons", "decisions"]


def favorable_class(adapter: Adapter, configured: str | None) -> Any:
    """The approved outcome: the configured class, else the last class of a binary model, else None."""
    if adapter.classes is None:
        return None
    if configured is not None:
        for c in adapter.classes:
            if str(c) == str(configured):
                return c
        raise DataError(f"favorable_class {configured!r} is not a class of the model "
                        f"({[str(c) for c in adapter.classes]}). Fix audit.toml.")
    return adapter.classes[-1] if adapter.task == "binary" else None


def primary_explainer(results: Sequence[ExplanationResult], passing: Sequence[str]) -> str:
    """The method whose reasons are reported: the most faithful among those that passed the gate
    (intrinsic preferred on a tie), or among all when none passed."""
    pool = [r for r in results if r.method in passing] or list(results)
    return max(pool, key=lambda r: (r.faithfulness_score if r.faithfulness_score == r.faithfulness_score else -9,
                                    r.kind == "intrinsic")).method


def principal_reasons(contrib: np.ndarray, *, max_reasons: int, direction: float | None) -> list[int]:
    """Indices of the principal reasons in a row's contributions.

    ``direction`` +1 picks the features that pushed the explained score up, -1 those that pushed it
    down (strongest first, only those with that sign); None the largest by size.

    >>> principal_reasons(np.array([0.5, -2.0, -1.0, 3.0]), max_reasons=4, direction=-1.0)
    [1, 2]
    """
    if direction is None:
        return [int(j) for j in np.argsort(-np.abs(contrib), kind="stable")[:max_reasons]]
    order = np.argsort(direction * -contrib, kind="stable")
    return [int(j) for j in order if direction * contrib[j] > 0][:max_reasons]


def decisions(ds: Dataset, rows: np.ndarray, score: np.ndarray, labels: np.ndarray, adapter: Adapter,
              favorable: Any, method: str, attrs: Mapping[str, Attribution], *, max_reasons: int,
              typical: np.ndarray | None = None) -> list[Decision]:
    """One :class:`Decision` per explained row, with reasons from every method and ``method``'s as primary.

    ``typical``: each input's reference value, against which a reason says "high" or "low" (the audit passes
    :func:`audit.measures.reason_reference.reference_values`; default: the data's medians). Each adverse reason's word is then verified
    with the model (:mod:`audit.measures.directions`)."""
    if method not in attrs:
        return []
    rules = next((a.rules for a in attrs.values() if a.rules is not None), None)
    categorical = ds.space.categorical_mask
    typical = np.nanmedian(ds.X, axis=0) if typical is None else typical
    explained = adapter.explained_class

    def reasons_for(contrib: np.ndarray, r: int, adverse: bool) -> tuple[dict[str, Any], ...]:
        direction = None
        if favorable is not None and explained is not None:
            sign = 1.0 if str(explained) == str(favorable) else -1.0
            direction = -sign if adverse else sign
        return tuple({"feature": ds.feature_names[j], "value": ds.space.display(j, ds.X[r, j]),
                      "contribution": float(contrib[j]),
                      "above_typical": None if categorical[j] or np.isnan(ds.X[r, j]) else bool(ds.X[r, j] > typical[j])}
                     for j in principal_reasons(contrib, max_reasons=max_reasons, direction=direction))

    out: list[Decision] = []
    for i, r in enumerate(rows):
        label = labels[r]
        adverse = favorable is not None and str(label) != str(favorable)
        by_method = {name: reasons_for(np.asarray(a.values[i]), r, adverse) for name, a in attrs.items()}
        values = {name: ds.space.display(j, ds.X[r, j]) for j, name in enumerate(ds.feature_names)}
        out.append(Decision(row=int(r) + 1, prediction=float(score[r]), outcome=str(label), adverse=adverse,
                            reasons=by_method[method], method=method, values=values,
                            rule=rules[i] if rules else None, reasons_by_method=by_method))
    if favorable is not None and explained is not None:
        _verify(out, ds, adapter, favorable, typical)
    return out


def _verify(out: list[Decision], ds: Dataset, adapter: Adapter, favorable: Any, typical: np.ndarray) -> None:
    """Each adverse reason's direction word checked with the model (:mod:`audit.measures.directions`), in place."""
    from audit.measures.directions import verify_directions

    index = {n: j for j, n in enumerate(ds.feature_names)}
    rows, claims, targets = [], [], []
    for d in out:
        if not d.adverse:
            continue
        for reasons in d.reasons_by_method.values():
            for reason in reasons:
                if reason.get("above_typical") is None:
                    continue
                if not rows or rows[-1] != d.row - 1:
                    rows.append(d.row - 1)
                claims.append((len(rows) - 1, index[reason["feature"]], bool(reason["above_typical"])))
                targets.append(reason)
    if not claims:
        return
    sign = 1.0 if str(adapter.explained_class) == str(favorable) else -1.0
    X = ds.X
    with np.errstate(all="ignore"):
        low, high = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        spread = np.nan_to_num(np.nanstd(X, axis=0), nan=1.0)
    verdicts = verify_directions(lambda Z: sign * adapter.predict(Z), X[np.asarray(rows)], claims,
                                 typical=typical, low=low, high=high, spread=spread)
    for reason, verdict in zip(targets, verdicts):
        reason["direction"] = verdict
