"""Methodology and limitations: methods, metrics, budget, recourse, regulatory context. The paragraphs are
the template's (``methodology_*`` in ``report_templates/_base.toml`` unless a template words them itself);
this module fills in the figures of the run."""

from __future__ import annotations

from audit.measures.reason_reference import describe
from audit.report.context import AuditContext as Context
from audit.report.formatting import esc, fmt, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay, t = ctx.lay, ctx.t
    out = [*lay.h1("Methodology and limitations")]
    reference = ["<b>Reference of the reasons.</b> " + esc(describe(ctx.r.reason_reference, t))] \
        if ctx.r.reason_reference else []
    text = [t.text("methodology_explanations"), *reference, t.text("methodology_faithfulness"), *_budget_method(ctx),
            t.text("methodology_protected"), *_recourse_method(ctx), t.text("methodology_fairness"),
            t.text("methodology_regulation"), "<b>Limitations.</b> " + esc(t.text("limitations"))]
    return out + [lay.p(x) for x in text]


def _budget_method(ctx: Context) -> list[str]:
    """The methodology paragraph on the time budget (none when no explainer was budgeted). Measured seconds
    stay in results.json (``reproducibility.audit_plan``): a report is the same bytes for the same rows."""
    from audit.commands.budget import MINIMUMS as m

    plan, t = ctx.r.reproducibility.get("audit_plan"), ctx.t
    if not plan:
        return []
    used, asked = plan["used"], plan["requested"]
    counted = list(plan["planned_seconds_per_row"])
    names = counted[0] if len(counted) == 1 else f"{', '.join(counted[:-1])} and {counted[-1]}"
    text = t.text("methodology_budget", names=names, budget=f"{plan['budget_seconds']:g}")
    if plan["reduced"]:
        text += t.text("methodology_budget_reduced", rows=used["rows"], requested_rows=asked["rows"],
                       stability_rows=used["stability_rows"], stability_seeds=used["stability_seeds"],
                       sensitivity_rows=used["sensitivity_rows"], randomisation_rows=used["randomisation_rows"],
                       min_rows=m["rows"], min_stability_rows=m["stability_rows"],
                       min_stability_seeds=m["stability_seeds"], min_sensitivity_rows=m["sensitivity_rows"],
                       min_randomisation_rows=m["randomisation_rows"])
    elif plan["estimated_seconds_requested"] > plan["budget_seconds"]:
        text += t.text("methodology_budget_over")
    else:
        text += t.text("methodology_budget_fitted")
    return [text]


def _recourse_method(ctx: Context) -> list[str]:
    """The methodology paragraph on recourse (none when it was not searched)."""
    run = ctx.r.recourse
    if run is None:
        return []
    rec = run.record
    consistency = "; ".join(f"{m} {fmt(v['share'], 2)} over {v['decisions']}" for m, v in rec["consistency"].items())
    text = ctx.t.text("methodology_recourse", searched=rec["decisions_searched"], method=rec["method"],
                      counterfactuals=rec["counterfactuals"], max_changes=rec["max_changes"],
                      immutable=some(rec["immutable"], "inputs", "results.json", none="none here"),
                      neighbour_ratio=f"{rec['max_neighbour_ratio']:g}",
                      typical_distance=f"{rec['typical_nn_distance']:.4f}", max_evaluations=rec["max_evaluations"],
                      model_rows=rec["model_rows"], consistency=consistency or "not assessed")
    return [esc(text).replace("Recourse.", "<b>Recourse.</b>", 1) + " " + esc(ctx.t.text("recourse_limitations"))]
