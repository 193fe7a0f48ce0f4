"""Documentation skeletons for ``audit docs`` (``_docs.toml``): each template's title, introduction, the clause
prefixes its trace appendix keeps, and its parts (a heading, the clause it follows, the figures filled in from
results.json and what only the institution can write).

>>> [p.heading for p in load_docs_template("annex-iv").parts][:2]
['1. General description of the AI system', '2. Elements of the system and its development process']
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from audit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["DocsPart", "DocsTemplate", "docs_templates", "load_docs_template"]


@dataclass(frozen=True)
class DocsPart:
    heading: str
    clause: str
    fill: tuple[str, ...]  # named blocks of figures from results.json (audit.report.docs.FILLERS)
    needs: tuple[str, ...]  # each printed as "[NEEDS INPUT] ..."


@dataclass(frozen=True)
class DocsTemplate:
    name: str
    title: str
    intro: str
    trace_prefixes: tuple[str, ...]
    parts: tuple[DocsPart, ...]


@lru_cache(maxsize=1)
def _raw() -> dict:
    return tomllib.loads((resources.files(__package__) / "_docs.toml").read_text(encoding="utf-8"))


def docs_templates() -> list[str]:
    """The names ``audit docs --template`` accepts."""
    return list(_raw())


def load_docs_template(name: str) -> DocsTemplate:
    """The skeleton called ``name``; an unknown name is a ConfigError listing the valid ones."""
    raw = _raw()
    if name not in raw:
        raise ConfigError(f"--template {name!r}: no such documentation template. Use one of: "
                          f"{', '.join(docs_templates())}.")
    t = raw[name]
    parts = tuple(DocsPart(p["heading"], p.get("clause", ""), tuple(p.get("fill", ())), tuple(p.get("needs", ())))
                  for p in t["parts"])
    return DocsTemplate(name, t["title"], t["intro"], tuple(t.get("trace_prefixes", ())), parts)
