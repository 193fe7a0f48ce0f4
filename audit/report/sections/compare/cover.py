"""The compare report's cover: verdict of the comparison, the two models and the data, sign-off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, cut, esc

__all__ = ["render"]


def render(ctx: Context) -> list:

    lay = ctx.lay
    r = ctx.r
    g = r.gate
    out = [lay.p(esc(cut(r.report.get("organisation") or "Organisation not set (report.organisation in audit.toml)",
                         300))),
           lay.space(0.3), lay.p(esc(ctx.title), "title"), lay.space(0.2),
           lay.p(esc(ctx.t.text("compare_statement")))]
    blocking = [c for c in g.checks if c.blocking]
    line = (f"VERDICT: {'PASSED' if g.passed else 'FAILED'} — {sum(c.passed for c in blocking)} of {len(blocking)} "
            f"blocking checks passed ({len(g.checks) - len(g.failed)} of {len(g.checks)} checks in all)")
    out += [lay.space(0.3), lay.verdict_box(line, g.passed), lay.space(0.2)]
    for c in g.failed:
        kind = "blocking failure" if c.blocking else "finding, does not block"
        out.append(lay.p("• " + esc(cut(f"{c.name}: {c.message}", 600) + f" ({kind})"), "small"))
    d = r.data
    rows = [["Item", "Value"], *_model_rows(ctx, r.baseline, "Baseline"), *_model_rows(ctx, r.candidate, "Candidate"),
            ["Data", f"{Path(d['path']).name} — {d['rows']} rows" + ("" if d["same_data"] else
                                                                     " (the candidate's audit used other data)")],
            ["Data SHA-256", d["sha256"]],
            ["Compared from", "both models, audited here on the same rows with one seed" if r.mode == "models"
             else "two results.json files (no rows re-predicted; see the appendix)"],
            ["Date (UTC)", r.created_at], ["Tool", f"xai-audit {r.tool_version}"]]
    out += [lay.space(0.2), lay.table(rows, widths=[4 * CM, 13 * CM]), lay.space(0.4),
            *lay.signoff(), lay.page_break()]
    return out


def _model_rows(ctx: Context, side: dict[str, Any], name: str) -> list[list[str]]:
    return [[f"{name} model", f"{Path(side['path']).name} — {side['type']} ({side['task']})"],
            [f"{name} SHA-256", side["sha256"]],
            [f"{name} own audit", "passed" if side["gate_passed"] else "failed"
             + f"; explainers: {', '.join(side['explainers']) or 'none'}"]]
