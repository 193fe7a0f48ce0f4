"""Reason stability: do an adverse decision's principal reasons survive a redraw of the reference sample?

The contributions behind a reason are measured against a reference (the background sample). A reason
that changes when that sample is merely redrawn is an artefact of the draw, not of the model (shap#630,
#727). The reporting explainer re-explains the adverse decisions (at most ``reason_stability_rows``) with
:data:`REDRAWS` backgrounds of the same size drawn from DATA with seeds derived from the audit's seed,
and each decision's principal-reason set (the top ``max_reasons`` inputs pushing towards the adverse
outcome) is compared with the reported one. The measure is the share of (decision, redraw) pairs whose
set is unchanged; ``reason_stability`` in the gate compares it with ``policy.min_reason_stability``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from audit.measures.decisions import principal_reasons
from audit.measures.reason_reference import Reference, draw_background
from audit.records import ExplainerReasonAgreement, ReasonStabilityRecord

EVERY_ROW = Reference("background", "background", None)

__all__ = ["measure_reason_stability", "reason_agreement", "REDRAWS"]

REDRAWS = 5


def measure_reason_stability(ex: Any, adapter: Any, X: np.ndarray, decisions: Sequence[Any], *, background_rows: int,
                             direction: float, max_reasons: int, rows: int, seed: int,
                             reference: Reference | None = None
                             ) -> tuple[ReasonStabilityRecord | None, tuple[np.ndarray, np.ndarray] | None]:
    """The stability record for the adverse ``decisions`` (rows of ``X`` by ``decision.row - 1``), or None when
    there is no adverse decision with a reason to test; and per decision its 0-based row and share of unchanged
    redraws (explanation parity groups them). Each redraw comes from the ``reference``'s rows (the
    applicants the reasons are measured against; every row when None)."""
    chosen = [d for d in decisions if d.adverse and d.reasons][:rows]
    if not chosen:
        return None, None
    names = list(adapter.space.names)
    idx = np.asarray([d.row - 1 for d in chosen])
    reported = [frozenset(r["feature"] for r in d.reasons) for d in chosen]
    unchanged = np.zeros((len(chosen), REDRAWS), dtype=bool)
    for s in range(REDRAWS):
        rng = np.random.default_rng([seed, 7727, s])
        background = draw_background(reference or EVERY_ROW, X, background_rows, rng)
        values = ex.explain(adapter, X[idx], background=background, seed=seed).values
        for i, row in enumerate(values):
            found = frozenset(names[j] for j in principal_reasons(np.asarray(row), max_reasons=max_reasons,
                                                                  direction=direction))
            unchanged[i, s] = found == reported[i]
    return ({"method": ex.name, "decisions": len(chosen), "redraws": REDRAWS, "background_rows": int(background_rows),
             "share_unchanged": float(unchanged.mean()),
             "decisions_always_unchanged": float(unchanged.all(axis=1).mean()),
             "changed_rows": [int(d.row) for d, ok in zip(chosen, unchanged.all(axis=1)) if not ok][:50]},
            (idx, unchanged.mean(axis=1)))


def reason_agreement(decisions: Sequence[Any], methods: Sequence[str]) -> list[ExplainerReasonAgreement]:
    """How far the explainers that passed the gate agree on the adverse decisions' principal reasons, per pair:
    the share of decisions whose reason sets are identical, the mean overlap of the sets (shared reasons over
    the larger set) and the share whose first reason is the same. Reasons that depend on which passing method
    was asked are weaker evidence than reasons all of them give.

    >>> from types import SimpleNamespace as D
    >>> d = D(adverse=True, reasons_by_method={"a": ({"feature": "x"}, {"feature": "y"}), "b": ({"feature": "x"},)})
    >>> reason_agreement([d], ["a", "b"])[0]["mean_overlap"]
    0.5
    """
    adverse = [d for d in decisions if d.adverse]
    out = []
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            pairs = [([r["feature"] for r in d.reasons_by_method[a]], [r["feature"] for r in d.reasons_by_method[b]])
                     for d in adverse if a in d.reasons_by_method and b in d.reasons_by_method]
            pairs = [(x, y) for x, y in pairs if x or y]
            if not pairs:
                continue
            out.append({"methods": [a, b], "decisions": len(pairs),
                        "same_set_share": float(np.mean([set(x) == set(y) for x, y in pairs])),
                        "mean_overlap": float(np.mean([len(set(x) & set(y)) / max(len(x), len(y)) for x, y in pairs])),
                        "same_first_share": float(np.mean([bool(x and y and x[0] == y[0]) for x, y in pairs]))})
    return out
