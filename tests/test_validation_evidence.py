"""The validator's evidence in a whole audit (issue #27): results.json ``validation`` (schema-valid), its gate
checks, ``--reference-data`` population stability, expected directions, and the report section."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pypdf import PdfReader

from tests.conftest import FAST_TOML, SAMPLES, expect_verdict

CREDIT = SAMPLES / "german_credit.csv"
POLICY = "[policy]\nprotected_attributes = []\nrequire_randomisation_check = false\n"


@pytest.fixture(scope="module")
def development(tmp_path_factory):
    """A development sample in which loans were half again as long and the purposes differ."""
    frame = pd.read_csv(CREDIT)
    frame["duration"] = (frame["duration"] * 1.5).round()
    frame.loc[frame["purpose"] == "car", "purpose"] = "radio/TV"
    path = tmp_path_factory.mktemp("dev") / "development.csv"
    frame.to_csv(path, index=False)
    return path


def _run(cli, tmp_path, model, *extra, toml=FAST_TOML + POLICY):
    cfg = tmp_path / "audit.toml"
    cfg.write_text(toml)
    code, out, err = cli("run", SAMPLES / "models" / f"{model}.skops", CREDIT, "--config", cfg,
                         "--out", tmp_path / "out", *extra)
    return code, out, err


def test_reference_data_gives_psi_and_csi_checks_and_the_report_section(cli, tmp_path, development):
    from jsonschema import validate

    from audit.schema import schema as results_schema

    code, _, err = _run(cli, tmp_path, "credit_logreg", "--target", "risk", "--reference-data", development,
                        "--explainers", "coefficients")
    expect_verdict(code, tmp_path / "out", passed=True, err=err)
    record = json.loads((tmp_path / "out" / "results.json").read_text())
    validate(record, results_schema())
    v = record["validation"]
    st = v["population_stability"]
    assert st["reference_rows"] == 1000 and st["inputs"]["duration"]["psi"] > 0.25
    assert st["inputs"]["age"]["psi"] == 0.0 and st["inputs"]["purpose"]["unseen_categories"] == ["car"]
    assert st["score"]["psi"] > 0
    checks = {c["name"]: c for c in record["gate"]["checks"]}
    assert checks["characteristic_stability:duration"]["verdict"] == "finding"
    assert "car" in checks["characteristic_stability:purpose"]["message"]
    assert v["calibration"]["bins"] and v["discrimination"]["auc"] > 0.5
    assert sum(b["count"] for b in v["score_bands"]) == 1000
    assert [e["feature"] for e in v["effects"]] and len(v["effects"]) == 3
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(tmp_path / "out" / "report.pdf").pages)
    for words in ("The validator's evidence", "Calibration slope", "Score bands", "Population stability against",
                  "characteristic_stability:duration", "Effect curves"):
        assert words in text, words


def test_without_a_target_calibration_is_not_required_and_without_reference_not_measured(cli, tmp_path):
    code, _, err = _run(cli, tmp_path, "credit_logreg", "--no-target", "--explainers", "coefficients",
                        toml=FAST_TOML + POLICY + "max_calibration_error = 0.05\n")
    expect_verdict(code, tmp_path / "out", passed=True, err=err)
    record = json.loads((tmp_path / "out" / "results.json").read_text())
    v = record["validation"]
    assert v["calibration"] is None and "no target" in v["not_measured"]["calibration"]
    assert "--reference-data" in v["not_measured"]["population_stability"]
    check = next(c for c in record["gate"]["checks"] if c["name"] == "calibration_error")
    assert check["verdict"] == "not_required" and check["passed"]


def test_an_expected_direction_the_model_breaks_fails_the_gate_naming_the_input(cli, tmp_path):
    toml = FAST_TOML + POLICY + "expected_directions = {duration = 'decreasing', credit_amount = 'decreasing'}\n"
    code, out, err = _run(cli, tmp_path, "credit_gbm", "--target", "risk", "--explainers", "shap", toml=toml)
    record = json.loads((tmp_path / "out" / "results.json").read_text())
    checks = {c["name"]: c for c in record["gate"]["checks"]}
    assert code == 1 and checks["expected_direction:credit_amount"]["verdict"] == "fail"
    assert "credit_amount" in checks["expected_direction:credit_amount"]["message"]
    assert record["validation"]["expected_directions"]["duration"]["ale_change"] < 0  # overall it falls
    logreg = _run(cli, tmp_path, "credit_logreg", "--target", "risk", "--explainers", "coefficients",
                  toml=FAST_TOML + POLICY + "expected_directions = {duration = 'decreasing'}\n")
    record = json.loads((tmp_path / "out" / "results.json").read_text())
    expect_verdict(logreg[0], tmp_path / "out", passed=True, err=logreg[2])
    assert {c["name"]: c for c in record["gate"]["checks"]}["expected_direction:duration"]["verdict"] == "pass"


@pytest.mark.parametrize("toml,words", [
    ("expected_directions = {durration = 'decreasing'}\n", "not a model input"),
    ("expected_directions = {purpose = 'increasing'}\n", "categorical input"),
])
def test_a_bad_expected_direction_is_exit_2(cli, tmp_path, toml, words):
    code, _, err = _run(cli, tmp_path, "credit_logreg", "--target", "risk", toml=FAST_TOML + POLICY + toml)
    assert code == 2 and words in err
    assert not (tmp_path / "out").exists()


def test_a_reference_file_without_a_model_input_is_exit_2(cli, tmp_path):
    frame = pd.read_csv(CREDIT).drop(columns=["duration"])
    bad = tmp_path / "dev.csv"
    frame.to_csv(bad, index=False)
    code, _, err = _run(cli, tmp_path, "credit_logreg", "--target", "risk", "--reference-data", bad)
    assert code == 2 and "duration" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
