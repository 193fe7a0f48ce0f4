"""The import graph of the product code (``audit/`` and ``explainers/``), read with ``ast``: no import
cycle between project modules, and no private module (a name starting with ``_``) imported from outside
its own package. Every import counts, including those inside functions (deferred imports hide a cycle,
they do not remove it) and under ``TYPE_CHECKING``; relative imports are resolved.

An edge to a package means its ``__init__``. ``import a.b.c`` and ``from a.b import c`` (``c`` a module)
are edges to ``a.b.c`` alone: Python runs the parents' ``__init__`` first, but a package importing its
own submodules is not a cycle by itself. ``from a.b import name`` (``name`` not a module) is an edge to
``a.b``'s ``__init__``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audit", "explainers")

# Cycles that remain on purpose, each named with where it is and why; empty today. A cycle is listed as
# the sorted tuple of its modules.
CYCLE_EXEMPTIONS: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _resolve(name: str, modules: Mapping[str, object]) -> str | None:
    """The project module ``name`` lands in: the longest prefix that is a module (None: not ours)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: Mapping[str, object]
             ) -> set[str]:
    """The project modules one import statement reaches (``from a import b``: the module ``a.b`` if there
    is one, else ``a``'s ``__init__``), the importing module itself left out."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the importing module's package, one level up per extra dot
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[:len(package) - (node.level - 1)] + ([node.module] if node.module else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    return {t for t in (_resolve(n, modules) for n in names) if t is not None and t != module}


def import_graph(root: Path = ROOT) -> list[Edge]:
    """Every import of a project module by a project module, with its line."""
    modules = _modules(root)
    edges = []
    for module, (path, is_package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges += [Edge(module, t, node.lineno) for t in sorted(_targets(node, module, is_package, modules))]
    return edges


def find_cycle(edges: list[Edge]) -> list[Edge] | None:
    """One import cycle as its edges in order, or None (depth-first search, white/grey/black)."""
    graph: dict[str, list[Edge]] = {}
    for e in sorted(edges, key=lambda e: (e.source, e.target, e.line)):
        graph.setdefault(e.source, []).append(e)
    state: dict[str, int] = {}
    stack: list[Edge] = []

    def visit(node: str) -> list[Edge] | None:
        state[node] = 1
        for e in graph.get(node, []):
            if state.get(e.target) == 1:
                start = next(i for i, s in enumerate(stack) if s.source == e.target) if e.target != node else len(stack)
                return stack[start:] + [e]
            if e.target not in state:
                stack.append(e)
                found = visit(e.target)
                if found:
                    return found
                stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _cycles(edges: list[Edge]) -> Iterator[list[Edge]]:
    """Every cycle left once the exempted ones are cut (an exempted cycle's edges are dropped)."""
    remaining = list(edges)
    while (cycle := find_cycle(remaining)) is not None:
        key = tuple(sorted({e.source for e in cycle}))
        if key not in CYCLE_EXEMPTIONS:
            yield cycle
        remaining = [e for e in remaining if e not in cycle]


def _private_owner(module: str) -> str | None:
    """The package a private module belongs to (the part before its first ``_`` name), or None if public."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_"):
            return ".".join(parts[:i])
    return None


def _describe(cycle: list[Edge]) -> str:
    return " -> ".join(f"{e.source}:{e.line}" for e in cycle) + f" -> {cycle[-1].target}"


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_graph()


def test_the_graph_sees_the_imports(edges):
    """Catches a parser that finds nothing (and so passes everything): known module-level, function-level
    and relative-or-package imports are all edges."""
    pairs = {(e.source, e.target) for e in edges}
    assert ("audit.commands.session", "audit.loading") in pairs  # module level
    assert ("audit.adapters", "audit.adapters._torch") in pairs  # inside a function
    assert ("audit.commands.compare", "audit.measures.grouping") in pairs
    assert len(pairs) > 150


def test_no_import_cycle(edges):
    """Catches two project modules that import each other, directly or round a longer loop, even through
    an import deferred into a function."""
    found = [_describe(c) for c in _cycles(edges)]
    assert not found, "import cycle(s):\n" + "\n".join(found)


def test_no_private_module_is_imported_from_another_package(edges):
    """Catches ``audit.commands.reasons`` reaching into ``audit.loading._stream`` (say): a package's private modules
    are its own; other packages use what its ``__init__`` (or a public module) exposes."""
    bad = []
    for e in edges:
        owner = _private_owner(e.target)
        if owner is not None and not (e.source == owner or e.source.startswith(owner + ".")):
            bad.append(f"{e.source} (line {e.line}) imports private {e.target}")
    assert not bad, "\n".join(sorted(bad))


def test_the_checks_catch_a_cycle_and_a_private_import(tmp_path):
    """Catches a checker that cannot fail: a small package with a deferred cycle and a private import."""
    for name, text in {"audit/__init__.py": "", "audit/a.py": "def f():\n    from audit import b\n",
                       "audit/b.py": "from . import c\n", "audit/c.py": "import audit.a\n",
                       "audit/sub/__init__.py": "", "audit/sub/_p.py": "",
                       "explainers/__init__.py": "", "explainers/x.py": "from audit.sub._p import thing\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    edges = import_graph(tmp_path)
    cycle = find_cycle(edges)
    assert cycle is not None and {e.source for e in cycle} == {"audit.a", "audit.b", "audit.c"}
    assert any(e.source == "explainers.x" and _private_owner(e.target) == "audit.sub" for e in edges)
