"""Agreement between methods: rank-correlation heat map and top-k overlap table."""

from __future__ import annotations

from audit.report import charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    a = ctx.r.agreement
    out = [*lay.h1("Agreement between methods")]
    if len(a["methods"]) < 2:
        return out + [lay.p("Only one method applied, so agreement could not be measured.")]
    n = len(a["methods"])
    out += [lay.image(charts.agreement_heatmap(a["methods"], a["spearman"]), min(17.0, 7.0 + 1.0 * n),
                      alt="Heat map of the Spearman rank correlation between the methods' global importance: "
                          + "; ".join(f"{a['methods'][i]} and {a['methods'][j]} {fmt(a['spearman'][i][j], 2)}"
                                      for i in range(n) for j in range(i + 1, n)) + "."),
            lay.p(esc(ctx.t.text("agreement_text")))]
    out.append(lay.p(esc(f"Share of each row's top-{a['k']} inputs (by size) that two methods have in common "
                         "(1 = the same inputs)."), "small"))
    # Columns are numbered so that ten methods still fit across the page.
    rows = [["#", "method"] + [str(i) for i in range(1, n + 1)]]
    for i, (name, row) in enumerate(zip(a["methods"], a["topk_overlap"]), start=1):
        rows.append([str(i), name] + [fmt(v, 2) for v in row])
    rest = min(1.6 * CM, (17 - 4.6) * CM / n)
    out.append(lay.table(rows, widths=[0.6 * CM, 4.0 * CM] + [rest] * n))
    return out
