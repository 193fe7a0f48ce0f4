"""Less discriminatory alternatives: what was searched, the frontier chart (held-out AUC against the adverse
impact ratio), the table of alternatives within the tolerance that reduce disparity, and a plain statement of
what was found (results.json ``lda``; ``audit lda``'s lda.pdf renders the same story)."""

from __future__ import annotations

from typing import Any

from audit.report import charts
from audit.report.formatting import CM, cut, esc, fmt

__all__ = ["render", "story"]


def render(ctx: Any) -> list:
    """The section in the audit report: the search when ``[lda] enabled`` asked for it, else one sentence saying
    it was not run and how to run it (a section is never silently empty)."""
    record = getattr(ctx.r, "lda", None)
    if record is None:
        return [*ctx.lay.h1("Less discriminatory alternatives"), ctx.lay.p(esc(ctx.t.text("lda_not_run")))]
    return story(ctx.lay, ctx.t, record)


def story(lay: Any, t: Any, record: dict[str, Any]) -> list:
    """Heading, method, statement, chart and tables of one LDA record."""
    out = [*lay.h1("Less discriminatory alternatives")]
    if not record["alternatives"] and record.get("not_measured"):
        return out + [lay.p(esc(record["not_measured"] + "."))]
    out.append(lay.p(esc(t.text("lda_text", attribute=record["attribute"], training=record["training_rows"],
                                holdout=record["holdout_rows"], bootstrap=record["bootstrap"], seed=record["seed"],
                                proxies=", ".join(record["proxies"]) or "none"))))
    out.append(lay.p("<b>" + esc(statement(t, record)) + "</b>"))
    if any("auc" in a for a in record["alternatives"]):
        out.append(lay.image(charts.lda_frontier(record["alternatives"], record["tolerance"], record["min_air"]), 15,
                             alt="Held-out AUC against adverse impact ratio for every alternative searched, the "
                                 "frontier joined and the audited model marked"))
        out.append(lay.p(esc(t.text("lda_chart")), "small"))
    out += _found_table(lay, record)
    out += [lay.h2("Every alternative searched"), _all_table(lay, record)]
    return out


def statement(t: Any, record: dict[str, Any]) -> str:
    """The plain statement of what was searched and found, in the template's words."""
    searched = len(record["alternatives"]) - 1
    if record.get("not_measured"):
        return record["not_measured"] + "."
    base = record["alternatives"][0]
    values = {"attribute": record["attribute"], "searched": searched, "tolerance": fmt(record["tolerance"]),
              "air": fmt(base["air"]), "auc": fmt(base["auc"]), "min_air": fmt(record["min_air"]),
              "found": len(record["found"])}
    if not record["needed"]:
        return t.text("lda_not_needed", **values)
    if not record["found"]:
        return t.text("lda_none_found", **values)
    best = next(a for a in record["alternatives"] if a["name"] == record["found"][0])
    return t.text("lda_found", best=best["name"], best_air=fmt(best["air"]), best_auc=fmt(best["auc"]), **values)


def _found_table(lay: Any, record: dict[str, Any]) -> list:
    """The alternatives within the tolerance that reduce disparity, highest ratio first."""
    if not record.get("found"):
        return []
    rows = [["Alternative", "AUC (95% CI)", "Adverse impact ratio (95% CI)", "Approval rate", "On frontier"]]
    by_name = {a["name"]: a for a in record["alternatives"]}
    for name in record["found"]:
        a = by_name[name]
        rows.append([cut(name, 60), _with_ci(a["auc"], a["auc_ci95"]), _with_ci(a["air"], a["air_ci95"]),
                     fmt(a["approval_rate"]), "yes" if a.get("on_frontier") else "no"])
    return [lay.h2(f"Within {fmt(record['tolerance'])} AUC of the baseline, with less disparity"), lay.table(rows)]


def _all_table(lay: Any, record: dict[str, Any]) -> Any:
    """Every alternative, numbered as on the chart, with how it was built and its measures (or why not)."""
    rows = [["#", "Alternative and how it was built", "AUC (95% CI)", "AIR (95% CI)", "Approval / accuracy"]]
    number = 0
    for a in record["alternatives"]:
        if "auc" in a and a.get("air") is not None:
            number += 1
        label = str(number) if "auc" in a and a.get("air") is not None else "-"
        how = f"{a['name']}: {a['description']}"
        if "auc" not in a:
            rows.append([label, cut(how, 300), "not measured", cut(a.get("not_measured", ""), 120), ""])
            continue
        rows.append([label, cut(how, 300), _with_ci(a["auc"], a["auc_ci95"]), _with_ci(a.get("air"), a["air_ci95"]),
                     f"{fmt(a['approval_rate'])} / {fmt(a['accuracy'])}"])
    return lay.table(rows, widths=[0.8 * CM, 7.2 * CM, 3.2 * CM, 3.2 * CM, 2.6 * CM])


def _with_ci(value: float | None, ci: list) -> str:
    return f"{fmt(value)} ({fmt(ci[0])} to {fmt(ci[1])})"
