"""The table of contents (filled in by the document from the H1 headings)."""

from __future__ import annotations

from audit.report.context import AuditContext as Context

__all__ = ["render"]


def render(ctx: Context) -> list:
    return ctx.lay.contents()
