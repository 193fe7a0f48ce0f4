"""``audit docs``: a documentation skeleton (EU AI Act Annex IV, or SR 11-7) filled from a results.json.

The document is a list of blocks built once from the record (:func:`build`) and written as Markdown
(:func:`markdown`) or DOCX (:func:`write_docx`, python-docx), so both say the same. What the audit measured is
copied from the record and labelled as the tool's measurement; every part only the institution can write is
a ``[NEEDS INPUT]`` prompt. No sentence here states the institution's judgement: a verdict is "recorded by
xai-audit", never "the model is fit for use".

>>> blocks = [("h2", "A"), ("needs", "Why."), ("table", [["k", "v"], ["a|b", "<b>"]])]
>>> print(markdown(blocks))
## A
<BLANKLINE>
- **[NEEDS INPUT]** Why.
<BLANKLINE>
| k | v |
| --- | --- |
| a\\|b | &lt;b&gt; |
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from audit.report.formatting import fmt

__all__ = ["NEEDS_INPUT", "FILLERS", "build", "markdown", "write_docx"]

NEEDS_INPUT = "[NEEDS INPUT]"
Block = tuple[str, Any]  # ("h1"|"h2"|"p"|"note"|"needs", text), ("bullets", [text]), ("table", [[cell]])
MAX_ROWS = 60  # rows of a table that grows with the data; the rest are in results.json


def _v(value: Any) -> str:
    """A value in a cell: numbers to three decimals, lists joined, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt(value) if isinstance(value, float) else str(value)
    if isinstance(value, list):
        return ", ".join(_v(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_v(v)}" for k, v in value.items())
    return str(value)


def _ci(ci: Any) -> str:
    return f"{fmt(ci[0])} to {fmt(ci[1])}" if isinstance(ci, list) and len(ci) == 2 and None not in ci else "-"


def _identity(r: dict) -> list[Block]:
    m = r["model"]
    fav = m.get("favorable_class")
    return [("table", [["Item", "Recorded value"], ["Model file", m["path"]], ["Model SHA-256", m["sha256"]],
                       ["Framework, type, task", f"{m['framework']}, {m['type']}, {m['task']}"],
                       ["Format, loaded with", f"{m.get('format', '-')}, {m.get('loaded_with', '-')}"],
                       ["Loaded without the allow-list (trusted)", _v(m.get("trusted"))],
                       ["Classes", _v(m.get("classes"))],
                       ["Favourable class", "-" if fav is None else f"{fav} ({m.get('favorable_class_source')})"],
                       ["Audited with", f"xai-audit {r['tool_version']} on {r['created_at']}"]])]


def _data(r: dict) -> list[Block]:
    d = r["data"]
    features = d["features"]
    shown = ", ".join(features[:40]) + (f" and {len(features) - 40} more (results.json, data.features)"
                                        if len(features) > 40 else "")
    missing = {k: v for k, v in (d.get("missing_values") or {}).items() if v}
    return [("table", [["Item", "Recorded value"], ["Data file", d["path"]], ["Data SHA-256", d["sha256"]],
                       ["Rows", _v(d["rows"])], [f"Model inputs ({len(features)})", shown],
                       ["Target column", _v(d.get("target"))], ["Role of the data (as declared)", _v(d.get("role"))],
                       ["Rows explained, background rows", f"{len(d.get('explained_rows') or [])}, "
                                                           f"{_v(d.get('background_rows'))}"],
                       ["Columns with missing values", ", ".join(f"{k} ({v})" for k, v in missing.items()) or "none"],
                       ["Class balance", _v(d.get("class_balance"))]])]


def _verdict(r: dict) -> list[Block]:
    checks = r["gate"]["checks"]
    passed = sum(c["passed"] for c in checks)
    word = "PASSED" if r["gate"]["passed"] else "FAILED"
    out: list[Block] = [("p", f"Policy gate verdict recorded by xai-audit: {word} ({passed} of {len(checks)} checks "
                              "passed). This is the outcome of the configured policy's thresholds, not a "
                              "conclusion on the model's fitness for use.")]
    failed = [f"{c['name']} ({c.get('verdict', 'fail')}): {c['message']}" for c in checks if not c["passed"]]
    return out + ([("bullets", failed)] if failed else [])


def _checks(r: dict) -> list[Block]:
    rows = [["Check", "Verdict", "Value", "Threshold", "Blocks", "Detail"]]
    rows += [[c["name"], c.get("verdict", "pass" if c["passed"] else "fail"), _v(c["value"]), _v(c["threshold"]),
              _v(c.get("blocking")), c["message"]] for c in r["gate"]["checks"]]
    return [("table", rows)]


def _faithfulness(r: dict) -> list[Block]:
    rows = [["Method", "Kind", "Faithfulness score", "95% CI", "Rows explained", "Passed its checks"]]
    passing = set(r["gate"].get("passing_explainers") or [])
    rows += [[e["method"], e["kind"], _v(e["faithfulness_score"]), _ci(e.get("faithfulness_score_ci95")),
              _v(e["rows_explained"]), _v(e["method"] in passing)] for e in r["explanations"]]
    agreement = r.get("agreement") or {}
    pair = agreement.get("least_agreeing_pair")
    out: list[Block] = [("p", "Faithfulness scores are normalised so that a random explanation scores about 0 and "
                              "an explainer-independent reference about 1 (see the report's methodology)."),
                        ("table", rows)]
    if pair:
        out.append(("p", f"Least agreeing pair of methods: {_v(pair)}."))
    return out


def _metrics(r: dict) -> list[Block]:
    methods = [e["method"] for e in r["explanations"]]
    names = list(dict.fromkeys(k for e in r["explanations"] for k in e["faithfulness"]))
    rows = [["Metric (normalised score)", *methods]]
    for name in names:
        rows.append([name, *(_v((e["faithfulness"].get(name) or {}).get("normalised_score"))
                             for e in r["explanations"])])
    return [("table", rows)] if names else [("p", "No faithfulness metric was recorded.")]


def _performance(r: dict) -> list[Block]:
    perf = r.get("performance")
    if not perf:
        return [("p", "Performance was not measured (no target column).")]
    rows = [["Measure", "Value"]] + [[k, _v(v)] for k, v in perf.items() if isinstance(v, (int, float, str))
                                     and not isinstance(v, bool)]
    return [("table", rows)]


def _validation(r: dict) -> list[Block]:
    v = r.get("validation") or {}
    rows = [["Measure", "Value"]]
    cal, disc = v.get("calibration"), v.get("discrimination")
    if cal:
        rows += [["Expected calibration error", _v(cal.get("ece"))], ["Brier score", _v(cal.get("brier"))],
                 ["Calibration intercept, slope", f"{_v(cal.get('intercept'))}, {_v(cal.get('slope'))}"]]
    if disc:
        rows += [[f"{k.upper()} (95% CI)", f"{_v(disc.get(k))} ({_ci(disc.get(f'{k}_ci95'))})"]
                 for k in ("auc", "gini", "ks") if k in disc]
    missing = [f"{k}: {why}" for k, why in (v.get("not_measured") or {}).items()]
    return ([("table", rows)] if len(rows) > 1 else []) + ([("bullets", missing)] if missing else [])


def _fairness(r: dict) -> list[Block]:
    of = (r.get("protected_attributes") or {}).get("outcome_fairness") or {}
    rows = [["Attribute", "Selection-rate ratio", "95% CI", "Lowest / highest group", "Equalised-odds difference"]]
    for attr, rec in (of.get("attributes") or {}).items():
        ratio, odds = rec.get("selection_rate_ratio") or {}, rec.get("equalized_odds_difference") or {}
        rows.append([attr, _v(ratio.get("value")), _ci(ratio.get("ci95")),
                     f"{ratio.get('lowest', '-')} / {ratio.get('highest', '-')}", _v(odds.get("value"))])
    if len(rows) == 1:
        return [("p", f"Outcome fairness was not measured: {of.get('not_measured') or 'no protected attribute'}.")]
    return [("table", rows)]


def _reasons(r: dict) -> list[Block]:
    decisions = r.get("decisions") or []
    adverse = sum(bool(d.get("adverse")) for d in decisions)
    ref, directions = r.get("reason_reference") or {}, r.get("reason_directions") or {}
    stability = directions.get("stability") or {}
    rows = [["Item", "Recorded value"], ["Decisions explained (adverse)", f"{len(decisions)} ({adverse})"],
            ["Reference of the reasons", f"{ref.get('method', '-')} ({ref.get('citation', '-')})"],
            ["Direction words confirmed by the model", f"{_v(directions.get('confirmed'))} of "
                                                       f"{_v(directions.get('claims'))}"],
            ["Reason sets unchanged with redrawn backgrounds", _v(stability.get("share_unchanged"))]]
    return [("table", rows)]


def _limitations(r: dict) -> list[Block]:
    notes = list(r.get("warnings") or [])
    notes += [f"{c['name']}: {c['message']}" for c in r["gate"]["checks"] if c.get("status") == "not_measured"]
    return [("p", "Limitations and warnings the tool recorded:"), ("bullets", notes)] if notes else \
        [("p", "The tool recorded no warning.")]


def _reproducibility(r: dict) -> list[Block]:
    rp = r.get("reproducibility") or {}
    versions = ", ".join(f"{k} {v}" for k, v in (rp.get("package_versions") or {}).items())
    return [("table", [["Item", "Recorded value"], ["Seed", _v(rp.get("seed"))],
                       ["Configuration SHA-256", _v(rp.get("config_sha256"))],
                       ["Command line", _v(rp.get("command_line") or "Python API")],
                       ["Platform", _v(rp.get("platform"))], ["Package versions", versions or "-"]])]


def _stability(r: dict) -> list[Block]:
    ps = (r.get("validation") or {}).get("population_stability")
    if not ps:
        why = ((r.get("validation") or {}).get("not_measured") or {}).get("population_stability", "not recorded")
        return [("p", f"Population stability was not measured ({why}).")]
    rows = [["Population stability", "PSI"], ["Score", _v((ps.get("score") or {}).get("psi"))]]
    worst = sorted(((n, rec.get("psi")) for n, rec in (ps.get("inputs") or {}).items()), key=lambda x: -(x[1] or 0))
    return [("table", rows + [[f"Input {n}", _v(p)] for n, p in worst[:10]])]


def _challenger(r: dict) -> list[Block]:
    ch = r.get("challenger")
    return [("p", f"Benchmark recorded by xai-audit: {ch['summary']}")] if ch and ch.get("summary") else \
        [("p", "No interpretable challenger was fitted (it needs a target column).")]


FILLERS: dict[str, Callable[[dict], list[Block]]] = {
    "identity": _identity, "data": _data, "verdict": _verdict, "checks": _checks, "faithfulness": _faithfulness,
    "metrics": _metrics, "performance": _performance, "validation": _validation, "fairness": _fairness,
    "reasons": _reasons, "limitations": _limitations, "reproducibility": _reproducibility, "stability": _stability,
    "challenger": _challenger,
}


def build(record: dict, template: Any, trace: dict, *, source: str, source_sha256: str) -> list[Block]:
    """The document's blocks: title and provenance, each part (figures, then prompts), the trace appendix."""
    out: list[Block] = [("h1", template.title), ("p", template.intro),
                        ("note", f"Filled from {source} (SHA-256 {source_sha256}), written by xai-audit "
                                 f"{record['tool_version']} on {record['created_at']} (schema "
                                 f"{record['schema_version']}).")]
    for part in template.parts:
        out.append(("h2", part.heading))
        if part.clause:
            out.append(("note", f"Follows: {part.clause}."))
        if part.fill:
            out.append(("p", "From results.json (measured by xai-audit; figures, not conclusions):"))
            for name in part.fill:
                out += FILLERS[name](record)
        out += [("needs", prompt) for prompt in part.needs]
    return out + _trace_appendix(trace, template.trace_prefixes)


def _trace_appendix(trace: dict, prefixes: tuple[str, ...]) -> list[Block]:
    """The clauses of this skeleton's regimes and the checks of the audit that support each."""
    keep = [k for k in trace["clauses"] if not prefixes or k.startswith(prefixes)]
    rows = [["Clause", "Citation", "Checks of this audit that give evidence for it", "Measures recorded, sections"]]
    for key in keep:
        clause = trace["clauses"][key]
        checks = [f"{c['name']} ({c['verdict']})" for c in trace["checks"] if key in c["clauses"]]
        other = [m["name"] for m in trace["measures"] if m["recorded"] and key in m["clauses"]]
        other += [f"section {s['name']}" for s in trace["sections"] if key in s["clauses"]]
        rows.append([key, f"{clause['regime']}: {clause['citation']}", ", ".join(checks) or "none in this audit",
                     ", ".join(other) or "none"])
    return [("h2", "Appendix: regulation trace"),
            ("note", f"Regulation trace {trace['version']} ({trace['source']}); an index of evidence by clause "
                     "number, not a legal opinion on whether a clause is met."), ("table", rows),
            ("needs", "Whether this evidence is sufficient for each clause, in the institution's assessment.")]


def _text(text: Any) -> str:
    """One line of Markdown text: whitespace collapsed, and HTML in a value (a column named ``<img ...>``) shown as
    text, never rendered."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: Any) -> str:
    return _text(text).replace("|", "\\|")


def markdown(blocks: list[Block]) -> str:
    """The blocks as Markdown (pipes in cells escaped, every line break made a space, HTML shown as text)."""
    lines: list[str] = []
    for kind, body in blocks:
        if kind in ("h1", "h2"):
            lines += [f"{'#' if kind == 'h1' else '##'} {_cell(body)}", ""]
        elif kind == "p":
            lines += [_text(body), ""]
        elif kind == "note":
            lines += [f"*{_text(body)}*", ""]
        elif kind == "needs":
            lines += [f"- **{NEEDS_INPUT}** {_text(body)}", ""]
        elif kind == "bullets":
            lines += [f"- {_text(b)}" for b in body] + [""]
        elif kind == "table":
            rows = body[:MAX_ROWS + 1]
            lines += ["| " + " | ".join(_cell(c) for c in rows[0]) + " |", "|" + " --- |" * len(rows[0])]
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows[1:]]
            if len(body) > MAX_ROWS + 1:
                lines.append(f"\n*{MAX_ROWS} of {len(body) - 1} rows shown; all are in results.json.*")
            lines.append("")
    return "\n".join(lines)


def write_docx(blocks: list[Block], path: Path, *, created_at: str) -> None:
    """The blocks as a Word document (python-docx); each [NEEDS INPUT] prompt in bold."""
    from datetime import datetime

    import docx

    doc = docx.Document()
    stamp = datetime.fromisoformat(created_at)
    doc.core_properties.created = doc.core_properties.modified = stamp
    doc.core_properties.author = "xai-audit"
    for kind, body in blocks:
        if kind in ("h1", "h2"):
            doc.add_heading(str(body), level=0 if kind == "h1" else 1)
        elif kind in ("p", "note"):
            para = doc.add_paragraph(" ".join(str(body).split()))
            para.runs[0].italic = kind == "note"
        elif kind == "needs":
            para = doc.add_paragraph(style="List Bullet")
            para.add_run(NEEDS_INPUT + " ").bold = True
            para.add_run(" ".join(str(body).split()))
        elif kind == "bullets":
            for item in body:
                doc.add_paragraph(" ".join(str(item).split()), style="List Bullet")
        elif kind == "table":
            rows = body[:MAX_ROWS + 1]
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    table.cell(i, j).text = " ".join(str(value).split())
    doc.save(str(path))
