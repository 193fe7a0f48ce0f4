"""--oracle: a known generating function as the upper control, from the command line."""

from __future__ import annotations

import json

import pytest
from sklearn.linear_model import LogisticRegression

from tests.conftest import FAST_TOML, expect_verdict, save_pickle


@pytest.fixture()
def synthetic(tmp_path, loans):
    features = [c for c in loans.columns if c != "default"]
    model = save_pickle(LogisticRegression().fit(loans[features], loans["default"]), tmp_path / "synth.pkl")
    data = tmp_path / "loans.csv"
    loans.to_csv(data, index=False)
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    return model, data, cfg


def test_oracle_from_the_command_line_is_the_upper_control(synthetic, cli, tmp_path):
    model, data, cfg = synthetic
    out = tmp_path / "out"
    code, _, err = cli("run", model, data, "--target", "default", "--config", cfg, "--out", out, "--quiet",
                       "--explainers", "coefficients,lime", "--oracle", "samples.synthetic:oracle")
    expect_verdict(code, out, passed=True, err=err)
    results = json.loads((out / "results.json").read_text())
    assert results["controls"]["oracle_kind"] == (
        "exact attribution from the known generating function samples.synthetic:oracle")
    scores = {e["method"]: e["faithfulness_score"] for e in results["explanations"]}
    # the fitted logistic regression recovers the generating log-odds: its exact attribution is as
    # faithful as the truth, and the sampled LIME comes close
    assert scores["coefficients"] > 0.9 and scores["lime"] > 0.6
    # without --oracle the reference is found by querying the model, never an explainer's output
    out2 = tmp_path / "out2"
    cli("run", model, data, "--target", "default", "--config", cfg, "--out", out2, "--quiet",
        "--explainers", "coefficients")
    results2 = json.loads((out2 / "results.json").read_text())
    assert results2["controls"]["oracle_kind"].startswith("model-derived reference")
    assert 0.9 <= results2["explanations"][0]["faithfulness_score"] < 1.0  # measured, not 1.00 by identity


@pytest.mark.parametrize("ref,needle", [
    ("tests.faithfulness.oracles:wrong_shape", "expected finite numbers of shape (40, 10)"),
    ("tests.faithfulness.oracles:raises", "raised KeyError"),
    ("tests.faithfulness.oracles:missing_column", "lacks column(s) 'income'"),
    ("tests.faithfulness.oracles:NOT_A_FUNCTION", "not a function"),
    ("tests.faithfulness.nope:f", "cannot import"),
    ("samples.synthetic", "expected 'package.module:function'"),
])
def test_bad_oracle_is_exit_2(ref, needle, synthetic, cli, tmp_path):
    model, data, cfg = synthetic
    code, _, err = cli("run", model, data, "--target", "default", "--config", cfg, "--out", tmp_path / "o",
                       "--quiet", "--explainers", "coefficients", "--oracle", ref)
    assert code == 2 and needle in err and "--oracle" in err, err
    assert not (tmp_path / "o").exists()
