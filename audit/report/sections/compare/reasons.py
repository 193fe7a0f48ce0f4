"""How often the principal reason changed on the same rows, with examples."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, esc

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    rc = ctx.r.reasons
    out = [*lay.h1("Principal reasons on the same rows")]
    if not rc:
        return out + [lay.p("Reasons were not compared: the two audits explained no row of the same data.")]
    out.append(lay.p(esc(ctx.t.text("compare_reasons_text"))))
    rows = [["Reasons from", "Principal reason changed", "Set of reasons changed"],
            [f"as reported ({rc['baseline_method']} / {rc['candidate_method']})",
             f"{rc['principal_change_rate']:.1%}", f"{rc['reason_set_change_rate']:.1%}"]]
    rows += [[m, f"{v['principal_change_rate']:.1%}", f"{v['reason_set_change_rate']:.1%}"]
             for m, v in rc["by_method"].items()]
    out.append(lay.table(rows, widths=[7 * CM, 5 * CM, 5 * CM]))
    if rc["examples"]:
        out.append(lay.h2(f"Rows whose principal reason changed (first {len(rc['examples'])})"))
        rows = [["Row", "Baseline: outcome, principal reason", "Candidate: outcome, principal reason"]]
        rows += [[str(e["row"]), f"{ctx.outcome(e['baseline_outcome'])}; {e['baseline_reason'] or 'none'}",
                  f"{ctx.outcome(e['candidate_outcome'])}; {e['candidate_reason'] or 'none'}"]
                 for e in rc["examples"]]
        out.append(lay.table(rows, widths=[1.5 * CM, 7.75 * CM, 7.75 * CM]))
    return out + ctx.verdicts("reason_change")
