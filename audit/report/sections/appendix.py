"""Appendix: reproducibility (hashes, versions, command line, configuration)."""

from __future__ import annotations

from audit.report.context import AuditContext as Context
from audit.report.formatting import CM, command_words, esc, some

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r = ctx.r
    rp = r.reproducibility
    out = [*lay.h1("Appendix: reproducibility")]
    rows = [["Item", "Value"], ["Model SHA-256", r.model["sha256"]], ["Data SHA-256", r.data["sha256"]],
            ["Config SHA-256", rp["config_sha256"]], ["Model loaded with", r.model["loaded_with"]],
            ["Trust granted", "yes" if r.model["trusted"] else "no"], ["Seed", str(rp["seed"])],
            ["Command line", command_words(rp.get("command_line"))], ["Platform", rp["platform"]],
            ["Model calls (total)", f"{rp['model_calls_total']} calls, {rp['model_rows_total']} rows"]]
    rows += [[f"package {k}", v] for k, v in rp["package_versions"].items()]
    out.append(lay.table(rows, widths=[4 * CM, 13 * CM]))
    out.append(lay.h2("Configuration used"))
    out.append(lay.config_text(rp.get("config_text")))
    if rp.get("config_overrides"):
        out.append(lay.p(esc("Overrides applied on top: " + some(
            [f"{k} = {v!r}" for k, v in rp["config_overrides"].items()], "overrides", lay.json_name)), "small"))
    out.append(lay.p(ctx.t.text("appendix_timings"), "small"))
    return out
