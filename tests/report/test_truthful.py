"""Every sentence true for the model at hand: outcome semantics, identity, findings, data role, layout.

The numbered comments refer to the report-truthfulness issue (items 1-12).
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from pypdf import PdfReader

from audit.config import parse_config
from audit.report import junit_xml, write_outputs
from audit.report.pdf import render_pdf
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, expect_verdict, save_pickle

CREDIT_WORDS = ("applicant", "application", "credit", "approval", "approved (", "declin", "loan", "bank", "lend",
                "repaid")
FAST = FAST_TOML + 'explainers = ["coefficients", "shap"]\n'


def _text(pdf) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(str(pdf)).pages)


def _compact(text: str) -> str:
    """Text with the zero-width break opportunities and the line breaks they allowed removed."""
    return " ".join(text.replace("\u200b\n", "").replace("\u200b", "").split())


@pytest.fixture(scope="module")
def loans_files(tmp_path_factory):
    """Synthetic loans whose target ``default`` = 1 is the bad outcome, and a logistic model of it."""
    from sklearn.linear_model import LogisticRegression
    from synthetic import make_loans

    tmp = tmp_path_factory.mktemp("loans")
    df = make_loans(400, seed=0)
    features = [c for c in df.columns if c != "default"]
    model = save_pickle(LogisticRegression(max_iter=1000).fit(df[features], df["default"]), tmp / "model.pkl")
    data = tmp / "data.csv"
    df.to_csv(data, index=False)
    return model, data


def _run(files, toml: str, **overrides):
    from audit.commands.runner import run_audit

    model, data = files
    return run_audit(model, data, config=parse_config(toml, overrides=overrides))


@pytest.fixture(scope="module")
def neutral(loans_files, tmp_path_factory):
    """No favourable class, no target (randomisation findings), a gate that passes on them."""
    toml = FAST + "infer_target = false\n[policy]\nmin_explainers_passing = 0\n"
    result = _run(loans_files, toml)
    pdf = tmp_path_factory.mktemp("neutral") / "r.pdf"
    render_pdf(result, load_template("credit_decision"), pdf)
    return result, _text(pdf), toml


# 1 -------------------------------------------------------------------------------------------------
def test_outcomes_are_neutral_and_flagged_when_the_favourable_class_is_not_set(neutral):
    result, text, _ = neutral
    low = text.lower().replace("approved by (compliance)", "")  # the sign-off role, not an outcome
    assert "approved" not in low and "declined" not in low
    assert re.search(r"Decision for data row \d+: outcome [01]", text)
    assert result.to_json()["model"]["favorable_class_source"] == "assumed"
    assert any("favorable_class is not set" in w for w in result.warnings)
    assert "NOT SET (favorable_class" in _compact(text)


def test_configured_favourable_class_drives_the_outcome_words(loans_files, tmp_path):
    result = _run(loans_files, 'favorable_class = "0"\n' + FAST + "infer_target = false\n")
    render_pdf(result, load_template("credit_decision"), tmp_path / "r.pdf")
    text = _text(tmp_path / "r.pdf")
    adverse = [d for d in result.decisions if d.adverse]
    assert adverse and all(d.outcome == "1" for d in adverse)
    titles = re.findall(r"Decision for data row \d+: ([^\n]+)", text)
    assert titles and all(t.startswith("declined (class 1)") for t in titles)
    assert result.to_json()["model"]["favorable_class_source"] == "config"


def test_report_outcomes_label_each_class(loans_files, tmp_path):
    toml = 'favorable_class = "0"\n' + FAST + 'infer_target = false\n[report.outcomes]\n"1" = "defaulted"\n"0" = "repays"\n'
    result = _run(loans_files, toml)
    render_pdf(result, load_template("credit_decision"), tmp_path / "r.pdf")
    text = _text(tmp_path / "r.pdf")
    assert "Decision for data row" in text and "defaulted" in text and "approved" not in text


def test_a_template_may_not_carry_outcome_labels_or_identity(tmp_path):
    from audit.errors import ConfigError

    bad = tmp_path / "t.toml"
    bad.write_text('organisation = "Example Bank plc"\n[outcome_labels]\n"1" = "approved"\n')
    with pytest.raises(ConfigError, match=r"audit\.toml"):
        load_template(str(bad))


# 2 -------------------------------------------------------------------------------------------------
def test_no_fictional_bank_and_identity_from_report_config(neutral, loans_files, tmp_path):
    _, text, _ = neutral
    assert "Example Bank" not in text and "example-bank" not in text
    assert "Organisation not set" in text and "No review contact is configured" in _compact(text)
    toml = FAST + 'infer_target = false\n[report]\norganisation = "Acme Lending Ltd"\nreview_contact = "review@acme.test"\n'
    result = _run(loans_files, toml)
    render_pdf(result, load_template("credit_decision"), tmp_path / "r.pdf")
    text = _text(tmp_path / "r.pdf")
    assert "Acme Lending Ltd" in text and "review@acme.test" in text
    assert PdfReader(str(tmp_path / "r.pdf")).metadata.author == "Acme Lending Ltd"
    assert not any("organisation is not set" in w for w in result.warnings)


# 3 -------------------------------------------------------------------------------------------------
def test_cover_and_summary_name_every_failed_check_and_why_it_does_not_block(neutral):
    result, text, _ = neutral
    assert result.gate.passed and result.gate.failed
    compact = _compact(text)
    cover = _compact(text.split("Sign-off")[0])
    summary = _compact(text.split("Executive summary")[-1].split("Scope and data")[0])
    for c in result.gate.failed:
        assert c.name in cover and c.name in summary
        assert not c.blocking
    assert "does not block by itself" in summary and "non-blocking finding" in cover
    assert f"{len(result.gate.failed)} non-blocking finding(s)" in compact


def test_junit_marks_findings_as_skipped_so_ci_matches_the_exit_code(neutral):
    result, _, _ = neutral
    xml = junit_xml(result)
    assert 'failures="0"' in xml and f'skipped="{len(result.gate.failed)}"' in xml
    assert "<failure" not in xml and xml.count("<skipped") == len(result.gate.failed)
    for check in result.gate.failed:  # each non-blocking failure carries its own verdict (finding, not_measured)
        assert check.verdict in ("finding", "not_measured")
        assert f'<property name="verdict" value="{check.verdict}"/>' in xml


# 10 ------------------------------------------------------------------------------------------------
def test_boilerplate_is_conditional_on_what_was_measured(neutral, loans_files, tmp_path):
    result, text, _ = neutral
    assert "a finding a validator must review" not in text
    # fails only for the randomisation check (no target): faithfulness was fine, so no claim that the
    # reasons could not be shown to be accurate
    failing = _run(loans_files, FAST + "infer_target = false\n")
    assert not failing.gate.passed
    assert all(c.passed for c in failing.gate.checks if c.name.startswith("faithfulness:"))
    render_pdf(failing, load_template("credit_decision"), tmp_path / "f.pdf")
    assert "could not be shown to be accurate" not in _compact(_text(tmp_path / "f.pdf"))


# 4 -------------------------------------------------------------------------------------------------
def test_generic_template_has_no_credit_wording(loans_files, tmp_path):
    toml = ('favorable_class = "0"\n' + FAST + '[policy]\nprotected_attributes = ["income", "debt_ratio"]\n'
            'protected_as_input = "finding"\n')  # the policy of a non-credit use
    result = _run(loans_files, toml, target="default")
    assert result.decisions and result.performance
    render_pdf(result, load_template("generic"), tmp_path / "g.pdf")
    low = _compact(_text(tmp_path / "g.pdf")).lower()
    assert "is configured as a protected attribute" in low  # the warning path was rendered too
    found = [w for w in CREDIT_WORDS if w in low]
    assert not found, found
    render_pdf(result, load_template("credit_decision"), tmp_path / "c.pdf")
    assert "applicant" in _text(tmp_path / "c.pdf").lower()  # the search can find them


# 5 -------------------------------------------------------------------------------------------------
def test_api_records_the_config_text_it_was_given_and_no_command_line(neutral, tmp_path):
    result, text, toml = neutral
    rp = result.reproducibility
    assert rp["config_text"] == toml
    assert rp["config_sha256"] == hashlib.sha256(toml.encode()).hexdigest()
    assert rp["command_line"] is None and rp["entry_point"] == "python api"
    compact = _compact(text)
    assert "defaults; no audit.toml" not in compact and "run through the Python API" in compact
    assert "min_explainers_passing = 0" in compact


def test_pdf_bytes_do_not_depend_on_the_output_folder(cli, credit_logreg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    model = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    pdfs = []
    for out in ("a", "deeper/b"):
        args = ["run", model, SAMPLES / "german_credit.csv", "--target", "risk", "--config", cfg,
                "--out", tmp_path / out, "--quiet", "--explainers", "coefficients"]
        monkeypatch.setattr("sys.argv", ["audit", *map(str, args)])
        code, _, err = cli(*args)
        expect_verdict(code, tmp_path / out, passed=False, err=err)
        pdfs.append((tmp_path / out / "report.pdf").read_bytes())
        rp = json.loads((tmp_path / out / "results.json").read_text())["reproducibility"]
        assert str(tmp_path / out) in rp["command_line"]  # results.json keeps the full line
        assert json.loads((tmp_path / out / "results.json").read_text())["created_at"] == "2026-01-01T00:00:00+00:00"
    assert pdfs[0] == pdfs[1]  # two runs, two folders: the same bytes (SOURCE_DATE_EPOCH fixes the timestamp)


# 12 ------------------------------------------------------------------------------------------------
def test_target_is_inferred_when_exactly_one_column_fits(cli, tmp_path):
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    df = pd.read_csv(SAMPLES / "german_credit.csv")
    num = ["credit_amount", "duration", "age", "job"]
    model = save_pickle(RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0).fit(df[num], df["risk"]),
                        tmp_path / "rf.pkl")
    data = tmp_path / "d.csv"
    df[num + ["risk", "purpose"]].to_csv(data, index=False)
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    code, out, err = cli("run", model, data, "--config", cfg, "--out", tmp_path / "o")
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    assert results["data"]["target"] == "risk" and results["data"]["target_source"] == "inferred"
    assert "Target column 'risk' inferred" in out
    assert not any("required but not run" in c["message"] for c in results["gate"]["checks"])
    assert results["performance"] is not None
    assert "inferred" in _compact(_text(tmp_path / "o" / "report.pdf").split("Sign-off")[0])
    code, out, err = cli("run", model, data, "--config", cfg, "--out", tmp_path / "n", "--no-target", "--quiet")
    assert json.loads((tmp_path / "n" / "results.json").read_text())["data"]["target_source"] == "none"
    code, _, err = cli("run", model, data, "--target", "risk", "--no-target", "--out", tmp_path / "x")
    assert code == 2 and "contradict" in err


def test_several_candidate_targets_are_listed_never_guessed(tmp_path):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from audit.adapters import describe_model
    from audit.loading import load_data

    df = pd.read_csv(SAMPLES / "german_credit.csv")
    model = LogisticRegression(max_iter=500).fit(df[["duration", "age"]], df["risk"])
    df["risk_copy"] = df["risk"]
    path = tmp_path / "d.csv"
    df[["duration", "age", "risk", "risk_copy"]].to_csv(path, index=False)
    ds = load_data(path, describe_model(model), infer_target=True)
    assert ds.target is None and ds.target_source == "none"
    assert any("'risk', 'risk_copy'" in w and "--target" in w for w in ds.warnings)


def test_regressor_and_torch_spec_targets(tmp_path):
    import pandas as pd

    from audit.loading._data import target_candidates
    from audit.types import ModelSpec

    frame = pd.DataFrame({"a": [1.0, 2.0], "y": [0.5, 0.7], "name": ["x", "z"]})
    assert target_candidates(frame, ModelSpec(("a",), 1, task="regression")) == ["y"]
    assert target_candidates(frame, ModelSpec(("a",), 1, task="binary", classes=("0", "1"))) == []
    assert target_candidates(frame, ModelSpec(("a",), 1, task="binary", classes=("0", "1"), target="name")) == ["name"]


# 6 -------------------------------------------------------------------------------------------------
def test_data_role_labels_performance_and_overfitting_is_warned(credit, tmp_path):
    from sklearn.ensemble import RandomForestClassifier

    from audit.commands.runner import run_audit

    num = ["credit_amount", "duration", "age", "job"]
    model = save_pickle(RandomForestClassifier(n_estimators=30, random_state=0).fit(credit[num], credit["risk"]),
                        tmp_path / "rf.pkl")
    data = tmp_path / "d.csv"
    credit[num + ["risk"]].to_csv(data, index=False)
    cfg = parse_config(FAST + 'data_role = "training"\n', overrides={"target": "risk"})
    result = run_audit(model, data, config=cfg)
    assert result.performance["data_role"] == "training" and result.data["role"] == "training"
    assert result.challenger["overfitting_warning"] and "overfitting" in " ".join(result.warnings)
    render_pdf(result, load_template("credit_decision"), tmp_path / "r.pdf")
    text = _compact(_text(tmp_path / "r.pdf"))
    assert "training data (in-sample)" in text and "possible overfitting" in text


# 9 -------------------------------------------------------------------------------------------------
def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        c = [int(h.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_verdict_colours_meet_wcag_aa_and_cells_are_drawn_white():
    from audit.report import layout

    for fill in (layout.GREEN, layout.AMBER, layout.RED, layout.GREY):
        assert _contrast(fill, layout.VERDICT_TEXT) >= 4.5, fill
    lay = layout.Layout(load_template("credit_decision"))
    cell = lay.table([["Result"], ["PASS"]], white={(0, 1)})._cellvalues[1][0]
    assert cell.style.textColor.hexval().lower() == "0x" + layout.VERDICT_TEXT.lstrip("#").lower()


def test_headers_and_check_names_never_break_inside_a_word(neutral, tmp_path):
    result, text, _ = neutral
    assert "Normalise d" not in text and "Threshol d" not in text
    lines = text.split("\n")
    for c in result.gate.checks:
        pieces = re.split(r"(?<=[_:])", c.name)
        assert c.name in _compact(text) or all(any(p in ln for ln in lines) for p in pieces), c.name
    for word in ("Normalised", "Threshold", "Randomisation"):
        assert word in text


def test_confusion_matrix_says_actual_and_predicted(loans_files, tmp_path):
    result = _run(loans_files, 'favorable_class = "0"\n' + FAST, target="default")
    render_pdf(result, load_template("credit_decision"), tmp_path / "r.pdf")
    text = _compact(_text(tmp_path / "r.pdf"))
    assert "actual declined (class 1)" in text and "predicted approved (class 0)" in text


# 11 ------------------------------------------------------------------------------------------------
def test_creation_date_matches_the_cover_date(neutral, tmp_path):
    result, _, _ = neutral
    render_pdf(result, load_template("generic"), tmp_path / "r.pdf")
    created = PdfReader(str(tmp_path / "r.pdf")).metadata.creation_date
    assert created.date().isoformat() == result.created_at[:10]


def test_write_outputs_from_the_api(neutral, tmp_path):
    result, _, _ = neutral
    paths = write_outputs(result, tmp_path / "o", template=load_template("generic"))
    assert paths["pdf"].exists()


def test_logo_resolves_inside_the_config_folder(tmp_path):
    import matplotlib.pyplot as plt

    from audit.errors import ConfigError
    from audit.loading import load_config_file

    fig = plt.figure(figsize=(1, 1))
    fig.savefig(tmp_path / "logo.png")
    plt.close(fig)
    cfg = tmp_path / "audit.toml"
    cfg.write_text('[report]\nlogo = "logo.png"\n')
    config, _ = load_config_file(cfg)
    assert config.report.logo == str((tmp_path / "logo.png").resolve())
    cfg.write_text('[report]\nlogo = "../elsewhere.png"\n')
    with pytest.raises(ConfigError, match="outside the config file's folder"):
        load_config_file(cfg)
    (tmp_path / "passwd.png").write_text("root:x:0:0:root:/root:/bin/bash\n")  # a system file named .png
    cfg.write_text('[report]\nlogo = "passwd.png"\n')
    with pytest.raises(ConfigError, match="not a PNG or JPEG image"):
        load_config_file(cfg)
