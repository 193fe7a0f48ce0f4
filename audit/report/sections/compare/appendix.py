"""Reproducibility: hashes, seed, configuration, command line, what each mode measures."""

from __future__ import annotations

from audit.report.context import CompareContext as Context
from audit.report.formatting import CM, command_words, param

__all__ = ["render"]


def render(ctx: Context) -> list:
    lay = ctx.lay
    r, rp = ctx.r, ctx.r.reproducibility
    out = [*lay.h1("Appendix: reproducibility and what was measured")]
    rows = [["Item", "Value"], ["Baseline SHA-256", r.baseline["sha256"]], ["Candidate SHA-256", r.candidate["sha256"]],
            ["Data SHA-256", r.data["sha256"]], ["Config SHA-256", rp["config_sha256"]], ["Seed", str(rp["seed"])],
            ["Command line", command_words(rp.get("command_line"))]]
    rows += [[f"package {k}", v] for k, v in rp["package_versions"].items()]
    out.append(lay.table(rows, widths=[4 * CM, 13 * CM]))
    out.append(lay.h2("Measures and their availability"))
    rows = [["Measure", "Measured", "How"]] + [[k.replace("_", " "), "yes" if v["available"] else "no", v["note"]]
                                               for k, v in r.availability.items()]
    out.append(lay.table(rows, widths=[4 * CM, 2 * CM, 11 * CM]))
    out.append(lay.h2("Model-change policy ([policy.compare])"))
    out.append(lay.table([["Key", "Value"]] + [[k, param(v)] for k, v in r.policy.items()], widths=[7 * CM, 4 * CM]))
    out += [lay.h2("Configuration used"), lay.config_text(rp.get("config_text"))]
    return out
