"""Writing the outputs: results.json, report.pdf, optional report.html and JUnit XML, atomically.

Everything is rendered into a temporary folder beside ``out`` (:mod:`audit.atomic`); only when all files
are complete are they moved into place, so a failed run never leaves a half-written report that looks
complete.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from audit.atomic import atomic_outputs
from audit.results import SCHEMA_VERSION, AuditResult, CompareResult, to_jsonable

__all__ = ["write_outputs", "write_reports", "write_compare_outputs", "write_lda_outputs", "junit_xml"]


def junit_xml(result: AuditResult | CompareResult) -> str:
    """The gate checks as a JUnit test suite (one test case per check), consistent with the exit code: a
    failed blocking check is a ``<failure>``; a failed non-blocking check (a finding) is ``<skipped>``
    with the finding and why it does not block, so CI is red exactly when the run exits 1. Every case
    carries ``verdict`` and ``blocking`` properties."""
    checks = result.gate.checks
    failures = sum(not c.passed and c.blocking for c in checks)
    skipped = sum(not c.passed and not c.blocking for c in checks)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f'<testsuite name="xai-audit gate" tests="{len(checks)}" failures="{failures}" errors="0" '
             f'skipped="{skipped}">']
    for c in checks:
        lines.append(f'  <testcase classname="audit.gate" name={quoteattr(c.name)}>')
        lines.append(f'    <properties><property name="verdict" value={quoteattr(c.verdict)}/>'
                     f'<property name="blocking" value="{str(c.blocking).lower()}"/></properties>')
        if not c.passed and c.blocking:
            lines.append(f'    <failure message={quoteattr(c.message)}>{escape(c.message)}</failure>')
        elif not c.passed:
            what = "not measured (non-blocking)" if c.status == "not_measured" else "finding (non-blocking)"
            why = f"{what}: {c.message}; it {c.role}"
            lines.append(f'    <skipped message={quoteattr(why)}/>')
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def write_outputs(result: AuditResult, out: Path, *, template: Any, junit: Path | None = None,
                  html: bool = False) -> dict[str, Path]:
    """Render and atomically place ``report.pdf`` and ``results.json`` (and, with ``html``, ``report.html``) in
    ``out``."""
    files = {"json": ("results.json", lambda path: path.write_text(result.dumps(), encoding="utf-8")),
             **_reports(result, template, pdf=True, html=html)}
    return _write_atomically(out, files, junit_xml(result) if junit is not None else None, junit)


def write_reports(result: AuditResult, out: Path, *, template: Any, pdf: bool = True,
                  html: bool = True) -> dict[str, Path]:
    """Render ``report.pdf`` and/or ``report.html`` of a stored result (``audit render``) into ``out``, atomically
    (results.json is not rewritten)."""
    return _write_atomically(out, _reports(result, template, pdf=pdf, html=html), None, None)


def _reports(result: AuditResult, template: Any, *, pdf: bool, html: bool) -> dict[str, tuple[str, Callable[[Path], None]]]:
    from audit.report.html import render_html
    from audit.report.pdf import render_pdf

    files: dict[str, tuple[str, Callable[[Path], None]]] = {}
    if pdf:
        files["pdf"] = ("report.pdf", lambda path: render_pdf(result, template, path))
    if html:
        files["html"] = ("report.html", lambda path: render_html(result, template, path))
    return files


def write_compare_outputs(result: CompareResult, out: Path, *, template: Any,
                          junit: Path | None = None) -> dict[str, Path]:
    """Render and atomically place ``compare.json`` and ``compare.pdf`` in ``out``, and, when both models were
    audited here, each one's ``baseline.results.json`` and ``candidate.results.json``."""
    from audit.report.pdf import render_compare_pdf

    files = {"json": ("compare.json", lambda path: path.write_text(result.dumps(), encoding="utf-8")),
             "pdf": ("compare.pdf", lambda path: render_compare_pdf(result, template, path))}
    for side, audit in zip(("baseline", "candidate"), result.audits):
        files[side] = (f"{side}.results.json", lambda path, a=audit: path.write_text(a.dumps(), encoding="utf-8"))
    return _write_atomically(out, files, junit_xml(result) if junit is not None else None, junit)


def write_lda_outputs(record: dict[str, Any], out: Path, *, template: Any, created_at: str,
                      tool_version: str) -> dict[str, Path]:
    """Render and atomically place ``audit lda``'s ``lda.json`` and ``lda.pdf`` in ``out``."""
    import json

    from audit.report.pdf import render_lda_pdf

    body = {"schema_version": SCHEMA_VERSION, "tool_version": tool_version, "created_at": created_at, **record}
    files = {"json": ("lda.json", lambda path: path.write_text(json.dumps(to_jsonable(body), indent=1), encoding="utf-8")),
             "pdf": ("lda.pdf", lambda path: render_lda_pdf(record, template, path, created_at=created_at,
                                                           tool_version=tool_version))}
    return _write_atomically(out, files, None, None)


def _write_atomically(out: Path, files: dict[str, tuple[str, Callable[[Path], None]]], junit_text: str | None,
                      junit: Path | None) -> dict[str, Path]:
    """Render every file (key -> (name, writer)) through :func:`audit.atomic.atomic_outputs`: nothing is
    placed in ``out`` (or at ``junit``) unless everything rendered."""
    out = Path(out)
    paths = {key: out / name for key, (name, _) in files.items()}
    if junit is not None:
        paths["junit"] = Path(junit)
    with atomic_outputs(paths, beside=out, what=f"--out {out}") as staged:
        for key, (_, write) in files.items():
            write(staged[key])
        if junit is not None:
            staged["junit"].write_text(junit_text or "", encoding="utf-8")
    return paths
