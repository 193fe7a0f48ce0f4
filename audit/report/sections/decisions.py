"""Principal reasons for individual decisions: one page per decision, with its recourse block."""

from __future__ import annotations

from typing import Any

from audit.measures.reason_reference import describe
from audit.report import charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, MAX_ROWS, capped, cut, esc, fmt, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r, t = ctx.r, ctx.t
    n = r.config["report"]["adverse_decisions"]
    adverse = [d for d in r.decisions if d.adverse][:n]
    chosen = adverse or list(r.decisions[:n])
    configured = r.model.get("favorable_class_source") == "config"
    intro = t.text("decisions_intro" if configured else "decisions_intro_neutral") or t.text("decisions_intro")
    # the heading, its introduction and the first decision (up to about 20 CM) share a page: start on a fresh
    # one unless that much is left, so that no decision spills a few lines onto a page of its own
    out = [lay.cond_page_break(24), *lay.h1("Principal reasons for individual decisions"), lay.p(esc(intro))]
    if not adverse:
        out.append(lay.p("No adverse outcome was found in the explained sample; the first decisions are shown instead."))
    for i, d in enumerate(chosen):
        out += ([lay.page_break()] if i else []) + _decision_page(ctx, d)
    return out


def _decision_page(ctx: Context, d: Any) -> list:
    lay = ctx.lay
    r, t = ctx.r, ctx.t
    e = ctx.expl[d.method]
    noun = t.wording.get("row_noun", "row")
    out = [lay.h2(f"Decision for data row {d.row}: {ctx.outcome(d.outcome)}")]
    explained = r.model.get("explained_class")
    what = "estimated probability" if r.model.get("output") == "predict_proba" else "score"
    target = ctx.outcome(explained) if explained is not None else "the explained output"
    out.append(lay.p(esc(f"The model's {what} of '{target}' for this {noun}: {d.prediction:.3f}.")))
    out.append(lay.p("<b>Principal reasons</b>"))
    reason_rows = [["#", "Reason", t.wording.get("reason_value_header", "Input and value"), "Contribution"]]
    for i, reason in enumerate(d.reasons, start=1):
        text = t.reason(reason["feature"], reason["value"], above_typical=ctx.word(reason))
        reason_rows.append([t.code(reason["feature"]) or str(i), text, f"{reason['feature']} = {reason['value']}", f"{reason['contribution']:+.4f}"])
    if len(reason_rows) == 1:
        reason_rows.append(["-", "No input pushed this decision towards this outcome.", "", ""])
    if any(t.code(x["feature"]) for x in d.reasons):
        reason_rows[0][0] = "Code"
    out.append(lay.table(reason_rows, widths=[1.1 * CM, 7.1 * CM, 5.8 * CM, 2.6 * CM]))
    flagged = [x["feature"] for x in d.reasons if x["feature"] in r.protected.get("attributes", [])]
    if flagged:
        out.append(lay.p("<b>Warning:</b> " + esc(t.text("protected_reason_warning", features=", ".join(flagged))),
                         "small"))
    if d.reasons:
        labels = [f"{x['feature']} = {x['value']}" for x in d.reasons]
        axis = t.text("reasons_axis", outcome=target)
        alt = (f"Bar chart of this decision's principal reasons ({axis}): "
               + "; ".join(f"{label}: {x['contribution']:+.4f}" for label, x in zip(labels, d.reasons)) + ".")
        out.append(lay.image(charts.reasons_bars(labels, [x["contribution"] for x in d.reasons], axis), 11, alt=alt))
    reference = f" {describe(ctx.r.reason_reference, t, short=True)}" if ctx.r.reason_reference else ""
    out.append(lay.p(esc(t.text("selection_method", method=d.method, score=fmt(e.faithfulness_score, 2),
                                ci=f"{fmt(e.faithfulness_score_ci[0], 2)} to {fmt(e.faithfulness_score_ci[1], 2)}")
                         + reference), "small"))
    if d.rule:
        out.append(lay.p("<b>Decision path (tree model):</b> " + esc(d.rule), "small"))
    out += _recourse(ctx, d, what)
    out.append(lay.p("<b>About this decision.</b> " + esc(t.text("model_role"))))
    contact = cut(ctx.rc.get("review_contact") or "", 300)
    review = t.text("human_review") + (f" Contact: {contact}." if contact else
                                       " No review contact is configured (report.review_contact in audit.toml).")
    out.append(lay.p("<b>Human review and contest.</b> " + esc(review)))
    named = {x["feature"] for x in d.reasons}  # the reasons' inputs are always among the values shown
    shown = capped(list(d.values.items()), rank=lambda kv: kv[0] not in named, limit=2 * MAX_ROWS)
    vals = [(cut(k), cut(v, 200)) for k, v in shown]
    half = (len(vals) + 1) // 2
    rows = [["Input", "Value", "Input", "Value"]]
    for i in range(half):
        right = list(vals[i + half]) if i + half < len(vals) else ["", ""]
        rows.append(list(vals[i]) + right)
    # The heading is the table's own first row, so it never sits alone at a page foot.
    heading = t.wording.get("values_heading", "Input values")
    out.append(lay.table([[heading, "", "", ""]] + rows, widths=[4 * CM, 4.2 * CM, 4 * CM, 4.2 * CM],
                         extra=lay.span_heading()))
    return out + lay.left_out(len(vals), len(d.values), "input values", "decisions[].applicant_values")


def _recourse(ctx: Context, d: Any, score_words: str) -> list:
    """'What would have changed the decision': the verified counterfactuals in the template's words, or
    why none was found (decisions that were not searched have no such block)."""
    lay = ctx.lay
    rec, run, t = d.recourse, ctx.r.recourse, ctx.t
    if rec is None or run is None:
        return []
    favorable = ctx.outcome(ctx.r.model.get("favorable_class"))
    # a template written before recourse existed has none of its wording: a neutral heading and headers
    out = [lay.p("<b>" + esc(t.text("recourse_heading") or "What would have changed the outcome") + "</b>")]
    if not rec["counterfactuals"]:
        none = t.text("recourse_none", outcome=favorable, why=rec["why_none"], max_changes=run.record["max_changes"])
        return out + [lay.p(esc(none or f"No change was found that changes the decision to: {favorable} ({rec['why_none']})."))]
    immutable = some(run.record["immutable"], "inputs", "results.json (recourse.immutable)")
    out.append(lay.p(esc(t.text("recourse_intro", outcome=favorable, immutable=immutable)), "small"))
    rows = [["#", t.text("recourse_change_header") or "Change", t.text("recourse_score_header", score=score_words)
             or f"New {score_words}"]]
    for i, cf in enumerate(rec["counterfactuals"], start=1):
        rows.append([str(i), t.changes(cf["changes"]), f"{cf['score']:.3f}"])
    out.append(lay.table(rows, widths=[0.7 * CM, 11.4 * CM, 4.5 * CM]))
    return out
