"""The regulation trace (``report_templates/_trace.toml``): every check name the gate code can produce, every
faithfulness metric and every report section has clauses, every clause named is listed, a real audit records
``trace`` in results.json, and the appendix renders in the PDF.

The check names are read from the gate's source with ``ast`` (every first argument of ``Check``,
``threshold_check``, ``not_measured`` and ``not_required``, followed through local helpers, tuple assignments,
loops over literal tuples and ``startswith`` guards), never from a hand-written list: a new check in
``audit/gate/`` without a trace entry fails here.
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import pytest

from audit.faithfulness.scoring import EXTRA_METRICS, METRICS
from audit.report.sections import COMPARE_SECTIONS, SECTIONS
from report_templates.trace import load_trace, recorded

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = {"Check", "threshold_check", "not_measured", "not_required"}


# --- the check names the gate code can produce, read from its source --------------------------------------------

class _Module:
    """One module of audit/gate/ with parent links, so a name can be resolved where it is used."""

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source)
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
        self.functions = {f.name: f for f in ast.walk(self.tree) if isinstance(f, ast.FunctionDef)}

    def patterns(self, node: ast.AST, depth: int = 0) -> set[str]:
        """The check names ``node`` can evaluate to, ``*`` for a part that is not a literal."""
        if depth > 8:
            return {"*"}
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.JoinedStr):
            parts = [self._part(v, depth) for v in node.values]
            return {"".join(p) for p in itertools.product(*parts)}
        if isinstance(node, ast.Name):
            return self._name(node, depth)
        return {"*"}

    def _part(self, value: ast.AST, depth: int) -> set[str]:
        if isinstance(value, ast.Constant):
            return {str(value.value)}
        inner = value.value if isinstance(value, ast.FormattedValue) else value
        return self.patterns(inner, depth + 1) if isinstance(inner, ast.Name) else {"*"}

    def _name(self, node: ast.Name, depth: int) -> set[str]:
        """A name bound in an enclosing function: assigned, a loop variable or a parameter."""
        scope = node
        while (scope := getattr(scope, "parent", None)) is not None:
            if not isinstance(scope, ast.FunctionDef):
                continue
            found = self._bound(scope, node, depth)
            if found is not None:
                return found
        return {"*"}

    def _bound(self, fn: ast.FunctionDef, use: ast.Name, depth: int) -> set[str] | None:
        name = use.id
        for stmt in ast.walk(fn):
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    value = _element(target, stmt.value, name)
                    if value is not None:
                        return self.patterns(value, depth + 1)
            if isinstance(stmt, ast.For) and _binds(stmt.target, name) and _encloses(stmt, use):
                return self._loop(stmt, use, name, depth)
        params = [a.arg for a in fn.args.args]
        if name in params:
            return self._arguments(fn.name, params.index(name), name, depth)
        return None

    def _loop(self, loop: ast.For, use: ast.Name, name: str, depth: int) -> set[str]:
        """A loop variable: each item of a literal tuple, else what a ``startswith`` guard around ``use`` says."""
        if isinstance(loop.iter, (ast.Tuple, ast.List)):
            out: set[str] = set()
            for item in loop.iter.elts:
                value = _element(loop.target, item, name)
                out |= self.patterns(value, depth + 1) if value is not None else {"*"}
            return out
        node = use
        while (node := getattr(node, "parent", None)) is not None and node is not loop:
            if isinstance(node, ast.If):
                for call in ast.walk(node.test):
                    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                            and call.func.attr == "startswith" and isinstance(call.func.value, ast.Name)
                            and call.func.value.id == name and isinstance(call.args[0], ast.Constant)):
                        return {call.args[0].value + "*"}
        return {"*"}

    def _arguments(self, function: str, index: int, name: str, depth: int) -> set[str]:
        """A parameter: what every call of its function in this module passes for it."""
        out: set[str] = set()
        for call in ast.walk(self.tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function:
                arg = call.args[index] if len(call.args) > index else next(
                    (k.value for k in call.keywords if k.arg == name), None)
                out |= self.patterns(arg, depth + 1) if arg is not None else set()
        return out or {"*"}

    def check_names(self) -> dict[str, int]:
        """Every check-name pattern the module's builder calls produce, with a line that produces it."""
        out: dict[str, int] = {}
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in BUILDERS):
                continue
            if _inside(call, BUILDERS):
                continue  # a builder's own body forwards its parameter
            arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
            for pattern in self.patterns(arg):
                out.setdefault(pattern, call.lineno)
        return out


def _binds(target: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def _element(target: ast.AST, value: ast.AST, name: str) -> ast.AST | None:
    """The part of ``value`` assigned to ``name`` by ``target = value`` (tuples unpacked), if any."""
    if isinstance(target, ast.Name):
        return value if target.id == name else None
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        for t, v in zip(target.elts, value.elts):
            found = _element(t, v, name)
            if found is not None:
                return found
    return None


def _encloses(outer: ast.AST, inner: ast.AST) -> bool:
    node = inner
    while (node := getattr(node, "parent", None)) is not None:
        if node is outer:
            return True
    return False


def _inside(node: ast.AST, functions: set[str]) -> bool:
    while (node := getattr(node, "parent", None)) is not None:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            return True
    return False


def gate_check_names() -> dict[str, str]:
    """Every check-name pattern of ``audit/gate/*.py`` -> where it is produced (``file:line``)."""
    out: dict[str, str] = {}
    for path in sorted((ROOT / "audit" / "gate").glob("*.py")):
        for pattern, line in _Module(path.read_text(encoding="utf-8")).check_names().items():
            out.setdefault(pattern, f"{path.relative_to(ROOT)}:{line}")
    return out


def test_the_reader_follows_helpers_tuples_loops_and_guards():
    source = '''
def helper(name, x):
    return threshold_check(f"{name}:{x}", 1.0, 1.0, "", higher_is_better=True)

def checks(items, gone):
    out = [helper("alpha", 1), helper(f"beta:{items}", 2)]
    name, t = "gamma", 1.0
    out.append(not_required(name, t, "why"))
    for key, limit in (("delta", 1), ("epsilon", 2)):
        out.append(not_measured(f"{key}:{items}", limit, "why"))
    for n in gone:
        if n.startswith("zeta:") and n:
            out.append(Check(n, True, None, None, ""))
    return out
'''
    assert set(_Module(source).check_names()) == {"alpha:*", "beta:*:*", "gamma", "delta:*", "epsilon:*", "zeta:*"}


def test_every_check_the_gate_code_can_produce_is_read_and_resolved():
    names = gate_check_names()
    unresolved = {p: where for p, where in names.items() if p.strip("*:") == ""}
    assert not unresolved, f"check names the reader cannot resolve (teach it, or name the check literally): {unresolved}"
    # the reader really reads the gate: the policy's families are all there
    for expected in ("faithfulness:*", "metric:*:*", "randomisation:*", "explainers_passing", "required:*",
                     "performance:auc", "equal_opportunity_difference:*", "agreement:topk", "calibration_error",
                     "population_stability:score", "characteristic_stability", "reason_stability",
                     "compare:flip_rate", "compare:group_flip:*"):
        assert expected in names, expected


def test_every_gate_check_is_in_the_trace():
    trace = load_trace()
    unmapped = {p: where for p, where in gate_check_names().items() if not trace.check_clauses(p.replace("*", "x"))}
    assert not unmapped, f"gate checks with no entry in report_templates/_trace.toml: {unmapped}"


def test_every_metric_and_section_is_in_the_trace_and_every_clause_is_used():
    trace = load_trace()
    measures = {m.match for m in trace.measures}
    assert set(METRICS) <= measures, sorted(set(METRICS) - measures)
    assert set(EXTRA_METRICS) - measures == {"monotonicity_abs"}  # reported, never scored: under monotonicity
    assert set(trace.sections) == set(SECTIONS) | set(COMPARE_SECTIONS)
    assert all(trace.sections[s] for s in trace.sections)
    used = {i for e in (*trace.checks, *trace.measures) for i in e.clauses} | {
        i for ids in trace.sections.values() for i in ids}
    assert used == set(trace.clauses), sorted(set(trace.clauses) - used)
    regimes = {c["regime"].split(" (")[0] for c in trace.clauses.values()}
    assert {"SR 11-7 / OCC 2011-12", "ECOA / Regulation B", "EU AI Act", "PRA SS1/23",
            "EBA Guidelines on loan origination and monitoring"} <= regimes
    assert trace.version


def test_a_clause_named_but_not_listed_is_refused(monkeypatch, tmp_path):
    import report_templates.trace as mod
    from audit.errors import ConfigError

    text = (ROOT / "report_templates" / "_trace.toml").read_text(encoding="utf-8")
    broken = text.replace('contents = ["sr11-7.governance"]', 'contents = ["sr11-7.nowhere"]', 1)
    assert broken != text
    monkeypatch.setattr(mod, "resources", type("R", (), {"files": staticmethod(lambda _: tmp_path)}))
    (tmp_path / "_trace.toml").write_text(broken, encoding="utf-8")
    mod.load_trace.cache_clear()
    try:
        with pytest.raises(ConfigError, match="sr11-7.nowhere"):
            mod.load_trace()
    finally:
        mod.load_trace.cache_clear()


# --- a real audit ----------------------------------------------------------------------------------------------

def test_a_real_audit_records_the_trace_and_the_pdf_shows_it(sample_run):
    from pypdf import PdfReader

    record = json.loads((sample_run / "results.json").read_text(encoding="utf-8"))
    assert record["schema_version"] == "1.7"
    trace = record["trace"]
    assert trace["unmapped"] == []
    assert [c["name"] for c in trace["checks"]] == [c["name"] for c in record["gate"]["checks"]]
    assert [c["verdict"] for c in trace["checks"]] == [c["verdict"] for c in record["gate"]["checks"]]
    assert all(c["clauses"] and set(c["clauses"]) <= set(trace["clauses"]) for c in trace["checks"])
    assert [s["name"] for s in trace["sections"]][-1] == "trace"
    by_name = {m["name"]: m for m in trace["measures"]}
    assert by_name["deletion_auc"]["recorded"] and by_name["outcome_fairness"]["recorded"]
    assert not by_name["population_stability"]["recorded"]  # no --reference-data in this run
    for m in trace["measures"]:  # every record path names keys results.json has
        head = m["record"].split(".")[0].removesuffix("[]")
        assert head in record, m
    text = " ".join(p.extract_text() for p in PdfReader(sample_run / "report.pdf").pages)
    flat = " ".join(text.split())
    assert "Appendix: regulation trace" in flat
    assert "12 CFR 1002.9(b)(2)" in flat and "Annex IV, point 2(g)" in flat and "not a legal opinion" in flat


def test_recorded_reads_paths():
    assert recorded({"a": [{"b": {"c": 1}}]}, "a[].b.c")
    assert not recorded({"a": [{"b": {}}]}, "a[].b")
    assert not recorded({"a": None}, "a.b")


def test_a_check_no_entry_matches_is_listed_as_unmapped():
    record = {"gate": {"checks": [{"name": "faithfulness:shap", "passed": True, "verdict": "pass"},
                                  {"name": "brand_new_check", "passed": False, "verdict": "fail"}]}}
    out = load_trace().record(record, ["cover"])
    assert out["unmapped"] == ["brand_new_check"] and out["checks"][1]["clauses"] == []
    assert out["sections"] == [{"name": "cover", "clauses": list(load_trace().sections["cover"])}]


def test_a_template_keeps_its_regimes_in_the_record_and_the_appendix(sample_run, tmp_path):
    """The generic template (a use other than credit) keeps SR 11-7 and the EU AI Act's transparency and
    documentation clauses: the record made for it, and its appendix of a record made for credit_decision."""
    from pypdf import PdfReader

    from audit.report.context import AuditContext
    from audit.report.layout import Layout, write_document
    from audit.report.sections import SECTIONS
    from report_templates import load_template

    generic = load_template("generic")
    assert generic.trace_clauses and not load_template("credit_decision").trace_clauses
    record = json.loads((sample_run / "results.json").read_text(encoding="utf-8"))
    kept = load_trace().record(record, generic.sections, generic.trace_clauses)
    assert kept["clauses"] and all(k.startswith(generic.trace_clauses) for k in kept["clauses"])
    assert all(set(c["clauses"]) <= set(kept["clauses"]) for c in kept["checks"])
    assert "regb.1002.9b2" in record["trace"]["clauses"]  # the credit template's record keeps Regulation B

    # the credit run's record through the generic template's trace section
    ctx = AuditContext(type("R", (), {"trace": record["trace"], "explanations": ()})(), generic, Layout(generic))
    path = tmp_path / "trace.pdf"
    write_document(ctx.lay, SECTIONS["trace"](ctx), path, footer="", title="t", created_at=record["created_at"],
                   author="a", subject="s", creator="c")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())
    assert "sr11-7.conceptual_soundness" in text and "regb." not in text and "Regulation B" not in text


def test_the_coverage_check_finds_a_check_whose_entry_is_removed():
    from dataclasses import replace

    trace = load_trace()
    without = replace(trace, checks=tuple(e for e in trace.checks if e.match != "calibration_error"))
    unmapped = [p for p in gate_check_names() if not without.check_clauses(p.replace("*", "x"))]
    assert unmapped == ["calibration_error"]
