"""The HTML rendering of the compliance report: one self-contained file (inline CSS, inline PNG charts with alt
text, a few lines of inline script to sort tables; no URL outside the file), with the PDF's sections, sentences
and verdicts from the same records and templates (:mod:`audit.report.html_layout` is the PDF layout's twin).

Landmarks: ``header`` (title and verdict), ``nav`` (every section, and every decision page, by anchor),
``main`` (the sections in the template's order, each a ``section``) and ``footer``; headings in order (``h1`` the
title, ``h2`` a section, ``h3`` within it). A print stylesheet hides the sidebar and breaks pages as the PDF does.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from audit.report.context import AuditContext
from audit.report.formatting import clean, cut, esc
from audit.report.html_assets import CSS, SCRIPT
from audit.report.html_layout import Html, HtmlLayout
from audit.report.layout_base import GREEN, RED
from audit.report.sections import SECTIONS
from audit.results import AuditResult

__all__ = ["render_html", "html_report"]

_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)


def render_html(result: AuditResult, template: Any, path: Path) -> None:
    """Write the compliance report for ``result`` to ``path`` as one HTML file."""
    Path(path).write_text(html_report(result, template), encoding="utf-8")


def html_report(result: AuditResult, template: Any) -> str:
    """The compliance report for ``result`` as the text of one HTML file."""
    ctx = AuditContext(result, template, HtmlLayout(template))
    sections = []
    for name in template.sections:
        body = "".join(_fragments(SECTIONS[name](ctx), name))
        sections.append(f'<section class="sec-{esc(name)}" id="section-{esc(name)}">{body}</section>')
    main = "".join(sections)
    headings = [(int(level), anchor, re.sub(r"<[^>]*>", "", inner)) for level, anchor, inner in _HEADING.findall(main)]
    main = main.replace("<!--contents-->", _contents_list(headings), 1)
    title = esc(cut(ctx.rc.get("title") or template.title, 200))
    passed = result.gate.passed
    verdict = "PASSED" if passed else "FAILED"
    model = result.model
    header = (f'<header><h1>{title}</h1><p><span class="badge" style="background:{GREEN if passed else RED}">'
              f"Verdict: {verdict}</span> {esc(Path(model['path']).name)}, model SHA-256 "
              f"{esc(model['sha256'][:12])}…, audited {esc(result.created_at)} (UTC)</p></header>")
    footer = (f"<footer><p>{title} — model {esc(model['sha256'][:12])}… — {verdict}. Written by xai-audit "
              f"{esc(result.tool_version)} from results.json; every value a table cuts or leaves out is in full "
              "there.</p></footer>")
    return ("<!DOCTYPE html>\n"
            f'<html lang="{_lang(template)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title} — {verdict}</title>"
            f'<meta name="generator" content="xai-audit {html.escape(clean(result.tool_version), quote=True)}">'
            f"<style>{CSS % {'primary': _colour(template.style.get('primary'), '#1f3b5a')}}</style></head>"
            f'<body><a class="skip" href="#main">Skip to the report</a>{header}<div class="layout">'
            f'<nav aria-labelledby="nav-title"><p class="nav-title" id="nav-title">Contents</p>'
            f"{_nav(headings)}</nav>"
            f'<main id="main">{main}</main></div>{footer}<script>{SCRIPT}</script></body></html>\n')


def _fragments(items: list, section: str) -> list[Html]:
    """A section's pieces, flattened; anything that is not an HTML fragment is a bug in that section."""
    out: list[Html] = []
    for item in items:
        if isinstance(item, list):
            out += _fragments(item, section)
        elif isinstance(item, Html):
            out.append(item)
        else:
            raise TypeError(f"report section {section!r} gave a {type(item).__name__}, not an HTML fragment: "
                            "it must build its pieces through ctx.lay")
    return out


def _nav(headings: list[tuple[int, str, str]]) -> str:
    """The sidebar: every section heading, with the headings inside it (decision pages included) nested."""
    out, open_sub = ["<ol>"], False
    for i, (level, anchor, text) in enumerate(headings):
        if level == 3 and not open_sub and i:
            out.append("<ol>")
            open_sub = True
        elif level == 2 and i:
            out.append("</li></ol></li>" if open_sub else "</li>")
            open_sub = False
        out.append(f'<li><a href="#{anchor}">{text}</a>')
    if headings:
        out.append("</li></ol></li>" if open_sub else "</li>")
    return "".join(out) + "</ol>"


def _contents_list(headings: list[tuple[int, str, str]]) -> str:
    """The contents section's list: the section headings (as the PDF's contents page lists them)."""
    items = "".join(f'<li><a href="#{a}">{text}</a></li>' for level, a, text in headings if level == 2)
    return f'<ol class="contents">{items}</ol>'


def _colour(value: Any, default: str) -> str:
    """A template colour for the stylesheet: ``#rgb`` or ``#rrggbb`` only, else ``default``."""
    return value if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?", value) else default


def _lang(template: Any) -> str:
    """The document's language: the template's ``language`` when it is a plain tag, else English."""
    lang = str(getattr(template, "style", {}).get("language", "en"))
    return lang if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?", lang) else "en"
