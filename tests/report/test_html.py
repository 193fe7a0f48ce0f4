"""report.html without a browser: self-contained, landmarks, headings in order, every decision page linked, alt
text, escaping, WCAG AA contrast, and the same verdict and gate figures as the PDF (pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from audit.report import html_assets
from audit.report.formatting import fmt
from audit.report.html_layout import HtmlLayout, markup
from audit.report.layout_base import AMBER, GREEN, GREY, RED, VERDICT_TEXT
from report_templates import load_template


class _Page(HTMLParser):
    """The tags, attributes, headings, images and the gate table's rows of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.headings: list[tuple[int, str, str]] = []  # (level, id, text)
        self.stack: list[str] = []
        self.text: list[str] = []
        self._heading: list | None = None
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.verdict_box: list[str] = []
        self._in_verdict = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), a.get("id", ""), ""]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag == "p" and "verdict-box" in (a.get("class") or ""):
            self._in_verdict = True

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading:
            self.headings.append((self._heading[0], self._heading[1], self._heading[2].strip()))
            self._heading = None
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "p":
            self._in_verdict = False

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading[2] += data
        if self._cell is not None:
            self._cell.append(data)
        if self._in_verdict:
            self.verdict_box.append(data)


@pytest.fixture(scope="module")
def page(html_sample):
    out, record = html_sample
    parsed = _Page()
    parsed.feed((out / "report.html").read_text(encoding="utf-8"))
    return parsed, record, (out / "report.html").read_text(encoding="utf-8")


def test_the_file_is_self_contained(page):
    parsed, _, text = page
    for tag, a in parsed.tags:
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            value = a.get(key)
            if value is not None:
                assert value.startswith(("#", "data:image/png;base64,")), (tag, key, value[:80])
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
    outside_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(https?:|ftp:|file:)?//[a-z0-9]", outside_images, flags=re.IGNORECASE), "a URL in the file"
    assert "@import" not in text and "url(" not in text
    scripts = [a for tag, a in parsed.tags if tag == "script"]
    assert len(scripts) == 1 and "src" not in scripts[0]


def test_landmarks_and_headings_in_order(page):
    parsed, _, _ = page
    tags = [t for t, _ in parsed.tags]
    for landmark in ("header", "nav", "main", "footer"):
        assert tags.count(landmark) == 1, landmark
    levels = [level for level, _, _ in parsed.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:]):
        assert after <= before + 1, (before, after)  # never skips a level going down
    assert all(anchor for level, anchor, _ in parsed.headings if level > 1)
    assert len({anchor for _, anchor, _ in parsed.headings}) == len(parsed.headings)
    assert parsed.tags[0] == ("html", {"lang": "en"})


def test_every_section_and_decision_page_is_reachable_from_the_sidebar(page):
    parsed, record, text = page
    nav = text[text.index("<nav"):text.index("</nav>")]
    links = re.findall(r'href="#([^"]+)"', nav)
    ids = {a.get("id") for _, a in parsed.tags if a.get("id")}
    assert set(links) <= ids
    targets = {anchor: words for _, anchor, words in parsed.headings}
    linked = [targets[a] for a in links]
    sections = [words for level, _, words in parsed.headings if level == 2]
    assert set(sections) <= set(linked) and len(sections) >= 12
    adverse = [d for d in record["decisions"] if d["adverse"]][:record["config"]["report"]["adverse_decisions"]]
    assert adverse
    for d in adverse:
        assert any(words.startswith(f"Decision for data row {d['row']}:") for words in linked), d["row"]


def test_every_chart_has_alt_text(page):
    parsed, _, _ = page
    images = [a for tag, a in parsed.tags if tag == "img"]
    assert len(images) >= 8
    for a in images:
        assert len(a.get("alt", "").strip()) > 20, a.get("alt")


def test_gate_figures_and_verdict_match_the_pdf(page, html_sample):
    """pdftotext's text of the PDF's policy gate and the HTML's gate table: the same verdict word, value and
    threshold for every check, in the same order, each as results.json holds it; the verdict line is the same."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; .ci/run installs it")
    out, _ = html_sample
    parsed, record, _ = page
    pdf = subprocess.run(["pdftotext", "-layout", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    checks = record["gate"]["checks"]
    table = next(t for t in parsed.tables if t and t[0] == ["Check", "Result", "Value", "Threshold", "Detail"])
    html_rows = [(row[1].split()[0], row[2], row[3]) for row in table[1:]]
    expected = [(None, fmt(c["value"]), fmt(c["threshold"])) for c in checks]
    assert [r[1:] for r in html_rows] == [e[1:] for e in expected]
    # the section's heading alone on its line (the contents page lists it with a page number) to the next one's
    start = re.search(r"^\s*Policy gate\s*$", pdf, flags=re.MULTILINE).end()
    gate_text = pdf[start:start + re.search(r"^\s*Principal reasons for individual decisions\s*$", pdf[start:],
                                            flags=re.MULTILINE).start()]
    pdf_rows = re.findall(r"^\s+\S+\s+(PASS|FAIL|NOT|WAIVED)\b(?:\s+\(finding\)|\s+MEASURED|\s+REQUIRED)?\s+(\S+)\s+(\S+)",
                          gate_text, flags=re.MULTILINE)
    assert pdf_rows == html_rows
    words = {"pass": "PASS", "fail": "FAIL", "finding": "FAIL", "not_measured": "NOT", "waived": "WAIVED",
             "not_required": "NOT"}
    assert [r[0] for r in html_rows] == [words[c["verdict"]] for c in checks]
    verdict = " ".join("".join(parsed.verdict_box).split())
    assert verdict.startswith("VERDICT: " + ("PASSED" if record["gate"]["passed"] else "FAILED"))
    assert verdict in " ".join(pdf.split())


def test_the_sections_sentences_are_the_pdfs(page, html_sample):
    """A sample of the template's sentences, as the PDF prints them, is in the HTML's text."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; .ci/run installs it")
    out, _ = html_sample
    parsed, _, _ = page
    pdf = " ".join(subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    html_text = " ".join("".join(parsed.text).split())
    tpl = load_template("credit_decision")
    for key in ("cover_statement", "model_role", "human_review"):
        sentence = " ".join(tpl.text(key).split())[:80]
        assert sentence in html_text and sentence in pdf, key


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_meet_wcag_aa():
    for fill in (GREEN, AMBER, RED, GREY):
        assert _contrast(fill, VERDICT_TEXT) >= 4.5, fill
    css = html_assets.CSS % {"primary": "#1f3b5a"}
    text, muted = "#1a1a1a", re.search(r"--muted: (#[0-9a-f]{6})", css)[1]
    for background in ("#ffffff", re.search(r"--head: (#[0-9a-f]{6})", css)[1],
                       re.search(r"--side: (#[0-9a-f]{6})", css)[1]):
        assert _contrast(text, background) >= 4.5 and _contrast(muted, background) >= 4.5, background
        assert _contrast("#1f3b5a", background) >= 4.5, background


def test_text_is_escaped_and_only_known_markup_passes():
    lay = HtmlLayout(load_template("generic"))
    cell = lay.table([["Input", "Value"], ["<script>alert(1)</script>", 'x" onmouseover="y']])
    assert "<script>" not in cell and "&lt;script&gt;" in cell
    para = lay.p('<b>ok</b> <img src=x onerror=alert(1)> & <a href="https://example.org">x</a>')
    assert para == ('<p class="body"><b>ok</b> &lt;img src=x onerror=alert(1)&gt; &amp; '
                    '&lt;a href="https://example.org"&gt;x&lt;/a&gt;</p>')
    figure = lay.image(b"\x89PNG", 10, alt='chart "quoted" <b>')
    assert 'alt="chart &quot;quoted&quot; &lt;b&gt;"' in figure
    assert markup("a<br/>b") == "a<br>b"


def test_a_filled_cell_and_a_spanned_heading():
    lay = HtmlLayout(load_template("generic"))
    gate_like = lay.table([["Check", "Result"], ["a", "PASS"], ["b", "FAIL"]], extra=lay.fill(1, 2, RED))
    assert f'<td class="fill" style="background:{RED}">FAIL</td>' in gate_like
    assert "class=sortable" in gate_like
    spanned = lay.table([["Input values", "", "", ""], ["a", "1", "b", "2"], ["c", "3", "", ""]],
                        extra=lay.span_heading())
    assert '<th colspan="4">Input values</th>' in spanned and "sortable" not in spanned


def test_no_section_touches_reportlab():
    """Every section builds its pieces through ctx.lay, so each renders as PDF and as HTML (a section that imported
    reportlab would give the HTML a flowable it cannot show)."""
    from pathlib import Path

    import audit.report.sections as sections

    files = sorted(Path(sections.__file__).parent.rglob("*.py"))
    assert len(files) > 20
    for path in files:
        assert "reportlab" not in path.read_text(encoding="utf-8"), path


def test_a_flowable_given_to_the_html_is_refused_naming_the_section():
    from audit.report.html import _fragments

    with pytest.raises(TypeError, match="report section 'x' gave a object"):
        _fragments([object()], "x")
