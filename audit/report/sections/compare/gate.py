"""Every [policy.compare] check with value, threshold and verdict."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import esc

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    return [*lay.h1("Model-change policy gate"),
            lay.p(esc(ctx.t.text("compare_gate_text"))),
            lay.gate_table(ctx.r.gate)]
