"""The HTML twin of :class:`audit.report.layout.Layout`: the same methods, returning HTML fragments.

Every section renders through either layout from the same records and template sentences. Text reaches a
fragment escaped: paragraph text is reportlab's paragraph markup (already escaped with ``esc``; the sections add
only ``<b>`` and ``<br/>``), which :func:`markup` turns into HTML, escaping any other tag; table cells are
plain text. Nothing here loads anything from a network: charts are inline PNGs with alt text.

>>> markup("<b>Note:</b> a &lt; b & <script>x</script><br/>")
'<b>Note:</b> a &lt; b &amp; &lt;script&gt;x&lt;/script&gt;<br>'
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

from audit.report.formatting import CM, clean, cut, esc
from audit.report.layout_base import GREEN, RED, LayoutBase

__all__ = ["Html", "HtmlLayout", "markup", "PAGE_WIDTH"]

PAGE_WIDTH = 17 * CM  # the PDF's text width: widths are given against it, so a narrow table stays narrow
MAX_CELL_CHARS = 4000  # a cell longer than this is cut with the PDF's note; the JSON file has it whole

_TAG = re.compile(r"<(/?)(b|i|u|br|super|sub|strike)\s*/?>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);)")
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


class Html(str):
    """A fragment of HTML, already escaped (a plain ``str`` in a table cell is text and gets escaped)."""


def markup(text: str) -> str:
    """reportlab paragraph markup as HTML: ``<b>``, ``<i>``, ``<u>``, ``<br/>``, ``<super>``, ``<sub>`` kept,
    every other tag and every bare ``&`` escaped."""
    out = []
    for part in re.split(r"(<[^<>]*>)", _ENTITY.sub("&amp;", clean(text))):
        tag = _TAG.fullmatch(part)
        if tag:
            name = {"super": "sup", "strike": "s"}.get(tag[2].lower(), tag[2].lower())
            out.append("<br>" if name == "br" else f"<{tag[1]}{name}>")
        else:
            out.append(part.replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out)


def attr(text: Any) -> str:
    """``text`` for an HTML attribute value (quotes escaped)."""
    return html.escape(clean(text), quote=True)


class HtmlLayout(LayoutBase):
    """The report's pieces as HTML fragments; headings get unique ids (the contents and every decision page link
    to them)."""

    def __init__(self, template: Any, json_name: str = "results.json") -> None:
        super().__init__(template, json_name)
        self._ids: set[str] = set()

    # -- text ---------------------------------------------------------------------------------------------
    def p(self, text: str, style: str = "body") -> Html:
        if style in ("H1", "H2"):
            return self._heading(1 if style == "H1" else 2, markup(text))
        return Html(f'<p class="{style}">{markup(text)}</p>')

    def h1(self, text: str) -> list:
        return [self._heading(1, esc(text))]

    def h2(self, text: str) -> Html:
        return self._heading(2, esc(cut(text, 200)))

    def _heading(self, level: int, inner: str) -> Html:
        """A section heading (``<h2>``, level 1) or a sub-heading (``<h3>``); the page's title is the ``<h1>``."""
        slug = re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]*>", "", inner)).lower()).strip("-")[:60]
        slug = slug or "section"
        anchor, n = slug, 1
        while anchor in self._ids:
            n += 1
            anchor = f"{slug}-{n}"
        self._ids.add(anchor)
        return Html(f'<h{level + 1} id="{anchor}">{inner}</h{level + 1}>')

    # -- tables -------------------------------------------------------------------------------------------
    def table(self, rows: list[list[Any]], widths: list[float] | None = None, header: bool = True,
              extra: list | None = None, white: set[tuple[int, int]] | None = None, *,
              sortable: bool = True) -> Html:
        """A table; a header row becomes ``<thead>`` with sort buttons (unless its first row spans the table, or
        ``sortable`` is False). ``extra``: this layout's ``fill`` and ``span_heading`` commands."""
        ncols = max(len(r) for r in rows)
        fills = {cmd[1]: cmd[3] for cmd in extra or () if cmd[0] == "BACKGROUND"}
        spans = any(cmd[0] == "SPAN" for cmd in extra or ())
        sortable = sortable and header and not spans and len(rows) > 2
        body = [self._row(row, i, ncols, fills, header and i == 0, spans and i == 0) for i, row in enumerate(rows)]
        head, rest = (body[:1], body[1:]) if header else ([], body)
        parts = [f'<div class="table-wrap"><table{" class=sortable" if sortable else ""}{self._width(widths)}>',
                 self._colgroup(widths)]
        if head:
            parts.append("<thead>" + head[0] + "</thead>")
        parts.append("<tbody>" + "".join(rest) + "</tbody></table></div>")
        return Html("".join(parts))

    def _row(self, row: list[Any], i: int, ncols: int, fills: dict, head: bool, span: bool) -> str:
        cells = []
        for k, c in enumerate(row[:1] if span else row):
            tag = "th" if head else "td"
            scope = ' scope="col"' if head and not span else ""
            colspan = f' colspan="{ncols}"' if span else ""
            fill = f' class="fill" style="background:{attr(fills[(k, i)])}"' if (k, i) in fills else ""
            text = self._cell(c)
            if head and not span:
                text = f'<button type="button">{text}</button>'
            cells.append(f"<{tag}{scope}{colspan}{fill}>{text}</{tag}>")
        return "<tr>" + "".join(cells) + "".join("<td></td>" for _ in range(ncols - len(row) if not span else 0)) \
            + "</tr>"

    def _cell(self, c: Any) -> str:
        if isinstance(c, Html):
            return c
        text = clean(c)
        if len(text) > MAX_CELL_CHARS:
            text = text[:MAX_CELL_CHARS] + f" … (cut; in full in {self.json_name})"
        return esc(text)

    @staticmethod
    def _width(widths: list[float] | None) -> str:
        if not widths:
            return ""
        return f' style="width:{min(100.0, 100 * sum(widths) / PAGE_WIDTH):.1f}%"'

    @staticmethod
    def _colgroup(widths: list[float] | None) -> str:
        if not widths:
            return ""
        total = sum(widths) or 1.0
        return "<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in widths) + "</colgroup>"

    def fill(self, col: int, row: int, colour: str, *, white_text: bool = False) -> list:
        """Cell (``col``, ``row``) on a verdict fill; its text is always white here (every fill colour is a
        verdict colour that meets WCAG AA with white)."""
        return [("BACKGROUND", (col, row), (col, row), colour)]

    # -- figures and blocks -------------------------------------------------------------------------------
    def image(self, png: bytes, width_cm: float = 16.0, *, alt: str) -> Html:
        data = base64.b64encode(png).decode("ascii")
        width = min(100.0, 100 * width_cm * CM / PAGE_WIDTH)
        return Html(f'<figure><img src="data:image/png;base64,{data}" alt="{attr(alt)}" '
                    f'style="width:{width:.0f}%"></figure>')

    def logo(self, path: Path) -> Html:
        """The organisation's logo inlined (PNG, JPEG or GIF; any other file is named, not embedded)."""
        kind = _IMAGE_TYPES.get(Path(path).suffix.lower())
        if kind is None:
            return Html(f'<p class="small">Logo {esc(Path(path).name)} not embedded (PNG, JPEG or GIF only).</p>')
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        return Html(f'<img class="logo" src="data:{kind};base64,{data}" alt="Logo">')

    def space(self, height_cm: float) -> Html:
        return Html("")

    def page_break(self) -> Html:
        return Html('<div class="page-break" aria-hidden="true"></div>')

    def cond_page_break(self, height_cm: float) -> Html:
        return Html("")

    def keep_together(self, items: list) -> Html:
        return Html('<div class="keep">' + "".join(items) + "</div>")

    def contents(self) -> list:
        """The contents heading and a marker the document replaces with the list of section links."""
        return [self.p("Contents", "H1"), Html("<!--contents-->")]

    def verdict_box(self, text: str, passed: bool) -> Html:
        colour = GREEN if passed else RED
        return Html(f'<p class="verdict-box" style="background:{colour}">{esc(text)}</p>')

    def signoff(self) -> list:
        roles = self.t.text("signoff").split("|")
        return [self.p("<b>Sign-off</b>"),
                self.table([["Role", "Name", "Signature", "Date"]] + [[role, "", "", ""] for role in roles],
                           widths=[5 * CM, 4.5 * CM, 4.5 * CM, 3 * CM], sortable=False)]
