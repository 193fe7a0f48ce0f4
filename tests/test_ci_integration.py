"""The shipped CI integration: the GitHub workflow's audit command and the pre-commit hook run as written."""

from __future__ import annotations

import shlex
import shutil

import yaml

from tests.conftest import FAST_TOML, ROOT, SAMPLES, expect_verdict


def test_the_example_workflow_command_runs_and_annotates(cli, tmp_path, monkeypatch):
    """The `run:` line of examples/github-actions.yml, in a checkout laid out as it expects."""
    from samples.make_samples import main as build

    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text())
    steps = workflow["jobs"]["audit"]["steps"]
    (command,) = [s["run"] for s in steps if "run" in s and s["run"].startswith("audit run")]
    build(tmp_path / "models")
    (tmp_path / "data").mkdir()
    shutil.copy(SAMPLES / "german_credit.csv", tmp_path / "data" / "german_credit.csv")
    (tmp_path / "audit.toml").write_text(FAST_TOML)
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(*shlex.split(command)[1:])
    assert code == 1, err  # FAST_TOML's 40 rows fail the credit template's gate
    lines = out.strip().splitlines()
    assert lines[-1].startswith("::notice title=audit gate::") and ("PASSED" if code == 0 else "FAILED") in lines[-1]
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert (tmp_path / "audit-report" / "junit.xml").exists() and (tmp_path / "audit-report" / "report.pdf").exists()


def test_the_pre_commit_hook_entry_is_the_audit_command(cli, tmp_path, credit_logreg):
    from tests.conftest import save_pickle

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "xai-audit" and hook["pass_filenames"] is False and hook["language"] == "python"
    entry = shlex.split(hook["entry"])
    assert entry[0] == "audit"  # the console script installed by this package
    model = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    code, _, err = cli(*entry[1:], model, SAMPLES / "german_credit.csv", "--target", "risk", "--config", cfg,
                       "--out", tmp_path / "o", "--quiet")
    expect_verdict(code, tmp_path / "o", passed=False, err=err)


def test_github_format_reports_findings_as_warnings_and_blockers_as_errors():
    from audit.cli import github_annotations
    from audit.gate import Check, Gate

    gate = Gate(True, (Check("faithfulness:lime", False, 0.2, 0.5, "score 0.2 < 0.5", "lime", blocking=False),
                       Check("explainers_passing", True, 1.0, 1.0, "1 passed")))
    out = github_annotations(type("R", (), {"gate": gate})()).splitlines()
    assert out == ["::warning title=audit finding%3A faithfulness%3Alime::score 0.2 < 0.5",
                   "::notice title=audit gate::PASSED (1 of 2 checks passed)"]
