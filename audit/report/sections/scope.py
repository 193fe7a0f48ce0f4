"""Scope and data: the file, its columns, the rows explained, missing values per input."""

from __future__ import annotations

from pathlib import Path

from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, capped, cut, esc, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r, d = ctx.r, ctx.r.data
    out = [*lay.h1("Scope and data"), lay.p(esc(ctx.t.text("scope_text")))]
    rows = [["Item", "Value"], ["File", Path(d["path"]).name], ["Rows", str(d["rows"])],
            ["Model inputs", some(d["features"], "inputs", "results.json (data.features)")],
            ["Categorical inputs", some(d["categorical"], "categorical inputs", "results.json (data.categorical)")],
            ["Target column", d["target"] or "not supplied"],
            ["Ignored columns", some(d["ignored_columns"], "columns not used by the model",
                                     "results.json (data.ignored_columns)")],
            ["Rows explained", f"{len(d['explained_rows'])} (sampled with seed {r.config['seed']})"],
            ["Background rows", str(d["background_rows"])]]
    if d.get("class_balance"):
        total = sum(d["class_balance"].values())
        rows.append(["Class balance (target)", some([f"{k}: {v} ({v / total:.1%})" for k, v in d["class_balance"].items()],
                                                    "classes", "results.json (data.class_balance)")])
    out.append(lay.table(rows, widths=[4 * CM, 13 * CM]))
    out.append(lay.h2("Missing values per input"))
    mv = capped(list(d["missing_values"].items()), rank=lambda kv: kv[1] == 0)  # those with gaps first
    out.append(lay.table([["Input", "Missing", "Share"]] +
                         [[cut(k), str(v), f"{v / max(d['rows'], 1):.1%}"] for k, v in mv],
                         widths=[6 * CM, 3 * CM, 3 * CM]))
    return out + lay.left_out(len(mv), len(d["missing_values"]), "inputs", "data.missing_values")
