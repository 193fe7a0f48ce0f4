"""Charts of the validator's evidence (:mod:`audit.measures.evidence`): reliability diagram, score distributions by
outcome, population-stability bars and effect curves (ALE with PDP and a thinned ICE overlay). Drawn with
matplotlib (Agg) to PNG, deterministic bytes, from results.json's ``validation`` record alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from audit.report.charts import _fig_bytes, _plt, clip_label

__all__ = ["reliability", "score_distributions", "stability_bars", "effect_curves"]


def reliability(bins: list[dict[str, Any]]) -> bytes:
    """Observed favourable rate (with its 95% interval) against the mean predicted probability per bin."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    x = [b["mean_predicted"] for b in bins]
    y = [b["observed_rate"] for b in bins]
    lo = [b["observed_rate"] - b["observed_ci95"][0] for b in bins]
    hi = [b["observed_ci95"][1] - b["observed_rate"] for b in bins]
    ax.plot([0, 1], [0, 1], color="#888888", linewidth=0.8, linestyle="--", label="perfect calibration")
    ax.errorbar(x, y, yerr=[lo, hi], fmt="o-", color="#2f6f9f", markersize=3.5, linewidth=1, capsize=2,
                label="observed rate (95% interval)")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean predicted probability of the favourable outcome",
           ylabel="observed favourable rate")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


def score_distributions(hist: dict[str, Any]) -> bytes:
    """Histograms of the favourable probability for rows whose outcome was favourable and adverse."""
    plt = _plt()
    edges = np.asarray(hist["edges"])
    mids, width = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
    fig, ax = plt.subplots(figsize=(5.6, 2.6))
    for key, colour, label in (("adverse", "#b5523b", "adverse outcome"), ("favourable", "#2f6f9f",
                                                                          "favourable outcome")):
        counts = np.asarray(hist[key], dtype=float)
        share = counts / max(counts.sum(), 1)
        ax.bar(mids, share, width=width, alpha=0.55, color=colour, edgecolor="black", linewidth=0.3, label=label)
    ax.set(xlim=(0, 1), xlabel="predicted probability of the favourable outcome", ylabel="share of rows")
    ax.legend(fontsize=7, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


def stability_bars(stability: dict[str, Any], finding: float, fail: float, top: int = 20) -> bytes:
    """PSI of the score and the largest CSIs of the inputs, with the finding and failure bands marked."""
    plt = _plt()
    items = [("score (PSI)", stability["score"]["psi"])] if stability.get("score") else []
    inputs = sorted(stability["inputs"].items(), key=lambda kv: kv[1]["psi"], reverse=True)[:top]
    items += [(name, rec["psi"]) for name, rec in inputs]
    items = items[::-1]
    fig, ax = plt.subplots(figsize=(6.0, 0.26 * len(items) + 0.9))
    colours = ["#b5523b" if v > fail else "#d9a441" if v > finding else "#5b8c5a" for _, v in items]
    ax.barh(range(len(items)), [v for _, v in items], color=colours, edgecolor="black", linewidth=0.4)
    ax.set_yticks(range(len(items)), [clip_label(k) for k, _ in items])
    for line, style in ((finding, ":"), (fail, "--")):
        ax.axvline(line, color="black", linewidth=0.8, linestyle=style)
    ax.set_xlabel(f"stability index (finding above {finding:g}, shift above {fail:g})")
    ax.set_xlim(0, max([v for _, v in items] + [fail]) * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


def effect_curves(effect: dict[str, Any]) -> bytes:
    """One input's effect on the favourable score: thinned ICE curves (grey), their mean (the PDP) and the
    ALE curve shifted to the PDP's mean level, so both read on the score's scale."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.4, 2.9))
    grid = np.asarray(effect["grid"])
    for curve in effect["ice"]:
        ax.plot(grid, curve, color="#9a9a9a", linewidth=0.5, alpha=0.6)
    pdp = np.asarray(effect["pdp"])
    ax.plot(grid, pdp, color="#2f6f9f", linewidth=1.8, label="partial dependence (mean of ICE)")
    ale_curve = np.asarray(effect["ale"]) + float(pdp.mean())
    ax.plot(effect["ale_edges"], ale_curve, color="#b5523b", linewidth=1.5, linestyle="--",
            label="accumulated local effect (ALE)")
    title = clip_label(effect["feature"], 60)
    if effect.get("expected"):
        title += f" (expected: {effect['expected']})"
    ax.set_title(title, fontsize=8.5, loc="left")
    ax.set(xlabel=clip_label(effect["feature"]), ylabel="favourable score")
    ax.legend(fontsize=6.5, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)
