"""Exit codes 1, 2 and 3 for the reasons they claim, with nothing partial written on 2 and 3.

The failing-gate test of tests/test_cli.py fails its gate without --target, so its randomisation check
is 'required but not run' whatever the faithfulness minimum says; here the gate is made to fail by the
faithfulness minimum alone, shown by the same run passing when only that minimum changes.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tests.conftest import FAST_TOML, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"


@pytest.fixture()
def model(tmp_path, credit_logreg):
    return save_pickle(credit_logreg, tmp_path / "logreg.pkl")


def _cfg(tmp_path, minimum: float):
    path = tmp_path / f"cfg{minimum}.toml"
    path.write_text(FAST_TOML + "[policy]\nrequire_randomisation_check = false\nprotected_attributes = []\n"
                    f"[policy.explainers.coefficients]\nmin_faithfulness_score = {minimum}\n")
    return path


def test_the_gate_fails_with_exit_1_because_of_the_faithfulness_minimum(cli, model, tmp_path):
    """Fails if exit 1 is reached for any other reason: the only failed checks are the explainer's
    faithfulness minimum and the count of passing explainers, and lowering that minimum alone gives 0."""
    out = tmp_path / "strict"
    code, _, err = cli("run", model, CREDIT, "--target", "risk", "--config", _cfg(tmp_path, 0.99), "--out", out,
                       "--explainers", "coefficients", "--quiet")
    gate = json.loads((out / "results.json").read_text())["gate"]
    failed = {c["name"] for c in gate["checks"] if not c["passed"]}
    assert code == 1, err
    assert failed == {"faithfulness:coefficients", "explainers_passing"}
    faith = next(c for c in gate["checks"] if c["name"] == "faithfulness:coefficients")
    assert faith["threshold"] == 0.99 and faith["value"] < 0.99
    code, _, err = cli("run", model, CREDIT, "--target", "risk", "--config", _cfg(tmp_path, -1.0), "--out",
                       tmp_path / "lenient", "--explainers", "coefficients", "--quiet")
    assert code == 0, err


def test_nan_in_the_target_is_exit_2_naming_column_and_row(cli, model, tmp_path):
    frame = pd.read_csv(CREDIT)
    frame.loc[6, "risk"] = np.nan
    data = tmp_path / "holes.csv"
    frame.to_csv(data, index=False)
    code, _, err = cli("run", model, data, "--target", "risk", "--out", tmp_path / "o")
    assert code == 2
    assert "target column 'risk' is empty at row 7 (line 8)" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_wrong_column_count_for_a_model_without_names_is_exit_2(cli, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    model = save_pickle(LogisticRegression().fit(X, (X[:, 0] > 0).astype(int)), tmp_path / "plain.pkl")
    data = tmp_path / "four.csv"
    pd.DataFrame(rng.normal(size=(30, 4)), columns=list("abcd")).to_csv(data, index=False)
    code, _, err = cli("run", model, data, "--out", tmp_path / "o")
    assert code == 2
    assert "expects 3 columns, but the file has 4" in err
    assert not (tmp_path / "o").exists()


def test_a_missing_config_file_is_exit_2(cli, model, tmp_path):
    code, _, err = cli("run", model, CREDIT, "--config", tmp_path / "nope.toml", "--out", tmp_path / "o")
    assert code == 2 and "nope.toml" in err and "file not found" in err
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_exit_2_and_the_file_is_untouched(cli, model, tmp_path):
    out = tmp_path / "report.txt"
    out.write_text("keep me")
    code, _, err = cli("run", model, CREDIT, "--out", out)
    assert code == 2 and "exists and is not a folder" in err
    assert out.read_text() == "keep me"


def test_a_bug_in_the_toolkit_is_exit_3_in_one_line_with_nothing_written(cli, model, tmp_path, monkeypatch):
    """Exit 3 is reserved for the toolkit's own bugs: an unexpected exception inside the run."""
    import audit.commands.runner

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(audit.commands.runner, "run_audit", broken)
    code, _, err = cli("run", model, CREDIT, "--out", tmp_path / "o")
    assert code == 3
    assert "internal error: ZeroDivisionError: boom" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
