"""Outcome fairness per protected group: selection rates, the four-fifths rule, equalised odds."""

from __future__ import annotations

from typing import Any

from audit.report import charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, capped, cut, esc, fmt
from audit.report.layout import GREY

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    fair = ctx.r.protected.get("outcome_fairness") or {}
    out, done = lay.measured_head("Outcome fairness", fair, "no protected attributes were configured "
                                 "(policy.protected_attributes)" if not ctx.r.protected.get("attributes") else
                                 "no protected attribute is a column other than the target")
    if done:
        return out
    out.append(lay.p(esc(ctx.t.text("fairness_text"))))
    source = "" if fair["favorable_class_source"] == "config" else " (assumed: favorable_class is not set)"
    out.append(lay.p(esc(
        ctx.t.text("fairness_method", selected=ctx.outcome(fair["favorable_class"]) + source, rows=fair["rows"],
                   min_group_size=fair["min_group_size"], bootstrap=fair["bootstrap"])
        + (" and true outcome." if fair["with_target"] else ". Without a target only selection rates are compared.")),
        "small"))
    for attr, a in fair["attributes"].items():
        out += fairness_attribute(ctx, attr, a, fair["with_target"])
    return out


_FAIRNESS_CHECKS = ("selection_rate_ratio", "equalized_odds_difference", "equal_opportunity_difference", "group_size")


def _check(ctx: Context, kind: str, attr: str) -> Any:
    """The gate's check of ``kind`` on protected attribute ``attr`` (None when the gate has none)."""
    return next((c for c in ctx.r.gate.checks if c.kind == kind and c.subject == attr), None)


def fairness_attribute(ctx: Context, attr: str, a: dict[str, Any], with_target: bool) -> list:
    """One protected attribute: its groups, the chart and the measures with the gate's verdicts."""
    lay = ctx.lay
    ratio = a.get("selection_rate_ratio")
    ends = {ratio.get("highest"), ratio.get("lowest")} if ratio else set()

    # many groups: the two the ratio compares, then the judged ones, in the fairness module's order
    def rank(g: dict) -> int:
        return 0 if g["group"] in ends else 1 if g["judged"] else 2

    out = [lay.h2(f"{attr} (groups: {a['grouping']})"), *_groups_table(ctx, a, with_target, rank)]
    out.append(_measures(ctx, attr, a, with_target, rank))
    for c in ctx.r.gate.checks:
        if c.kind in _FAIRNESS_CHECKS and c.subject == attr and not c.passed:
            out.append(lay.p(("Finding: " if not c.blocking else "Failed: ") + esc(cut(c.message, 600)) + ".", "small"))
    return out


def _groups_table(ctx: Context, a: dict[str, Any], with_target: bool, rank: Any) -> list:
    """The attribute's groups (at most ``MAX_ROWS``, chosen by ``rank``) with their rates."""
    lay = ctx.lay
    head = ["Group", "Rows", "Selection rate (95% CI)"] + (["True-positive rate", "False-positive rate"]
                                                           if with_target else []) + ["Judged"]
    rows = [head]
    groups = capped(a["groups"], rank=rank)
    for g in groups:
        ci = g["selection_rate_ci95"]
        interval = f" ({fmt(ci[0])} to {fmt(ci[1])})" if ci[0] is not None else ""
        rows.append([cut(g["group"]), str(g["rows"]), fmt(g["selection_rate"]) + interval]
                    + ([fmt(g.get("true_positive_rate")), fmt(g.get("false_positive_rate"))] if with_target else [])
                    + ["yes" if g["judged"] else "too small to judge"])
    widths = [4 * CM, 1.6 * CM, 4.4 * CM] + ([2.5 * CM, 2.5 * CM] if with_target else []) + [2 * CM]
    return [lay.table(rows, widths=widths), *lay.left_out(len(groups), len(a["groups"]), "groups",
                                                          "protected_attributes.outcome_fairness.attributes[].groups")]


def _measures(ctx: Context, attr: str, a: dict[str, Any], with_target: bool, rank: Any) -> Any:
    """The selection-rate chart (with the four-fifths line from the gate's threshold) kept together with the
    table of measures and the gate's verdicts."""
    lay = ctx.lay
    ratio = a.get("selection_rate_ratio")
    highest = next((g["selection_rate"] for g in a["groups"] if ratio and g["group"] == ratio["highest"]), None)
    ratio_check = _check(ctx, "selection_rate_ratio", attr)
    threshold = ratio_check.threshold if ratio_check is not None else None
    line = None if highest is None or threshold is None else threshold * highest
    chart = lay.image(charts.selection_rates(capped(a["groups"], rank=rank, limit=charts.MAX_BARS), line,
                                             f"{threshold:g} x the highest judged rate" if line is not None else ""), 13,
                      alt=f"Bar chart of the selection rate with its 95% interval per group of {attr}: "
                          + "; ".join(f"{cut(g['group'])} {fmt(g['selection_rate'])}" for g in a["groups"][:charts.MAX_BARS])
                          + ".")
    rows = [["Measure", "Value (95% CI)", "Threshold", "Gate"]]
    extra = []
    for key, label in (("selection_rate_ratio", "selection-rate ratio (lowest / highest)"),
                       ("equalized_odds_difference", "equalised-odds difference"),
                       ("equal_opportunity_difference", "equal-opportunity difference"),
                       ("group_size", "smallest group (rows)")):
        check = _check(ctx, key, attr)
        m = a.get(key)
        if key == "group_size":
            value = fmt(check.value, 0) if check else "n/a"
        elif m is None:
            value = "not measured" + ("" if with_target or key == "selection_rate_ratio" else " (no target)")
        else:
            value = f"{fmt(m['value'])} ({fmt(m['ci95'][0])} to {fmt(m['ci95'][1])})"
        word, colour = lay.verdict_cell(check) if check else ("reported only", GREY)
        digits = 0 if key == "group_size" else 3
        rows.append([label, value, fmt(check.threshold, digits) if check and check.threshold is not None else "none",
                     word])
        extra += lay.fill(3, len(rows) - 1, colour, white_text=True)
    return lay.keep_together([chart, lay.table(rows, widths=[5.5 * CM, 5 * CM, 2.5 * CM, 4 * CM], extra=extra)])
