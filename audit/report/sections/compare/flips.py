"""Decisions that flip, in each direction, by protected group."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, capped, cut, esc

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    f = ctx.r.flips
    out = [*lay.h1("Decisions that flip")]
    if not f:
        return out + [lay.p("Decision flips were not measured (a regression model, or no rows in common).")]
    out.append(lay.p(esc(ctx.t.text("compare_flips_text"))))
    rows = [["Change of decision", "Rows"]]
    transitions = capped(list(f["transitions"].items()), rank=lambda kv: -kv[1])  # the most frequent
    for pair, n in transitions:
        a, b = pair.split(" -> ")
        rows.append([cut(f"{ctx.outcome(a)} → {ctx.outcome(b)}", 250), str(n)])
    rows.append(["unchanged", str(f["rows"] - f["flipped"])])
    out.append(lay.table(rows, widths=[10 * CM, 3 * CM]))
    out += lay.left_out(len(transitions), len(f["transitions"]), "changes of decision", "flips.transitions")
    for attr, g in f["by_group"].items():
        out.append(lay.h2(f"By {attr}"))
        rows = [["Group", "Rows", "Flipped", "Share flipped", "To the adverse outcome", "Share to adverse"]]
        groups = capped(g["groups"], rank=lambda grp: (grp["too_small"], -grp["rows"]))  # the largest
        for grp in groups:
            if grp["too_small"]:
                rows.append([cut(grp["group"]), str(grp["rows"]), f"too small (under {f['min_group_rows']} rows)", "", "", ""])
            else:
                rows.append([cut(grp["group"]), str(grp["rows"]), str(grp["flipped"]), f"{grp['rate']:.1%}",
                             str(grp["to_adverse"]), f"{grp['adverse_rate']:.1%}"])
        out.append(lay.table(rows, widths=[4 * CM, 1.8 * CM, 2.2 * CM, 2.6 * CM, 3.6 * CM, 2.8 * CM]))
        out += lay.left_out(len(groups), len(g["groups"]), "groups", "flips.by_group")
        out += ctx.verdicts(f"group_flip:{attr}")
    return out + ctx.verdicts("flip_rate")
