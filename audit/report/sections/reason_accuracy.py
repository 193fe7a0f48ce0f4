"""Reason accuracy: direction words verified by the model, reason stability, coverage."""

from __future__ import annotations

from audit.measures.reason_reference import describe
from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, esc

__all__ = ["render"]


def render(ctx: Context) -> list:
    """Direction words verified by the model, reason stability and coverage, with the gate's verdicts."""
    lay = ctx.lay
    out = [*lay.h1("Reason accuracy")]
    summary = ctx.r.reason_directions
    if not summary:
        return out + [lay.p("No adverse decision was explained, so no reason was tested.")]
    out.append(lay.p(esc(ctx.t.text("reason_accuracy_text"))))
    if ctx.r.reason_reference:
        out.append(lay.p(esc(describe(ctx.r.reason_reference, ctx.t)), "small"))
    rows = [["Measure", "Value"],
            ["Worded adverse reasons tested", str(summary["claims"])],
            ["Direction confirmed by the model", str(summary["confirmed"])],
            ["Direction contradicted by the model", str(summary["contradicted"])],
            ["Non-monotone (both ways or neither)", str(summary["non_monotone"])],
            ["Contradicted words printed", f"{summary['contradicted_printed']} (words: {summary['printed_words']})"]]
    stability = summary.get("stability")
    if stability:
        rows += [["Reason sets unchanged under redrawn backgrounds",
                  f"{stability['share_unchanged']:.1%} of {stability['decisions']} decisions x "
                  f"{stability['redraws']} draws of {stability['background_rows']} rows ({stability['method']})"],
                 ["Decisions unchanged under every draw", f"{stability['decisions_always_unchanged']:.1%}"]]
    out.append(lay.table(rows, widths=[8 * CM, 9 * CM]))
    out += _between(ctx, summary.get("between_explainers") or [])
    for name in ("reason_directions", "reason_stability"):
        check = ctx.r.gate.check(name)
        if check is not None:
            word, _ = lay.verdict_cell(check)
            out.append(lay.p(esc(f"Gate, {name}: {word}. {check.message}."), "small"))
    coverage = [w for w in ctx.r.warnings if w.startswith("reason coverage:")]
    out.append(lay.p(esc(coverage[0] if coverage else "Reason coverage: every input that appears as a principal "
                                                         "reason has a code and a text of its own in the template."),
                     "small"))
    return out


def _between(ctx: Context, pairs: list[dict]) -> list:
    """How far the explainers that passed the gate agree on the adverse decisions' principal reasons."""
    lay = ctx.lay
    if not pairs:
        return [lay.p(esc(ctx.t.text("reason_agreement_none")), "small")]
    rows = [["Explainers", "Decisions", "Same reason set", "Mean overlap", "Same first reason"]]
    rows += [[" and ".join(p["methods"]), str(p["decisions"]), f"{p['same_set_share']:.0%}",
              f"{p['mean_overlap']:.0%}", f"{p['same_first_share']:.0%}"] for p in pairs]
    return [lay.p(esc(ctx.t.text("reason_agreement_text")), "small"),
            lay.table(rows, widths=[5 * CM, 2.3 * CM, 3.2 * CM, 3 * CM, 3.5 * CM])]
