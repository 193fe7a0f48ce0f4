"""What the PDF layout (:mod:`audit.report.layout`) and the HTML layout (:mod:`audit.report.html_layout`) share:
the verdict words and colours, and the helpers built only from the format's own ``p``, ``table`` and ``fill``.

A section calls the same methods on either layout and gets that format's pieces back (reportlab flowables or
HTML fragments), so both renderings come from the same records and the same template sentences.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from audit.report.formatting import CM, MAX_CONFIG_LINES, cut, esc, fmt

__all__ = ["GREEN", "AMBER", "RED", "GREY", "VERDICT_TEXT", "LayoutBase"]

# Verdict fills carry white text; each pair meets WCAG AA contrast (4.5:1) for normal-size text
# (tests/report/test_html.py measures them).
GREEN, AMBER, RED, GREY = "#1e8449", "#8a5a00", "#b03a2e", "#595959"
VERDICT_TEXT = "#ffffff"


class LayoutBase(ABC):
    """The format-independent half of a layout. Subclasses give ``h1``, ``p``, ``table`` and ``fill``."""

    def __init__(self, template: Any, json_name: str = "results.json") -> None:
        self.t = template
        self.json_name = json_name  # where every value a table cuts or leaves out is in full

    @abstractmethod
    def h1(self, text: str) -> list:
        """A section heading (a list: the PDF adds a conditional page break before it)."""

    @abstractmethod
    def p(self, text: str, style: str = "body") -> Any:
        """A paragraph of escaped text with the inline markup the layouts share."""

    @abstractmethod
    def table(self, rows: list[list[Any]], widths: list[float] | None = None, header: bool = True,
              extra: list | None = None, white: set[tuple[int, int]] | None = None) -> Any:
        """A table; ``widths`` in points, ``extra`` the format's own style commands."""

    @abstractmethod
    def fill(self, col: int, row: int, colour: str, *, white_text: bool = False) -> list:
        """Style commands that fill one cell with ``colour``."""

    def measured_head(self, title: str, record: dict[str, Any], why: str) -> tuple[list, bool]:
        """A section's heading, and, when ``record`` measured no attribute, the sentence saying why (its
        ``not_measured``, else ``why``); the flag says the section ends there."""
        out = [*self.h1(title)]
        if record.get("attributes"):
            return out, False
        return out + [self.p(esc(f"{title} was not measured: {record.get('not_measured') or why}."))], True

    def config_text(self, text: str | None) -> Any:
        """The configuration file as a paragraph of lines: at most ``MAX_CONFIG_LINES`` and 12,000 characters,
        each line cut to 200 (the JSON file keeps it whole, reproducibility.config_text)."""
        lines = (text or "(no configuration text: built-in defaults)").splitlines()
        shown, size = [], 0
        for line in lines:
            size += min(len(line), 200)
            if len(shown) == MAX_CONFIG_LINES or size > 12_000:
                break
            shown.append(esc(cut(line, 200)))
        if len(shown) < len(lines):
            shown.append(esc(f"… {len(lines) - len(shown):,} more lines, in {self.json_name} "
                             "(reproducibility.config_text)."))
        return self.p("<br/>".join(shown), "small")

    def left_out(self, shown: int, total: int, noun: str, key: str) -> list:
        """The sentence under a table that shows ``shown`` of ``total`` rows (none when it shows all)."""
        if shown >= total:
            return []
        return [self.p(esc(f"{shown} of {total:,} {noun} are shown; all are in {self.json_name} ({key})."), "small")]

    def verdict_cell(self, check: Any) -> tuple[str, str]:
        """The gate's own verdict for a check, as a word and a colour (the word keeps it readable in
        greyscale); the report never re-applies a threshold."""
        if check is None:
            return "not checked", GREY
        return {"pass": ("PASS", GREEN), "fail": ("FAIL", RED), "finding": ("FAIL (finding)", AMBER),
                "not_measured": ("NOT MEASURED", RED if check.blocking else AMBER), "waived": ("WAIVED", AMBER),
                "not_required": ("NOT REQUIRED", GREY)}[check.verdict]

    def span_heading(self) -> list:
        """The table command that makes a table's first row one cell across (a heading inside the table)."""
        return [("SPAN", (0, 0), (-1, 0))]

    def gate_table(self, gate: Any) -> Any:
        """Every check of ``gate``: the gate's own verdict, value, threshold, message and role."""
        rows = [["Check", "Result", "Value", "Threshold", "Detail"]]
        extra: list = []
        for i, c in enumerate(gate.checks, start=1):
            word, colour = self.verdict_cell(c)
            rows.append([c.name, word, fmt(c.value), fmt(c.threshold), f"{c.message}. This check {c.role}."])
            extra += self.fill(1, i, colour)
        return self.table(rows, widths=[3.8 * CM, 1.6 * CM, 1.6 * CM, 1.8 * CM, 8.2 * CM], extra=extra,
                          white={(1, i) for i in range(1, len(rows))})
