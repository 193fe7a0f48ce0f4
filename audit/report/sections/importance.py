"""Global explanations: each method's global importance chart with its sentence (the section named "global")."""

from __future__ import annotations

from audit.report import charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import cut, esc, param, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    out = [*lay.h1("Global explanations")]
    accent = ctx.t.style.get("accent", "#2f6f9f")
    for e in ctx.r.explanations:
        output = {"margin": "margin (log-odds / decision value)", "score": "score"}.get(e.output_space, e.output_space)
        sentence = ctx.t.text("global_text", output=output, method=e.method, rows=e.rows_explained)
        png = charts.importance_bars(e.global_importance, f"{e.method} ({e.algorithm.get('algorithm', e.kind)})", accent)
        alt = (f"Bar chart of {e.method}'s global importance (mean |contribution|), largest first: "
               + ", ".join(f"{cut(k)} {v:.3g}" for k, v in sorted(e.global_importance.items(), key=lambda kv: -kv[1])[:15])
               + ".")
        out.append(lay.keep_together([lay.h2(f"{e.method}"), lay.image(png, 15, alt=alt), lay.p(esc(sentence))]))
        extra = []
        if e.mean_local_r2 is not None:
            extra.append(f"Mean local surrogate R² {e.mean_local_r2:.2f} (how well LIME's linear model fits locally).")
        coefs = e.algorithm.get("intercept")
        if coefs is not None:
            extra.append(f"Intercept {coefs:.4g}. Standardised coefficients (|coef| x std, per raw input): "
                         + some([f"{k} {v:.3g}" for k, v in e.algorithm.get("standardised_coefficients", {}).items()],
                                "inputs", "results.json (explanations[].algorithm)") + ".")
        if e.algorithm.get("reason"):
            params = "; ".join(f"{k.replace('_', ' ')} {param(v)}"
                               for k, v in (e.algorithm.get("parameters") or {}).items())
            extra.append(f"Algorithm chosen: {e.algorithm.get('algorithm')} — {e.algorithm['reason']}"
                         + (f". Parameters: {params}." if params else "."))
        for x in extra:
            out.append(lay.p(esc(x), "small"))
    return out
