"""The PDF compliance report (the only module that touches reportlab).

Plain language first, evidence after. Sections, wording and reason codes come from the template.
Fonts are embedded (DejaVu Sans, shipped with matplotlib), the document carries title/author/subject,
bookmarks, a table of contents and page numbers, and is byte-reproducible (reportlab invariant mode).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from audit.report import charts
from audit.results import SCHEMA_VERSION, AuditResult, CompareResult

__all__ = ["render_pdf", "render_compare_pdf"]

# Verdict fills carry white text; each pair meets WCAG AA contrast (4.5:1) for normal-size text.
GREEN, AMBER, RED, GREY = "#1e8449", "#8a5a00", "#b03a2e", "#595959"
VERDICT_TEXT = "#ffffff"
_FAIRNESS_CHECKS = ("selection_rate_ratio", "equalized_odds_difference", "equal_opportunity_difference", "group_size")

# Bounds on what one table or sentence prints; whatever is left out stays in results.json (compare.json),
# so that a file with 20,000 columns, a 10,000-character value or thousands of groups still lays out.
MAX_LISTED = 20  # names listed in a cell or a sentence; the rest are counted
MAX_ROWS = 40  # rows of a table that grows with the data (inputs, groups, transitions)
MAX_NAME = 120  # characters of one name inside a list
MAX_CELL_HEIGHT = 180.0  # points (about a quarter of a page): a taller cell is cut with an ellipsis
MAX_CONFIG_LINES = 150  # lines of the configuration printed in an appendix


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


def _rejoin(text: str, words: list[str], fitted: list[str]) -> str:
    """``text`` with each word replaced by its fitted form, other whitespace (line breaks) kept."""
    for w, f in zip(words, fitted):
        if w != f:
            text = text.replace(w, f, 1)
    return text


def _command_words(command: str | None) -> str:
    """The command line as the report shows it: output paths (--out, --junit) are left out so that the
    document's bytes do not depend on where it is written; results.json keeps the full line."""
    import shlex

    if not command:
        return "none: run through the Python API (audit.run_audit)"
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    kept, skip = [], False
    for w in words:
        if skip:
            skip = False
            continue
        if w in ("--out", "--junit"):
            skip = True
            kept.append(f"{w} …")
        elif w.startswith(("--out=", "--junit=")):
            kept.append(w.split("=", 1)[0] + "=…")
        else:
            kept.append(w)
    return " ".join(shlex.quote(w) if w != "…" and not w.endswith("…") else w for w in kept)


def _clean(text: Any) -> str:
    """``text`` as something a PDF can hold: lone surrogates (a JSON escape can carry one) become U+FFFD and
    control characters other than line breaks and tabs become spaces."""
    text = str(text)
    if text.isprintable():
        return text
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _esc(text: Any) -> str:
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: Any, limit: int = MAX_NAME) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis.

    >>> _cut("abcdef", 4)
    'abc…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _some(items: Any, what: str, where: str, *, limit: int = MAX_LISTED, none: str = "none") -> str:
    """A list for a cell or a sentence: every item when there are at most ``limit``, else the count, the
    first ``limit`` and where all of them are (each item cut to ``MAX_NAME`` characters).

    >>> _some(["a", "b"], "columns", "results.json")
    'a, b'
    >>> _some([f"c{i}" for i in range(30)], "columns not used by the model", "results.json", limit=2)
    '30 columns not used by the model; the first 2: c0, c1; all are listed in results.json'
    """
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(_cut(i) for i in items) or none
    return (f"{len(items):,} {what}; the first {limit}: {', '.join(_cut(i) for i in items[:limit])}; "
            f"all are listed in {where}")


def _notes(warnings: Any, where: str) -> str:
    """The run's warnings as one paragraph: each cut to 300 characters, at most ten of them."""
    shown = " ".join(_cut(w, 300) for w in list(warnings)[:10])
    more = len(warnings) - 10
    return shown + (f" ({more} more notes are in {where}, under warnings.)" if more > 0 else "")


def _capped(items: list, rank: Any = None, limit: int = MAX_ROWS) -> list:
    """At most ``limit`` of ``items``, kept in their order, chosen by ``rank(item)`` (lowest first; then order).

    >>> _capped(list(range(10)), rank=lambda x: x % 2 == 0, limit=3)
    [1, 3, 5]
    """
    if len(items) <= limit:
        return list(items)
    chosen = set(sorted(range(len(items)), key=lambda i: (rank(items[i]) if rank else 0, i))[:limit])
    return [x for i, x in enumerate(items) if i in chosen]


def _param(v: Any) -> str:
    """A parameter value for a reader: floats to 3 significant digits, the rest as written."""
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _f(x: Any, nd: int = 3) -> str:
    if x is None:
        return "n/a"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if xf != xf:
        return "n/a"
    return f"{xf:.{nd}f}" if abs(xf) >= 10 ** (-nd) or xf == 0 else f"{xf:.2e}"


class _Pages:
    """Styles and layout helpers shared by the audit report and the compare report."""

    def __init__(self, template: Any) -> None:
        from reportlab.lib import colors
        from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

        self.t = template
        self.colors = colors
        self.json_name = "results.json"  # where every value a table cuts or leaves out is in full
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
        return [CondPageBreak(14 * cm), self.p(_esc(text), "H1")]

    def h2(self, text: str) -> Any:
        return self.p(_esc(_cut(text, 200)), "H2")

    def config_text(self, text: str | None) -> Any:
        """The configuration file as a paragraph of lines: at most ``MAX_CONFIG_LINES`` and 12,000 characters,
        each line cut to 200 (the JSON file keeps it whole, reproducibility.config_text)."""
        lines = (text or "(no configuration text: built-in defaults)").splitlines()
        shown, size = [], 0
        for line in lines:
            size += min(len(line), 200)
            if len(shown) == MAX_CONFIG_LINES or size > 12_000:
                break
            shown.append(_esc(_cut(line, 200)))
        if len(shown) < len(lines):
            shown.append(_esc(f"… {len(lines) - len(shown):,} more lines, in {self.json_name} "
                              "(reproducibility.config_text)."))
        return self.p("<br/>".join(shown), "small")

    def left_out(self, shown: int, total: int, noun: str, key: str) -> list:
        """The sentence under a table that shows ``shown`` of ``total`` rows (none when it shows all)."""
        if shown >= total:
            return []
        return [self.p(_esc(f"{shown} of {total:,} {noun} are shown; all are in {self.json_name} ({key})."), "small")]

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

        text = _clean(text)
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

        return Paragraph(_esc(_rejoin(text, words, out)), st)

    def image(self, png: bytes, width_cm: float = 16.0) -> Any:
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

    def verdict_cell(self, check: Any) -> tuple[str, str]:
        """The gate's own verdict for a check, as a word and a colour (the word keeps it readable in
        greyscale); the report never re-applies a threshold."""
        if check is None:
            return "not checked", GREY
        return {"pass": ("PASS", GREEN), "fail": ("FAIL", RED), "finding": ("FAIL (finding)", AMBER),
                "not_measured": ("NOT MEASURED", RED if check.blocking else AMBER), "waived": ("WAIVED", AMBER),
                "not_required": ("NOT REQUIRED", GREY)}[check.verdict]

    def verdict_box(self, text: str, passed: bool) -> Any:
        """The verdict line on a green or red fill across the page."""
        from reportlab.lib.units import cm
        from reportlab.platypus import Table, TableStyle

        box = Table([[self.p(_esc(text), "verdict")]], colWidths=[17 * cm])
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

    def gate_table(self, gate: Any) -> Any:
        """Every check of ``gate``: the gate's own verdict, value, threshold, message and role."""
        from reportlab.lib.units import cm

        rows = [["Check", "Result", "Value", "Threshold", "Detail"]]
        extra = []
        for i, c in enumerate(gate.checks, start=1):
            word, colour = self.verdict_cell(c)
            rows.append([c.name, word, _f(c.value), _f(c.threshold), f"{c.message}. This check {c.role}."])
            extra.append(("BACKGROUND", (1, i), (1, i), self.colors.HexColor(colour)))
        return self.table(rows, widths=[3.8 * cm, 1.6 * cm, 1.6 * cm, 1.8 * cm, 8.2 * cm], extra=extra,
                          white={(1, i) for i in range(1, len(rows))})


def _flip_cell(flip: dict[str, Any] | None) -> str:
    """The flip test's result in a table cell: the rate with its interval, or why there is none."""
    if not flip:
        return "not a model input: no direct effect"
    if flip.get("rate") is None:
        return "not measured: " + str(flip.get("not_measured", "no result"))
    return f"{flip['rate']:.1%} ({flip['ci95'][0]:.1%} to {flip['ci95'][1]:.1%})"


def _protected_source_line(prot: dict[str, Any]) -> str:
    """Where the protected attributes came from, in one sentence (cover and protected section)."""
    attrs, source = prot.get("attributes") or [], prot.get("protected_source", "configured")
    bases = prot.get("inferred_bases") or {}
    if source == "inferred" and attrs:
        named = ", ".join(f"{a} ({bases.get(a, 'prohibited basis')})" for a in attrs)
        return (f"Protected attributes inferred from column names: {named}. The credit_decision template treats "
                "columns named after a prohibited basis as protected; set policy.protected_attributes to choose them, "
                "or [] to declare none.")
    if source == "inferred":
        return ("Protected attributes: none inferred (no column is named after a prohibited basis such as sex, age, "
                "race or marital status); set policy.protected_attributes to name them.")
    if source == "declared_none":
        return "Protected attributes: declared none (policy.protected_attributes = [])."
    if source == "none" or not attrs:
        return "Protected attributes: none configured (policy.protected_attributes)."
    return f"Protected attributes (policy.protected_attributes): {', '.join(attrs)}."


class _Builder(_Pages):
    def __init__(self, result: AuditResult, template: Any) -> None:
        super().__init__(template)
        self.r = result
        self.expl = {e.method: e for e in result.explanations}

    # -- identity and outcome words (data from audit.toml; the template supplies wording only) ---------
    @property
    def rc(self) -> dict[str, Any]:
        return self.r.config.get("report", {})

    def outcome(self, label: Any) -> str:
        """A class's label: ``[report.outcomes]`` first; with a configured favourable class the template's
        word for the favourable or the other outcomes; else neutral ("outcome 1"), never a guess."""
        label = str(label)
        if label in (self.rc.get("outcomes") or {}):
            return str(self.rc["outcomes"][label])
        m = self.r.model
        if m.get("favorable_class_source") == "config":
            word = self.t.wording.get("outcome_favorable" if label == m.get("favorable_class") else "outcome_adverse")
            if word:
                return f"{word} (class {label})"
        return f"outcome {label}"

    def word(self, reason: dict[str, Any]) -> bool | None:
        """The direction a reason is worded with: confirmed by the model only, unless the configuration asks
        for the typical-value comparison (``report.direction_words = "typical"``)."""
        from audit.directions import printed_word

        return printed_word(reason, self.rc.get("direction_words"))

    def failed_lines(self, *, brief: bool = False) -> list[str]:
        """One line per check that did not pass: its name, what was measured and why it does or does
        not block (the gate's own ``blocking`` and ``role``). ``brief`` (the cover): name, value against
        threshold and whether it blocks; the executive summary and the gate section give the detail."""
        def kind(c: Any) -> str:
            unmeasured = c.status == "not_measured"
            if c.blocking:
                return "not measured, blocks the gate" if unmeasured else "blocking failure"
            return "not measured, non-blocking" if unmeasured else "non-blocking finding"

        if brief:
            def measured(c: Any) -> str:
                return "" if c.value is None else f" ({_f(c.value)} against {_f(c.threshold)})"

            return [f"{c.name}{measured(c)}: {kind(c) + (', blocks the gate' if c.blocking and c.status == 'measured' else '')}"
                    f"{'' if c.blocking else ', does not block by itself'}" for c in self.r.gate.failed]
        return [f"{c.name} ({kind(c)}): {c.message}. "
                f"{'It blocks the gate.' if c.blocking else 'It does not block by itself: it ' + c.role + '.'}"
                for c in self.r.gate.failed]

    def status_lines(self) -> list[str]:
        """The checks the policy waived (with its reason) and those it did not require, one line each."""
        return [f"{c.name}: {'WAIVED' if c.status == 'waived' else 'not required'} — {c.message}"
                for c in self.r.gate.checks if c.status in ("waived", "not_required")]

    def verdict_line(self) -> str:
        g = self.r.gate
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

    # -- sections -------------------------------------------------------------------------------
    def section_cover(self) -> list:
        from reportlab.lib.units import cm
        from reportlab.platypus import Image, PageBreak, Spacer

        r, t, rc = self.r, self.t, self.rc
        out: list = []
        if rc.get("logo") and Path(rc["logo"]).is_file():
            out.append(Image(str(rc["logo"]), width=1.6 * cm, height=1.6 * cm, hAlign="LEFT", kind="proportional"))
        out.append(self.p(_esc(_cut(rc.get("organisation") or "Organisation not set (report.organisation in audit.toml)",
                                    300)), "body"))
        out += [Spacer(1, 0.3 * cm), self.p(_esc(_cut(rc.get("title") or t.title, 200)), "title"), Spacer(1, 0.2 * cm),
                self.p(_esc(t.text("cover_statement")))]
        out += [Spacer(1, 0.3 * cm), self.verdict_box(self.verdict_line(), r.gate.passed), Spacer(1, 0.2 * cm)]
        for line in self.failed_lines(brief=True):
            out.append(self.p("• " + _esc(_cut(line, 400)), "small"))
        for line in self.status_lines():
            out.append(self.p("• " + _esc(_cut(line, 400)), "small"))
        out.append(self.p(_esc(_cut(_protected_source_line(r.protected or {}), 400)), "small"))
        out.append(Spacer(1, 0.2 * cm))
        m, d = r.model, r.data
        rows = [
            ["Item", "Value"],
            ["Model", f"{Path(m['path']).name} — {m['type']} ({m['framework']}, {m['task']})"],
            ["Model SHA-256", m["sha256"]],
            ["Loaded with", f"{m['loaded_with']}; trusted: {'yes (--trust-model)' if m['trusted'] else 'no'}"],
            ["Data", f"{Path(d['path']).name} — {d['rows']} rows, {len(d['features'])} model inputs"],
            ["Data role", {"holdout": "holdout (not used to train the model)", "training": "training data (in-sample)"}
             .get(d.get("role", "unknown"), "unknown: not stated whether the model was trained on this data (--data-role)")],
            ["Target column", self.target_words()],
            ["Data SHA-256", d["sha256"]],
        ]
        if m.get("favorable_class") is not None:
            rows.append(["Favourable outcome", self.favorable_words()])
        rows += [["Audit date (UTC)", r.created_at],
                 ["Tool", f"xai-audit {r.tool_version}, results schema {SCHEMA_VERSION}"]]
        out.append(self.table(rows, widths=[4 * cm, 13 * cm]))
        out += [Spacer(1, 0.4 * cm), *self.signoff(), PageBreak()]
        return out

    def target_words(self) -> str:
        d = self.r.data
        if d.get("target") is None:
            return "none: performance, challenger and the model-randomisation check need one (--target)"
        how = {"inferred": "inferred: the only non-input column whose values fit the model's task"}
        return f"{d['target']} ({how.get(d.get('target_source'), 'given with --target or target')})"

    def favorable_words(self) -> str:
        m = self.r.model
        if m.get("favorable_class_source") == "config":
            return f"class {m['favorable_class']} ({self.outcome(m['favorable_class'])}), from favorable_class"
        return (f"NOT SET (favorable_class in audit.toml): outcomes are labelled neutrally; class "
                f"{m['favorable_class']} was assumed favourable only to order the reasons")

    def section_contents(self) -> list:
        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import PageBreak, TableStyle
        from reportlab.platypus.tableofcontents import TableOfContents

        toc = TableOfContents()
        toc.tableStyle = TableStyle([("FONTNAME", (0, 0), (-1, -1), self.font), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                     ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
        toc.levelStyles = [ParagraphStyle("toc1", fontName=self.font, fontSize=10, leading=14, leftIndent=10),
                           ParagraphStyle("toc2", fontName=self.font, fontSize=8.5, leading=11, leftIndent=24)]
        return [self.p("Contents", "H1"), toc, PageBreak()]

    def section_summary(self) -> list:
        r, t = self.r, self.t
        m = r.model
        passing = r.gate.passing_explainers
        primary = r.decisions[0].method if r.decisions else (passing[0] if passing else "n/a")
        pe = self.expl.get(primary)
        out = [*self.h1("Executive summary"),
               self.p(_esc(t.text("summary_intro", model_type=m["type"], model_file=Path(m["path"]).name,
                                  rows=r.data["rows"], explained=len(r.data["explained_rows"]),
                                  n_methods=len(r.explanations))))]
        if r.gate.passed:
            out.append(self.p("<b>" + _esc(t.text("summary_pass", min_pass=_param(r.gate.check("explainers_passing").threshold),
                                                  primary=primary, primary_score=_f(pe.faithfulness_score if pe else None, 2)))
                              + "</b>"))
        else:
            failed = "; ".join(c.name for c in r.gate.failed if c.blocking)
            out.append(self.p("<b>" + _esc(t.text("summary_fail", failed=failed)) + "</b>"))
            faith = [c for c in r.gate.checks if c.name.startswith("faithfulness:")]
            if faith and not any(c.passed for c in faith):  # only then are the reasons shown to be unreliable
                out.append(self.p(_esc(t.text("summary_fail_faithfulness"))))
        if r.gate.failed:
            out.append(self.p(f"<b>Checks that did not pass ({len(r.gate.failed)}).</b> Each says why it does or "
                              "does not block the verdict:"))
            out += [self.p("• " + _esc(_cut(line, 600)), "small") for line in self.failed_lines()]
        if pe is not None:
            top = sorted(pe.global_importance.items(), key=lambda kv: kv[1], reverse=True)[:4]
            out.append(self.p(_esc(t.text("summary_drivers", drivers=", ".join(_cut(k) for k, _ in top)))))
        worst = r.agreement.get("least_agreeing_pair")
        if worst:
            out.append(self.p(_esc(t.text("summary_agreement", a=worst["a"], b=worst["b"], rho=_f(worst["spearman"], 2)))))
            flagged = [c for c in r.gate.failed if c.name.split(":")[0] in ("agreement", "disagreement")]
            if flagged:  # the finding is stated only when the gate found it
                out.append(self.p(_esc(t.text("summary_disagreement_finding", checks=", ".join(c.name for c in flagged)))))
        rows = [["Method", "Kind", "Faithfulness score (95% CI)", "Policy result"]]
        for e in r.explanations:
            ok = e.method in passing
            rows.append([e.method, e.kind, f"{_f(e.faithfulness_score, 2)} ({_f(e.faithfulness_score_ci[0], 2)} to "
                                           f"{_f(e.faithfulness_score_ci[1], 2)})", "passed all checks" if ok else "failed a check"])
        out.append(self.table(rows))
        if r.challenger:
            out.append(self.p(_esc(r.challenger["summary"])))
        if r.warnings:
            out.append(self.p("<b>Notes:</b> " + _esc(_notes(r.warnings, self.json_name)), "small"))
        return out

    def section_scope(self) -> list:
        from reportlab.lib.units import cm

        r, d = self.r, self.r.data
        out = [*self.h1("Scope and data"), self.p(_esc(self.t.text("scope_text")))]
        rows = [["Item", "Value"], ["File", Path(d["path"]).name], ["Rows", str(d["rows"])],
                ["Model inputs", _some(d["features"], "inputs", "results.json (data.features)")],
                ["Categorical inputs", _some(d["categorical"], "categorical inputs", "results.json (data.categorical)")],
                ["Target column", d["target"] or "not supplied"],
                ["Ignored columns", _some(d["ignored_columns"], "columns not used by the model",
                                          "results.json (data.ignored_columns)")],
                ["Rows explained", f"{len(d['explained_rows'])} (sampled with seed {r.config['seed']})"],
                ["Background rows", str(d["background_rows"])]]
        if d.get("class_balance"):
            total = sum(d["class_balance"].values())
            rows.append(["Class balance (target)", _some([f"{k}: {v} ({v / total:.1%})" for k, v in d["class_balance"].items()],
                                                        "classes", "results.json (data.class_balance)")])
        out.append(self.table(rows, widths=[4 * cm, 13 * cm]))
        out.append(self.h2("Missing values per input"))
        mv = _capped(list(d["missing_values"].items()), rank=lambda kv: kv[1] == 0)  # those with gaps first
        out.append(self.table([["Input", "Missing", "Share"]] +
                              [[_cut(k), str(v), f"{v / max(d['rows'], 1):.1%}"] for k, v in mv],
                              widths=[6 * cm, 3 * cm, 3 * cm]))
        return out + self.left_out(len(mv), len(d["missing_values"]), "inputs", "data.missing_values")

    def section_performance(self) -> list:
        from reportlab.lib.units import cm

        perf = self.r.performance
        out = [*self.h1("Model performance")]
        if not perf:
            return out + [self.p("No target column was supplied (--target), so performance was not measured.")]
        out.append(self.p(_esc(self.t.text("performance_text") + " " + perf.get("note", "").capitalize() + ".")))
        overfit = (self.r.challenger or {}).get("overfitting_warning")
        if overfit:
            out.append(self.p("<b>Warning:</b> " + _esc(overfit)))
        role = perf.get("data_role", "unknown")
        rows = [["Measure", f"Value ({role} data)"]] + [[k.replace("_", " "), _f(v)] for k, v in perf.items()
                                         if isinstance(v, (int, float)) and k != "rows"]
        out.append(self.table(rows, widths=[6 * cm, 4 * cm]))
        cm_ = perf.get("confusion_matrix")
        if cm_ and len(cm_["labels"]) > 8:  # a grid wider than the page: said, and left to results.json
            out.append(self.p(_esc(f"The confusion matrix has {len(cm_['labels']):,} classes, too many to print "
                                   "legibly; it is in results.json (performance.confusion_matrix)."), "small"))
        elif cm_:
            labels = cm_["labels"]
            out.append(self.h2("Confusion matrix (rows: actual class, columns: predicted class)"))
            out.append(self.table([["actual \\ predicted"] + [f"predicted {self.outcome(lbl)}" for lbl in labels]] +
                                  [[f"actual {self.outcome(lbl)}"] + [str(v) for v in row]
                                   for lbl, row in zip(labels, cm_["matrix"])]))
        return out

    def section_global(self) -> list:
        from reportlab.platypus import KeepTogether

        out = [*self.h1("Global explanations")]
        accent = self.t.style.get("accent", "#2f6f9f")
        for e in self.r.explanations:
            output = {"margin": "margin (log-odds / decision value)", "score": "score"}.get(e.output_space, e.output_space)
            sentence = self.t.text("global_text", output=output, method=e.method, rows=e.rows_explained)
            png = charts.importance_bars(e.global_importance, f"{e.method} ({e.algorithm.get('algorithm', e.kind)})", accent)
            out.append(KeepTogether([self.h2(f"{e.method}"), self.image(png, 15), self.p(_esc(sentence))]))
            extra = []
            if e.mean_local_r2 is not None:
                extra.append(f"Mean local surrogate R² {e.mean_local_r2:.2f} (how well LIME's linear model fits locally).")
            coefs = e.algorithm.get("intercept")
            if coefs is not None:
                extra.append(f"Intercept {coefs:.4g}. Standardised coefficients (|coef| x std, per raw input): "
                             + _some([f"{k} {v:.3g}" for k, v in e.algorithm.get("standardised_coefficients", {}).items()],
                                     "inputs", "results.json (explanations[].algorithm)") + ".")
            if e.algorithm.get("reason"):
                params = "; ".join(f"{k.replace('_', ' ')} {_param(v)}"
                                   for k, v in (e.algorithm.get("parameters") or {}).items())
                extra.append(f"Algorithm chosen: {e.algorithm.get('algorithm')} — {e.algorithm['reason']}"
                             + (f". Parameters: {params}." if params else "."))
            for x in extra:
                out.append(self.p(_esc(x), "small"))
        return out

    def section_agreement(self) -> list:
        a = self.r.agreement
        out = [*self.h1("Agreement between methods")]
        if len(a["methods"]) < 2:
            return out + [self.p("Only one method applied, so agreement could not be measured.")]
        n = len(a["methods"])
        out += [self.image(charts.agreement_heatmap(a["methods"], a["spearman"]), min(17.0, 7.0 + 1.0 * n)),
                self.p(_esc(self.t.text("agreement_text")))]
        out.append(self.p(_esc(f"Share of each row's top-{a['k']} inputs (by size) that two methods have in common "
                                "(1 = the same inputs)."), "small"))
        # Columns are numbered so that ten methods still fit across the page.
        rows = [["#", "method"] + [str(i) for i in range(1, n + 1)]]
        for i, (name, row) in enumerate(zip(a["methods"], a["topk_overlap"]), start=1):
            rows.append([str(i), name] + [_f(v, 2) for v in row])
        from reportlab.lib.units import cm

        rest = min(1.6 * cm, (17 - 4.6) * cm / n)
        out.append(self.table(rows, widths=[0.6 * cm, 4.0 * cm] + [rest] * n))
        return out

    def section_faithfulness(self) -> list:
        from reportlab.lib.units import cm

        r = self.r
        out = [*self.h1("Faithfulness scorecard"), self.p(_esc(self.t.text("faithfulness_text")))]
        out.append(self.p(_esc(f"Baseline for removed inputs: {r.controls.get('baseline')}. Random control: mean of "
                                f"{r.controls.get('random_draws')} random attributions. Reference (oracle): "
                                f"{r.controls.get('oracle_kind')}."), "small"))
        rows = [["Method", "Score (95% CI)", "Status", "Additivity error", "Stability", "Randomisation similarity"]]
        extra = []
        for i, e in enumerate(r.explanations, start=1):
            check = r.gate.check(f"faithfulness:{e.method}")
            word, colour = self.verdict_cell(check)
            rand = (e.randomisation or {}).get("similarity")
            rows.append([e.method, f"{_f(e.faithfulness_score, 2)} ({_f(e.faithfulness_score_ci[0], 2)} to {_f(e.faithfulness_score_ci[1], 2)})",
                         f"{word} (min {float(check.threshold)})" if check else word, _f(e.additivity_error, 4) if e.additivity_error is not None else "not promised",
                         _f(e.stability, 2) if e.stability is not None else "deterministic",
                         _f(rand, 2) if rand is not None else (e.randomisation or {}).get("not_run", "n/a")])
            extra.append(("BACKGROUND", (2, i), (2, i), self.colors.HexColor(colour)))
        out.append(self.table(rows, widths=[2.6 * cm, 3.4 * cm, 2.4 * cm, 2.6 * cm, 2.4 * cm, 3.6 * cm], extra=extra,
                              white={(2, i) for i in range(1, len(rows))}))
        for e in r.explanations:
            summary = e.faithfulness_summary or {}
            if summary.get("identity_with_reference"):
                out.append(self.p(_esc(
                    f"{e.method}: identity with the reference. It ranks the inputs exactly as the reference candidate "
                    f"'{summary.get('identity_candidate')}' does on {summary.get('identity_share', 0):.0%} of rows, so "
                    f"its score restates the model's own removal response rather than giving independent evidence."),
                    "small"))
            if summary.get("uninformative_metrics"):
                out.append(self.p(_esc(
                    f"{e.method}: {', '.join(summary['uninformative_metrics']).replace('_', ' ')} "
                    f"{'is' if len(summary['uninformative_metrics']) == 1 else 'are'} uninformative on this model "
                    f"(the reference beats random by less than {summary.get('informative_floor', 0.05):.0%} of the "
                    f"metric's unit) and left out of the score."), "small"))
        for e in r.explanations:
            out.append(self.h2(f"{e.method}: metrics with controls"))
            rows = [["Metric", "Value (95% CI)", "Random control", "Reference", "Normalised", "Better", "Model calls"]]
            for name, m in e.faithfulness.items():
                if "ci95" not in m:  # the summary measures below have no bootstrap CI
                    continue
                normalised = _f(m["normalised_score"], 2)
                if m.get("informative") is False:
                    normalised = "uninformative"
                elif m.get("in_score") is False:
                    normalised += " (not scored)"
                elif m.get("clipped"):
                    normalised += " (clipped)"
                rows.append([name.replace("_", " "), f"{_f(m['value'])} ({_f(m['ci95'][0])}, {_f(m['ci95'][1])})",
                             _f(m["random_control"]), _f(m["oracle"]), normalised,
                             "higher" if m["higher_is_better"] else "lower", str(m["model_calls"])])
            for name in ("additivity_error", "stability_topk_jaccard", "max_sensitivity", "infidelity_captum"):
                if name in e.faithfulness:
                    m = e.faithfulness[name]
                    control = _f(m["random_control"], 4) if "random_control" in m else ""
                    rows.append([name.replace("_", " "), _f(m["value"], 4), control, "", "",
                                 "higher" if m.get("higher_is_better") else "lower", ""])
            out.append(self.table(rows, widths=[3.5 * cm, 3.8 * cm, 2.1 * cm, 2.1 * cm, 1.9 * cm, 1.5 * cm, 2.1 * cm]))
            for finding in e.findings:
                out.append(self.p("Finding: " + _esc(_cut(finding, 600)), "small"))
        return out

    def section_gate(self) -> list:
        return [*self.h1("Policy gate"), self.p(_esc(self.t.text("gate_text"))), self.gate_table(self.r.gate)]

    def section_decisions(self) -> list:
        from reportlab.platypus import PageBreak

        r, t = self.r, self.t
        n = r.config["report"]["adverse_decisions"]
        adverse = [d for d in r.decisions if d.adverse][:n]
        chosen = adverse or list(r.decisions[:n])
        configured = r.model.get("favorable_class_source") == "config"
        intro = t.text("decisions_intro" if configured else "decisions_intro_neutral") or t.text("decisions_intro")
        from reportlab.lib.units import cm
        from reportlab.platypus import CondPageBreak

        # the heading, its introduction and the first decision (up to about 20 cm) share a page: start on a fresh
        # one unless that much is left, so that no decision spills a few lines onto a page of its own
        out = [CondPageBreak(24 * cm), *self.h1("Principal reasons for individual decisions"), self.p(_esc(intro))]
        if not adverse:
            out.append(self.p("No adverse outcome was found in the explained sample; the first decisions are shown instead."))
        for i, d in enumerate(chosen):
            out += ([PageBreak()] if i else []) + self._decision_page(d)
        return out

    def _decision_page(self, d: Any) -> list:
        from reportlab.lib.units import cm

        r, t = self.r, self.t
        e = self.expl[d.method]
        noun = t.wording.get("row_noun", "row")
        out = [self.h2(f"Decision for data row {d.row}: {self.outcome(d.outcome)}")]
        explained = r.model.get("explained_class")
        what = "estimated probability" if r.model.get("output") == "predict_proba" else "score"
        target = self.outcome(explained) if explained is not None else "the explained output"
        out.append(self.p(_esc(f"The model's {what} of '{target}' for this {noun}: {d.prediction:.3f}.")))
        out.append(self.p("<b>Principal reasons</b>"))
        reason_rows = [["#", "Reason", t.wording.get("reason_value_header", "Input and value"), "Contribution"]]
        for i, reason in enumerate(d.reasons, start=1):
            text = t.reason(reason["feature"], reason["value"], above_typical=self.word(reason))
            reason_rows.append([t.code(reason["feature"]) or str(i), text, f"{reason['feature']} = {reason['value']}", f"{reason['contribution']:+.4f}"])
        if len(reason_rows) == 1:
            reason_rows.append(["-", "No input pushed this decision towards this outcome.", "", ""])
        if any(t.code(x["feature"]) for x in d.reasons):
            reason_rows[0][0] = "Code"
        out.append(self.table(reason_rows, widths=[1.1 * cm, 7.1 * cm, 5.8 * cm, 2.6 * cm]))
        flagged = [x["feature"] for x in d.reasons if x["feature"] in r.protected.get("attributes", [])]
        if flagged:
            out.append(self.p("<b>Warning:</b> " + _esc(t.text("protected_reason_warning", features=", ".join(flagged))),
                              "small"))
        if d.reasons:
            labels = [f"{x['feature']} = {x['value']}" for x in d.reasons]
            axis = t.text("reasons_axis", outcome=target)
            out.append(self.image(charts.reasons_bars(labels, [x["contribution"] for x in d.reasons], axis), 11))
        out.append(self.p(_esc(t.text("selection_method", method=d.method, score=_f(e.faithfulness_score, 2),
                                      ci=f"{_f(e.faithfulness_score_ci[0], 2)} to {_f(e.faithfulness_score_ci[1], 2)}")), "small"))
        if d.rule:
            out.append(self.p("<b>Decision path (tree model):</b> " + _esc(d.rule), "small"))
        out += self._recourse(d, what)
        out.append(self.p("<b>About this decision.</b> " + _esc(t.text("model_role"))))
        contact = _cut(self.rc.get("review_contact") or "", 300)
        review = t.text("human_review") + (f" Contact: {contact}." if contact else
                                           " No review contact is configured (report.review_contact in audit.toml).")
        out.append(self.p("<b>Human review and contest.</b> " + _esc(review)))
        named = {x["feature"] for x in d.reasons}  # the reasons' inputs are always among the values shown
        shown = _capped(list(d.values.items()), rank=lambda kv: kv[0] not in named, limit=2 * MAX_ROWS)
        vals = [(_cut(k), _cut(v, 200)) for k, v in shown]
        half = (len(vals) + 1) // 2
        rows = [["Input", "Value", "Input", "Value"]]
        for i in range(half):
            right = list(vals[i + half]) if i + half < len(vals) else ["", ""]
            rows.append(list(vals[i]) + right)
        # The heading is the table's own first row, so it never sits alone at a page foot.
        heading = t.wording.get("values_heading", "Input values")
        out.append(self.table([[heading, "", "", ""]] + rows, widths=[4 * cm, 4.2 * cm, 4 * cm, 4.2 * cm],
                              extra=[("SPAN", (0, 0), (-1, 0))]))
        return out + self.left_out(len(vals), len(d.values), "input values", "decisions[].applicant_values")

    def _recourse(self, d: Any, score_words: str) -> list:
        """'What would have changed the decision': the verified counterfactuals in the template's words, or
        why none was found (decisions that were not searched have no such block)."""
        from reportlab.lib.units import cm

        rec, run, t = d.recourse, self.r.recourse, self.t
        if rec is None or run is None:
            return []
        favorable = self.outcome(self.r.model.get("favorable_class"))
        # a template written before recourse existed has none of its wording: a neutral heading and headers
        out = [self.p("<b>" + _esc(t.text("recourse_heading") or "What would have changed the outcome") + "</b>")]
        if not rec["counterfactuals"]:
            none = t.text("recourse_none", outcome=favorable, why=rec["why_none"], max_changes=run.record["max_changes"])
            return out + [self.p(_esc(none or f"No change was found that changes the decision to: {favorable} ({rec['why_none']})."))]
        immutable = _some(run.record["immutable"], "inputs", "results.json (recourse.immutable)")
        out.append(self.p(_esc(t.text("recourse_intro", outcome=favorable, immutable=immutable)), "small"))
        rows = [["#", t.text("recourse_change_header") or "Change", t.text("recourse_score_header", score=score_words)
                 or f"New {score_words}"]]
        for i, cf in enumerate(rec["counterfactuals"], start=1):
            rows.append([str(i), t.changes(cf["changes"]), f"{cf['score']:.3f}"])
        out.append(self.table(rows, widths=[0.7 * cm, 11.4 * cm, 4.5 * cm]))
        return out

    def section_protected(self) -> list:
        from reportlab.lib.units import cm

        prot, gate = self.r.protected, self.r.gate
        out = [*self.h1("Influence of protected attributes")]
        if not prot.get("attributes"):
            return out + [self.p(_esc(_protected_source_line(prot)) + " Their influence was therefore not measured. "
                                 "Set policy.protected_attributes to have this section assess them.")]
        out.append(self.p(_esc(_protected_source_line(prot))))
        out.append(self.p(_esc(self.t.text("protected_text"))))
        out.append(self.h2("Direct use and the counterfactual flip test"))
        out.append(self.p(_esc(
            f"Each protected attribute that is a model input was changed on {prot.get('rows', 0)} real rows, every "
            "other input kept: categories swapped for every other observed value, numbers moved to the 10th, 25th, "
            "50th, 75th and 90th percentiles of their observed values. A decision counts as changed when any such "
            "change alters it. Only observed values are used, so the test stays on the data's manifold."), "small"))
        rows = [["Attribute", "Model input", "Decisions changed (95% CI)", "Gate"]]
        extra = []
        for attr in prot["attributes"]:
            direct = gate.check(f"protected_input:{attr}")
            flip = (prot.get("flip_test") or {}).get(attr)
            fcheck = gate.check(f"protected_flip:{attr}")
            verdicts = [c for c in (direct, fcheck) if c is not None]
            word, colour = self.verdict_cell(next((c for c in verdicts if not c.passed), verdicts[0] if verdicts else None))
            rows.append([_cut(attr), "yes" if attr in prot.get("direct_inputs", []) else "no",
                         _flip_cell(flip), word])
            extra += [("BACKGROUND", (3, len(rows) - 1), (3, len(rows) - 1), self.colors.HexColor(colour)),
                      ("TEXTCOLOR", (3, len(rows) - 1), (3, len(rows) - 1), self.colors.white)]
        out.append(self.table(rows, widths=[3.5 * cm, 2.2 * cm, 6.3 * cm, 5 * cm], extra=extra))
        for c in gate.checks:
            if c.name.startswith(("protected_input:", "protected_flip:", "protected_proxy:")) and not c.passed:
                out.append(self.p("Finding: " + _esc(_cut(c.message, 600)) + ".", "small"))
        out.append(self.h2("Share of explanation weight"))
        rows = [["Method", "Share of attribution mass", "Per attribute", "Gate"]]
        for name, v in prot["by_explainer"].items():
            check = gate.check(f"protected:{name}")
            word, _ = self.verdict_cell(check)
            limit = f" (max {check.threshold:.0%})" if check and check.threshold is not None else ""
            rows.append([name, f"{v['share']:.1%}", _some([f"{k}: {s:.1%}" for k, s in v["per_attribute"].items()],
                                                          "attributes", "results.json (protected_attributes)"),
                         word + limit])
        out.append(self.table(rows))
        if prot.get("proxies"):
            out.append(self.h2("Possible proxies"))
            out.append(self.p(_esc("Model inputs most associated with each protected attribute (normalised mutual "
                                   "information, 0 = unrelated, 1 = one determines the other), with the share of "
                                   "explanation weight each carries. A strong proxy can carry a protected attribute's "
                                   "influence even when the attribute itself is not an input."), "small"))
            rows = [["Protected attribute", "Input", "Association", "Share of explanation weight"]]
            for attr, items in prot["proxies"].items():
                for item in items:
                    shares = ", ".join(f"{k} {v:.1%}" for k, v in item.get("attribution_share", {}).items())
                    rows.append([_cut(attr), _cut(item["feature"]), f"{item['association']:.3f}", shares])
            out.append(self.table(rows, widths=[3.5 * cm, 3.5 * cm, 2.5 * cm, 7.5 * cm]))
        if prot.get("not_model_inputs"):
            out.append(self.p(_esc("Configured but not model inputs (no direct influence): "
                                   + _some(prot["not_model_inputs"], "attributes", "results.json") + "."), "small"))
        return out

    def section_fairness(self) -> list:
        fair = self.r.protected.get("outcome_fairness") or {}
        out = [*self.h1("Outcome fairness")]
        if not fair.get("attributes"):
            why = fair.get("not_measured") or ("no protected attributes were configured (policy.protected_attributes)"
                                               if not self.r.protected.get("attributes") else
                                               "no protected attribute is a column other than the target")
            return out + [self.p(_esc(f"Outcome fairness was not measured: {why}."))]
        out.append(self.p(_esc(self.t.text("fairness_text"))))
        source = "" if fair["favorable_class_source"] == "config" else " (assumed: favorable_class is not set)"
        policy = self.r.config.get("policy", {})
        out.append(self.p(_esc(
            f"Selected means the model's decision is {self.outcome(fair['favorable_class'])}{source}, counted on all "
            f"{fair['rows']} rows of the data. A group with fewer than {fair['min_group_size']} rows is too small to "
            "judge: it is shown, but left out of every comparison, and the gate reports it as a finding. The gate "
            "judges the point estimate against the threshold; the 95% confidence intervals come from "
            f"{fair['bootstrap']} bootstrap resamples within each group"
            + (" and true outcome." if fair["with_target"] else ". Without a target only selection rates are compared.")),
            "small"))
        for attr, a in fair["attributes"].items():
            out += self.fairness_attribute(attr, a, fair["with_target"], policy)
        return out

    def fairness_attribute(self, attr: str, a: dict[str, Any], with_target: bool, policy: dict[str, Any]) -> list:
        """One protected attribute: its groups, the chart and the measures with the gate's verdicts."""
        from reportlab.lib.units import cm
        from reportlab.platypus import KeepTogether

        gate = self.r.gate
        out = [self.h2(f"{attr} (groups: {a['grouping']})")]
        head = ["Group", "Rows", "Selection rate (95% CI)"] + (["True-positive rate", "False-positive rate"]
                                                                if with_target else []) + ["Judged"]
        rows = [head]
        ratio = a.get("selection_rate_ratio")
        ends = {ratio.get("highest"), ratio.get("lowest")} if ratio else set()
        # many groups: the two the ratio compares, then the judged ones, in the fairness module's order
        def rank(g: dict) -> int:
            return 0 if g["group"] in ends else 1 if g["judged"] else 2

        groups = _capped(a["groups"], rank=rank)
        for g in groups:
            ci = g["selection_rate_ci95"]
            interval = f" ({_f(ci[0])} to {_f(ci[1])})" if ci[0] is not None else ""
            rows.append([_cut(g["group"]), str(g["rows"]), _f(g["selection_rate"]) + interval]
                        + ([_f(g.get("true_positive_rate")), _f(g.get("false_positive_rate"))] if with_target else [])
                        + ["yes" if g["judged"] else "too small to judge"])
        widths = [4 * cm, 1.6 * cm, 4.4 * cm] + ([2.5 * cm, 2.5 * cm] if with_target else []) + [2 * cm]
        out.append(self.table(rows, widths=widths))
        out += self.left_out(len(groups), len(a["groups"]), "groups",
                             "protected_attributes.outcome_fairness.attributes[].groups")
        highest = next((g["selection_rate"] for g in a["groups"] if ratio and g["group"] == ratio["highest"]), None)
        threshold = policy.get("min_selection_rate_ratio")
        line = None if highest is None or threshold is None else threshold * highest
        chart = self.image(charts.selection_rates(_capped(a["groups"], rank=rank, limit=charts.MAX_BARS), line, f"{threshold:g} x the highest judged rate"
                                                  if line is not None else ""), 13)
        rows = [["Measure", "Value (95% CI)", "Threshold", "Gate"]]
        extra = []
        for key, label in (("selection_rate_ratio", "selection-rate ratio (lowest / highest)"),
                           ("equalized_odds_difference", "equalised-odds difference"),
                           ("equal_opportunity_difference", "equal-opportunity difference"),
                           ("group_size", "smallest group (rows)")):
            check = gate.check(f"{key}:{attr}")
            m = a.get(key)
            if key == "group_size":
                value = _f(check.value, 0) if check else "n/a"
            elif m is None:
                value = "not measured" + ("" if with_target or key == "selection_rate_ratio" else " (no target)")
            else:
                value = f"{_f(m['value'])} ({_f(m['ci95'][0])} to {_f(m['ci95'][1])})"
            word, colour = self.verdict_cell(check) if check else ("reported only", GREY)
            digits = 0 if key == "group_size" else 3
            rows.append([label, value, _f(check.threshold, digits) if check and check.threshold is not None else "none",
                         word])
            extra += [("BACKGROUND", (3, len(rows) - 1), (3, len(rows) - 1), self.colors.HexColor(colour)),
                      ("TEXTCOLOR", (3, len(rows) - 1), (3, len(rows) - 1), self.colors.white)]
        out.append(KeepTogether([chart, self.table(rows, widths=[5.5 * cm, 5 * cm, 2.5 * cm, 4 * cm], extra=extra)]))
        for c in gate.checks:
            if c.name.endswith(f":{attr}") and c.name.split(":")[0] in _FAIRNESS_CHECKS and not c.passed:
                out.append(self.p(("Finding: " if not c.blocking else "Failed: ") + _esc(_cut(c.message, 600)) + ".", "small"))
        return out

    def section_reason_accuracy(self) -> list:
        """Direction words verified by the model, reason stability and coverage, with the gate's verdicts."""
        from reportlab.lib.units import cm

        out = [*self.h1("Reason accuracy")]
        summary = self.r.reason_directions
        if not summary:
            return out + [self.p("No adverse decision was explained, so no reason was tested.")]
        out.append(self.p(_esc(self.t.text("reason_accuracy_text"))))
        rows = [["Measure", "Value"],
                ["Worded adverse reasons tested", str(summary["claims"])],
                ["Direction confirmed by the model", str(summary["confirmed"])],
                ["Direction contradicted by the model", str(summary["contradicted"])],
                ["Non-monotone (both ways or neither)", str(summary["non_monotone"])],
                ["Contradicted words printed", f"{summary['contradicted_printed']} (words: {summary['printed_words']})"]]
        stability = summary.get("stability")
        if stability:
            rows += [["Reason sets unchanged under redrawn backgrounds",
                      f"{stability['share_unchanged']:.1%} of {stability['decisions']} decisions x "
                      f"{stability['redraws']} draws of {stability['background_rows']} rows ({stability['method']})"],
                     ["Decisions unchanged under every draw", f"{stability['decisions_always_unchanged']:.1%}"]]
        out.append(self.table(rows, widths=[8 * cm, 9 * cm]))
        for name in ("reason_directions", "reason_stability"):
            check = self.r.gate.check(name)
            if check is not None:
                word, _ = self.verdict_cell(check)
                out.append(self.p(_esc(f"Gate, {name}: {word}. {check.message}."), "small"))
        coverage = [w for w in self.r.warnings if w.startswith("reason coverage:")]
        out.append(self.p(_esc(coverage[0] if coverage else "Reason coverage: every input that appears as a principal "
                                                             "reason has a code and a text of its own in the template."),
                          "small"))
        return out

    def section_challenger(self) -> list:
        ch = self.r.challenger
        out = [*self.h1("Benchmark against an interpretable challenger")]
        if not ch:
            return out + [self.p("No target column was supplied, so no challenger could be fitted.")]
        out += [self.p(_esc(self.t.text("challenger_text"))), self.p(_esc(ch["summary"]))]
        key = ch["metric"]
        rows = [["Model", f"{key} (in-sample)", f"{key} (5-fold cross-validated)"],
                [f"audited model ({self.r.model['type']})", _f(ch["audited_model"]), "not refit"]]
        for name, v in ch["challengers"].items():
            rows.append([name, _f(v["in_sample"].get(key)), _f(v["cross_validated"].get(key))])
        out.append(self.table(rows))
        return out

    def section_methodology(self) -> list:
        out = [*self.h1("Methodology and limitations")]
        text = [
            "<b>Explanation methods.</b> Intrinsic methods read the model itself: coefficients x (input - mean) for "
            "linear models and decision-path (Saabas) contributions for tree models, both exactly additive. "
            "Approximate methods probe the model: SHAP (Lundberg and Lee, 2017; algorithm chosen per model and "
            "recorded; for neural networks DeepExplainer where its DeepLIFT rules cover every layer, with its "
            "additivity measured, and GradientExplainer, expected gradients, otherwise), LIME (Ribeiro et al., 2016) with categorical inputs perturbed as categories, and Captum "
            "gradient methods for neural networks (Sundararajan et al., 2017; Shrikumar et al., 2017). Expanded "
            "columns (one-hot encodings, interactions) are summed back to the raw input they came from.",
            "<b>Faithfulness.</b> Deletion and insertion curves (Petsiuk et al., 2018; Samek et al., 2017), "
            "comprehensiveness and sufficiency (DeYoung et al., 2020, ERASER), faithfulness correlation (Bhatt et al., "
            "2020), signed monotonicity (after Nguyen and Martinez, 2020), infidelity and max-sensitivity (Yeh et al., "
            "2019), stability across seeds, agreement between methods (Krishna et al., 2022), and the "
            "model-randomisation sanity check (Adebayo et al., 2018), which compares both signed and absolute "
            "rankings. Each metric is normalised so that random attributions score 0 and an explainer-independent "
            "reference scores 1: the known generating function when supplied, otherwise, per row and metric, the "
            "best of a greedy deletion search, a cross-fitted least-squares fit of subset-removal effects (Yeh et "
            "al., 2019) and single-feature occlusion, all measured on the model itself. Per-metric scores are "
            "clipped to [-1, 1.5]; a metric whose reference beats random by less than 5% of its unit is reported as "
            "uninformative on this model and left out of the score; an explainer that ranks the inputs exactly as a "
            "reference candidate on at least 95% of rows is flagged as an identity, not independent evidence. The "
            "scores carry bootstrap 95% confidence intervals over rows.",
            *self._budget_method(),
            "<b>Protected attributes.</b> A protected attribute that is a model input is reported, and blocks the "
            "gate unless the policy sets protected_as_input to 'finding'. The counterfactual flip test changes only that attribute on real rows "
            "to other observed values and counts the decisions that change, with a bootstrap confidence interval; "
            "because it uses observed values only, a model that behaves differently off the data's manifold cannot "
            "hide from it (Slack et al., 2020). Proxies are the inputs with the highest normalised mutual "
            "information with the attribute.",
            *self._recourse_method(),
            "<b>Outcome fairness.</b> For each protected attribute, the share of rows given the favourable outcome "
            "(selection rate) per group, computed with fairlearn (Weerts et al., 2023) on every row of the data; "
            "numeric attributes are grouped by quartile or by the policy's edges. The selection-rate ratio (lowest "
            "over highest judged group) is compared with the four-fifths rule (29 CFR 1607.4(D)); with a target, the "
            "equalised-odds and equal-opportunity differences (Hardt et al., 2016) compare true- and false-positive "
            "rates. Confidence intervals come from a bootstrap stratified by group and true outcome; groups below "
            "the minimum size are reported as too small to judge.",
            "<b>Regulatory context.</b> ECOA / Regulation B, 12 CFR 1002.9 (specific principal reasons, at most four); "
            "CFPB Circular 2022-03 (no exemption for complex models); Federal Reserve SR 11-7 / OCC 2011-12 (model "
            "risk management: testing, benchmarking, reproducibility); EU AI Act Articles 13 and 86; GDPR Article 22 "
            "with Articles 13-15.",
            "<b>Limitations.</b> " + _esc(self.t.text("limitations")),
        ]
        return out + [self.p(x) for x in text]

    def _budget_method(self) -> list[str]:
        """The methodology paragraph on the time budget (none when no explainer was budgeted). Measured seconds
        stay in results.json (``reproducibility.audit_plan``): a report is the same bytes for the same rows."""
        from audit.budget import MINIMUMS as m

        plan = self.r.reproducibility.get("audit_plan")
        if not plan:
            return []
        used, asked = plan["used"], plan["requested"]
        counted = list(plan["planned_seconds_per_row"])
        names = counted[0] if len(counted) == 1 else f"{', '.join(counted[:-1])} and {counted[-1]}"
        text = (f"<b>Budget.</b> Before the run, the work of {names}, faithfulness re-runs included, was counted "
                "in model calls and model rows and converted to reference seconds by the model's static cost (read "
                "from its fitted structure, never timed on this machine, so the same model is measured the same way "
                f"anywhere), against a budget of {plan['budget_seconds']:g} s (audit_budget_s; the figures are in "
                "results.json, reproducibility.audit_plan). ")
        if plan["reduced"]:
            text += (f"To fit it, {used['rows']} of {asked['rows']} requested rows were explained, stability was "
                     f"measured on {used['stability_rows']} rows with {used['stability_seeds']} seeds, max-sensitivity "
                     f"on {used['sensitivity_rows']} rows and the randomisation check on {used['randomisation_rows']} "
                     f"rows (the documented minimum: {m['rows']} rows; {m['stability_rows']} rows with "
                     f"{m['stability_seeds']} seeds; {m['sensitivity_rows']} and {m['randomisation_rows']} rows). The "
                     "confidence intervals above are computed on these rows and are wider for it.")
        elif plan["estimated_seconds_requested"] > plan["budget_seconds"]:
            text += "The estimate was over the budget; the row counts were set explicitly and were kept."
        else:
            text += "The configured row counts fitted and were kept."
        return [text]

    def _recourse_method(self) -> list[str]:
        """The methodology paragraph on recourse (none when it was not searched)."""
        run = self.r.recourse
        if run is None:
            return []
        rec = run.record
        consistency = "; ".join(f"{m} {_f(v['share'], 2)} over {v['decisions']}" for m, v in rec["consistency"].items())
        return [_esc(
            f"Recourse. For {rec['decisions_searched']} adverse decisions (every decision page among them) a {rec['method']} "
            f"looked for up to {rec['counterfactuals']} counterfactuals, each changing at most {rec['max_changes']} inputs "
            "that can be acted on: numbers to values at the 0th, 5th, ..., 100th percentiles of the data (within "
            "configured bounds and directions), categories to the 20 most frequent seen. Protected attributes "
            f"and configured immutables never change ({_some(rec['immutable'], 'inputs', 'results.json', none='none here')}). The cost of a "
            "change grows with its size (numbers: the change over the interquartile range; a category: 1; times the "
            "configured weight). Each depth extends the most promising partial changes, and each solution is then made "
            "cheaper one input at a time; different counterfactuals change different sets of inputs, none containing "
            "another's. A counterfactual is kept only inside the data's support: every value in the observed range, "
            "every pair of categories seen together in a real row, and a nearest-real-row (Gower) distance at most "
            f"{rec['max_neighbour_ratio']:g} times the typical distance between real rows "
            f"({rec['typical_nn_distance']:.4f}). Every one shown was verified by calling the model on it; the search "
            f"used at most {rec['max_evaluations']} model evaluations per decision ({rec['model_rows']} in all). "
            "Reason-recourse consistency, the share of those decisions whose principal reasons name an input that a "
            f"counterfactual changes, was per method: {consistency or 'not assessed'}. The search is deterministic; "
            "dice-ml 0.12 was not used: it has no one-way directions, no cap on the inputs one counterfactual changes, "
            "no check of category combinations or of the distance to real rows, and no budget of model calls.").replace("Recourse.", "<b>Recourse.</b>", 1)
            + " " + _esc(self.t.text("recourse_limitations"))]

    def section_appendix(self) -> list:
        from reportlab.lib.units import cm

        r = self.r
        rp = r.reproducibility
        out = [*self.h1("Appendix: reproducibility")]
        rows = [["Item", "Value"], ["Model SHA-256", r.model["sha256"]], ["Data SHA-256", r.data["sha256"]],
                ["Config SHA-256", rp["config_sha256"]], ["Model loaded with", r.model["loaded_with"]],
                ["Trust granted", "yes" if r.model["trusted"] else "no"], ["Seed", str(rp["seed"])],
                ["Command line", _command_words(rp.get("command_line"))], ["Platform", rp["platform"]],
                ["Model calls (total)", f"{rp['model_calls_total']} calls, {rp['model_rows_total']} rows"]]
        rows += [[f"package {k}", v] for k, v in rp["package_versions"].items()]
        out.append(self.table(rows, widths=[4 * cm, 13 * cm]))
        out.append(self.h2("Configuration used"))
        out.append(self.config_text(rp.get("config_text")))
        if rp.get("config_overrides"):
            out.append(self.p(_esc("Overrides applied on top: " + _some(
                [f"{k} = {v!r}" for k, v in rp["config_overrides"].items()], "overrides", self.json_name)), "small"))
        out.append(self.p("Wall-clock timings and per-metric seconds are in results.json "
                          "(reproducibility.timings_seconds); they are left out of this document so that the same "
                          "inputs, configuration and SOURCE_DATE_EPOCH reproduce it byte for byte.", "small"))
        return out


class _CompareBuilder(_Pages):
    """The ``audit compare`` report: reads a :class:`CompareResult` and prints the compare gate's verdicts."""

    def __init__(self, result: CompareResult, template: Any) -> None:
        super().__init__(template)
        self.r = result
        self.json_name = "compare.json"
        self.title = _cut(result.report.get("title") or template.text("compare_title") or "Model change comparison", 200)

    def outcome(self, label: Any) -> str:
        """A class's label from ``[report.outcomes]``, else "class X"."""
        return str((self.r.report.get("outcomes") or {}).get(str(label), f"class {label}"))

    def _model_rows(self, side: dict[str, Any], name: str) -> list[list[str]]:
        return [[f"{name} model", f"{Path(side['path']).name} — {side['type']} ({side['task']})"],
                [f"{name} SHA-256", side["sha256"]],
                [f"{name} own audit", "passed" if side["gate_passed"] else "failed"
                 + f"; explainers: {', '.join(side['explainers']) or 'none'}"]]

    def section_compare_cover(self) -> list:
        from reportlab.lib.units import cm
        from reportlab.platypus import PageBreak, Spacer

        r = self.r
        g = r.gate
        out = [self.p(_esc(_cut(r.report.get("organisation") or "Organisation not set (report.organisation in audit.toml)",
                                300))),
               Spacer(1, 0.3 * cm), self.p(_esc(self.title), "title"), Spacer(1, 0.2 * cm),
               self.p(_esc(self.t.text("compare_statement")))]
        blocking = [c for c in g.checks if c.blocking]
        line = (f"VERDICT: {'PASSED' if g.passed else 'FAILED'} — {sum(c.passed for c in blocking)} of {len(blocking)} "
                f"blocking checks passed ({len(g.checks) - len(g.failed)} of {len(g.checks)} checks in all)")
        out += [Spacer(1, 0.3 * cm), self.verdict_box(line, g.passed), Spacer(1, 0.2 * cm)]
        for c in g.failed:
            kind = "blocking failure" if c.blocking else "finding, does not block"
            out.append(self.p("• " + _esc(_cut(f"{c.name}: {c.message}", 600) + f" ({kind})"), "small"))
        d = r.data
        rows = [["Item", "Value"], *self._model_rows(r.baseline, "Baseline"), *self._model_rows(r.candidate, "Candidate"),
                ["Data", f"{Path(d['path']).name} — {d['rows']} rows" + ("" if d["same_data"] else
                                                                         " (the candidate's audit used other data)")],
                ["Data SHA-256", d["sha256"]],
                ["Compared from", "both models, audited here on the same rows with one seed" if r.mode == "models"
                 else "two results.json files (no rows re-predicted; see the appendix)"],
                ["Date (UTC)", r.created_at], ["Tool", f"xai-audit {r.tool_version}"]]
        out += [Spacer(1, 0.2 * cm), self.table(rows, widths=[4 * cm, 13 * cm]), Spacer(1, 0.4 * cm),
                *self.signoff(), PageBreak()]
        return out

    def section_compare_summary(self) -> list:
        r = self.r
        out = [*self.h1("Summary of the change")]
        perf = r.performance
        if perf and perf["measure"] in perf["values"]:
            v = perf["values"][perf["measure"]]
            ci = v["delta_ci95"]
            interval = f"; paired 95% CI {ci[0]:+.3f} to {ci[1]:+.3f}" if ci[0] is not None else ""
            out.append(self.p(_esc(f"Performance: {perf['measure']} moves from {_f(v['baseline'])} to "
                                   f"{_f(v['candidate'])} ({v['delta']:+.3f}{interval}).")))
        method = r.explanation_drift["method"]
        if method:
            d = r.explanation_drift["by_method"][method]
            out.append(self.p(_esc(f"Explanations ({method}): the two models' global importance has a rank correlation "
                                   f"of {_f(d['spearman'], 2)} and shares {_f(d['topk_overlap'], 2)} of its top-{d['k']} "
                                   f"inputs; faithfulness changes by {_f(d['faithfulness']['delta'], 2)}.")))
            if d["only_baseline"] or d["only_candidate"]:
                where = "compare.json (explanation_drift.by_method)"
                out.append(self.p(_esc(f"Inputs only the baseline takes: {_some(d['only_baseline'], 'inputs', where)}; "
                                       f"only the candidate: {_some(d['only_candidate'], 'inputs', where)}.")))
        if r.reasons:
            out.append(self.p(_esc(f"Reasons: on {r.reasons['rows']} rows both audits explained, the principal reason "
                                   f"changed for {r.reasons['principal_changed']} "
                                   f"({r.reasons['principal_change_rate']:.1%}).")))
        if r.flips:
            f = r.flips
            fav = self.outcome(f["favorable_class"])
            out.append(self.p(_esc(f"Decisions: {f['flipped']} of {f['rows']} rows flip ({f['rate']:.1%})"
                                   + (f": {f['to_adverse']} were {fav} by the baseline and are not by the candidate; "
                                      f"{f['to_favourable']} the reverse." if "to_adverse" in f else "."))))
        gaps = [k for k, v in r.availability.items() if not v["available"]]
        if gaps:
            out.append(self.p(_esc("Not measured in this mode: " + "; ".join(
                f"{k.replace('_', ' ')} ({r.availability[k]['note']})" for k in gaps) + ".")))
        if r.warnings:
            out.append(self.p("<b>Notes:</b> " + _esc(_notes(r.warnings, self.json_name)), "small"))
        return out

    def section_compare_performance(self) -> list:
        from reportlab.lib.units import cm

        perf = self.r.performance
        out = [*self.h1("Performance: baseline against candidate")]
        if not perf:
            return out + [self.p("Performance was not compared: no target column (--target).")]
        paired = perf["paired_bootstrap"]
        out.append(self.p(_esc(f"Both models measured on the same {perf['rows']} rows. " + (
            f"The 95% confidence intervals of the differences come from a paired bootstrap ({paired} resamples of the "
            "rows, each measuring both models), so they reflect the difference between the models, not the sampling "
            "noise they share." if paired else "No confidence intervals: the rows are not in the results.json files."))))
        rows = [["Measure", "Baseline", "Candidate", "Difference", "95% CI of the difference"]]
        for k, v in perf["values"].items():
            ci = v["delta_ci95"]
            rows.append([k.replace("_", " "), _f(v["baseline"]), _f(v["candidate"]), f"{v['delta']:+.3f}",
                         f"{ci[0]:+.3f} to {ci[1]:+.3f}" if ci[0] is not None else "not available"])
        out.append(self.table(rows, widths=[3.6 * cm, 2.6 * cm, 2.6 * cm, 2.8 * cm, 5.4 * cm]))
        return out + self._verdicts("compare:performance")

    def _verdicts(self, *names: str) -> list:
        """The gate's verdict on the named checks, one line each (never recomputed here)."""
        out = []
        for c in self.r.gate.checks:
            if c.name in names or any(n.endswith(":") and c.name.startswith(n) for n in names):
                word, _ = self.verdict_cell(c)
                out.append(self.p(_esc(_cut(f"Gate, {c.name}: {word}. {c.message}", 600) + "."), "small"))
        return out

    def section_compare_drift(self) -> list:
        from reportlab.lib.units import cm

        drift = self.r.explanation_drift
        out = [*self.h1("Explanation drift")]
        method = drift["method"]
        if not method:
            return out + [self.p("The two audits ran no explainer in common, so their explanations cannot be compared.")]
        d = drift["by_method"][method]
        png = charts.paired_importance(d["baseline_importance"], d["candidate_importance"],
                                       f"{method}: global importance, baseline and candidate",
                                       ("#9aa9b8", self.t.style.get("accent", "#2f6f9f")))
        out += [self.image(png, 14), self.p(_esc(self.t.text("compare_drift_text", method=method, k=d["k"])))]
        rows = [["Explainer", "Rank correlation", f"Top-{d['k']} overlap", "Faithfulness baseline",
                 "Faithfulness candidate", "Change"]]
        for m, v in drift["by_method"].items():
            f = v["faithfulness"]
            rows.append([m + (" (gated)" if m == method else ""), _f(v["spearman"], 2), _f(v["topk_overlap"], 2),
                         _f(f["baseline"], 2), _f(f["candidate"], 2), _f(f["delta"], 2)])
        out.append(self.table(rows, widths=[3.7 * cm, 2.5 * cm, 2.3 * cm, 2.9 * cm, 2.9 * cm, 2.7 * cm]))
        for side in ("only_baseline", "only_candidate"):
            if drift[side]:
                out.append(self.p(_esc(f"Explainers run {side.replace('_', ' by the ')} audit only: "
                                       f"{', '.join(drift[side])}."), "small"))
        return out + self._verdicts("compare:importance_rank", "compare:importance_topk", "compare:faithfulness")

    def section_compare_reasons(self) -> list:
        from reportlab.lib.units import cm

        rc = self.r.reasons
        out = [*self.h1("Principal reasons on the same rows")]
        if not rc:
            return out + [self.p("Reasons were not compared: the two audits explained no row of the same data.")]
        out.append(self.p(_esc(self.t.text("compare_reasons_text"))))
        rows = [["Reasons from", "Principal reason changed", "Set of reasons changed"],
                [f"as reported ({rc['baseline_method']} / {rc['candidate_method']})",
                 f"{rc['principal_change_rate']:.1%}", f"{rc['reason_set_change_rate']:.1%}"]]
        rows += [[m, f"{v['principal_change_rate']:.1%}", f"{v['reason_set_change_rate']:.1%}"]
                 for m, v in rc["by_method"].items()]
        out.append(self.table(rows, widths=[7 * cm, 5 * cm, 5 * cm]))
        if rc["examples"]:
            out.append(self.h2(f"Rows whose principal reason changed (first {len(rc['examples'])})"))
            rows = [["Row", "Baseline: outcome, principal reason", "Candidate: outcome, principal reason"]]
            rows += [[str(e["row"]), f"{self.outcome(e['baseline_outcome'])}; {e['baseline_reason'] or 'none'}",
                      f"{self.outcome(e['candidate_outcome'])}; {e['candidate_reason'] or 'none'}"]
                     for e in rc["examples"]]
            out.append(self.table(rows, widths=[1.5 * cm, 7.75 * cm, 7.75 * cm]))
        return out + self._verdicts("compare:reason_change")

    def section_compare_flips(self) -> list:
        from reportlab.lib.units import cm

        f = self.r.flips
        out = [*self.h1("Decisions that flip")]
        if not f:
            return out + [self.p("Decision flips were not measured (a regression model, or no rows in common).")]
        out.append(self.p(_esc(self.t.text("compare_flips_text"))))
        rows = [["Change of decision", "Rows"]]
        transitions = _capped(list(f["transitions"].items()), rank=lambda kv: -kv[1])  # the most frequent
        for pair, n in transitions:
            a, b = pair.split(" -> ")
            rows.append([_cut(f"{self.outcome(a)} → {self.outcome(b)}", 250), str(n)])
        rows.append(["unchanged", str(f["rows"] - f["flipped"])])
        out.append(self.table(rows, widths=[10 * cm, 3 * cm]))
        out += self.left_out(len(transitions), len(f["transitions"]), "changes of decision", "flips.transitions")
        for attr, g in f["by_group"].items():
            out.append(self.h2(f"By {attr}"))
            rows = [["Group", "Rows", "Flipped", "Share flipped", "To the adverse outcome", "Share to adverse"]]
            groups = _capped(g["groups"], rank=lambda grp: (grp["too_small"], -grp["rows"]))  # the largest
            for grp in groups:
                if grp["too_small"]:
                    rows.append([_cut(grp["group"]), str(grp["rows"]), f"too small (under {f['min_group_rows']} rows)", "", "", ""])
                else:
                    rows.append([_cut(grp["group"]), str(grp["rows"]), str(grp["flipped"]), f"{grp['rate']:.1%}",
                                 str(grp["to_adverse"]), f"{grp['adverse_rate']:.1%}"])
            out.append(self.table(rows, widths=[4 * cm, 1.8 * cm, 2.2 * cm, 2.6 * cm, 3.6 * cm, 2.8 * cm]))
            out += self.left_out(len(groups), len(g["groups"]), "groups", "flips.by_group")
            out += self._verdicts(f"compare:group_flip:{attr}")
        return out + self._verdicts("compare:flip_rate")

    def section_compare_gate(self) -> list:
        return [*self.h1("Model-change policy gate"),
                self.p(_esc("Each check applies a [policy.compare] threshold to a measured difference between the two "
                            "models. A measure that could not be taken is reported as a finding saying why.")),
                self.gate_table(self.r.gate)]

    def section_compare_appendix(self) -> list:
        from reportlab.lib.units import cm

        r, rp = self.r, self.r.reproducibility
        out = [*self.h1("Appendix: reproducibility and what was measured")]
        rows = [["Item", "Value"], ["Baseline SHA-256", r.baseline["sha256"]], ["Candidate SHA-256", r.candidate["sha256"]],
                ["Data SHA-256", r.data["sha256"]], ["Config SHA-256", rp["config_sha256"]], ["Seed", str(rp["seed"])],
                ["Command line", _command_words(rp.get("command_line"))]]
        rows += [[f"package {k}", v] for k, v in rp["package_versions"].items()]
        out.append(self.table(rows, widths=[4 * cm, 13 * cm]))
        out.append(self.h2("Measures and their availability"))
        rows = [["Measure", "Measured", "How"]] + [[k.replace("_", " "), "yes" if v["available"] else "no", v["note"]]
                                                   for k, v in r.availability.items()]
        out.append(self.table(rows, widths=[4 * cm, 2 * cm, 11 * cm]))
        out.append(self.h2("Model-change policy ([policy.compare])"))
        out.append(self.table([["Key", "Value"]] + [[k, _param(v)] for k, v in r.policy.items()], widths=[7 * cm, 4 * cm]))
        out += [self.h2("Configuration used"), self.config_text(rp.get("config_text"))]
        return out


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


def render_pdf(result: AuditResult, template: Any, path: Path) -> None:
    """Write the compliance report for ``result`` to ``path``."""
    b = _Builder(result, template)
    story: list = []
    for name in template.sections:
        story += getattr(b, f"section_{name}")()
    footer = f"{_cut(template.title, 60)} — model {result.model['sha256'][:12]}… — {'PASSED' if result.gate.passed else 'FAILED'}"
    _write_document(b, story, path, footer=footer, title=template.title, created_at=result.created_at,
                    author=result.config.get("report", {}).get("organisation") or "xai-audit",
                    subject=f"Explainability audit of {Path(result.model['path']).name} (SHA-256 {result.model['sha256']})",
                    creator=f"xai-audit {result.tool_version}")


def render_compare_pdf(result: CompareResult, template: Any, path: Path) -> None:
    """Write the comparison report for ``result`` (``audit compare``) to ``path``."""
    b = _CompareBuilder(result, template)
    story: list = []
    for name in template.compare_sections:
        story += getattr(b, f"section_{name}")()
    base, cand = result.baseline, result.candidate
    footer = (f"{_cut(b.title, 60)} — {base['sha256'][:12]}… against {cand['sha256'][:12]}… — "
              f"{'PASSED' if result.gate.passed else 'FAILED'}")
    _write_document(b, story, path, footer=footer, title=b.title, created_at=result.created_at,
                    author=result.report.get("organisation") or "xai-audit",
                    subject=f"Comparison of {Path(cand['path']).name} (SHA-256 {cand['sha256']}) with "
                            f"{Path(base['path']).name} (SHA-256 {base['sha256']})",
                    creator=f"xai-audit {result.tool_version}")


def _write_document(b: _Pages, story: list, path: Path, *, footer: str, title: str, created_at: str, author: str,
                    subject: str, creator: str) -> None:
    """Lay ``story`` out on A4 with the footer, page numbers, bookmarks and contents, reproducibly."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(b.font, 7.5)
        canvas.setFillColorRGB(0.35, 0.35, 0.35)
        canvas.drawString(2 * cm, 1.2 * cm, _clean(footer))
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
    doc.multiBuild(story)
