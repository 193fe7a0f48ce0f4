"""Explanation parity: the reporting explainer's faithfulness score and reason stability per protected group,
with the gate's verdict on each gap (``protected_attributes.explanation_parity``)."""

from __future__ import annotations

from typing import Any

from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, capped, cut, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    record = ctx.r.protected.get("explanation_parity") or {}
    out, done = lay.measured_head("Explanation parity", record,
                                 "no protected attribute is a column other than the target")
    if done:
        return out
    out.append(lay.p(esc(ctx.t.text("explanation_parity_text", method=record["method"],
                                    min_group_size=record["min_group_size"]))))
    for attr, groups in record["attributes"].items():
        out += [lay.h2(attr), _table(ctx, groups)]
        for c in ctx.r.gate.checks:
            if c.kind in ("explanation_gap", "reason_stability_gap") and c.subject == attr:
                word = "Passed" if c.passed else "Finding" if not c.blocking else "Failed"
                out.append(lay.p(f"{word}: " + esc(cut(c.message, 600)) + ".", "small"))
    return out


def _table(ctx: Context, groups: list[dict[str, Any]]) -> Any:
    """One row per group (at most the layout's cap): scored rows, faithfulness score, decisions, stability."""
    rows = [["Group", "Scored rows", "Faithfulness score", "Adverse decisions redrawn", "Reason stability"]]
    for g in capped(groups, rank=lambda g: 0 if g["judged"] else 1):
        rows.append([cut(g["group"]), str(g["rows"]) + ("" if g["judged"] else " (too few)"),
                     fmt(g.get("faithfulness_score")), str(g.get("stability_decisions", 0)),
                     fmt(g.get("reason_stability"))])
    return ctx.lay.table(rows, widths=[4.5 * CM, 2.8 * CM, 3.2 * CM, 3.5 * CM, 3 * CM])
