"""Appendix: the regulation trace, read from results.json's ``trace`` (never recomputed here).

Written with the layout's methods only (``ctx.lay``: headings, paragraphs, tables), so it renders the same in
every format the layout has; the wording is the template's (``trace_*`` in ``report_templates/_base.toml``).
"""

from __future__ import annotations

from audit.report.context import AuditContext as Context
from audit.report.formatting import esc

__all__ = ["render"]

_CM = 72 / 2.54  # table widths in points


def render(ctx: Context) -> list:
    lay, t = ctx.lay, ctx.t
    trace = getattr(ctx.r, "trace", None)
    out = [*lay.h1("Appendix: regulation trace")]
    if not trace:
        return out + [lay.p(esc(t.text("trace_none")))]
    out.append(lay.p(esc(t.text("trace_intro", version=trace["version"]))))
    keep = tuple(getattr(t, "trace_clauses", ()))  # the template's regimes (a record made for another template)

    def ids_text(ids: list[str]) -> str:
        return ", ".join(i for i in ids if not keep or i.startswith(keep)) or "none"

    out += [lay.h2("Gate checks of this audit"), lay.p(esc(t.text("trace_checks_text"))), lay.table(
        [["Check", "Verdict", "Evidence of", "Clauses"]]
        + [[c["name"], c["verdict"], c["shows"] or "-", ids_text(c["clauses"])] for c in trace["checks"]],
        widths=[w * _CM for w in (4.2, 2.0, 5.6, 5.2)])]
    out += [lay.h2("Measures"), lay.p(esc(t.text("trace_measures_text"))), lay.table(
        [["Measure", "In this audit", "results.json", "Clauses"]]
        + [[m["name"], "recorded" if m["recorded"] else "not recorded", m["record"], ids_text(m["clauses"])]
           for m in trace["measures"]], widths=[w * _CM for w in (3.8, 2.2, 5.6, 5.4)])]
    out += [lay.h2("Report sections"), lay.p(esc(t.text("trace_sections_text"))), lay.table(
        [["Section", "Clauses"]] + [[s["name"], ids_text(s["clauses"])] for s in trace["sections"]],
        widths=[w * _CM for w in (4.0, 13.0)])]
    out += [lay.h2("Clauses"), lay.p(esc(t.text("trace_clauses_text"))), lay.table(
        [["Clause", "Regime and citation", "What it asks (a short description, not the clause's text)"]]
        + [[key, f"{c['regime']}: {c['citation']}", c["asks"]] for key, c in trace["clauses"].items()
           if not keep or key.startswith(keep)],
        widths=[w * _CM for w in (3.6, 5.0, 8.4)])]
    if trace["unmapped"]:
        out.append(lay.p(esc(f"Checks with no clause in the trace: {', '.join(trace['unmapped'])}."), "small"))
    return out + [lay.p(esc(t.text("trace_limits")), "small")]
