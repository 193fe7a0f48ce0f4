"""The faithfulness scorecard: scores with controls, confidence intervals and the gate's verdicts."""

from __future__ import annotations

from typing import Any

from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, cut, esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay, r = ctx.lay, ctx.r
    out = [*lay.h1("Faithfulness scorecard"), lay.p(esc(ctx.t.text("faithfulness_text")))]
    out.append(lay.p(esc(f"Baseline for removed inputs: {r.controls.get('baseline')}. Random control: mean of "
                         f"{r.controls.get('random_draws')} random attributions. Reference (oracle): "
                         f"{r.controls.get('oracle_kind')}."), "small"))
    out += [_scorecard(ctx), *_summary_notes(ctx)]
    for e in r.explanations:
        out += _metrics(ctx, e)
    return out


def _scorecard(ctx: Context) -> Any:
    """One row per method: score with interval, the gate's verdict, additivity, stability, randomisation."""
    lay, r = ctx.lay, ctx.r
    rows = [["Method", "Score (95% CI)", "Status", "Additivity error", "Stability", "Randomisation similarity"]]
    extra = []
    for i, e in enumerate(r.explanations, start=1):
        check = r.gate.check(f"faithfulness:{e.method}")
        word, colour = lay.verdict_cell(check)
        rand = (e.randomisation or {}).get("similarity")
        rows.append([e.method, f"{fmt(e.faithfulness_score, 2)} ({fmt(e.faithfulness_score_ci[0], 2)} to {fmt(e.faithfulness_score_ci[1], 2)})",
                     f"{word} (min {float(check.threshold)})" if check else word, fmt(e.additivity_error, 4) if e.additivity_error is not None else "not promised",
                     fmt(e.stability, 2) if e.stability is not None else "deterministic",
                     fmt(rand, 2) if rand is not None else (e.randomisation or {}).get("not_run", "n/a")])
        extra += lay.fill(2, i, colour)
    return lay.table(rows, widths=[2.6 * CM, 3.4 * CM, 2.4 * CM, 2.6 * CM, 2.4 * CM, 3.6 * CM], extra=extra,
                     white={(2, i) for i in range(1, len(rows))})


def _summary_notes(ctx: Context) -> list:
    """Per method, the notes on its score: identity with the reference, metrics left out as uninformative."""
    lay, t = ctx.lay, ctx.t
    out = []
    for e in ctx.r.explanations:
        summary = e.faithfulness_summary or {}
        if summary.get("identity_with_reference"):
            out.append(lay.p(esc(t.text("faithfulness_identity", method=e.method,
                                        candidate=summary.get("identity_candidate"),
                                        share=f"{summary.get('identity_share', 0):.0%}")), "small"))
        metrics = summary.get("uninformative_metrics")
        if metrics:
            out.append(lay.p(esc(t.text("faithfulness_uninformative", method=e.method,
                                        metrics=", ".join(metrics).replace("_", " "),
                                        verb="is" if len(metrics) == 1 else "are",
                                        floor=f"{summary.get('informative_floor', 0.05):.0%}")), "small"))
    return out


def _metrics(ctx: Context, e: Any) -> list:
    """One method's metrics with their controls, then its findings."""
    lay = ctx.lay
    out = [lay.h2(f"{e.method}: metrics with controls")]
    rows = [["Metric", "Value (95% CI)", "Random control", "Reference", "Normalised", "Better", "Model calls"]]
    for name, m in e.faithfulness.items():
        if "ci95" not in m:  # the summary measures below have no bootstrap CI
            continue
        normalised = fmt(m["normalised_score"], 2)
        if m.get("informative") is False:
            normalised = "uninformative"
        elif m.get("in_score") is False:
            normalised += " (not scored)"
        elif m.get("clipped"):
            normalised += " (clipped)"
        rows.append([name.replace("_", " "), f"{fmt(m['value'])} ({fmt(m['ci95'][0])}, {fmt(m['ci95'][1])})",
                     fmt(m["random_control"]), fmt(m["oracle"]), normalised,
                     "higher" if m["higher_is_better"] else "lower", str(m["model_calls"])])
    for name in ("additivity_error", "stability_topk_jaccard", "max_sensitivity", "infidelity_captum"):
        if name in e.faithfulness:
            m = e.faithfulness[name]
            control = fmt(m["random_control"], 4) if "random_control" in m else ""
            rows.append([name.replace("_", " "), fmt(m["value"], 4), control, "", "",
                         "higher" if m.get("higher_is_better") else "lower", ""])
    out.append(lay.table(rows, widths=[3.5 * CM, 3.8 * CM, 2.1 * CM, 2.1 * CM, 1.9 * CM, 1.5 * CM, 2.1 * CM]))
    return out + [lay.p("Finding: " + esc(cut(finding, 600)), "small") for finding in e.findings]
