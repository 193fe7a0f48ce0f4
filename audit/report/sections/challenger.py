"""Benchmark against an interpretable challenger."""

from __future__ import annotations

from audit.report.context import AuditContext as Context
from audit.report.formatting import esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    ch = ctx.r.challenger
    out = [*lay.h1("Benchmark against an interpretable challenger")]
    if not ch:
        return out + [lay.p("No target column was supplied, so no challenger could be fitted.")]
    out += [lay.p(esc(ctx.t.text("challenger_text"))), lay.p(esc(ch["summary"]))]
    key = ch["metric"]
    rows = [["Model", f"{key} (in-sample)", f"{key} (5-fold cross-validated)"],
            [f"audited model ({ctx.r.model['type']})", fmt(ch["audited_model"]), "not refit"]]
    for name, v in ch["challengers"].items():
        rows.append([name, fmt(v["in_sample"].get(key)), fmt(v["cross_validated"].get(key))])
    out.append(lay.table(rows))
    return out
