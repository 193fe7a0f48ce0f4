"""Every table and paragraph of both reports survives extreme but legal content (property-based, seeded).

One real audit (and its comparison with itself) is rendered again after hypothesis has inflated its
records: thousands of columns, names and values of up to 10,000 characters, thousands of category levels
and groups, right-to-left, combining, CJK and emoji characters, many protected attributes, a long
organisation name, many warnings and configuration lines. Each rendering must go through the CLI's
error handling without an exit 3 and give a PDF whose every page is A4 and whose length stays bounded.
Bounded for CI: ``derandomize=True``, a handful of examples plus one explicit all-extremes case.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from rich.console import Console

from audit.gate import Check
from tests.conftest import FAST_TOML, SAMPLES

A4 = (595, 842)
MAX_PAGES = 60  # the sample renders about 20; what a bounded report may grow to with every extreme at once

# Character classes a real data file can hold: Latin, right-to-left (Hebrew, Arabic, marks), combining
# accents, CJK, emoji, a zero-width joiner, and characters special to PDF markup, matplotlib and formats.
ALPHABET = st.sampled_from(
    [*"abcXYZ019 _-/.:", *"אבגדה", *"مرحبا", "\u0301", "\u0308", "\u20dd", *"漢字表", "😀", "👩\u200d💻",
     "\u200f", "\u202e", *"$<>&{}%\\\"'#", "\t"])
LENGTHS = st.sampled_from([1, 40, 300, 10_000])


@st.composite
def long_text(draw: Any, lengths: Any = LENGTHS) -> str:
    """A string of a drawn length: a short random run repeated (one long word when it has no space)."""
    run = "".join(draw(st.lists(ALPHABET, min_size=1, max_size=12)))
    n = draw(lengths)
    return (run * (n // len(run) + 1))[:n]


class Extremes(dict):
    """The drawn sizes and strings; printed short (a falsifying example holds 10,000-character strings)."""

    def __repr__(self) -> str:
        return "Extremes(" + ", ".join(f"{k}={v!r}" if isinstance(v, int) else f"{k}=<{len(v):,} chars {v[:16]!r}…>"
                                        for k, v in self.items()) + ")"


EXTREMES = st.fixed_dictionaries({
    "feature": long_text(), "value": long_text(), "organisation": long_text(),
    "ignored": st.sampled_from([0, 3, 500, 20_000]), "ignored_name": long_text(st.sampled_from([1, 40, 1000])),
    "levels": st.sampled_from([2, 50, 3000]), "group": long_text(st.sampled_from([1, 40, 2000])),
    "attributes": st.sampled_from([1, 2, 4]), "warnings": st.sampled_from([0, 5, 300]),
    "config_lines": st.sampled_from([3, 5000]), "message": long_text(),
}).map(Extremes)
ALL_AT_ONCE = Extremes({"feature": "ק\u0301" * 5000, "value": "$x^{" * 2500, "organisation": "Ørganisation 😀 " * 700,
               "ignored": 20_000, "ignored_name": "fs_feature_", "levels": 3000, "group": "漢" * 2000,
               "attributes": 2, "warnings": 300, "config_lines": 5000, "message": "m" * 10_000})
CONFIG = FAST_TOML + """
explainers = ["coefficients", "shap"]
favorable_class = "1"
[policy]
protected_attributes = ["sex", "age"]
[report]
adverse_decisions = 1
"""


@pytest.fixture(scope="module")
def base() -> tuple[Any, Any]:
    """A real audit of the sample logistic regression, and that audit compared with itself."""
    from audit.commands.compare import compare_results
    from audit.commands.runner import run_audit
    from audit.config import parse_config

    config = parse_config(CONFIG, overrides={"target": "risk"})
    result = run_audit(SAMPLES / "models" / "credit_logreg.skops", SAMPLES / "german_credit.csv", config=config)
    record = result.to_json()
    return result, compare_results(record, record, config=config)


def _rename(obj: Any, names: dict[str, str]) -> Any:
    """``obj`` with every string equal to a key of ``names`` (dict keys included) replaced by its value."""
    if isinstance(obj, str):
        return names.get(obj, obj)
    if isinstance(obj, dict):
        return {_rename(k, names): _rename(v, names) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_rename(x, names) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: _rename(getattr(obj, f.name), names)
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def _groups(groups: list[dict], n: int, name: str) -> list[dict]:
    return [{**groups[i % len(groups)], "group": f"{name}{i}"} for i in range(n)]


def _extreme_audit(result: Any, x: dict[str, Any]) -> Any:
    names = {"purpose": x["feature"], "radio/TV": x["value"], "car": x["value"] + "2"}
    data = {**result.data, "ignored_columns": [f"{x['ignored_name']}{i}" for i in range(x["ignored"])]}
    prot = dict(result.protected)
    fair = dict(prot["outcome_fairness"])
    attrs = {}
    for k in range(x["attributes"]):
        for attr, a in result.protected["outcome_fairness"]["attributes"].items():
            groups = _groups(a["groups"], x["levels"], x["group"])
            ratio = a.get("selection_rate_ratio") and {**a["selection_rate_ratio"], "highest": groups[0]["group"],
                                                       "lowest": groups[-1]["group"]}
            attrs[f"{attr}{x['group'][:50] * k}{k or ''}"] = {**a, "groups": groups, "selection_rate_ratio": ratio}
    prot["outcome_fairness"] = {**fair, "attributes": attrs}
    prot["not_model_inputs"] = [f"{x['group']}{i}" for i in range(x["attributes"] * 10)]
    prot["by_explainer"] = {m: {**v, "per_attribute": {f"{x['group']}{i}": 0.01 for i in range(x["levels"])}}
                            for m, v in prot["by_explainer"].items()}
    checks = (*result.gate.checks, *(Check(f"group_size:{x['group']}{i}", False, 3.0, 30.0, x["message"],
                                           blocking=False) for i in range(min(x["attributes"], 10))))
    config = {**result.config, "report": {**result.config["report"], "organisation": x["organisation"],
                                          "review_contact": x["message"]}}
    repro = {**result.reproducibility, "config_text": "\n".join(f"key_{i} = {x['value']!r}"
                                                                  for i in range(x["config_lines"]))}
    out = dataclasses.replace(result, data=data, protected=prot, config=config, reproducibility=repro,
                              gate=dataclasses.replace(result.gate, checks=checks),
                              warnings=tuple(f"{x['message']} {i}" for i in range(x["warnings"])))
    return _renamed(out, names)


def _renamed(result: Any, names: dict[str, str]) -> Any:
    """The result with its input and category names replaced in every record the report reads."""
    keep = {"outcomes", "recourse", "attributions", "background", "typical", "gate"}
    return dataclasses.replace(result, **{f.name: _rename(getattr(result, f.name), names)
                                          for f in dataclasses.fields(result) if f.init and f.name not in keep})


def _extreme_compare(compare: Any, x: dict[str, Any]) -> Any:
    names = {"purpose": x["feature"]}
    flips = dict(compare.flips)
    flips["transitions"] = {f"{x['value'][:300]}{i} -> {x['group'][:300]}{i}": i for i in range(x["levels"])}
    flips["by_group"] = {f"{attr}{x['group'][:80]}{k}": {**g, "groups": _groups(g["groups"], x["levels"], x["group"])}
                         for k in range(x["attributes"]) for attr, g in compare.flips["by_group"].items()}
    drift = dict(compare.explanation_drift)
    method = drift["method"]
    drift["by_method"] = {**drift["by_method"], method: {**drift["by_method"][method],
                          "only_baseline": [f"{x['ignored_name']}{i}" for i in range(x["ignored"])],
                          "only_candidate": [x["feature"]]}}
    reasons = {**compare.reasons, "examples": [{**e, "baseline_reason": x["message"], "candidate_reason": x["value"]}
                                               for e in compare.reasons["examples"]]}
    out = dataclasses.replace(
        compare, flips=flips, explanation_drift=drift, reasons=reasons,
        report={**compare.report, "organisation": x["organisation"], "title": x["message"]},
        reproducibility={**compare.reproducibility, "config_text": "\n".join([x["value"]] * x["config_lines"])},
        warnings=tuple(f"{x['message']} {i}" for i in range(x["warnings"])))
    keep = {"audits", "gate"}
    return dataclasses.replace(out, **{f.name: _rename(getattr(out, f.name), names)
                                       for f in dataclasses.fields(out) if f.init and f.name not in keep})


def _render(write: Any, result: Any) -> PdfReader:
    """Write the outputs through the CLI's error handling: a clean exit, or the message and code."""
    from audit.cli import _guarded
    from report_templates import load_template

    err = io.StringIO()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        code = _guarded(lambda: write(result, out, template=load_template("credit_decision")) and 0,
                        Console(file=err, width=200), False)
        assert code == 0, err.getvalue()[-3000:]
        pdf = next(p for p in out.iterdir() if p.suffix == ".pdf")
        reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes == {A4}, sizes
    assert len(reader.pages) <= MAX_PAGES, len(reader.pages)
    return reader


BOUNDED = dict(deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])


@settings(max_examples=2, **BOUNDED)
@example(ALL_AT_ONCE)
@given(x=EXTREMES)
def test_audit_report_lays_out_any_legal_content(base, x):
    from audit.report import write_outputs

    reader = _render(write_outputs, _extreme_audit(base[0], x))
    if x["ignored"] > 20:
        text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages[:8])
        assert f"{x['ignored']:,} columns not used by the model; the first 20" in text


@settings(max_examples=6, **BOUNDED)
@example(ALL_AT_ONCE)
@given(x=EXTREMES)
def test_compare_report_lays_out_any_legal_content(base, x):
    from audit.report import write_compare_outputs

    _render(write_compare_outputs, _extreme_compare(base[1], x))


HOSTILE = Extremes({**ALL_AT_ONCE, "feature": "<script>alert(1)</script>" * 200, "value": '"><img src=x onerror=alert(1)>',
                    "organisation": "<b>&amp;</b> & <a href='https://example.org'>x</a>", "group": "</td></table>" * 50,
                    "message": "<!-- " * 2000})


@pytest.mark.parametrize("x", [ALL_AT_ONCE, HOSTILE], ids=["all_at_once", "markup_in_the_data"])
def test_html_report_holds_any_legal_content_escaped(base, x):
    """The HTML twin of the extreme audit: every value from the data is text, never markup; only the layout's own
    tags appear, and no URL."""
    from audit.report.html import html_report
    from report_templates import load_template

    page = html_report(_extreme_audit(base[0], x), load_template("credit_decision"))
    tags = set(re.findall(r"<(?:/)?([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {"html", "head", "meta", "title", "style", "body", "a", "header", "h1", "h2", "h3", "p", "span",
                    "div", "nav", "ol", "li", "main", "section", "table", "colgroup", "col", "thead", "tbody", "tr",
                    "th", "td", "button", "b", "br", "figure", "img", "footer", "script"}, tags
    assert page.count("<script") == 1 and "<img src=x" not in page and "<!-- <!--" not in page
    assert not re.search(r"<[a-z]+\s[^<>]*(href|src)=['\"]?https?:", page)  # a URL in the data stays text
