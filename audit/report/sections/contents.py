"""The table of contents (filled in by the document from the H1 headings)."""

from __future__ import annotations

from audit.report.context import AuditContext as Context

__all__ = ["render"]


def render(ctx: Context) -> list:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, TableStyle
    from reportlab.platypus.tableofcontents import TableOfContents

    lay = ctx.lay
    toc = TableOfContents()
    toc.tableStyle = TableStyle([("FONTNAME", (0, 0), (-1, -1), lay.font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                 ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    toc.levelStyles = [ParagraphStyle("toc1", fontName=lay.font, fontSize=10, leading=14, leftIndent=10),
                       ParagraphStyle("toc2", fontName=lay.font, fontSize=8.5, leading=11, leftIndent=24)]
    return [lay.p("Contents", "H1"), toc, PageBreak()]
