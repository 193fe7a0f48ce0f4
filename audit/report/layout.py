"""The report's page layout (the only place, with the sections, that touches reportlab): fonts, styles,
headings, tables that never break inside a word, verdict cells and boxes, images, and writing the document.

Fonts are embedded (DejaVu Sans, shipped with matplotlib), the document carries title/author/subject,
bookmarks, a table of contents and page numbers, and is byte-reproducible (reportlab invariant mode).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from audit.report.formatting import MAX_CELL_HEIGHT, clean, cut, esc, rejoin
from audit.report.layout_base import AMBER, GREEN, GREY, RED, VERDICT_TEXT, LayoutBase

__all__ = ["GREEN", "AMBER", "RED", "GREY", "VERDICT_TEXT", "Layout", "write_document"]


def _fonts() -> tuple[str, str]:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(base / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(base / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVu-Oblique", str(base / "DejaVuSans-Oblique.ttf")))
        from reportlab.lib.fonts import addMapping

        addMapping("DejaVu", 0, 0, "DejaVu")
        addMapping("DejaVu", 1, 0, "DejaVu-Bold")
        addMapping("DejaVu", 0, 1, "DejaVu-Oblique")
        addMapping("DejaVu", 1, 1, "DejaVu-Bold")
    return "DejaVu", "DejaVu-Bold"



class Layout(LayoutBase):
    """The PDF's styles and layout helpers (reportlab flowables), shared by the audit and the compare report."""

    def __init__(self, template: Any, json_name: str = "results.json") -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        super().__init__(template, json_name)
        self.colors = colors
        font, bold = _fonts()
        ss = getSampleStyleSheet()
        primary = colors.HexColor(template.style.get("primary", "#1f3b5a"))
        self.primary = primary
        self.s = {
            "body": ParagraphStyle("body", parent=ss["Normal"], fontName=font, fontSize=9.5, leading=13, spaceAfter=5),
            "small": ParagraphStyle("small", parent=ss["Normal"], fontName=font, fontSize=7.5, leading=9.5),
            "cell": ParagraphStyle("cell", parent=ss["Normal"], fontName=font, fontSize=8, leading=10,
                                   splitLongWords=0),
            "cellb": ParagraphStyle("cellb", parent=ss["Normal"], fontName=bold, fontSize=8, leading=10,
                                    splitLongWords=0),
            "cellw": ParagraphStyle("cellw", parent=ss["Normal"], fontName=bold, fontSize=8, leading=10,
                                    splitLongWords=0, textColor=colors.HexColor(VERDICT_TEXT)),
            "H1": ParagraphStyle("H1", parent=ss["Heading1"], fontName=bold, fontSize=15, leading=19,
                                 textColor=primary, spaceBefore=4, spaceAfter=8, keepWithNext=1),
            "H2": ParagraphStyle("H2", parent=ss["Heading2"], fontName=bold, fontSize=11.5, leading=15,
                                 textColor=primary, spaceBefore=8, spaceAfter=4, keepWithNext=1),
            "title": ParagraphStyle("title", parent=ss["Title"], fontName=bold, fontSize=20, leading=25,
                                    textColor=primary, alignment=0),
            "verdict": ParagraphStyle("verdict", parent=ss["Normal"], fontName=bold, fontSize=16, leading=20,
                                      textColor=colors.white),
        }
        self.font, self.bold = font, bold

    # -- helpers --------------------------------------------------------------------------------
    def p(self, text: str, style: str = "body") -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(text, self.s[style])

    def h1(self, text: str) -> Any:
        from reportlab.lib.units import cm
        from reportlab.platypus import CondPageBreak

        # A section starts on a new page unless most of the current page is still free.
        return [CondPageBreak(14 * cm), self.p(esc(text), "H1")]

    def h2(self, text: str) -> Any:
        return self.p(esc(cut(text, 200)), "H2")

    def table(self, rows: list[list[Any]], widths: list[float] | None = None, header: bool = True,
              extra: list | None = None, white: set[tuple[int, int]] | None = None) -> Any:
        """A grid; string cells become paragraphs that never break inside a word (``_fit``). ``white``:
        (column, row) cells drawn in white on a verdict fill."""
        from reportlab.lib.units import cm
        from reportlab.platypus import Table, TableStyle

        ncols = max(len(r) for r in rows)
        widths = widths or [17 * cm / ncols] * ncols

        def cell(c: Any, i: int, k: int) -> Any:
            if not isinstance(c, str):
                return c
            style = "cellw" if white and (k, i) in white else ("cellb" if header and i == 0 else "cell")
            return self._fit(c, style, widths[k] - 6)

        cells = [[cell(c, i, k) for k, c in enumerate(row)] for i, row in enumerate(rows)]
        tbl = Table(cells, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT", spaceAfter=6)
        style = [("FONTNAME", (0, 0), (-1, -1), self.font), ("GRID", (0, 0), (-1, -1), 0.3, self.colors.HexColor("#999999")),
                 ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3),
                 ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), self.colors.HexColor("#e8eef4")))
        tbl.setStyle(TableStyle(style + (extra or [])))
        return tbl

    def _fit(self, text: str, style: str, avail: float) -> Any:
        """A cell paragraph whose words fit ``avail`` points: a word too wide may break after '_', ':',
        '/' or '.' (identifiers), and what is still too wide is set in a smaller font, never split, unless
        even 4.5 points is too wide (then it wraps where the line is full). A cell taller than
        ``MAX_CELL_HEIGHT`` is cut with an ellipsis; the full text is in the JSON file."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        text = clean(text)
        st = self.s[style]
        # at worst every word starts a line and every character is an em wide: measure only cells that could
        # then be too tall (a few in a report; a full-page cell holds about 2,000 characters)
        worst = (len(text) * st.fontSize / max(avail, 1.0) + len(text.split()) + 1) * st.leading
        if worst <= MAX_CELL_HEIGHT:
            return self._fit_once(text, style, avail)
        # the characters that fill the allowed lines at this text's mean width, then shorter until it fits
        sample = text[:400]
        per_line = max(avail / max(stringWidth(sample, st.fontName, st.fontSize) / len(sample), 0.1), 1.0)
        keep = min(len(text), int(per_line * MAX_CELL_HEIGHT / st.leading))
        note = f" … (cut; in full in {self.json_name})"
        for _ in range(8):
            para = self._fit_once(text if keep >= len(text) else text[:keep] + note, style, avail)
            if para.wrap(avail, 1e9)[1] <= MAX_CELL_HEIGHT or keep == 0:
                return para
            keep = int(keep * 0.7)
        return self._fit_once(note.strip(), style, avail)

    def _fit_once(self, text: str, style: str, avail: float) -> Any:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.pdfbase.pdfmetrics import stringWidth

        st = self.s[style]
        words = text.split()
        out, widest = [], 0.0
        for w in words:
            width = stringWidth(w, st.fontName, st.fontSize)
            if width > avail:
                w = re.sub(r"([_:/.])(?=.)", "\\1\u200b", w)
            out.append(w)
            widest = max(widest, width)  # reportlab 5 does not break at U+200B: the whole word must fit
        if widest > avail > 0:
            size = st.fontSize * avail / widest
            if size >= 4.5:
                st = ParagraphStyle(f"{style}{size:.2f}", parent=st, fontSize=size, leading=size * 1.25)
            else:  # a word no font size fits (a very long name or value): it wraps where a line is full
                st = ParagraphStyle(f"{style}-wrap", parent=st, splitLongWords=1)
        from reportlab.platypus import Paragraph

        return Paragraph(esc(rejoin(text, words, out)), st)

    def image(self, png: bytes, width_cm: float = 16.0, *, alt: str) -> Any:
        """A chart ``width_cm`` wide (at most the page's width and 20 cm tall); ``alt`` is the HTML's text for it."""
        import io

        from reportlab.lib.units import cm
        from reportlab.lib.utils import ImageReader
        from reportlab.platypus import Image

        w, h = ImageReader(io.BytesIO(png)).getSize()
        width = min(width_cm * cm, 17 * cm)
        height = width * h / w
        if height > 20 * cm:
            height, width = 20 * cm, 20 * cm * w / h
        return Image(io.BytesIO(png), width=width, height=height)

    # -- page flow: what the HTML layout reads as no-ops or blocks ---------------------------------------------
    def space(self, height_cm: float) -> Any:
        from reportlab.lib.units import cm
        from reportlab.platypus import Spacer

        return Spacer(1, height_cm * cm)

    def page_break(self) -> Any:
        from reportlab.platypus import PageBreak

        return PageBreak()

    def cond_page_break(self, height_cm: float) -> Any:
        """A new page unless ``height_cm`` of the current one is still free."""
        from reportlab.lib.units import cm
        from reportlab.platypus import CondPageBreak

        return CondPageBreak(height_cm * cm)

    def keep_together(self, items: list) -> Any:
        from reportlab.platypus import KeepTogether

        return KeepTogether(items)

    def logo(self, path: Path) -> Any:
        """The organisation's logo, 1.6 cm square at most, on the left."""
        from reportlab.lib.units import cm
        from reportlab.platypus import Image

        return Image(str(path), width=1.6 * cm, height=1.6 * cm, hAlign="LEFT", kind="proportional")

    def contents(self) -> list:
        """The table of contents (filled in by the document from the H1 headings) on a page of its own."""
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import PageBreak, TableStyle
        from reportlab.platypus.tableofcontents import TableOfContents

        toc = TableOfContents()
        toc.tableStyle = TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                     ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
        toc.levelStyles = [ParagraphStyle("toc1", fontName=self.font, fontSize=10, leading=14, leftIndent=10),
                           ParagraphStyle("toc2", fontName=self.font, fontSize=8.5, leading=11, leftIndent=24)]
        return [self.p("Contents", "H1"), toc, PageBreak()]

    def fill(self, col: int, row: int, colour: str, *, white_text: bool = False) -> list:
        """The table commands that fill cell (``col``, ``row``) with ``colour`` (and set its plain text white)."""
        at = ((col, row), (col, row))
        return [("BACKGROUND", *at, self.colors.HexColor(colour))] + (
            [("TEXTCOLOR", *at, self.colors.white)] if white_text else [])

    def verdict_box(self, text: str, passed: bool) -> Any:
        """The verdict line on a green or red fill across the page."""
        from reportlab.lib.units import cm
        from reportlab.platypus import Table, TableStyle

        box = Table([[self.p(esc(text), "verdict")]], colWidths=[17 * cm])
        box.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font),
                                 ("BACKGROUND", (0, 0), (-1, -1), self.colors.HexColor(GREEN if passed else RED)),
                                 ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
        return box

    def signoff(self) -> list:
        """The sign-off block: one row per role the template names."""
        from reportlab.lib.units import cm

        roles = self.t.text("signoff").split("|")
        return [self.p("<b>Sign-off</b>"),
                self.table([["Role", "Name", "Signature", "Date"]] + [[role, "", "", ""] for role in roles],
                           widths=[5 * cm, 4.5 * cm, 4.5 * cm, 3 * cm],
                           extra=[("ROWBACKGROUNDS", (0, 1), (-1, -1), [self.colors.white]),
                                  ("TOPPADDING", (0, 1), (-1, -1), 10), ("BOTTOMPADDING", (0, 1), (-1, -1), 10)])]


def _timestamp(iso: str) -> Any:
    """reportlab's document time stamp set to ``iso`` (UTC), so the PDF's CreationDate is the audit date."""
    import time
    from datetime import datetime

    from reportlab.lib.utils import TimeStamp

    ts = TimeStamp(invariant=1)
    t = datetime.fromisoformat(iso).timestamp()
    lt = time.gmtime(t)
    ts.t, ts.lt, ts.YMDhms, ts.dhh, ts.dmm, ts.tzname = t, lt, tuple(lt)[:6], 0, 0, "UTC"
    return ts



def write_document(b: Layout, story: list, path: Path, *, footer: str, title: str, created_at: str, author: str,
                   subject: str, creator: str) -> None:
    """Lay ``story`` out on A4 with the footer, page numbers, bookmarks and contents, reproducibly."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(b.font, 7.5)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        canvas.drawString(2 * cm, 1.2 * cm, clean(footer))
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"Page {doc.page}")
        canvas.restoreState()

    class _Doc(BaseDocTemplate):
        def beforeDocument(self) -> None:
            self._heading = 0  # bookmark keys are counters so the bytes are reproducible
            self.canv._doc._timeStamp = _timestamp(created_at)  # CreationDate = the cover's audit date

        def afterFlowable(self, flowable: Any) -> None:
            style = getattr(getattr(flowable, "style", None), "name", None)
            if style in ("H1", "H2"):
                text = flowable.getPlainText()
                level = 0 if style == "H1" else 1
                self._heading += 1
                key = f"h{self._heading}"
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(text, key, level=level, closed=level > 0)
                if level == 0:  # the contents lists sections (one page); bookmarks keep every heading
                    self.notify("TOCEntry", (level, text, self.page, key))

    doc = _Doc(str(path), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.8 * cm,
               bottomMargin=2 * cm, title=title, author=author, subject=subject, creator=creator,
               keywords="explainability, faithfulness, model risk", initialFontName=b.font, invariant=1)
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page)])
    from reportlab import rl_config

    # Streams (charts above all) are written compressed and binary, without reportlab's ASCII85 layer: its pure-
    # Python encoder was a third of the PDF's time on a chart-heavy report, and A85 makes the file a quarter larger.
    a85, rl_config.useA85 = rl_config.useA85, 0
    try:
        doc.multiBuild(story)
    finally:
        rl_config.useA85 = a85
