"""The report package's shape: sections registered by name with a render function, templates naming only
registered sections, prose in the templates, small modules and functions, reportlab kept inside."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import audit
import audit.report
from audit.report.sections import COMPARE_SECTIONS, SECTIONS
from report_templates import available_templates, base_wording, load_template

REPORT = Path(audit.report.__file__).parent


def test_every_section_name_resolves_to_a_render_function_of_one_argument():
    for table in (SECTIONS, COMPARE_SECTIONS):
        for name, render in table.items():
            assert callable(render), name
            assert list(inspect.signature(render).parameters) == ["ctx"], name


def test_every_template_orders_only_registered_sections():
    for name in available_templates():
        template = load_template(name)
        assert template.sections and set(template.sections) <= set(SECTIONS), name
        assert template.compare_sections and set(template.compare_sections) <= set(COMPARE_SECTIONS), name


def test_the_shared_wording_reaches_every_template_and_is_not_a_template_itself():
    shared = base_wording()
    assert "methodology_explanations" in shared and "_base" not in available_templates()
    for name in available_templates():
        wording = load_template(name).wording
        assert all(key in wording for key in shared), name


def test_every_wording_key_a_section_reads_is_in_every_shipped_template():
    """Prose is the templates': a key the code reads but a template lacks would print an empty paragraph."""
    keys: set[str] = set()
    for path in REPORT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'\.text\(\s*"(\w+)"', text)) | set(re.findall(r'\.wording\.get\(\s*"(\w+)"', text))
    assert {"methodology_recourse", "fairness_method", "compare_gate_text"} <= keys
    for name in available_templates():
        wording = load_template(name).wording
        assert [k for k in sorted(keys) if not wording.get(k)] == [], name


def test_no_report_module_over_400_lines_and_no_function_over_60():
    for path in sorted(REPORT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                assert length <= 60, f"{path.relative_to(REPORT)}: {node.name} is {length} lines"


def test_sections_never_look_a_section_up_by_method_name_and_reportlab_stays_in_the_report_package():
    for path in REPORT.rglob("*.py"):
        assert "section_" not in path.read_text(encoding="utf-8"), path
    for path in Path(audit.__file__).parent.rglob("*.py"):
        if REPORT not in path.parents:
            text = path.read_text(encoding="utf-8")
            assert "import reportlab" not in text and "from reportlab" not in text, path
