"""Performance of both models and the paired differences with confidence intervals."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    perf = ctx.r.performance
    out = [*lay.h1("Performance: baseline against candidate")]
    if not perf:
        return out + [lay.p("Performance was not compared: no target column (--target).")]
    paired = perf["paired_bootstrap"]
    out.append(lay.p(esc(f"Both models measured on the same {perf['rows']} rows. " + (
        ctx.t.text("compare_paired_bootstrap", resamples=paired) if paired
        else "No confidence intervals: the rows are not in the results.json files."))))
    rows = [["Measure", "Baseline", "Candidate", "Difference", "95% CI of the difference"]]
    for k, v in perf["values"].items():
        ci = v["delta_ci95"]
        rows.append([k.replace("_", " "), fmt(v["baseline"]), fmt(v["candidate"]), f"{v['delta']:+.3f}",
                     f"{ci[0]:+.3f} to {ci[1]:+.3f}" if ci[0] is not None else "not available"])
    out.append(lay.table(rows, widths=[3.6 * CM, 2.6 * CM, 2.6 * CM, 2.8 * CM, 5.4 * CM]))
    return out + ctx.verdicts("performance")
