"""The executive summary in plain language: verdict, checks that did not pass, drivers, agreement, methods."""

from __future__ import annotations

from pathlib import Path

from audit.report.context import AuditContext as Context
from audit.report.formatting import cut, esc, fmt, notes, param

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r, t = ctx.r, ctx.t
    m = r.model
    passing = r.gate.passing_explainers
    primary = r.decisions[0].method if r.decisions else (passing[0] if passing else "n/a")
    pe = ctx.expl.get(primary)
    out = [*lay.h1("Executive summary"),
           lay.p(esc(t.text("summary_intro", model_type=m["type"], model_file=Path(m["path"]).name,
                            rows=r.data["rows"], explained=len(r.data["explained_rows"]),
                            n_methods=len(r.explanations))))]
    if r.gate.passed:
        out.append(lay.p("<b>" + esc(t.text("summary_pass", min_pass=param(r.gate.check("explainers_passing").threshold),
                                            primary=primary, primary_score=fmt(pe.faithfulness_score if pe else None, 2)))
                         + "</b>"))
    else:
        failed = "; ".join(c.name for c in r.gate.failed if c.blocking)
        out.append(lay.p("<b>" + esc(t.text("summary_fail", failed=failed)) + "</b>"))
        faith = [c for c in r.gate.checks if c.kind == "faithfulness"]
        if faith and not any(c.passed for c in faith):  # only then are the reasons shown to be unreliable
            out.append(lay.p(esc(t.text("summary_fail_faithfulness"))))
    if r.gate.failed:
        out.append(lay.p(f"<b>Checks that did not pass ({len(r.gate.failed)}).</b> Each says why it does or "
                         "does not block the verdict:"))
        out += [lay.p("• " + esc(cut(line, 600)), "small") for line in ctx.failed_lines()]
    if pe is not None:
        top = sorted(pe.global_importance.items(), key=lambda kv: kv[1], reverse=True)[:4]
        out.append(lay.p(esc(t.text("summary_drivers", drivers=", ".join(cut(k) for k, _ in top)))))
    worst = r.agreement.get("least_agreeing_pair")
    if worst:
        out.append(lay.p(esc(t.text("summary_agreement", a=worst["a"], b=worst["b"], rho=fmt(worst["spearman"], 2)))))
        flagged = [c for c in r.gate.failed if c.kind == "agreement"]
        if flagged:  # the finding is stated only when the gate found it
            out.append(lay.p(esc(t.text("summary_disagreement_finding", checks=", ".join(c.name for c in flagged)))))
    rows = [["Method", "Kind", "Faithfulness score (95% CI)", "Policy result"]]
    for e in r.explanations:
        ok = e.method in passing
        rows.append([e.method, e.kind, f"{fmt(e.faithfulness_score, 2)} ({fmt(e.faithfulness_score_ci[0], 2)} to "
                                       f"{fmt(e.faithfulness_score_ci[1], 2)})", "passed all checks" if ok else "failed a check"])
    out.append(lay.table(rows))
    if r.challenger:
        out.append(lay.p(esc(r.challenger["summary"])))
    if r.warnings:
        out.append(lay.p("<b>Notes:</b> " + esc(notes(r.warnings, lay.json_name)), "small"))
    return out
