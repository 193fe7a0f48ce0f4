"""`audit render`: the reports rebuilt from a stored results.json, the PDF byte for byte the one `audit run` wrote;
bad input exits 2 with one message and writes nothing."""

from __future__ import annotations

import json

import pytest

from audit.stored import result_from_json


def test_render_gives_the_run_s_pdf_and_html_byte_for_byte(html_sample, cli, tmp_path):
    out, _ = html_sample
    code, stdout, stderr = cli("render", str(out / "results.json"), "--out", str(tmp_path / "again"))
    assert code == 0, stderr
    assert "report.pdf" in stdout and "report.html" in stdout
    assert (tmp_path / "again" / "report.pdf").read_bytes() == (out / "report.pdf").read_bytes()
    assert (tmp_path / "again" / "report.html").read_bytes() == (out / "report.html").read_bytes()
    assert not (tmp_path / "again" / "results.json").exists()


@pytest.mark.parametrize(("flag", "written", "absent"), [("--html", "report.html", "report.pdf"),
                                                         ("--pdf", "report.pdf", "report.html")])
def test_render_writes_only_the_format_asked_for(html_sample, cli, tmp_path, flag, written, absent):
    out, _ = html_sample
    code, _, stderr = cli("render", str(out / "results.json"), flag, "--out", str(tmp_path), "--quiet")
    assert code == 0, stderr
    assert (tmp_path / written).read_bytes() == (out / written).read_bytes()
    assert not (tmp_path / absent).exists()


def test_the_rebuilt_result_holds_what_the_record_holds(html_sample):
    _, record = html_sample
    result = result_from_json(record)
    assert json.loads(result.dumps()) == record


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("content", "says"), [
    ("not json at all", "not readable as JSON"),
    ("[1, 2]", "not a results.json"),
    ('{"learner": {}}', "a model file saved as JSON"),
    ("major2", "schema_version '2.0'; this tool reads 1.x"),
    ("no_protected", "not a complete results.json (no 'protected_attributes')"),
])
def test_bad_input_is_one_message_and_exit_2(html_sample, cli, tmp_path, content, says):
    _, record = html_sample
    if content == "major2":
        content = json.dumps({**record, "schema_version": "2.0"})
    elif content == "no_protected":
        content = json.dumps({k: v for k, v in record.items() if k != "protected_attributes"})
    path = _write(tmp_path, "results.json", content)
    code, _, stderr = cli("render", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert says in " ".join(stderr.split()) and str(path) in " ".join(stderr.split())
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_file_or_a_folder_is_named(cli, tmp_path):
    code, _, stderr = cli("render", str(tmp_path / "results.json"))
    assert code == 2 and "no such file" in stderr
    code, _, stderr = cli("render", str(tmp_path))
    assert code == 2 and "a folder, not a file" in stderr
    model = _write(tmp_path, "model.pkl", "x")
    code, _, stderr = cli("render", str(model))
    assert code == 2 and "does not end in .json" in stderr
