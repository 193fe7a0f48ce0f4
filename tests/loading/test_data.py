"""Bad data always gets exit 2 with the file, column and row named, and nothing is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from tests.conftest import expect_verdict, save_pickle


@pytest.fixture()
def model_file(tmp_path, credit_logreg):
    return save_pickle(credit_logreg, tmp_path / "model.pkl")


def _run(cli, model, data, tmp_path, *extra):
    out = tmp_path / "out"
    code, stdout, err = cli("run", model, data, "--out", out, "--quiet", *extra)
    return code, err, out


def test_missing_data_file(cli, model_file, tmp_path):
    code, err, out = _run(cli, model_file, tmp_path / "nope.csv", tmp_path)
    assert code == 2 and "nope.csv" in err and "not found" in err
    assert not out.exists()


def test_empty_data_file(cli, model_file, tmp_path):
    data = tmp_path / "empty.csv"
    data.write_text("")
    code, err, out = _run(cli, model_file, data, tmp_path)
    assert code == 2 and "empty" in err
    assert not out.exists()


def test_header_only_data_file(cli, model_file, tmp_path, credit):
    data = tmp_path / "header.csv"
    data.write_text(",".join(credit.columns) + "\n")
    code, err, _ = _run(cli, model_file, data, tmp_path)
    assert code == 2 and "no data rows" in err


def test_missing_columns_are_listed_up_to_five(cli, model_file, tmp_path, credit):
    data = tmp_path / "missing.csv"
    credit.drop(columns=["sex", "job", "housing", "duration", "age", "purpose"]).to_csv(data, index=False)
    code, err, out = _run(cli, model_file, data, tmp_path)
    assert code == 2
    assert "6 column(s)" in err and "and 1 more" in err
    shown = [n for n in ("sex", "job", "housing", "duration", "age", "purpose") if repr(n) in err]
    assert len(shown) == 5  # at most five named, in the model's order
    assert not out.exists()


def test_text_in_numeric_column_names_column_and_row(cli, model_file, tmp_path, credit):
    bad = credit.copy()
    bad["duration"] = bad["duration"].astype(object)
    bad.loc[41, "duration"] = "twelve"
    data = tmp_path / "text.csv"
    bad.to_csv(data, index=False)
    code, err, out = _run(cli, model_file, data, tmp_path)
    assert code == 2
    assert "'duration'" in err and "row 42" in err and "twelve" in err
    assert not out.exists()


def test_nan_where_model_cannot_take_it(cli, tmp_path, credit):
    X = credit[["duration", "credit_amount", "age"]]
    model = save_pickle(LogisticRegression(max_iter=500).fit(X, credit["risk"]), tmp_path / "plain.pkl")
    bad = credit[["duration", "credit_amount", "age", "risk"]].copy().astype(float)
    bad.loc[9, "credit_amount"] = np.nan
    data = tmp_path / "nan.csv"
    bad.to_csv(data, index=False)
    code, err, out = _run(cli, model, data, tmp_path, "--target", "risk")
    assert code == 2
    assert "'credit_amount'" in err and "row 10" in err and "missing" in err
    assert not out.exists()


def test_nan_is_fine_when_the_pipeline_imputes(cli, tmp_path, credit, credit_logreg, fast_config):
    model = save_pickle(credit_logreg, tmp_path / "m.pkl")
    gappy = credit.copy()
    gappy.loc[[3, 50], "age"] = np.nan
    data = tmp_path / "gappy.csv"
    gappy.to_csv(data, index=False)
    code, err, out = _run(cli, model, data, tmp_path, "--target", "risk", "--config", fast_config,
                          "--explainers", "coefficients")
    expect_verdict(code, out, passed=False, err=err)
    assert (out / "report.pdf").exists()


def test_unknown_target_column(cli, model_file, tmp_path):
    from tests.conftest import SAMPLES

    code, err, _ = _run(cli, model_file, SAMPLES / "german_credit.csv", tmp_path, "--target", "rsik")
    assert code == 2 and "'rsik'" in err and "Did you mean 'risk'" in err


def test_extra_columns_are_ignored_and_listed(tmp_path, credit, credit_logreg):
    from audit.adapters import describe_model
    from audit.loading import load_data

    frame = credit.copy()
    frame["customer_id"] = range(len(frame))
    data = tmp_path / "extra.csv"
    frame.to_csv(data, index=False)
    ds = load_data(data, describe_model(credit_logreg), target="risk")
    assert ds.ignored_columns == ("customer_id",)
    assert any("customer_id" in w for w in ds.warnings)


def test_positional_matching_warns_when_model_has_no_names(tmp_path, credit):
    from audit.adapters import describe_model
    from audit.loading import load_data

    X = credit[["duration", "age"]].to_numpy()
    model = LogisticRegression().fit(X, credit["risk"])
    data = tmp_path / "pos.csv"
    pd.DataFrame(X, columns=["d", "a"]).to_csv(data, index=False)
    ds = load_data(data, describe_model(model))
    assert ds.feature_names == ("d", "a")
    assert any("position" in w for w in ds.warnings)


@pytest.mark.parametrize("name,write", [
    ("semicolon.csv", lambda f, p: f.to_csv(p, sep=";", index=False)),
    ("tabs.tsv", lambda f, p: f.to_csv(p, sep="\t", index=False)),
    ("bom.csv", lambda f, p: p.write_text(f.to_csv(index=False), encoding="utf-8-sig")),
    ("crlf.csv", lambda f, p: p.write_bytes(f.to_csv(index=False).replace("\n", "\r\n").encode())),
    ("packed.csv.gz", lambda f, p: f.to_csv(p, index=False, compression="gzip")),
])
def test_common_csv_dialects_read_the_same(name, write, tmp_path, credit, credit_logreg):
    from audit.adapters import describe_model
    from audit.loading import load_data

    spec = describe_model(credit_logreg)
    plain = tmp_path / "plain.csv"
    credit.to_csv(plain, index=False)
    write(credit, tmp_path / name)
    a, b = load_data(plain, spec, target="risk"), load_data(tmp_path / name, spec, target="risk")
    np.testing.assert_array_equal(a.X, b.X)
    assert a.space.categories == b.space.categories and list(a.target) == list(b.target)
    assert not b.warnings


def test_windows_1252_file_is_read_with_a_warning(tmp_path, credit, credit_logreg):
    from audit.adapters import describe_model
    from audit.loading import load_data

    frame = credit.copy()
    frame.loc[0, "purpose"] = "voiture d'occasion (cliché)"
    data = tmp_path / "excel.csv"
    data.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    ds = load_data(data, describe_model(credit_logreg), target="risk")
    assert "voiture d'occasion (cliché)" in ds.space.categories["purpose"]
    assert any("Windows-1252" in w for w in ds.warnings)


def test_decimal_comma_gets_a_hint(cli, model_file, tmp_path, credit):
    frame = credit.copy()
    frame["duration"] = frame["duration"].map(lambda v: f"{v},5")
    data = tmp_path / "eu.csv"
    frame.to_csv(data, sep=";", index=False)
    code, err, out = _run(cli, model_file, data, tmp_path)
    assert code == 2 and "'duration'" in err and "decimal comma" in err
    assert not out.exists()
