"""The policy gate: every check with value, threshold, verdict and whether it blocks."""

from __future__ import annotations

from audit.report.context import AuditContext as Context
from audit.report.formatting import esc

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    return [*lay.h1("Policy gate"), lay.p(esc(ctx.t.text("gate_text"))), lay.gate_table(ctx.r.gate)]
