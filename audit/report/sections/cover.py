"""The cover: organisation, title, verdict box with the checks that did not pass, identity of model and data, sign-off."""

from __future__ import annotations

from pathlib import Path

from audit.report.context import AuditContext as Context
from audit.report.context import protected_source_line
from audit.report.formatting import CM, cut, esc
from audit.results import SCHEMA_VERSION

__all__ = ["render"]


def render(ctx: Context) -> list:

    lay = ctx.lay
    r, t, rc = ctx.r, ctx.t, ctx.rc
    out: list = []
    if rc.get("logo") and Path(rc["logo"]).is_file():
        out.append(lay.logo(Path(rc["logo"])))
    out.append(lay.p(esc(cut(rc.get("organisation") or "Organisation not set (report.organisation in audit.toml)",
                             300)), "body"))
    out += [lay.space(0.3), lay.p(esc(cut(rc.get("title") or t.title, 200)), "title"), lay.space(0.2),
            lay.p(esc(t.text("cover_statement")))]
    out += [lay.space(0.3), lay.verdict_box(_verdict_line(ctx), r.gate.passed), lay.space(0.2)]
    for line in ctx.failed_lines(brief=True):
        out.append(lay.p("• " + esc(cut(line, 400)), "small"))
    for line in _status_lines(ctx):
        out.append(lay.p("• " + esc(cut(line, 400)), "small"))
    out.append(lay.p(esc(cut(protected_source_line(ctx.t, r.protected or {}), 400)), "small"))
    out.append(lay.space(0.2))
    m, d = r.model, r.data
    rows = [
        ["Item", "Value"],
        ["Model", f"{Path(m['path']).name} — {m['type']} ({m['framework']}, {m['task']})"],
        ["Model SHA-256", m["sha256"]],
        ["Loaded with", f"{m['loaded_with']}; trusted: {'yes (--trust-model)' if m['trusted'] else 'no'}"],
        ["Data", f"{Path(d['path']).name} — {d['rows']} rows, {len(d['features'])} model inputs"],
        ["Data role", {"holdout": "holdout (not used to train the model)", "training": "training data (in-sample)"}
         .get(d.get("role", "unknown"), "unknown: not stated whether the model was trained on this data (--data-role)")],
        ["Target column", _target_words(ctx)],
        ["Data SHA-256", d["sha256"]],
    ]
    if m.get("favorable_class") is not None:
        rows.append(["Favourable outcome", _favorable_words(ctx)])
    rows += [["Audit date (UTC)", r.created_at],
             ["Tool", f"xai-audit {r.tool_version}, results schema {SCHEMA_VERSION}"]]
    out.append(lay.table(rows, widths=[4 * CM, 13 * CM]))
    out += [lay.space(0.4), *lay.signoff(), lay.page_break()]
    return out


def _status_lines(ctx: Context) -> list[str]:
    """The checks the policy waived (with its reason) and those it did not require, one line each."""
    return [f"{c.name}: {'WAIVED' if c.status == 'waived' else 'not required'} — {c.message}"
            for c in ctx.r.gate.checks if c.status in ("waived", "not_required")]


def _verdict_line(ctx: Context) -> str:
    """The verdict box's line: the verdict and the counts of checks behind it."""
    g = ctx.r.gate
    blocking = [c for c in g.checks if c.blocking]
    failed_blocking = [c for c in g.failed if c.blocking]
    findings = [c for c in g.failed if not c.blocking]
    head = "VERDICT: " + ("PASSED" if g.passed else "FAILED")
    unmeasured = [c for c in g.checks if c.status == "not_measured"]
    waived = [c for c in g.checks if c.status == "waived"]
    tail = (f"{len(blocking) - len(failed_blocking)} of {len(blocking)} blocking checks passed"
            + (f"; {len(unmeasured)} not measured" if unmeasured else "")
            + (f"; {len(waived)} waived by policy" if waived else "")
            + (f"; {len(findings)} non-blocking finding(s), listed below" if findings else "")
            + f" ({len(g.checks) - len(g.failed)} of {len(g.checks)} checks in all)")
    return f"{head} — {tail}"


def _target_words(ctx: Context) -> str:
    """The target column and how it was chosen (or why there is none)."""
    d = ctx.r.data
    if d.get("target") is None:
        return "none: performance, challenger and the model-randomisation check need one (--target)"
    how = {"inferred": "inferred: the only non-input column whose values fit the model's task"}
    return f"{d['target']} ({how.get(d.get('target_source'), 'given with --target or target')})"


def _favorable_words(ctx: Context) -> str:
    """The favourable class and where it came from; an assumed one is said to be assumed."""
    m = ctx.r.model
    if m.get("favorable_class_source") == "config":
        return f"class {m['favorable_class']} ({ctx.outcome(m['favorable_class'])}), from favorable_class"
    return (f"NOT SET (favorable_class in audit.toml): outcomes are labelled neutrally; class "
            f"{m['favorable_class']} was assumed favourable only to order the reasons")
