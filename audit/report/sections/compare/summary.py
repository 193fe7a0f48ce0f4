"""What changed, in plain language, and what this mode could not measure."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import esc, fmt, notes, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r = ctx.r
    out = [*lay.h1("Summary of the change")]
    perf = r.performance
    if perf and perf["measure"] in perf["values"]:
        v = perf["values"][perf["measure"]]
        ci = v["delta_ci95"]
        interval = f"; paired 95% CI {ci[0]:+.3f} to {ci[1]:+.3f}" if ci[0] is not None else ""
        out.append(lay.p(esc(f"Performance: {perf['measure']} moves from {fmt(v['baseline'])} to "
                             f"{fmt(v['candidate'])} ({v['delta']:+.3f}{interval}).")))
    method = r.explanation_drift["method"]
    if method:
        d = r.explanation_drift["by_method"][method]
        out.append(lay.p(esc(f"Explanations ({method}): the two models' global importance has a rank correlation "
                             f"of {fmt(d['spearman'], 2)} and shares {fmt(d['topk_overlap'], 2)} of its top-{d['k']} "
                             f"inputs; faithfulness changes by {fmt(d['faithfulness']['delta'], 2)}.")))
        if d["only_baseline"] or d["only_candidate"]:
            where = "compare.json (explanation_drift.by_method)"
            out.append(lay.p(esc(f"Inputs only the baseline takes: {some(d['only_baseline'], 'inputs', where)}; "
                                 f"only the candidate: {some(d['only_candidate'], 'inputs', where)}.")))
    if r.reasons:
        out.append(lay.p(esc(f"Reasons: on {r.reasons['rows']} rows both audits explained, the principal reason "
                             f"changed for {r.reasons['principal_changed']} "
                             f"({r.reasons['principal_change_rate']:.1%}).")))
    if r.flips:
        f = r.flips
        fav = ctx.outcome(f["favorable_class"])
        out.append(lay.p(esc(f"Decisions: {f['flipped']} of {f['rows']} rows flip ({f['rate']:.1%})"
                             + (f": {f['to_adverse']} were {fav} by the baseline and are not by the candidate; "
                                  f"{f['to_favourable']} the reverse." if "to_adverse" in f else "."))))
    gaps = [k for k, v in r.availability.items() if not v["available"]]
    if gaps:
        out.append(lay.p(esc("Not measured in this mode: " + "; ".join(
            f"{k.replace('_', ' ')} ({r.availability[k]['note']})" for k in gaps) + ".")))
    if r.warnings:
        out.append(lay.p("<b>Notes:</b> " + esc(notes(r.warnings, lay.json_name)), "small"))
    return out
