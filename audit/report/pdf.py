"""The PDF compliance report and the compare report: the two entry points.

Plain language first, evidence after. Each section is a module of :mod:`audit.report.sections` with
``render(ctx)``, looked up in the registry by the names the template orders; the layout (fonts, styles,
tables, document writing) is :mod:`audit.report.layout`. reportlab is used only inside ``audit.report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.report.context import AuditContext, CompareContext
from audit.report.formatting import cut
from audit.report.layout import Layout, write_document
from audit.report.sections import COMPARE_SECTIONS, SECTIONS
from audit.results import AuditResult, CompareResult

__all__ = ["render_pdf", "render_compare_pdf"]


def render_pdf(result: AuditResult, template: Any, path: Path) -> None:
    """Write the compliance report for ``result`` to ``path``."""
    ctx = AuditContext(result, template, Layout(template))
    story: list = []
    for name in template.sections:
        story += SECTIONS[name](ctx)
    footer = f"{cut(template.title, 60)} — model {result.model['sha256'][:12]}… — {'PASSED' if result.gate.passed else 'FAILED'}"
    write_document(ctx.lay, story, path, footer=footer, title=template.title, created_at=result.created_at,
                   author=result.config.get("report", {}).get("organisation") or "xai-audit",
                   subject=f"Explainability audit of {Path(result.model['path']).name} (SHA-256 {result.model['sha256']})",
                   creator=f"xai-audit {result.tool_version}")


def render_compare_pdf(result: CompareResult, template: Any, path: Path) -> None:
    """Write the comparison report for ``result`` (``audit compare``) to ``path``."""
    ctx = CompareContext(result, template, Layout(template, json_name="compare.json"))
    story: list = []
    for name in template.compare_sections:
        story += COMPARE_SECTIONS[name](ctx)
    base, cand = result.baseline, result.candidate
    footer = (f"{cut(ctx.title, 60)} — {base['sha256'][:12]}… against {cand['sha256'][:12]}… — "
              f"{'PASSED' if result.gate.passed else 'FAILED'}")
    write_document(ctx.lay, story, path, footer=footer, title=ctx.title, created_at=result.created_at,
                   author=result.report.get("organisation") or "xai-audit",
                   subject=f"Comparison of {Path(cand['path']).name} (SHA-256 {cand['sha256']}) with "
                           f"{Path(base['path']).name} (SHA-256 {base['sha256']})",
                   creator=f"xai-audit {result.tool_version}")


def render_lda_pdf(record: dict[str, Any], template: Any, path: Path, *, created_at: str, tool_version: str) -> None:
    """Write ``audit lda``'s report (the LDA section's story on its own) to ``path``."""
    from audit.report.sections.lda import story

    lay = Layout(template, json_name="lda.json")
    title = "Search for less discriminatory alternatives"
    write_document(lay, story(lay, template, record), path, footer=f"{title} — model {record.get('model_sha256', '')[:12]}…",
                   title=title, created_at=created_at, author="xai-audit",
                   subject=f"Less discriminatory alternatives for {record.get('model', 'the model')} "
                           f"(SHA-256 {record.get('model_sha256', '')})", creator=f"xai-audit {tool_version}")
