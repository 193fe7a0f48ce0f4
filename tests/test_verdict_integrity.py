"""A gate that fails for the model, never for the tool (issue #23): refits with pandas categoricals, not measured
when a refit is impossible, reasons only from a backed explainer, protected attributes inferred for credit."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier

from audit.commands.reasons import run_reasons
from audit.commands.runner import run_audit
from audit.config import parse_config
from audit.errors import GateRefusal
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"


@pytest.fixture(scope="module")
def credit_nan(tmp_path_factory):
    """German credit with missing values in a categorical and a numeric column."""
    df = pd.read_csv(CREDIT)
    rng = np.random.default_rng(0)
    df.loc[rng.choice(len(df), 80, replace=False), "saving_accounts"] = np.nan
    df.loc[rng.choice(len(df), 50, replace=False), "credit_amount"] = np.nan
    path = tmp_path_factory.mktemp("nan") / "credit_nan.csv"
    df.to_csv(path, index=False)
    return df, path


def _categorical_frame(df: pd.DataFrame) -> pd.DataFrame:
    X = df.drop(columns=["risk"])
    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]):
            X[c] = X[c].astype("category")
    return X


def test_native_categorical_hgb_with_nan_is_refitted_and_randomisation_is_measured(credit_nan, tmp_path):
    df, data = credit_nan
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=30, random_state=0)
    model.fit(_categorical_frame(df), df["risk"])
    path = save_pickle(model, tmp_path / "hgb.pkl")
    cfg = parse_config(FAST_TOML + "explainers = ['lime']\n", overrides={"target": "risk"})
    result = run_audit(path, data, config=cfg)  # loads without --trust-model (the generated allow-list)
    check = result.gate.check("randomisation:lime")
    assert check.status == "measured" and check.value is not None, check.message
    expl = result.explanations[0]
    assert expl.randomisation["similarity"] is not None
    # the audit's scores are the model's own on the categorical frame
    np.testing.assert_allclose(result.outcomes.score, model.predict_proba(_categorical_frame(df))[:, 1], atol=1e-12)


class VendorModel(ClassifierMixin, BaseEstimator):
    """A model that predicts but cannot be refitted (a vendor's scorer)."""

    def __init__(self, weights=None):
        self.weights = weights

    def fit(self, X, y):
        raise ValueError("this vendor model cannot be trained here")

    @property
    def classes_(self):
        return np.array([0, 1])

    @property
    def feature_names_in_(self):
        return np.array(["duration", "credit_amount", "age"], dtype=object)

    @property
    def n_features_in_(self):
        return 3

    def predict_proba(self, X):
        z = np.asarray(X, dtype=float) @ np.asarray(self.weights)
        p = 1 / (1 + np.exp(-(z - z.mean())))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def test_a_model_that_cannot_be_refitted_is_not_measured_never_passed(tmp_path):
    path = save_pickle(VendorModel([-0.05, -0.0001, 0.02]), tmp_path / "vendor.pkl")
    cfg = parse_config(FAST_TOML + "explainers = ['lime']\n[policy]\nprotected_attributes = []\n",
                       overrides={"target": "risk"})
    result = run_audit(path, CREDIT, config=cfg, trust_model=True)
    check = result.gate.check("randomisation:lime")
    assert check.verdict == "not_measured" and "cannot be trained here" in check.message
    assert not check.passed and not result.gate.passed
    waived = parse_config(FAST_TOML + "explainers = ['lime']\n[policy]\nprotected_attributes = []\n"
                          "waive = ['randomisation']\nwaive_reason = 'vendor scorer, no training access'\n",
                          overrides={"target": "risk"})
    again = run_audit(path, CREDIT, config=waived, trust_model=True)
    assert again.gate.check("randomisation:lime").verdict == "waived"
    assert again.to_json()["gate"]["checks"][-1]["status"] == "measured"  # explainers_passing


def test_reasons_refuse_an_explainer_that_failed_the_gate(credit_logreg, tmp_path, cli):
    path = save_pickle(credit_logreg, tmp_path / "m.pkl")
    strict = FAST_TOML + "explainers = ['coefficients', 'lime']\n[policy]\nmin_faithfulness_score = 1.0\n"
    cfg = parse_config(strict, overrides={"target": "risk"})
    with pytest.raises(GateRefusal, match="did not pass|failed"):
        run_reasons(path, CREDIT, tmp_path / "r.csv", config=cfg, template=load_template("credit_decision"))
    assert not (tmp_path / "r.csv").exists()
    toml = tmp_path / "strict.toml"
    toml.write_text(strict)
    code, _, err = cli("reasons", path, CREDIT, "--out", tmp_path / "r.csv", "--config", toml, "--target", "risk",
                       "--trust-model")
    assert code == 1 and "faithfulness:" in err and not (tmp_path / "r.csv").exists()
    code, _, err = cli("reasons", path, CREDIT, "--out", tmp_path / "n.csv", "--config", toml, "--target", "risk",
                       "--trust-model", "--explainer", "coefficients")
    assert code == 0 and "did not pass the policy gate" in err
    meta = json.loads((tmp_path / "n.csv.meta.json").read_text())
    assert meta["explainer_gate"]["passed"] is False and meta["gate_warning"]
    assert any(c.startswith("faithfulness:coefficients") for c in meta["explainer_gate"]["failed_checks"])
    out = pd.read_csv(tmp_path / "n.csv")
    flagged = out.loc[out["adverse"], "protected_reason"].dropna()
    assert set(", ".join(flagged).split(", ")) <= {"sex", "age"} and len(flagged) > 0  # inferred for credit
    assert meta["protected_attributes"] == ["sex", "age"]


@pytest.mark.slow
def test_a_bare_credit_audit_looks_at_sex_and_age(cli, tmp_path):
    """`audit run credit_gbm.skops german_credit.csv` with no config: sex and age are inferred as protected and
    the model, which takes both as inputs, fails naming them; declaring none is said as such."""
    out = tmp_path / "out"
    code, stdout, err = cli("run", SAMPLES / "models" / "credit_gbm.skops", CREDIT, "--out", out)
    record = json.loads((out / "results.json").read_text())
    assert code == 1, err
    assert "protected attributes inferred from column names" in stdout + err
    assert record["protected_attributes"]["protected_source"] == "inferred"
    failed = {c["name"] for c in record["gate"]["checks"] if not c["passed"] and c["blocking"]}
    assert "protected_input:sex" in failed and "protected_input:age" in failed
    from pypdf import PdfReader

    cover = " ".join((PdfReader(out / "report.pdf").pages[0].extract_text() or "").split())
    assert "Protected attributes inferred from column names: sex (sex), age (age)" in cover


def test_inferred_protected_columns_that_are_not_inputs_are_kept_on_the_narrow_read():
    """With --target the reader parses only the columns it needs; inferred protected attributes that the model
    does not take (the fair sample leaves out sex and age) are among them, for proxies and outcome fairness."""
    from audit.adapters import describe_model
    from audit.config import AuditConfig
    from audit.loading import load_data, load_model
    from audit.measures.protected import settle_protected

    loaded = load_model(SAMPLES / "models" / "credit_logreg_fair.skops")
    spec = describe_model(loaded.obj, loaded.extra)
    config = AuditConfig(target="risk")
    ds = load_data(CREDIT, spec, target="risk", infer_target=True,
                   keep=lambda columns, target: settle_protected(config, columns, target)[0].policy.protected_attributes)
    assert set(ds.extra) == {"sex", "age"} and "sex" not in ds.feature_names
    settled, source, bases = settle_protected(config, [*ds.feature_names, "risk", *ds.ignored_columns], "risk")
    assert source == "inferred" and settled.policy.protected_attributes == ["sex", "age"]
    assert bases == {"sex": "sex", "age": "age"}


def test_only_a_template_that_infers_protected_attributes_infers_them():
    """credit_decision infers `sex` and `age` from the column names; generic does not (its protected attributes are
    what audit.toml names), and a credit audit whose data has no such column settles on none, inferred."""
    from audit.config import AuditConfig
    from audit.measures.protected import settle_protected

    columns = ["duration", "sex", "age", "purpose"]
    settled, source, bases = settle_protected(AuditConfig(), columns, None)
    assert (source, settled.policy.protected_attributes, bases) == ("inferred", ["sex", "age"], {"sex": "sex", "age": "age"})
    generic = AuditConfig(report={"template": "generic"})
    settled, source, bases = settle_protected(generic, columns, None)
    assert (source, settled.policy.protected_attributes, bases) == ("none", [], {})
    settled, source, bases = settle_protected(AuditConfig(), ["duration", "purpose"], None)
    assert (source, settled.policy.protected_attributes, bases) == ("inferred", [], {})
    # what audit.toml names is kept as it is, and says so: configured, or declared none
    for names, said in ((["age"], "configured"), ([], "declared_none")):
        config = AuditConfig.model_validate({"policy": {"protected_attributes": names}})
        settled, source, bases = settle_protected(config, columns, None)
        assert (source, settled.policy.protected_attributes, bases) == (said, names, {})
