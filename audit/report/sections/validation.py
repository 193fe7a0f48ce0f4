"""The validator's evidence: calibration, discrimination with the score bands, population stability,
expected directions and effect curves (:mod:`audit.measures.evidence`), one sentence per chart from the template."""

from __future__ import annotations

from typing import Any

from audit.report import validation_charts as charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, esc, fmt

__all__ = ["render"]

KINDS = ("calibration_error", "population_stability", "characteristic_stability", "expected_direction")


def render(ctx: Context) -> list:
    lay, record = ctx.lay, ctx.r.validation
    out = [*lay.h1("The validator's evidence")]
    if not record:
        return out + [lay.p("Not measured in this run.")]
    out.append(lay.p(esc(ctx.t.text("validation_intro"))))
    out += _calibration(ctx, record)
    out += _discrimination(ctx, record)
    out += _stability(ctx, record)
    out += _directions(ctx, record)
    out += _effects(ctx, record)
    checks = [c for c in ctx.r.gate.checks if c.kind in KINDS]
    for check in checks:
        word, _ = lay.verdict_cell(check)
        out.append(lay.p(esc(f"Gate, {check.name}: {word}. {check.message}."), "small"))
    return out


def _ci(values: list[float] | None) -> str:
    return f"{fmt(values[0])} to {fmt(values[1])}" if values else "-"


def _calibration(ctx: Context, record: dict[str, Any]) -> list:
    lay, cal = ctx.lay, record["calibration"]
    out = [lay.h2("Calibration")]
    if cal is None:
        return out + [lay.p(esc("Not measured: " + record["not_measured"].get("calibration", "") + "."))]
    hl, sp = cal["hosmer_lemeshow"], cal["spiegelhalter"]
    rows = [["Measure", "Value"],
            ["Expected calibration error (10 quantile bins)", fmt(cal["ece"], 4)],
            ["Brier score", fmt(cal["brier"], 4)],
            ["Calibration intercept (calibration-in-the-large)", fmt(cal["intercept"])],
            ["Calibration slope (1 = calibrated)", fmt(cal["slope"])],
            ["Spiegelhalter z (p-value)", f"{fmt(sp['z'])} ({fmt(sp['p_value'], 4)})"],
            [f"Hosmer-Lemeshow statistic, {hl['df']} df (p-value)", f"{fmt(hl['statistic'])} ({fmt(hl['p_value'], 4)})"]]
    return out + [lay.table(rows, widths=[10 * CM, 6 * CM]), lay.image(charts.reliability(cal["bins"]), 9, alt=(
        f"Reliability diagram: observed favourable rate against the mean predicted probability in {len(cal['bins'])} "
        "bins, with the diagonal of perfect calibration; the measures are in the table above.")),
                  lay.p(esc(ctx.t.text("calibration_text", bins=len(cal["bins"]))), "small")]


def _discrimination(ctx: Context, record: dict[str, Any]) -> list:
    lay, disc, bands = ctx.lay, record["discrimination"], record["score_bands"]
    if disc is None or disc.get("auc") is None:
        return []
    out = [lay.h2("Discrimination and score bands")]
    rows = [["Measure", "Value", "95% interval (bootstrap)"],
            ["AUC", fmt(disc["auc"]), _ci(disc["auc_ci95"])], ["Gini (2 AUC - 1)", fmt(disc["gini"]), _ci(disc["gini_ci95"])],
            ["Kolmogorov-Smirnov", fmt(disc["ks"]), _ci(disc["ks_ci95"])]]
    out.append(lay.table(rows, widths=[6 * CM, 3 * CM, 6 * CM]))
    if record.get("score_histogram"):
        out += [lay.image(charts.score_distributions(record["score_histogram"]), 12,
                          alt="Histograms of the predicted probability of the favourable outcome for rows whose "
                              "outcome was favourable and for rows whose outcome was adverse."),
                lay.p(esc(ctx.t.text("discrimination_text")), "small")]
    table = [["Band", "Score range", "Rows", "Favourable rate", "Mean predicted", "Cum. favourable", "Cum. adverse"]]
    table += [[str(b["band"]), f"{b['score_range'][0]:.3f} - {b['score_range'][1]:.3f}", str(b["count"]),
               f"{b['favourable_rate']:.1%}", f"{b['mean_predicted']:.3f}", f"{b['cumulative_favourable_share']:.1%}",
               f"{b['cumulative_adverse_share']:.1%}"] for b in bands]
    return out + [lay.p(esc(ctx.t.text("bands_text")), "small"),
                  lay.table(table, widths=[1.2 * CM, 3 * CM, 1.6 * CM, 2.6 * CM, 2.6 * CM, 2.6 * CM, 2.4 * CM])]


def _stability(ctx: Context, record: dict[str, Any]) -> list:
    lay, st = ctx.lay, record["population_stability"]
    out = [lay.h2("Population stability")]
    if st is None:
        return out + [lay.p(esc(ctx.t.text("stability_none")))]
    finding, fail = _psi_bands(ctx)
    out.append(lay.p(esc(ctx.t.text("stability_text", rows=st["reference_rows"], role=st["data_role"],
                                    finding=f"{finding:g}", fail=f"{fail:g}")), "small"))
    rows = [["Measure", "Index", "Categories absent from the reference"]]
    if st.get("score"):
        rows.append(["Score (PSI)", fmt(st["score"]["psi"], 4), ""])
    ranked = sorted(st["inputs"].items(), key=lambda kv: -kv[1]["psi"])
    rows += [[name, fmt(rec["psi"], 4), ", ".join(rec["unseen_categories"][:5])] for name, rec in ranked[:15]]
    out.append(lay.table(rows, widths=[6 * CM, 3 * CM, 7 * CM]))
    return out + [lay.image(charts.stability_bars(st, finding, fail), 13, alt=(
        f"Bar chart of the population stability index of the score and the inputs (finding above {finding:g}, shift "
        f"above {fail:g}); the values are in the table above."))] + \
        lay.left_out(min(len(ranked), 15), len(ranked), "inputs", "validation.population_stability.inputs")


def _psi_bands(ctx: Context) -> tuple[float, float]:
    """The finding and failure bands the run applied (recorded with the measure, as its checks used them)."""
    bands = ctx.r.validation["population_stability"]["bands"]
    return float(bands["finding"]), float(bands["fail"])


def _directions(ctx: Context, record: dict[str, Any]) -> list:
    lay, directions = ctx.lay, record["expected_directions"]
    out = [lay.h2("Expected directions")]
    if not directions:
        return out + [lay.p(esc(ctx.t.text("directions_none")), "small")]
    rows = [["Input", "Expected", "Rows against it", "ALE change", "Verdict"]]
    for name, rec in directions.items():
        word, _ = lay.verdict_cell(ctx.r.gate.check(f"expected_direction:{name}"))
        rows.append([name, rec["expected"], f"{rec['violation_share']:.1%} of {rec['rows']}",
                     f"{rec['ale_change']:+.3f}", word])
    return out + [lay.p(esc(ctx.t.text("directions_text")), "small"),
                  lay.table(rows, widths=[4.5 * CM, 2.5 * CM, 3.5 * CM, 2.5 * CM, 3 * CM])]


def _effects(ctx: Context, record: dict[str, Any]) -> list:
    lay = ctx.lay
    if not record["effects"]:
        return []
    out = [lay.h2("Effect curves"), lay.p(esc(ctx.t.text("effects_text", rows=record["effects"][0]["rows"],
                                                          ale_rows=record["effects"][0]["ale_rows"])), "small")]
    return out + [lay.image(charts.effect_curves(e), 10, alt=(
        f"Effect curves of {e['feature']} on the favourable score: individual conditional expectation curves, their "
        "mean (partial dependence) and the accumulated local effect.")) for e in record["effects"]]
