"""Text helpers for the report: numbers and parameters for a reader, escaping for reportlab's markup, and
the bounds on what one cell or sentence prints (whatever is left out stays in the JSON file).

Pure functions of their arguments, no reportlab: sections and the layout share them.

>>> fmt(0.12345), fmt(None), cut("abcdef", 4)
('0.123', 'n/a', 'abc…')
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CM", "MAX_LISTED", "MAX_ROWS", "MAX_NAME", "MAX_CELL_HEIGHT", "MAX_CONFIG_LINES", "rejoin", "command_words",
           "clean", "esc", "cut", "some", "notes", "capped", "param", "fmt"]

CM = 72.0 / 2.54  # points per centimetre (reportlab's ``cm``): sections give widths in points, both layouts read them

# Bounds on what one table or sentence prints; whatever is left out stays in results.json (compare.json),
# so that a file with 20,000 columns, a 10,000-character value or thousands of groups still lays out.
MAX_LISTED = 20  # names listed in a cell or a sentence; the rest are counted
MAX_ROWS = 40  # rows of a table that grows with the data (inputs, groups, transitions)
MAX_NAME = 120  # characters of one name inside a list
MAX_CELL_HEIGHT = 180.0  # points (about a quarter of a page): a taller cell is cut with an ellipsis
MAX_CONFIG_LINES = 150  # lines of the configuration printed in an appendix


def rejoin(text: str, words: list[str], fitted: list[str]) -> str:
    """``text`` with each word replaced by its fitted form, other whitespace (line breaks) kept."""
    for w, f in zip(words, fitted):
        if w != f:
            text = text.replace(w, f, 1)
    return text


def command_words(command: str | None) -> str:
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


def clean(text: Any) -> str:
    """``text`` as something a PDF can hold: lone surrogates (a JSON escape can carry one) become U+FFFD and
    control characters other than line breaks and tabs become spaces."""
    text = str(text)
    if text.isprintable():
        return text
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", text)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def esc(text: Any) -> str:
    """``text`` cleaned and escaped for reportlab's paragraph markup."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: Any, limit: int = MAX_NAME) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis.

    >>> cut("abcdef", 4)
    'abc…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def some(items: Any, what: str, where: str, *, limit: int = MAX_LISTED, none: str = "none") -> str:
    """A list for a cell or a sentence: every item when there are at most ``limit``, else the count, the
    first ``limit`` and where all of them are (each item cut to ``MAX_NAME`` characters).

    >>> some(["a", "b"], "columns", "results.json")
    'a, b'
    >>> some([f"c{i}" for i in range(30)], "columns not used by the model", "results.json", limit=2)
    '30 columns not used by the model; the first 2: c0, c1; all are listed in results.json'
    """
    items = [str(i) for i in items]
    if len(items) <= limit:
        return ", ".join(cut(i) for i in items) or none
    return (f"{len(items):,} {what}; the first {limit}: {', '.join(cut(i) for i in items[:limit])}; "
            f"all are listed in {where}")


def notes(warnings: Any, where: str) -> str:
    """The run's warnings as one paragraph: each cut to 300 characters, at most ten of them."""
    shown = " ".join(cut(w, 300) for w in list(warnings)[:10])
    more = len(warnings) - 10
    return shown + (f" ({more} more notes are in {where}, under warnings.)" if more > 0 else "")


def capped(items: list, rank: Any = None, limit: int = MAX_ROWS) -> list:
    """At most ``limit`` of ``items``, kept in their order, chosen by ``rank(item)`` (lowest first; then order).

    >>> capped(list(range(10)), rank=lambda x: x % 2 == 0, limit=3)
    [1, 3, 5]
    """
    if len(items) <= limit:
        return list(items)
    chosen = set(sorted(range(len(items)), key=lambda i: (rank(items[i]) if rank else 0, i))[:limit])
    return [x for i, x in enumerate(items) if i in chosen]


def param(v: Any) -> str:
    """A parameter value for a reader: floats to 3 significant digits, the rest as written."""
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def fmt(x: Any, nd: int = 3) -> str:
    """A number to ``nd`` decimals (tiny ones in scientific notation); None and NaN as "n/a"."""
    if x is None:
        return "n/a"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if xf != xf:
        return "n/a"
    return f"{xf:.{nd}f}" if abs(xf) >= 10 ** (-nd) or xf == 0 else f"{xf:.2e}"
