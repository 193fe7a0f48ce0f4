"""What every section of a report is given: the result, the template, the layout helpers, and the few things
derived once and shared by several sections (the outcome words, the failed checks in words), so that no
section reaches into another.

>>> from types import SimpleNamespace as NS
>>> ctx = AuditContext(NS(config={}, model={"favorable_class_source": "assumed"}), NS(wording={}), None)
>>> ctx.outcome(1)
'outcome 1'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.report.formatting import cut, esc, fmt

__all__ = ["AuditContext", "CompareContext", "protected_source_line"]


@dataclass
class AuditContext:
    """One audit report being rendered: ``r`` the AuditResult, ``t`` the template, ``lay`` the layout."""

    r: Any
    t: Any
    lay: Any
    expl: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.expl = {e.method: e for e in getattr(self.r, "explanations", ())}

    # -- identity and outcome words (data from audit.toml; the template supplies wording only) ---------
    @property
    def rc(self) -> dict[str, Any]:
        """The ``[report]`` table of the configuration (organisation, logo, outcomes, review contact)."""
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
        from audit.measures.directions import printed_word

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
                return "" if c.value is None else f" ({fmt(c.value)} against {fmt(c.threshold)})"

            return [f"{c.name}{measured(c)}: {kind(c) + (', blocks the gate' if c.blocking and c.status == 'measured' else '')}"
                    f"{'' if c.blocking else ', does not block by itself'}" for c in self.r.gate.failed]
        return [f"{c.name} ({kind(c)}): {c.message}. "
                f"{'It blocks the gate.' if c.blocking else 'It does not block by itself: it ' + c.role + '.'}"
                for c in self.r.gate.failed]


@dataclass
class CompareContext:
    """One compare report being rendered: ``r`` the CompareResult, ``t`` the template, ``lay`` the layout
    (whose JSON file is compare.json) and the document's title."""

    r: Any
    t: Any
    lay: Any
    title: str = field(init=False)

    def __post_init__(self) -> None:
        self.title = cut(self.r.report.get("title") or self.t.text("compare_title") or "Model change comparison", 200)

    def outcome(self, label: Any) -> str:
        """A class's label from ``[report.outcomes]``, else "class X"."""
        return str((self.r.report.get("outcomes") or {}).get(str(label), f"class {label}"))

    def verdicts(self, *subjects: str) -> list:
        """The gate's verdict on the compare checks with these subjects (``compare:<subject>``), one line each
        (never recomputed here)."""
        out = []
        for c in self.r.gate.checks:
            if c.kind == "compare" and c.subject in subjects:
                word, _ = self.lay.verdict_cell(c)
                out.append(self.lay.p(esc(cut(f"Gate, {c.name}: {word}. {c.message}", 600) + "."), "small"))
        return out


def protected_source_line(template: Any, prot: dict[str, Any]) -> str:
    """Where the protected attributes came from, in one sentence of the template's (cover and protected
    section)."""
    attrs, source = prot.get("attributes") or [], prot.get("protected_source", "configured")
    bases = prot.get("inferred_bases") or {}
    if source == "inferred" and attrs:
        named = ", ".join(f"{a} ({bases.get(a, 'prohibited basis')})" for a in attrs)
        return template.text("protected_source_inferred", attributes=named)
    if source == "inferred":
        return template.text("protected_source_none_inferred")
    if source == "declared_none":
        return template.text("protected_source_declared_none")
    if source == "none" or not attrs:
        return template.text("protected_source_none")
    return template.text("protected_source_configured", attributes=", ".join(attrs))
