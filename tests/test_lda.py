"""The search for less discriminatory alternatives (issue #31): a seeded synthetic lender whose model leans on a
proxy of a protected attribute gets an alternative within 0.01 AUC with a higher adverse impact ratio, shown on
the frontier; a lender with no disparity is told no alternative was needed; the baseline's measures match a
refit by hand; bad input is exit 2 with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from tests.conftest import FAST_TOML, save_pickle

TOML = ('favorable_class = "1"\nbootstrap = 30\n[policy]\nprotected_attributes = ["group"]\n'
        '[lda]\nreduction_iterations = 3\n')


def lender(n: int, seed: int, bias: float) -> pd.DataFrame:
    """Applicants of groups A and B; `region` agrees with the group 85% of the time (a proxy); income, debt ratio
    and, with ``bias``, past decisions against group B drive the outcome `approved`."""
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.4, "B", "A")
    same = rng.random(n) < 0.85
    region = np.where(same == (group == "B"), "south", "north")
    income = rng.normal(50, 12, n) - 3 * (group == "B")
    debt = rng.uniform(0, 0.6, n)
    logit = 0.08 * (income - 50) - 4 * (debt - 0.3) + 0.8 - bias * (group == "B")
    approved = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"income": income.round(1), "debt_ratio": debt.round(3), "region": region, "group": group,
                         "approved": approved})


def pipeline(columns: list[str]):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in columns if c == "region"]
    return make_pipeline(ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), cat),
                                            ("num", StandardScaler(), [c for c in columns if c not in cat])]),
                         LogisticRegression())


@pytest.fixture(scope="module")
def biased(tmp_path_factory):
    """The lender with biased past decisions and a model on income, debt ratio and the proxy `region`."""
    tmp = tmp_path_factory.mktemp("lda_biased")
    data = lender(1000, seed=2, bias=0.8)
    data.to_csv(tmp / "loans.csv", index=False)
    inputs = ["income", "debt_ratio", "region"]
    model = pipeline(inputs).fit(data[inputs], data["approved"])
    (tmp / "audit.toml").write_text(TOML)
    path = save_pickle(model, tmp / "model.pkl")
    from typer.testing import CliRunner

    from audit.cli import app

    args = ["lda", path, tmp / "loans.csv", "--target", "approved", "--config", tmp / "audit.toml", "--out", tmp / "out"]
    res = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return tmp, data, model, path, res


def test_the_search_finds_a_less_discriminatory_alternative_on_the_frontier(biased):
    """Catches a search that misses dropping the proxy, a tolerance or AIR comparison the wrong way round, a
    found alternative left off the frontier or the report, and a statement that does not say what was found."""
    tmp, _, _, _, res = biased
    record = json.loads((tmp / "out" / "lda.json").read_text())
    assert res.exit_code == 0, res.stderr
    alts = {a["name"]: a for a in record["alternatives"]}
    base, drop = alts["baseline"], alts["without region"]
    assert record["attribute"] == "group" and record["proxies"][0] == "region" and record["needed"]
    assert base["air"] < 0.8 and drop["air"] > base["air"] + 0.05 and drop["auc"] >= base["auc"] - 0.01
    assert "without region" in record["found"] and drop["within_tolerance"] and drop["reduces_disparity"]
    assert any(alts[n]["on_frontier"] for n in record["found"])
    assert {a["family"] for a in record["alternatives"]} == {"baseline", "drop", "coarsen", "reduction", "threshold"}
    for name in record["found"]:
        assert alts[name]["auc"] >= base["auc"] - 0.01 and alts[name]["air"] > base["air"]
    low, high = drop["air_ci95"]
    assert low <= drop["air"] <= high
    import jsonschema

    from audit.schema import LDA

    jsonschema.validate(record, LDA)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp / "out" / "lda.pdf").pages).split())
    assert "Less discriminatory alternatives" in text and "Within 0.010 AUC of the baseline" in text
    assert f"{len(record['found'])} lie within 0.010 AUC of the baseline with a higher ratio" in text
    assert "without region" in text and "it does not replace or ship a model" in text


def test_the_baseline_is_the_pipeline_refitted_on_the_training_split(biased):
    """Catches a baseline measured on training rows, on the audited (not refitted) model, or with another AIR."""
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    from audit.commands.lda import run_lda
    from audit.config import parse_config
    from audit.measures.lda import split

    tmp, data, model, path, _ = biased
    record = run_lda(path, tmp / "loans.csv", config=parse_config(TOML, overrides={"target": "approved"}))
    train, hold = split(data["approved"].to_numpy() == 1, 0.3, 0)
    inputs = ["income", "debt_ratio", "region"]
    refit = clone(model).fit(data[inputs].iloc[train], data["approved"].iloc[train])
    p = refit.predict_proba(data[inputs].iloc[hold])[:, 1]
    approved = refit.predict(data[inputs].iloc[hold]) == 1
    rates = pd.Series(approved).groupby(data["group"].iloc[hold].to_numpy()).mean()
    base = record["alternatives"][0]
    assert record["holdout_rows"] == len(hold) == 300 and record["training_rows"] == 700
    assert base["auc"] == pytest.approx(roc_auc_score(data["approved"].iloc[hold], p), abs=1e-12)
    assert base["air"] == pytest.approx(rates.min() / rates.max(), abs=1e-12)
    written = json.loads((tmp / "out" / "lda.json").read_text())  # the command's run of the same search
    assert written["alternatives"] == json.loads(json.dumps(record["alternatives"]))  # seeded: the same numbers


def test_a_run_on_a_lender_without_disparity_says_no_alternative_was_needed(cli, tmp_path):
    """Catches a search that claims a need where the baseline meets the policy, or a run that drops the record or
    the report section."""
    data = lender(1000, seed=2, bias=0.0)
    data.to_csv(tmp_path / "loans.csv", index=False)
    inputs = ["income", "debt_ratio"]
    path = save_pickle(pipeline(inputs).fit(data[inputs], data["approved"]), tmp_path / "fair.pkl")
    (tmp_path / "audit.toml").write_text(FAST_TOML + 'explainers = ["coefficients"]\n' + TOML.replace(
        "bootstrap = 30\n", "").replace("[lda]\n", "[lda]\nenabled = true\n"))
    code, _, err = cli("run", path, tmp_path / "loans.csv", "--target", "approved", "--config",
                       tmp_path / "audit.toml", "--out", tmp_path / "out")
    assert code in (0, 1), err
    record = json.loads((tmp_path / "out" / "results.json").read_text())["lda"]
    assert record["alternatives"][0]["air"] >= 0.8 and record["needed"] is False
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp_path / "out" / "report.pdf").pages).split())
    assert "Less discriminatory alternatives" in text and "No alternative was needed" in text


@pytest.mark.parametrize("case", ["no target", "attribute", "tolerance"])
def test_bad_input_is_one_message_and_exit_2_with_nothing_written(biased, cli, case):
    """Catches a traceback, a wrong exit code or a half-written output for input the search cannot use."""
    tmp, _, _, path, _ = biased
    out = tmp / f"bad_{case.replace(' ', '_')}"
    if case == "no target":
        (tmp / "notarget.toml").write_text("infer_target = false\n" + TOML)
        code, _, err = cli("lda", path, tmp / "loans.csv", "--config", tmp / "notarget.toml", "--out", out)
    elif case == "attribute":
        (tmp / "attr.toml").write_text(TOML + 'attribute = "region"\n')
        code, _, err = cli("lda", path, tmp / "loans.csv", "--target", "approved", "--config", tmp / "attr.toml",
                           "--out", out)
    else:
        code, _, err = cli("lda", path, tmp / "loans.csv", "--target", "approved", "--tolerance", "2", "--out", out)
    assert code == 2 and "Traceback" not in err and not out.exists()
    assert {"no target": "give the target column with --target COL", "attribute": "lda.attribute 'region'", "tolerance": "--tolerance 2"}[case] in err
