"""Writing the outputs: results.json, report.pdf and optional JUnit XML, atomically.

Everything is rendered into a temporary folder beside ``out``; only when all files are complete are
they moved into place, so a failed run never leaves a half-written report that looks complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from audit.errors import InputError
from audit.results import AuditResult

__all__ = ["write_outputs", "junit_xml"]


def junit_xml(result: AuditResult) -> str:
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
            why = f"finding (non-blocking): {c.message}; it {c.role}"
            lines.append(f'    <skipped message={quoteattr(why)}/>')
        lines.append("  </testcase>")
    lines.append("</testsuite>")
    return "\n".join(lines) + "\n"


def write_outputs(result: AuditResult, out: Path, *, template: Any, junit: Path | None = None) -> dict[str, Path]:
    """Render and atomically place ``report.pdf`` and ``results.json`` in ``out``."""
    from audit.report.pdf import render_pdf

    out = Path(out)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".audit-tmp-", dir=parent))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write there ({exc.strerror}). Choose a writable folder.") from None
    try:
        (tmp / "results.json").write_text(result.dumps(), encoding="utf-8")
        render_pdf(result, template, tmp / "report.pdf")
        if junit is not None:
            (tmp / "junit.xml").write_text(junit_xml(result), encoding="utf-8")
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "results.json", "pdf": out / "report.pdf"}
        os.replace(tmp / "results.json", paths["json"])
        os.replace(tmp / "report.pdf", paths["pdf"])
        if junit is not None:
            junit.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(tmp / "junit.xml"), junit)
            paths["junit"] = junit
        return paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
