"""Model performance: the measures and the confusion matrix (with a target)."""

from __future__ import annotations

from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    perf = ctx.r.performance
    out = [*lay.h1("Model performance")]
    if not perf:
        return out + [lay.p("No target column was supplied (--target), so performance was not measured.")]
    out.append(lay.p(esc(ctx.t.text("performance_text") + " " + perf.get("note", "").capitalize() + ".")))
    overfit = (ctx.r.challenger or {}).get("overfitting_warning")
    if overfit:
        out.append(lay.p("<b>Warning:</b> " + esc(overfit)))
    role = perf.get("data_role", "unknown")
    rows = [["Measure", f"Value ({role} data)"]] + [[k.replace("_", " "), fmt(v)] for k, v in perf.items()
                                     if isinstance(v, (int, float)) and k != "rows"]
    out.append(lay.table(rows, widths=[6 * CM, 4 * CM]))
    cm_ = perf.get("confusion_matrix")
    if cm_ and len(cm_["labels"]) > 8:  # a grid wider than the page: said, and left to results.json
        out.append(lay.p(esc(f"The confusion matrix has {len(cm_['labels']):,} classes, too many to print "
                             "legibly; it is in results.json (performance.confusion_matrix)."), "small"))
    elif cm_:
        labels = cm_["labels"]
        out.append(lay.h2("Confusion matrix (rows: actual class, columns: predicted class)"))
        out.append(lay.table([["actual \\ predicted"] + [f"predicted {ctx.outcome(lbl)}" for lbl in labels]] +
                             [[f"actual {ctx.outcome(lbl)}"] + [str(v) for v in row]
                               for lbl, row in zip(labels, cm_["matrix"])]))
    return out
