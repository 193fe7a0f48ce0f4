"""Charts for the report, drawn with matplotlib (Agg) to PNG at 200 dpi, deterministic bytes."""

from __future__ import annotations

import io

import numpy as np

DPI = 200
MAX_LABEL = 40  # characters of a tick label or title word run; the report's tables and results.json have the rest
MAX_BARS = 30  # bars in one chart (the caller chooses which)


def clip_label(text: object, limit: int = MAX_LABEL) -> str:
    """``text`` as a chart label: cut to ``limit`` characters with an ellipsis, one line, and with '$' escaped
    so that matplotlib never parses a data value as mathematics.

    >>> clip_label("income " + "x" * 50, 12), clip_label("$5") == "\\\\$5"
    ('income xxxx…', True)
    """
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "".join(c if c.isprintable() else "?" for c in text).replace("$", r"\$")


def _fig_bytes(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8, "svg.hashsalt": "audit"})
    return plt


def importance_bars(importance: dict[str, float], title: str, colour: str = "#2f6f9f", top: int = 15) -> bytes:
    """Horizontal bars of mean |contribution| per feature, largest at the top."""
    plt = _plt()
    items = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(6.2, 0.28 * len(items) + 0.8))
    # positions, not names, place the bars: two names that are the same once cut stay two bars
    ax.barh(range(len(items)), [v for _, v in items], color=colour, edgecolor="black", linewidth=0.4)
    ax.set_yticks(range(len(items)), [clip_label(k) for k, _ in items])
    ax.set_xlabel("mean |contribution|")
    ax.set_title(clip_label(title, 90), fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    for y, (_, v) in enumerate(items):
        ax.text(v, y, f" {v:.3g}", va="center", fontsize=7)
    ax.set_xlim(0, max([v for _, v in items] + [1e-12]) * 1.18)
    return _fig_bytes(fig)


def agreement_heatmap(methods: list[str], matrix: list[list[float]]) -> bytes:
    """Method-by-method rank agreement, values printed in each cell (readable in greyscale)."""
    plt = _plt()
    m = np.asarray(matrix, dtype=float)
    n = len(methods)
    fig, ax = plt.subplots(figsize=(2.5 + 0.75 * n, 1.5 + 0.6 * n))
    im = ax.imshow(m, cmap="RdYlGn", vmin=-1, vmax=1)
    ax.set_xticks(range(len(methods)), [clip_label(m) for m in methods], rotation=30, ha="right")
    ax.set_yticks(range(len(methods)), [clip_label(m) for m in methods])
    for i in range(len(methods)):
        for j in range(len(methods)):
            ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8 if n <= 6 else 7,
                    color="black", bbox={"facecolor": "white", "alpha": 0.6, "pad": 1, "edgecolor": "none"})
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="Spearman rank correlation")
    return _fig_bytes(fig)


def reasons_bars(labels: list[str], values: list[float], xlabel: str = "contribution to the explained output") -> bytes:
    """A decision's principal reasons as signed bars; ``xlabel`` (the template's wording) names the score."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.2, 0.35 * len(labels) + 0.7))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=["#b03a2e" if v < 0 else "#1e8449" for v in values], edgecolor="black",
            linewidth=0.4, hatch=None)
    ax.set_yticks(y, [clip_label(x, 60) for x in labels])
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel(clip_label(xlabel, 100))
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


def paired_importance(baseline: dict[str, float], candidate: dict[str, float], title: str,
                      colours: tuple[str, str] = ("#9aa9b8", "#2f6f9f"), top: int = 15) -> bytes:
    """Two bars per input (baseline, candidate), ordered by the baseline's importance; an input a model does
    not take has no bar for it and is marked "not an input"."""
    plt = _plt()
    names = sorted(set(baseline) | set(candidate), key=lambda n: (baseline.get(n, 0.0), candidate.get(n, 0.0)))
    names = names[-top:]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(6.2, 0.42 * len(names) + 1.0))
    for offset, values, colour, label in ((0.2, baseline, colours[0], "baseline"),
                                          (-0.2, candidate, colours[1], "candidate")):
        ax.barh(y + offset, [values.get(n, 0.0) for n in names], height=0.38, color=colour, edgecolor="black",
                linewidth=0.4, label=label)
        for yi, n in zip(y, names):
            ax.text(values.get(n, 0.0), yi + offset, f" {values[n]:.3g}" if n in values else " not an input",
                    va="center", fontsize=6.5)
    ax.set_yticks(y, [clip_label(n) for n in names])
    ax.set_xlabel("mean |contribution|")
    ax.set_title(clip_label(title, 90), fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(0, max(list(baseline.values()) + list(candidate.values()) + [1e-12]) * 1.3)
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    return _fig_bytes(fig)


def selection_rates(groups: list[dict], line: float | None, line_label: str) -> bytes:
    """One protected attribute's groups: selection rate with its 95% CI, groups too small to judge in grey
    (hatched, labelled), and a dashed line at ``line`` (the least rate the policy's ratio allows)."""
    plt = _plt()
    groups = groups[:MAX_BARS]
    fig, ax = plt.subplots(figsize=(6.2, 0.34 * len(groups) + 0.9))
    y = np.arange(len(groups))[::-1]
    rates = np.array([np.nan if g["selection_rate"] is None else g["selection_rate"] for g in groups], dtype=float)
    lo = [g["selection_rate_ci95"][0] for g in groups]
    hi = [g["selection_rate_ci95"][1] for g in groups]
    err = np.array([[r - (a if a is not None else r), (b if b is not None else r) - r] for r, a, b in zip(rates, lo, hi)]).T
    judged = [g["judged"] for g in groups]
    ax.barh(y, np.nan_to_num(rates), xerr=err, color=["#2f6f9f" if j else "#bbbbbb" for j in judged],
            hatch=None, edgecolor="black", linewidth=0.4, error_kw={"elinewidth": 0.8, "capsize": 2})
    for bar, j in zip(ax.patches, judged):
        if not j:
            bar.set_hatch("//")
    ax.set_yticks(y, [clip_label(g["group"]) if j else f"{clip_label(g['group'])} (too small, n={g['rows']})"
                      for g, j in zip(groups, judged)])
    if line is not None:
        ax.axvline(line, color="#b03a2e", linestyle="--", linewidth=1, label=clip_label(line_label, 90))
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=7, frameon=False)
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("selection rate (share of rows given the favourable outcome), 95% CI")
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


def air_by_band(curves: dict[str, list[dict]], policy_cutoff: float | None, threshold: float | None) -> bytes:
    """The adverse impact ratio at each decile cutoff of the favourable score, one line per protected attribute,
    the policy cutoff as a vertical dashed line and the four-fifths threshold as a horizontal dotted one."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.2, 3.0))
    for name, bands in list(curves.items())[:8]:
        points = [(b["cutoff"], b["air"]) for b in bands if b["air"] is not None]
        if points:
            ax.plot(*zip(*points), marker="o", markersize=3, linewidth=1.2, label=clip_label(name))
    if policy_cutoff is not None:
        ax.axvline(policy_cutoff, color="#b03a2e", linestyle="--", linewidth=1, label="policy cutoff")
    if threshold is not None:
        ax.axhline(threshold, color="#555555", linestyle=":", linewidth=1, label=f"four-fifths ({threshold:g})")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("score cutoff (deciles of the favourable score; approved at or above it)")
    ax.set_ylabel("adverse impact ratio")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=7, frameon=False, ncol=3)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)


_FAMILY_COLOURS = {"baseline": "#000000", "drop": "#2f6f9f", "coarsen": "#6a9f2f", "reduction": "#b0702e",
                   "threshold": "#8e44ad"}


def lda_frontier(alternatives: list[dict], tolerance: float, min_air: float | None) -> bytes:
    """Held-out AUC against the adverse impact ratio for every measured alternative of the LDA search: the
    baseline in black, the frontier joined by a line, the band within ``tolerance`` AUC of the baseline shaded
    and the policy's least ratio as a dotted line."""
    plt = _plt()
    measured = [a for a in alternatives if "auc" in a and a.get("air") is not None]
    fig, ax = plt.subplots(figsize=(6.2, 3.4))
    base = measured[0] if measured and measured[0]["family"] == "baseline" else None
    if base is not None:
        ax.axhspan(base["auc"] - tolerance, base["auc"] + tolerance, color="#dddddd", alpha=0.6,
                   label=f"within {tolerance:g} AUC of the baseline")
    edge = sorted((a for a in measured if a.get("on_frontier")), key=lambda a: a["air"])
    if len(edge) > 1:
        ax.plot([a["air"] for a in edge], [a["auc"] for a in edge], color="#b03a2e", linewidth=1, label="frontier")
    for family, colour in _FAMILY_COLOURS.items():
        pts = [a for a in measured if a["family"] == family]
        if pts:
            ax.scatter([a["air"] for a in pts], [a["auc"] for a in pts], s=28 if family != "baseline" else 48,
                       color=colour, edgecolor="black", linewidth=0.4, zorder=3, label=family)
    for i, a in enumerate(measured):
        ax.annotate(str(i + 1), (a["air"], a["auc"]), textcoords="offset points", xytext=(4, 3), fontsize=7)
    if min_air is not None:
        ax.axvline(min_air, color="#555555", linestyle=":", linewidth=1, label=f"least ratio ({min_air:g})")
    ax.set_xlabel("adverse impact ratio on the held-out split (higher: less disparity)")
    ax.set_ylabel("AUC on the held-out split")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), fontsize=7, frameon=False, ncol=4)
    ax.spines[["top", "right"]].set_visible(False)
    return _fig_bytes(fig)
