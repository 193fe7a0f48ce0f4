"""Influence of protected attributes: direct use, the counterfactual flip test, attribution share, proxies."""

from __future__ import annotations

from typing import Any

from audit.report.context import AuditContext as Context
from audit.report.context import protected_source_line
from audit.report.formatting import CM, cut, esc, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    prot = ctx.r.protected
    out = [*lay.h1("Influence of protected attributes")]
    if not prot.get("attributes"):
        return out + [lay.p(esc(protected_source_line(ctx.t, prot)) + " Their influence was therefore not measured. "
                            "Set policy.protected_attributes to have this section assess them.")]
    out.append(lay.p(esc(protected_source_line(ctx.t, prot))))
    out.append(lay.p(esc(ctx.t.text("protected_text"))))
    out.append(lay.h2("Direct use and the counterfactual flip test"))
    out.append(lay.p(esc(ctx.t.text("protected_flip_text", rows=prot.get("rows", 0))), "small"))
    out.append(_flip_table(ctx))
    for c in ctx.r.gate.checks:
        if c.kind in ("protected_input", "protected_flip", "protected_proxy") and c.subject is not None and not c.passed:
            out.append(lay.p("Finding: " + esc(cut(c.message, 600)) + ".", "small"))
    out += _weight_table(ctx) + _proxies(ctx)
    if prot.get("not_model_inputs"):
        out.append(lay.p(esc("Configured but not model inputs (no direct influence): "
                             + some(prot["not_model_inputs"], "attributes", "results.json") + "."), "small"))
    return out


def _flip_cell(flip: dict[str, Any] | None) -> str:
    """The flip test's result in a table cell: the rate with its interval, or why there is none."""
    if not flip:
        return "not a model input: no direct effect"
    if flip.get("rate") is None:
        return "not measured: " + str(flip.get("not_measured", "no result"))
    return f"{flip['rate']:.1%} ({flip['ci95'][0]:.1%} to {flip['ci95'][1]:.1%})"


def _flip_table(ctx: Context) -> Any:
    """Per attribute: whether it is a model input, the flip test's result and the gate's verdict."""
    lay, prot, gate = ctx.lay, ctx.r.protected, ctx.r.gate
    rows = [["Attribute", "Model input", "Decisions changed (95% CI)", "Gate"]]
    extra = []
    for attr in prot["attributes"]:
        direct = gate.check(f"protected_input:{attr}")
        flip = (prot.get("flip_test") or {}).get(attr)
        fcheck = gate.check(f"protected_flip:{attr}")
        verdicts = [c for c in (direct, fcheck) if c is not None]
        word, colour = lay.verdict_cell(next((c for c in verdicts if not c.passed), verdicts[0] if verdicts else None))
        rows.append([cut(attr), "yes" if attr in prot.get("direct_inputs", []) else "no",
                     _flip_cell(flip), word])
        extra += lay.fill(3, len(rows) - 1, colour, white_text=True)
    return lay.table(rows, widths=[3.5 * CM, 2.2 * CM, 6.3 * CM, 5 * CM], extra=extra)


def _weight_table(ctx: Context) -> list:
    """Each explainer's share of attribution mass on the protected attributes, with the gate's verdict."""
    lay, gate = ctx.lay, ctx.r.gate
    out = [lay.h2("Share of explanation weight")]
    rows = [["Method", "Share of attribution mass", "Per attribute", "Gate"]]
    for name, v in ctx.r.protected["by_explainer"].items():
        check = gate.check(f"protected:{name}")
        word, _ = lay.verdict_cell(check)
        limit = f" (max {check.threshold:.0%})" if check and check.threshold is not None else ""
        rows.append([name, f"{v['share']:.1%}", some([f"{k}: {s:.1%}" for k, s in v["per_attribute"].items()],
                                                     "attributes", "results.json (protected_attributes)"),
                     word + limit])
    return out + [lay.table(rows)]


def _proxies(ctx: Context) -> list:
    """The inputs most associated with each protected attribute (none when none was measured)."""
    lay, prot = ctx.lay, ctx.r.protected
    if not prot.get("proxies"):
        return []
    out = [lay.h2("Possible proxies"), lay.p(esc(ctx.t.text("protected_proxies_text")), "small")]
    rows = [["Protected attribute", "Input", "Association", "Share of explanation weight"]]
    for attr, items in prot["proxies"].items():
        for item in items:
            shares = ", ".join(f"{k} {v:.1%}" for k, v in item.get("attribution_share", {}).items())
            rows.append([cut(attr), cut(item["feature"]), f"{item['association']:.3f}", shares])
    return out + [lay.table(rows, widths=[3.5 * CM, 3.5 * CM, 2.5 * CM, 7.5 * CM])]
