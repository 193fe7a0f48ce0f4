"""`audit reasons`: every row's decision and principal reasons, streamed in chunks, CSV or Parquet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.commands.reasons import neutralise, run_reasons
from audit.commands.runner import run_audit
from audit.config import parse_config
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"


@pytest.fixture(scope="module")
def logreg_path(credit_logreg, tmp_path_factory):
    return save_pickle(credit_logreg, tmp_path_factory.mktemp("reasons") / "logreg.pkl")


def _reasons(model, data, out, **kw):
    cfg = parse_config(FAST_TOML, overrides={"target": "risk"})
    return run_reasons(model, data, out, config=cfg, template=load_template("credit_decision"), **kw)


def test_every_row_gets_the_reports_reasons(logreg_path, tmp_path):
    """The method is the report's choice and, on the rows the report explains, the reasons are the
    report's (fails if the background, sign rule or row numbering differ between the two paths)."""
    cfg = parse_config(FAST_TOML, overrides={"target": "risk"})
    report = run_audit(logreg_path, CREDIT, config=cfg)
    summary = _reasons(logreg_path, CREDIT, tmp_path / "r.csv", chunk_rows=128)
    out = pd.read_csv(tmp_path / "r.csv", dtype={"value_1": str})
    assert summary.rows_read == summary.rows_written == len(out) == 1000
    assert out["row"].tolist() == list(range(1, 1001))
    primary = report.decisions[0].method
    assert summary.method == primary and set(out["method"]) == {primary}
    by_row = out.set_index("row")
    for d in report.decisions:
        got = by_row.loc[d.row]
        assert got["adverse"] == d.adverse and str(got["decision"]) == d.outcome
        assert got["score"] == pytest.approx(d.prediction)
        for i, r in enumerate(d.reasons, start=1):
            assert got[f"feature_{i}"] == r["feature"] and got[f"contribution_{i}"] == pytest.approx(r["contribution"])


def test_adverse_only_parquet_and_chunk_size_do_not_change_the_rows(logreg_path, tmp_path):
    a = _reasons(logreg_path, CREDIT, tmp_path / "a.parquet", explainer="coefficients", adverse_only=True,
                 chunk_rows=1000)
    b = _reasons(logreg_path, CREDIT, tmp_path / "b.csv", explainer="coefficients", adverse_only=True, chunk_rows=77)
    pa, cb = pd.read_parquet(tmp_path / "a.parquet"), pd.read_csv(tmp_path / "b.csv")
    assert a.rows_written == b.rows_written == len(pa) == len(cb) and 0 < len(pa) < 1000
    assert pa["adverse"].all() and (pa["decision"] == "0").all()
    np.testing.assert_array_equal(pa["row"], cb["row"])
    np.testing.assert_allclose(pa["contribution_1"], cb["contribution_1"], atol=1e-12)
    assert pa["reason_1"].str.len().gt(0).all()


def test_parquet_input_with_a_category_unseen_until_a_later_chunk(logreg_path, credit, credit_logreg, tmp_path):
    """Content, not only the row count: every row's score is the model's own probability (the unseen category
    included, which the pipeline's encoder ignores), the decision its label, and the rows agree with one
    chunk read from CSV (fails if a later chunk is re-encoded, shifted or given another row's values)."""
    frame = credit.copy()
    frame.loc[63, "purpose"] = "=HYPERLINK(\"http://evil\")"  # unseen in training, in the second chunk
    frame.to_parquet(tmp_path / "data.parquet")
    summary = _reasons(logreg_path, tmp_path / "data.parquet", tmp_path / "r.csv", explainer="coefficients",
                       chunk_rows=50)
    out = pd.read_csv(tmp_path / "r.csv", dtype=str)
    assert summary.rows_read == len(out) == 1000 and out["row"].astype(int).tolist() == list(range(1, 1001))
    X = frame.drop(columns="risk")
    np.testing.assert_allclose(out["score"].astype(float), credit_logreg.predict_proba(X)[:, 1], rtol=1e-9)
    assert out["decision"].tolist() == [str(v) for v in credit_logreg.predict(X)]
    frame.to_csv(tmp_path / "data.csv", index=False)
    _reasons(logreg_path, tmp_path / "data.csv", tmp_path / "one.csv", explainer="coefficients", chunk_rows=1000)
    pd.testing.assert_frame_equal(out, pd.read_csv(tmp_path / "one.csv", dtype=str))
    # the unseen value reaches the output only neutralised, wherever it is named as a reason
    cells = out.loc[63].tolist()
    assert "=HYPERLINK(\"http://evil\")" not in cells
    assert all(not str(c).startswith("=") for c in out.to_numpy().ravel())


def test_formula_cells_are_neutralised_in_csv_output(tmp_path):
    """OWASP CSV injection: a data value such as =HYPERLINK(...) must not reach a spreadsheet as a formula."""
    from audit.commands.reasons import _writer

    with _writer(tmp_path / "r.csv", ["row", "value_1", "contribution_1"]) as write:
        write([[1, '=HYPERLINK("http://evil")', -0.5], [2, "+cmd|' /C calc'!A0", 0.1], [3, "-12", 0.2]])
    text = (tmp_path / "r.csv").read_text()
    assert "'=HYPERLINK" in text and "'+cmd" in text and ",-12," in text and ",-0.5" in text
    assert neutralise("-0.25") == "-0.25" and neutralise("@SUM(A1)") == "'@SUM(A1)" and neutralise(3) == 3


def test_cli_reasons_and_bad_output_path(logreg_path, cli, tmp_path):
    code, _, err = cli("reasons", logreg_path, CREDIT, "--out", tmp_path / "r.txt")
    assert code == 2 and ".csv or .parquet" in err
    code, _, err = cli("reasons", logreg_path, CREDIT, "--out", tmp_path / "r.csv", "--explainer", "coefficients",
                       "--adverse-only", "--chunk-rows", "400")
    assert code == 0, err
    assert "rows written" in err and (tmp_path / "r.csv").exists()
    assert not list(tmp_path.glob(".reasons-*"))  # the temporary file is gone


def test_the_explainers_algorithm_choice_is_recorded_beside_the_output(logreg_path, tmp_path):
    """Fails if the metadata does not say which SHAP algorithm produced the reasons (LinearExplainer for a
    logistic regression) or names another model file (its SHA-256 is recomputed here)."""
    import hashlib
    import json

    summary = _reasons(logreg_path, CREDIT, tmp_path / "r.csv", explainer="shap", chunk_rows=400)
    meta = json.loads((tmp_path / "r.csv.meta.json").read_text())
    assert summary.metadata_path == tmp_path / "r.csv.meta.json"
    assert meta["explainer"]["choice"] == summary.explainer["choice"] == "linear"
    assert meta["explainer"]["algorithm"] == "shap.LinearExplainer"
    assert meta["model_sha256"] == hashlib.sha256(logreg_path.read_bytes()).hexdigest()
    assert meta["rows_written"] == 1000 and meta["chunk_rows"] == 400 and meta["method"] == "shap"


def test_sample_file_is_seeded_uniform_and_independent_of_chunking(tmp_path):
    """Fails if the sample depends on how DATA is chunked, loses columns (the target too) or the file's row
    order, or is not uniform over the file (its mean row number would drift from the middle)."""
    from audit.loading._stream import sample_file

    frame = pd.DataFrame({"row": np.arange(20_000), "x": np.random.default_rng(0).normal(size=20_000),
                          "risk": np.arange(20_000) % 2})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    a, b, c = (tmp_path / n for n in ("a.csv", "b.csv", "c.parquet"))
    assert sample_file(tmp_path / "d.csv", a, [], rows=2000, seed=3, chunk_rows=20_000) == 20_000
    sample_file(tmp_path / "d.csv", b, [], rows=2000, seed=3, chunk_rows=777)
    sample_file(tmp_path / "d.parquet", c, [], rows=2000, seed=3, chunk_rows=1234)
    sa, sb, sc = pd.read_csv(a), pd.read_csv(b), pd.read_parquet(c)
    assert list(sa.columns) == ["row", "x", "risk"] and len(sa) == 2000
    pd.testing.assert_frame_equal(sa, sb)
    assert sa["row"].tolist() == sc["row"].tolist() and sa["row"].is_monotonic_increasing
    # uniform: the mean row number of 2,000 draws is within 4 standard errors of the file's middle
    assert abs(sa["row"].mean() - 9999.5) < 4 * 20_000 / np.sqrt(12 * 2000)
    other = tmp_path / "o.csv"
    sample_file(tmp_path / "d.csv", other, [], rows=2000, seed=4)
    assert pd.read_csv(other)["row"].tolist() != sa["row"].tolist()


def test_a_file_larger_than_the_choice_cap_is_chosen_on_a_sample(logreg_path, tmp_path, monkeypatch):
    """The choice audit of a big file reads a seeded sample (target included), never the whole file; the
    metadata says how many rows it saw (fails if the cap is ignored or the target is lost)."""
    import json

    import audit.commands.reasons as reasons_module

    monkeypatch.setattr(reasons_module, "CHOICE_ROWS", 300)
    seen = {}

    def spy(model, data, **kw):
        seen["rows"] = len(pd.read_csv(data))
        seen["columns"] = list(pd.read_csv(data, nrows=1).columns)
        return run_audit(model, data, **kw)

    _reasons(logreg_path, CREDIT, tmp_path / "r.csv", run=spy, chunk_rows=500)
    assert seen["rows"] == 300 and "risk" in seen["columns"]
    meta = json.loads((tmp_path / "r.csv.meta.json").read_text())
    assert meta["choice_audit_rows"] == 300 and meta["rows_written"] == 1000


def test_a_missing_data_file_is_exit_2_naming_it(logreg_path, cli, tmp_path):
    """Fails if counting DATA's rows (done before the choice audit) lets a missing file become a traceback."""
    code, _, err = cli("reasons", logreg_path, tmp_path / "nope.csv", "--out", tmp_path / "r.csv", "--trust-model")
    assert code == 2 and "nope.csv" in err and "not found" in err
    assert not (tmp_path / "r.csv").exists()


def test_chunks_explained_by_different_algorithms_are_counted_and_warned(logreg_path, tmp_path, monkeypatch, cli):
    """A later chunk whose automatic choice differs (TreeSHAP's fallback after a miss the first chunk did not
    show) must not hide behind the first chunk's record: rows per algorithm in the metadata, and a warning."""
    import dataclasses
    import json

    from explainers.shap_explainer import Shap

    real, seen = Shap.explain, []

    def explain(self, adapter, X, *, background, seed):
        attr = real(self, adapter, X, background=background, seed=seed)
        if len(X) not in (300, 100):  # the choice audit (200 rows and its re-runs), not a chunk
            return attr
        seen.append(len(X))
        if len(seen) > 1:  # every chunk after the first claims another algorithm
            return dataclasses.replace(attr, meta={**attr.meta, "algorithm": "shap.OtherExplainer"})
        return attr

    monkeypatch.setattr(Shap, "explain", explain)
    code, _, err = cli("reasons", logreg_path, CREDIT, "--out", tmp_path / "r.csv", "--explainer", "shap",
                       "--chunk-rows", "300")
    assert code == 0, err
    meta = json.loads((tmp_path / "r.csv.meta.json").read_text())
    assert meta["rows_by_algorithm"] == {"shap.LinearExplainer": 300, "shap.OtherExplainer": 700}
    assert "differed between chunks" in meta["warning"] and "warning: the explainer's automatic choice" in err
    single = _reasons(logreg_path, CREDIT, tmp_path / "one.csv", explainer="coefficients", chunk_rows=400)
    assert len(single.rows_by_algorithm) == 1 and single.mixed is None
