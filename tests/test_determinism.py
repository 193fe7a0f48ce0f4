"""Same inputs, same verdict: nothing measured depends on how fast the model runs here (issue #23).

The budget is counted from the model's structure, never timed, so a model that sleeps on every call (a
loaded machine, a remote model) gives the same rows, counts, SHAP effort, values, verdict and report bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from audit.commands.runner import run_audit
from audit.config import parse_config
from audit.report import write_outputs
from report_templates import load_template
from tests.conftest import SAMPLES, expect_verdict, save_pickle

TOML = ("explainers = ['lime', 'shap']\nlime_num_samples = 200\nbackground = 30\nbootstrap = 50\nrandom_controls = 2\n"
        "audit_budget_s = 2\nscore_rows = 20\nprotected_rows = 100\n[recourse]\nrows = 3\nmax_evaluations = 200\n")


PAUSE = [0.0]  # seconds every call of SleepyPipeline waits: the same file is slow or fast as the test sets it


class SleepyPipeline(Pipeline):
    """A fitted pipeline that waits ``PAUSE[0]`` seconds on every call, as on a loaded machine."""

    def predict_proba(self, X, **params):
        time.sleep(PAUSE[0])
        return super().predict_proba(X, **params)

    def predict(self, X, **params):
        time.sleep(PAUSE[0])
        return super().predict(X, **params)


def _measured(record: dict) -> dict:
    """results.json without wall-clock seconds (the only thing allowed to differ)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if "seconds" not in k and k not in ("timings", "created_at")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x
    return strip(record)


def test_a_slower_model_gives_the_same_results_and_report_bytes(credit_logreg, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    records, pdfs = [], []
    path = save_pickle(SleepyPipeline(credit_logreg.steps), tmp_path / "m.pkl")
    for pause in (0.0, 0.004):
        PAUSE[0] = pause
        result = run_audit(path, SAMPLES / "german_credit.csv", trust_model=True,
                           config=parse_config(TOML, overrides={"target": "risk"}))
        records.append(result.to_json())
        out = write_outputs(result, tmp_path / f"out{pause}", template=load_template("credit_decision"))
        pdfs.append(out["pdf"].read_bytes())
    PAUSE[0] = 0.0
    plan = records[0]["reproducibility"]["audit_plan"]
    assert plan["reduced"] and plan["used"]["rows"] < 200  # the budget decided the counts, from the structure
    assert records[1]["reproducibility"]["timings_seconds"] != records[0]["reproducibility"]["timings_seconds"]
    assert _measured(records[0]) == _measured(records[1])
    assert pdfs[0] == pdfs[1]


@pytest.mark.slow
def test_three_concurrent_runs_give_one_verdict_and_identical_values(credit_logreg, tmp_path):
    """Three audits started together on this (small) machine load it and each other."""
    model = save_pickle(credit_logreg, tmp_path / "m.pkl")
    cfg = tmp_path / "audit.toml"
    cfg.write_text(TOML.replace("['lime', 'shap']", "['lime', 'coefficients']"))
    procs = [subprocess.Popen([sys.executable, "-m", "audit", "run", str(model), str(SAMPLES / "german_credit.csv"),
                               "--target", "risk", "--config", str(cfg), "--out", str(tmp_path / f"o{i}"),
                               "--trust-model", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(3)]
    codes = [p.wait(timeout=600) for p in procs]
    assert codes == [1, 1, 1], [p.stderr.read() for p in procs]
    for i in range(3):
        expect_verdict(codes[i], tmp_path / f"o{i}", passed=False)
    records = [_measured(json.loads((tmp_path / f"o{i}" / "results.json").read_text())) for i in range(3)]
    for r in records:
        r.pop("command_line", None)
        r.get("reproducibility", {}).pop("command_line", None)
    assert records[0] == records[1] == records[2]
    assert np.isfinite(records[0]["explanations"][0]["faithfulness_score"])


def test_a_wall_clock_limit_is_reported_and_changes_nothing_measured(credit_logreg, tmp_path):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    base = "explainers = ['coefficients']\nbootstrap = 50\nrandom_controls = 2\nscore_rows = 20\n"
    runs = [run_audit(path, SAMPLES / "german_credit.csv", config=parse_config(base + extra, overrides={"target": "risk"}))
            .to_json() for extra in ("", "time_limit_s = 0.001\n")]
    assert any(w.startswith("wall-clock limit exceeded") for w in runs[1]["warnings"])
    assert not any(w.startswith("wall-clock limit exceeded") for w in runs[0]["warnings"])
    for r in runs:
        r["warnings"] = [w for w in r["warnings"] if not w.startswith("wall-clock")]
        r["config"].pop("time_limit_s")
        r["reproducibility"].pop("config_sha256")
        r["reproducibility"].pop("config_text", None)
    assert _measured(runs[0]) == _measured(runs[1])
