"""The regulation trace (``_trace.toml``): which clauses each gate check, measure and report section supports.

The table is data shipped beside the templates and versioned by its ``version`` key. :func:`load_trace` reads
and checks it (every clause an entry names is listed); :meth:`Trace.record` turns it into results.json's
``trace`` for one audit: each check the gate made with its verdict and clauses, each measure with whether
this run recorded it, and each section the template renders. The trace is an index of evidence against
clause numbers, not a legal opinion: the descriptions are short and neutral, never the clauses' text.

>>> trace = load_trace()
>>> "sr11-7.conceptual_soundness" in trace.check_clauses("faithfulness:shap")
True
>>> trace.check_clauses("no_such_check")
()
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from audit.errors import ConfigError
from audit.records import TraceClauseRecord, TraceRecord

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Trace", "TraceEntry", "load_trace", "recorded", "SOURCE"]

SOURCE = "report_templates/_trace.toml"


@dataclass(frozen=True)
class TraceEntry:
    """One row of the table: a check-name glob (or a measure's name), what it shows, its clause ids."""

    match: str
    clauses: tuple[str, ...]
    shows: str = ""
    record: str = ""  # a measure's place in results.json ("explanations[].faithfulness.deletion_auc")


@dataclass(frozen=True)
class Trace:
    """The parsed ``_trace.toml``."""

    version: str
    clauses: dict[str, TraceClauseRecord]
    checks: tuple[TraceEntry, ...]
    measures: tuple[TraceEntry, ...]
    sections: dict[str, tuple[str, ...]]

    def check_entries(self, name: str) -> list[TraceEntry]:
        """Every check entry whose glob matches the check ``name`` (case-sensitive)."""
        return [e for e in self.checks if fnmatch.fnmatchcase(name, e.match)]

    def check_clauses(self, name: str) -> tuple[str, ...]:
        """The clauses a check called ``name`` supports (the union over the entries it matches, in order)."""
        return _union(e.clauses for e in self.check_entries(name))

    def record(self, results: dict[str, Any], sections: Sequence[str], keep: Sequence[str] = ()) -> TraceRecord:
        """results.json's ``trace`` for the audit ``results`` (its JSON form) reported with ``sections``; ``keep``:
        the clause-id prefixes the report's template keeps (a template for a use other than credit leaves out
        the credit regimes), empty for every clause. ``unmapped`` lists the checks no entry of the table matches."""
        prefixes = tuple(keep)

        def kept(ids: Iterable[str]) -> list[str]:
            return [i for i in ids if not prefixes or i.startswith(prefixes)]

        checks, unmapped = [], []
        for c in results["gate"]["checks"]:
            entries = self.check_entries(c["name"])
            unmapped += [] if entries else [c["name"]]
            checks.append({"name": c["name"], "verdict": c.get("verdict") or ("pass" if c["passed"] else "fail"),
                           "shows": "; ".join(dict.fromkeys(e.shows for e in entries if e.shows)),
                           "clauses": kept(_union(e.clauses for e in entries))})
        measures = [{"name": m.match, "record": m.record, "recorded": recorded(results, m.record),
                     "clauses": kept(m.clauses)} for m in self.measures]
        shown = [{"name": s, "clauses": kept(self.sections.get(s, ()))} for s in sections]
        return {"version": self.version, "source": SOURCE,
                "clauses": {k: dict(v) for k, v in self.clauses.items() if kept([k])},
                "checks": checks, "measures": measures, "sections": shown, "unmapped": unmapped}


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(x for group in groups for x in group))


def recorded(results: Any, path: str) -> bool:
    """Whether ``results`` holds a value (not null, not empty) at ``path`` (``a.b``; ``a[].b``: any item of a).

    >>> recorded({"a": [{"b": None}, {"b": 2}]}, "a[].b"), recorded({"a": {"b": None}}, "a.b")
    (True, False)
    """
    values = [results]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part[:-2] if many else part
        values = [v[key] for v in values if isinstance(v, dict) and v.get(key) is not None]
        if many:
            values = [item for v in values if isinstance(v, list) for item in v]
    return any(v not in (None, {}, []) for v in values)


@lru_cache(maxsize=1)
def load_trace() -> Trace:
    """The shipped trace table, checked: every clause an entry names is listed (a ConfigError otherwise)."""
    raw = tomllib.loads((resources.files(__package__) / "_trace.toml").read_text(encoding="utf-8"))
    clauses = {k: TraceClauseRecord(regime=v["regime"], citation=v["citation"], asks=v["asks"])
               for k, v in raw["clauses"].items()}
    checks = tuple(TraceEntry(e["match"], tuple(e["clauses"]), e.get("shows", "")) for e in raw.get("checks", []))
    measures = tuple(TraceEntry(name, tuple(m["clauses"]), record=m["record"])
                     for name, m in raw.get("measures", {}).items())
    sections = {name: tuple(ids) for name, ids in raw.get("sections", {}).items()}
    named = [*(i for e in (*checks, *measures) for i in e.clauses), *(i for ids in sections.values() for i in ids)]
    unknown = sorted(set(named) - clauses.keys())
    if unknown:
        raise ConfigError(f"{SOURCE}: clause(s) {', '.join(unknown)} are named but not listed under [clauses]. "
                          "Add them or fix the names.")
    return Trace(str(raw["version"]), clauses, checks, measures, sections)
