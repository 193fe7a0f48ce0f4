"""Explanation drift: global importance side by side, rank correlation, top-k overlap, faithfulness."""

from __future__ import annotations

from audit.report import charts
from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    drift = ctx.r.explanation_drift
    out = [*lay.h1("Explanation drift")]
    method = drift["method"]
    if not method:
        return out + [lay.p("The two audits ran no explainer in common, so their explanations cannot be compared.")]
    d = drift["by_method"][method]
    png = charts.paired_importance(d["baseline_importance"], d["candidate_importance"],
                                   f"{method}: global importance, baseline and candidate",
                                   ("#9aa9b8", ctx.t.style.get("accent", "#2f6f9f")))
    out += [lay.image(png, 14, alt=f"Paired bar chart of {method}'s global importance per input, baseline and "
                                   "candidate; the rank correlation and overlap are in the table below."), lay.p(esc(ctx.t.text("compare_drift_text", method=method, k=d["k"])))]
    rows = [["Explainer", "Rank correlation", f"Top-{d['k']} overlap", "Faithfulness baseline",
             "Faithfulness candidate", "Change"]]
    for m, v in drift["by_method"].items():
        f = v["faithfulness"]
        rows.append([m + (" (gated)" if m == method else ""), fmt(v["spearman"], 2), fmt(v["topk_overlap"], 2),
                     fmt(f["baseline"], 2), fmt(f["candidate"], 2), fmt(f["delta"], 2)])
    out.append(lay.table(rows, widths=[3.7 * CM, 2.5 * CM, 2.3 * CM, 2.9 * CM, 2.9 * CM, 2.7 * CM]))
    for side in ("only_baseline", "only_candidate"):
        if drift[side]:
            out.append(lay.p(esc(f"Explainers run {side.replace('_', ' by the ')} audit only: "
                                 f"{', '.join(drift[side])}."), "small"))
    return out + ctx.verdicts("importance_rank", "importance_topk", "faithfulness")
