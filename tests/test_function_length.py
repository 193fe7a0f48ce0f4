"""No function in audit/ or explainers/ is longer than 60 lines (STYLE.md): a function that long does several
things, and each deserves its own name and docstring. Measured with ast, ``def`` line to last line
(``end_lineno - lineno + 1``); a nested function counts on its own and within the one around it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audit", "explainers")
MAX_LINES = 60

# Named exemptions (none: the loading and report splits of issue #25 are merged); a new entry needs a reason.
EXEMPT: tuple[str, ...] = ()


def _long_functions() -> list[str]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(EXEMPT):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_LINES:
                        out.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    return out


def test_no_function_is_longer_than_60_lines():
    """Fails naming each function over the limit (file, line, name, length)."""
    assert _long_functions() == []


def test_the_measure_sees_a_long_function(tmp_path, monkeypatch):
    """The check can fail: a 61-line function in a scanned package is reported."""
    pkg = tmp_path / "audit"
    pkg.mkdir()
    (pkg / "long.py").write_text("def f():\n" + "    x = 1\n" * 60)
    (pkg / "short.py").write_text("def g():\n" + "    x = 1\n" * 59)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _long_functions() == ["audit/long.py:1 f (61 lines)"]


def test_each_exemption_still_names_something():
    """An exemption for a path that no longer exists is stale: remove it."""
    assert all((ROOT / entry).exists() for entry in EXEMPT)
