"""The CLI as CI uses it: exit codes, outputs, messages."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SAMPLES, save_pickle


@pytest.fixture()
def model(tmp_path, credit_logreg):
    return save_pickle(credit_logreg, tmp_path / "logreg.pkl")


def test_run_writes_report_and_results_and_exit_code_follows_gate(cli, model, tmp_path, fast_config):
    out = tmp_path / "out"
    junit = tmp_path / "junit.xml"
    code, _stdout, err = cli("run", model, SAMPLES / "german_credit.csv", "--target", "risk", "--config", fast_config,
                             "--out", out, "--junit", junit)
    results = json.loads((out / "results.json").read_text())
    assert code == (0 if results["gate"]["passed"] else 1)
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "Gate" in err and "Scoring faithfulness" in err  # progress and verdict on stderr
    xml = junit.read_text()
    assert xml.count("<testcase") == len(results["gate"]["checks"])
    assert not list(tmp_path.glob(".audit-tmp-*"))


def test_failing_gate_exits_1_and_still_writes_the_report(cli, model, tmp_path):
    cfg = tmp_path / "strict.toml"
    cfg.write_text("rows = 20\nbackground = 30\nlime_num_samples = 200\nstability_rows = 4\nstability_seeds = 2\n"
                   "bootstrap = 30\nrandom_controls = 2\n[policy]\nmin_faithfulness_score = 0.99\n")
    out = tmp_path / "out"
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--config", cfg, "--out", out,
                       "--explainers", "lime", "--quiet")
    assert code == 1, err
    assert (out / "report.pdf").exists() and (out / "results.json").exists()
    assert err == ""  # --quiet


def test_passing_gate_says_why_failed_checks_do_not_block(cli, model, tmp_path):
    cfg = tmp_path / "lenient.toml"
    cfg.write_text("rows = 20\nbackground = 30\nlime_num_samples = 200\nstability_rows = 4\nstability_seeds = 2\n"
                   "bootstrap = 30\nrandom_controls = 2\n[policy]\nrequire_randomisation_check = false\nprotected_attributes = []\n"
                   "[policy.explainers.lime]\nmin_faithfulness_score = 0.99\n")
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "out",
                       "--explainers", "coefficients,lime")
    assert code == 0, err
    assert "✗ faithfulness:lime" in err
    assert "1 explainer(s) passed every check (coefficients); need 1: the failed checks below are findings" in err


def test_unknown_config_key_is_exit_2_naming_the_key(cli, model, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[policy]\nmin_faithfulness = 0.4\n")
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2
    assert "policy.min_faithfulness" in err and "min_faithfulness_score" in err
    assert not (tmp_path / "o").exists()


def test_mistyped_config_value_is_exit_2(cli, model, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('rows = "many"\n')
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--config", cfg, "--out", tmp_path / "o")
    assert code == 2 and "'rows'" in err


def test_unknown_explainer_is_exit_2_with_valid_names(cli, model, tmp_path):
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--explainers", "shapp", "--out", tmp_path / "o")
    assert code == 2 and "shapp" in err and "coefficients" in err
    assert not (tmp_path / "o").exists()


def test_unknown_template_is_exit_2(cli, model, tmp_path):
    code, _, err = cli("run", model, SAMPLES / "german_credit.csv", "--template", "fancy", "--out", tmp_path / "o")
    assert code == 2 and "credit_decision" in err


def test_missing_argument_is_usage_error_exit_2(cli):
    code, _, _ = cli("run")
    assert code == 2


def test_python_dash_m_entry_point_and_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "audit", "run", str(tmp_path / "x.pkl"), str(tmp_path / "d.csv")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "not found" in res.stderr


def test_debug_shows_traceback(cli, tmp_path):
    from audit.errors import InputError

    with pytest.raises(InputError):
        cli("run", tmp_path / "x.pkl", tmp_path / "d.csv", "--debug")


def test_existing_report_is_not_replaced_by_a_failed_run(cli, model, tmp_path, fast_config):
    out = tmp_path / "out"
    code, _, _ = cli("run", model, SAMPLES / "german_credit.csv", "--config", fast_config, "--out", out, "--quiet",
                     "--explainers", "coefficients")
    before = (out / "results.json").read_bytes()
    code, _, _ = cli("run", model, tmp_path / "missing.csv", "--out", out, "--quiet")
    assert code == 2
    assert (out / "results.json").read_bytes() == before
