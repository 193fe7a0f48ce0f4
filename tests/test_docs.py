"""``audit docs``: a documentation skeleton filled from a real results.json (the sample run), in Markdown and
DOCX, with every part a person must write marked [NEEDS INPUT]; bad input is exit 2 with nothing written."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from audit.report.docs import FILLERS, NEEDS_INPUT
from report_templates.docs import docs_templates, load_docs_template


def test_every_part_names_only_known_figures_and_the_templates_are_the_two_documented():
    assert docs_templates() == ["annex-iv", "sr11-7"]
    for name in docs_templates():
        tpl = load_docs_template(name)
        assert tpl.parts and all(p.needs or p.fill for p in tpl.parts)
        assert {f for p in tpl.parts for f in p.fill} <= set(FILLERS), name
    # every figure block is used by at least one skeleton
    assert {f for n in docs_templates() for p in load_docs_template(n).parts for f in p.fill} == set(FILLERS)


@pytest.mark.parametrize("template", ["annex-iv", "sr11-7"])
def test_docs_fills_the_skeleton_from_a_real_results_json(sample_run, tmp_path, cli, template):
    record = json.loads((sample_run / "results.json").read_text(encoding="utf-8"))
    out = tmp_path / f"{template}.md"
    code, _, err = cli("docs", sample_run / "results.json", "--template", template, "--out", out, "--docx")
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    tpl = load_docs_template(template)
    # every part is there, each prompt marked, in the template's order
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings == [p.heading for p in tpl.parts] + ["Appendix: regulation trace"]
    prompts = sum(len(p.needs) for p in tpl.parts) + 1  # + the appendix's sufficiency prompt
    assert text.count(f"**{NEEDS_INPUT}**") == prompts
    # the record's own figures, verbatim
    assert record["model"]["sha256"] in text and record["data"]["sha256"] in text
    for check in record["gate"]["checks"]:
        assert f"| {check['name']} |" in text or check["name"] in text
    score = record["explanations"][0]["faithfulness_score"]
    assert f"{score:.3f}" in text
    verdict = "PASSED" if record["gate"]["passed"] else "FAILED"
    assert f"Policy gate verdict recorded by xai-audit: {verdict}" in text
    # nothing claims the institution's judgement
    for claim in ("we conclude", "the model is fit", "is compliant", "complies with", "we confirm"):
        assert claim not in text.lower()
    # the DOCX says the same
    import docx

    document = docx.Document(str(out.with_suffix(".docx")))
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert sum(p.startswith(NEEDS_INPUT) for p in paragraphs) == prompts
    assert record["model"]["sha256"] in cells
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == headings


def test_the_trace_appendix_keeps_the_skeletons_regimes(sample_run, tmp_path, cli):
    out = tmp_path / "a.md"
    assert cli("docs", sample_run / "results.json", "--template", "annex-iv", "--out", out)[0] == 0
    appendix = out.read_text(encoding="utf-8").split("## Appendix: regulation trace")[1]
    assert "euaia.annex4.2g" in appendix and "sr11-7." not in appendix and "faithfulness:" in appendix
    out = tmp_path / "s.md"
    assert cli("docs", sample_run / "results.json", "--template", "sr11-7", "--out", out)[0] == 0
    appendix = out.read_text(encoding="utf-8").split("## Appendix: regulation trace")[1]
    assert "sr11-7.conceptual_soundness" in appendix and "regb.1002.9b2" in appendix and "euaia." not in appendix


def test_a_record_without_a_trace_gets_the_shipped_table_and_says_so(sample_run, tmp_path, cli):
    record = json.loads((sample_run / "results.json").read_text(encoding="utf-8"))
    del record["trace"]
    old = tmp_path / "results.json"
    old.write_text(json.dumps(record), encoding="utf-8")
    assert cli("docs", old)[0] == 0
    text = (tmp_path / "annex-iv.md").read_text(encoding="utf-8")
    assert "applied now: this results.json has no trace of its own" in text


def test_bad_input_is_exit_2_with_nothing_written(sample_run, tmp_path, cli):
    shutil.copy(sample_run / "results.json", tmp_path / "results.json")
    code, _, err = cli("docs", tmp_path / "results.json", "--template", "annex-v")
    assert code == 2 and "annex-iv, sr11-7" in err
    code, _, err = cli("docs", tmp_path / "nothing.json")
    assert code == 2 and "no such file" in err
    (tmp_path / "other.json").write_text('{"a": 1}', encoding="utf-8")
    code, _, err = cli("docs", tmp_path / "other.json")
    assert code == 2 and "not a results.json" in err
    code, _, err = cli("docs", tmp_path / "results.json", "--out", tmp_path / "x.docx")
    assert code == 2 and ".md" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json", "results.json"]
