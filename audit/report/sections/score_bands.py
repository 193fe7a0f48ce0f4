"""Disparity by score band: the adverse impact ratio at each decile cutoff of the favourable score (a line per
protected attribute, the model's cutoff marked) and the standardized mean difference of the score, each
with a sentence (``protected_attributes.score_disparity``)."""

from __future__ import annotations

from typing import Any

from audit.report import charts
from audit.report.context import AuditContext as Context
from audit.report.formatting import esc, fmt

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    record = ctx.r.protected.get("score_disparity") or {}
    out, done = lay.measured_head("Disparity by score band", record,
                                 "no protected attribute is a column other than the target")
    if done:
        return out
    out.append(lay.p(esc(ctx.t.text("score_band_text"))))
    curves = {a: v["air_by_band"] for a, v in record["attributes"].items() if v["air_by_band"]}
    if curves:
        out.append(lay.image(charts.air_by_band(curves, record.get("policy_cutoff"), _four_fifths(ctx)), 15,
                              alt="Adverse impact ratio at each decile cutoff of the score, one line per protected "
                                  "attribute, with the policy cutoff and the four-fifths line marked"))
    for attr, a in record["attributes"].items():
        out += [lay.p(esc(s), "small") for s in _sentences(ctx, attr, a, record.get("policy_cutoff"))]
    return out


def _four_fifths(ctx: Context) -> float | None:
    """The threshold the gate applied to the selection-rate ratio (the same on every attribute)."""
    return next((c.threshold for c in ctx.r.gate.checks if c.kind == "selection_rate_ratio"), None)


def _sentences(ctx: Context, attr: str, a: dict[str, Any], cutoff: float | None) -> list[str]:
    """One sentence on the AIR across bands and one on the SMD (or why each could not be given)."""
    bands = [b for b in a["air_by_band"] if b["air"] is not None]
    if not bands:
        first = f"{attr}: fewer than two groups are large enough to compare, so no adverse impact ratio is given."
    else:
        worst = min(bands, key=lambda b: b["air"])
        first = ctx.t.text("score_band_sentence", attr=attr, cutoff=fmt(cutoff), air=fmt(a["air_at_policy_cutoff"]),
                           low=fmt(worst["air"]), worst=fmt(worst["cutoff"]), group=worst["lowest"],
                           top=worst["highest"], high=fmt(max(b["air"] for b in bands)))
    smd = a["smd"]
    if smd is None:
        return [first, f"{attr}: no standardized mean difference (fewer than two groups large enough, or a constant "
                       "score)."]
    return [first, ctx.t.text("smd_sentence", attr=attr, lowest=smd["lowest"], highest=smd["highest"],
                              smd=fmt(smd["value"]), ci_low=fmt(smd["ci95"][0]), ci_high=fmt(smd["ci95"][1]))]
