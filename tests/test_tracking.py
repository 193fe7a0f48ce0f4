"""`audit run --mlflow` against a local MLflow file store made in the test: artifacts, metrics, verdict and
SHA-256 tags on a new run or on the caller's active run; a missing extra or an unusable store is exit 2
before any work."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import FAST_TOML, SAMPLES, expect_verdict, save_pickle

mlflow = pytest.importorskip("mlflow")

CREDIT = SAMPLES / "german_credit.csv"
TOML = (FAST_TOML + 'explainers = ["coefficients"]\nfavorable_class = "1"\n'
        '[policy]\nprotected_attributes = ["sex"]\n')


@pytest.fixture()
def store(tmp_path, monkeypatch) -> str:
    """A fresh file store (MLflow 3 keeps the file backend behind MLFLOW_ALLOW_FILE_STORE)."""
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return uri


@pytest.fixture(scope="module")
def fair_model(credit, tmp_path_factory) -> Path:
    from samples.make_samples import PROTECTED, credit_logreg_fair

    inputs = [c for c in credit.columns if c not in PROTECTED + ["risk"]]
    return save_pickle(credit_logreg_fair().fit(credit[inputs], credit["risk"]),
                       tmp_path_factory.mktemp("tracking") / "fair.pkl")


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_mlflow_option_logs_artifacts_scores_verdict_and_hashes_on_a_new_run(cli, store, fair_model, tmp_path):
    """Catches a run without the report or results, metrics that differ from results.json, a verdict tag that
    disagrees with the exit code, or hashes that do not identify the files."""
    cfg = tmp_path / "audit.toml"
    cfg.write_text(TOML)
    out = tmp_path / "out"
    code, _, err = cli("run", fair_model, CREDIT, "--target", "risk", "--config", cfg, "--out", out, "--mlflow")
    expect_verdict(code, out, passed=True, err=err)
    result = json.loads((out / "results.json").read_text())
    client = mlflow.tracking.MlflowClient(store)
    experiment = client.get_experiment_by_name("xai-audit")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert sorted(a.path for a in client.list_artifacts(run.info.run_id, "xai-audit")) == \
        ["xai-audit/report.pdf", "xai-audit/results.json"]
    local = Path(client.download_artifacts(run.info.run_id, "xai-audit", str(tmp_path / "dl")))
    assert _sha(local / "report.pdf") == _sha(out / "report.pdf") == run.data.tags["xai_audit.sha256.report.pdf"]
    assert _sha(local / "results.json") == run.data.tags["xai_audit.sha256.results.json"]
    scores = {e["method"]: e["faithfulness_score"] for e in result["explanations"]}
    assert run.data.metrics["faithfulness_score/coefficients"] == pytest.approx(scores["coefficients"])
    ratio = result["protected_attributes"]["outcome_fairness"]["attributes"]["sex"]["selection_rate_ratio"]["value"]
    assert run.data.metrics["selection_rate_ratio/sex"] == pytest.approx(ratio)
    assert run.data.metrics["gate_passed"] == (1.0 if code == 0 else 0.0)
    assert run.data.tags["xai_audit.gate"] == ("passed" if code == 0 else "failed") == \
        ("passed" if result["gate"]["passed"] else "failed")
    assert run.data.tags["xai_audit.sha256.model"] == _sha(fair_model) == result["model"]["sha256"]
    assert run.data.tags["xai_audit.sha256.data"] == _sha(CREDIT)
    assert run.data.tags["xai_audit.sha256.config"] == result["reproducibility"]["config_sha256"]


def test_an_active_run_receives_the_audit_and_stays_open(store, fair_model, tmp_path):
    """Catches logging that opens a second run, or ends the caller's run, when one is already active."""
    from audit.commands.runner import run_audit
    from audit.commands.tracking import log_audit
    from audit.config import parse_config

    result = run_audit(fair_model, CREDIT, config=parse_config(TOML, overrides={"infer_target": False}))
    results_json = tmp_path / "results.json"
    results_json.write_text(result.dumps())
    mlflow.set_experiment("validation")
    with mlflow.start_run() as outer:
        assert log_audit(result, {"json": results_json}) == outer.info.run_id
        assert mlflow.active_run().info.run_id == outer.info.run_id
    client = mlflow.tracking.MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("validation").experiment_id])
    assert client.get_experiment_by_name("xai-audit") is None
    assert run.data.tags["xai_audit.failed_checks"] == ", ".join(c.name for c in result.gate.failed)
    assert not result.gate.passed and run.data.tags["xai_audit.gate"] == "failed"  # no target: randomisation fails
    assert run.data.tags["xai_audit.sha256.results.json"] == _sha(results_json)


def test_missing_extra_or_unusable_store_is_exit_2_before_any_work(cli, store, fair_model, tmp_path, monkeypatch):
    """Catches a traceback, or an audit that runs (and writes) before finding it cannot log."""
    cfg = tmp_path / "audit.toml"
    cfg.write_text(TOML)
    args = ("run", fair_model, CREDIT, "--target", "risk", "--config", cfg, "--mlflow", "--out")
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (not_a_folder / "mlruns").as_uri())
    code, _, err = cli(*args, tmp_path / "a")
    assert code == 2 and "MLFLOW_TRACKING_URI" in err and not (tmp_path / "a").exists()
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    code, _, err = cli(*args, tmp_path / "b")
    assert code == 2 and "pip install 'xai-audit[mlflow]'" in " ".join(err.split()) and not (tmp_path / "b").exists()
