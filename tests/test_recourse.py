"""Recourse: counterfactuals verified by the model, inside the data's support, respecting immutables,
directions and bounds; the reason-recourse consistency check; the decision pages and `audit reasons --recourse`.

Expected values come from the data and the model directly (pandas and the fitted scikit-learn pipeline),
never from the search's own bookkeeping.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.adapters import describe_model, make_adapter
from audit.config import RecourseConfig, parse_config
from audit.errors import ConfigError
from audit.loading import load_data
from audit.recourse import build_search, verify
from audit.recourse.support import Support
from audit.results import SCHEMA_VERSION
from audit.types import FeatureSpace
from tests.conftest import CATEGORICAL, FAST_TOML, NUMERIC, ROOT, SAMPLES, expect_verdict, save_pickle

DRIVERS = {"income", "debt_ratio", "late_payments", "age", "employment"}


def _synthetic(n: int = 800, seed: int = 3) -> pd.DataFrame:
    """Loans whose approval depends on income, debt ratio, late payments, age and employment only; tenure
    and region are inputs the model receives but drops (pure noise)."""
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({"income": rng.normal(50, 15, n).round(1), "debt_ratio": rng.uniform(0, 1, n).round(2),
                      "late_payments": rng.integers(0, 6, n), "age": rng.integers(20, 70, n),
                      "employment": rng.choice(["none", "part", "full"], n), "tenure": rng.normal(0, 1, n).round(2),
                      "region": rng.choice(["north", "south", "east"], n)})
    full = f.employment == "full"  # never full-time employed in the north: a combination the data never shows
    f.loc[full, "region"] = rng.choice(["south", "east"], int(full.sum()))
    logit = (0.08 * (f.income - 50) - 4 * (f.debt_ratio - 0.5) - 0.6 * (f.late_payments - 2.5) + 0.03 * (f.age - 45)
             + f.employment.map({"none": -1.0, "part": 0.0, "full": 1.0}))
    f["approved"] = (logit + rng.logistic(size=n) > 0).astype(int)
    return f


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The synthetic data, a pipeline that only sees the drivers, its dataset and adapter."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = _synthetic()
    pre = ColumnTransformer([("num", StandardScaler(), ["income", "debt_ratio", "late_payments", "age"]),
                             ("cat", OneHotEncoder(), ["employment"])], remainder="drop")
    model = Pipeline([("pre", pre), ("lr", LogisticRegression())]).fit(frame.drop(columns="approved"), frame.approved)
    path = tmp_path_factory.mktemp("synthetic") / "loans.csv"
    frame.to_csv(path, index=False)
    return frame, model, *_dataset(model, path, "approved")


def _dataset(model, path, target):
    ds = load_data(path, describe_model(model, {}), target=target)
    adapter = make_adapter(model, ds.space)
    adapter.prepare(ds.X)
    return ds, adapter


def _search(config_text: str, ds, adapter):
    return build_search(parse_config(config_text), ds.X, ds.space, adapter, 1, columns=None)


def _found(search, ds, adapter, rows):
    """Verified recourse for ``rows`` (indices into the data)."""
    return verify(adapter, ds.X[rows], search.run(adapter, ds.X[rows]), 1)


def _adverse(model, frame, target):
    return np.flatnonzero(model.predict(frame.drop(columns=target)) == 0)


KNOWN_TOML = """
favorable_class = "1"
[policy]
protected_attributes = ["age"]
[recourse]
# debt_ratio only up: a direction against the model's favour, so the search may never use it
directions = { income = "increase", late_payments = "decrease", debt_ratio = "increase" }
bounds = { income = [20, 70] }
"""


def test_counterfactuals_on_a_known_model_change_only_its_drivers_and_flip_the_decision(known):
    """Catches a search that changes inputs the model ignores (tenure, region), a protected or immutable
    input (age), moves against a direction or outside a bound, leaves the data's support, or reports a
    change the model does not confirm."""
    frame, model, ds, adapter = known
    rows = _adverse(model, frame, "approved")[:60]
    search = _search(KNOWN_TOML, ds, adapter)
    results = _found(search, ds, adapter, rows)
    inputs = frame.drop(columns="approved")
    seen_pairs = set(zip(frame.employment, frame.region))
    with_recourse = 0
    for i, r in zip(rows, results):
        with_recourse += bool(r.counterfactuals)
        sets = [cf.features for cf in r.counterfactuals]
        assert all(not (a <= b) for a in sets for b in sets if a is not b), "a counterfactual contains another's changes"
        for cf in r.counterfactuals:
            raw = ds.space.decode(cf.apply(ds.X[i])[None, :])
            changed = {c for c in inputs.columns if raw[c].iloc[0] != inputs[c].iloc[i]}
            assert changed and changed <= DRIVERS - {"age"}, changed
            assert model.predict(raw)[0] == 1  # the model itself confirms the flip
            row = raw.iloc[0]
            assert row.income >= inputs.income.iloc[i] and row.late_payments <= inputs.late_payments.iloc[i]
            assert row.debt_ratio >= inputs.debt_ratio.iloc[i]
            assert "income" not in changed or 20 <= row.income <= 70
            for c in ("income", "debt_ratio", "late_payments"):
                assert inputs[c].min() <= row[c] <= inputs[c].max()
                assert row[c] in set(inputs[c])  # an observed value, not an interpolation
            assert (row.employment, row.region) in seen_pairs
            assert cf.nn_ratio <= 2.0 and cf.verified
    assert with_recourse >= 0.9 * len(rows)


def test_each_numeric_change_is_the_smallest_that_still_flips(known):
    """Catches a counterfactual larger than needed (the search's own first pick, never made cheaper): moving
    any one numeric change to the next candidate value towards the applicant's own (observed values at the
    0th, 5th, ..., 100th percentiles, as documented), the other changes kept, no longer flips the decision."""
    frame, model, ds, adapter = known
    rows = _adverse(model, frame, "approved")[:40]
    results = _found(_search(KNOWN_TOML, ds, adapter), ds, adapter, rows)
    checked = {1: 0, 2: 0}
    for i, r in zip(rows, results):
        for cf in r.counterfactuals:
            for j, old, new in cf.changes:
                name = ds.feature_names[j]
                if name not in ("income", "debt_ratio", "late_payments"):
                    continue
                grid = np.unique(np.quantile(frame[name], np.linspace(0, 1, 21), method="inverted_cdf"))
                between = [v for v in grid if min(old, new) < v < max(old, new)]
                if not between:
                    continue
                x = cf.apply(ds.X[i])
                x[j] = max(between) if new > old else min(between)
                assert model.predict(ds.space.decode(x[None, :]))[0] == 0, (name, old, new, x[j])
                checked[min(len(cf.changes), 2)] += 1
    assert checked[1] >= 5 and checked[2] >= 3, checked


def test_immutables_and_a_tiny_budget_say_why_no_recourse_was_found(known):
    """Catches a silent empty result or an overrun budget: with only inputs the model ignores left to change,
    nothing can flip the decision, and the stated reason is the budget when it ran out, else the search's
    limits; with every input immutable, that."""
    frame, model, ds, adapter = known
    rows = _adverse(model, frame, "approved")[:10]
    drivers_frozen = KNOWN_TOML + 'immutable = ["income", "debt_ratio", "late_payments", "employment"]\nmax_changes = 2\n'
    tiny = replace(_search(drivers_frozen, ds, adapter), budget=30).run(adapter, ds.X[rows])
    assert all(r.evaluations <= 30 and not r.counterfactuals for r in tiny)
    assert {r.why_none for r in tiny} == {"the search budget of 30 model evaluations ran out before a change was found"}
    ample = _search(drivers_frozen, ds, adapter).run(adapter, ds.X[rows])
    assert {r.why_none for r in ample} == {
        "no change of at most 2 actionable input(s) to values seen in the data changed the decision"}
    frozen = _search(KNOWN_TOML + 'immutable = ["income", "debt_ratio", "late_payments", "employment", "tenure", '
                                  '"region"]\n', ds, adapter)
    assert {r.why_none for r in frozen.run(adapter, ds.X[rows])} == {
        "every input is immutable, or held where it is by its bounds and direction"}


def test_support_distances_ranges_and_category_pairs_on_hand_made_rows():
    """Catches a wrong Gower distance, typical neighbour distance, range check or pair lookup."""
    s = Support.from_data(np.array([[0.0], [1.0], [2.0], [10.0]]), FeatureSpace(("x",)))
    np.testing.assert_allclose(s.typical_nn, 0.1)  # neighbour distances 0.1, 0.1, 0.1, 0.8 over a range of 10
    np.testing.assert_allclose(s.nearest(np.array([[5.0]])), [0.3])
    assert s.in_range(np.array([10.0])) and not s.in_range(np.array([10.5]))
    cats = Support.from_data(np.array([[0.0, 0.0], [1.0, 1.0]]), FeatureSpace(("a", "b"), {"a": ("p", "q"), "b": ("x", "y")}))
    assert cats.pairs_seen(np.array([1.0, 1.0]), [0]) and not cats.pairs_seen(np.array([1.0, 0.0]), [0])
    np.testing.assert_allclose(cats.nearest(np.array([[1.0, 0.0]])), [0.5])


@pytest.fixture(scope="module")
def german(credit_logreg):
    ds, adapter = _dataset(credit_logreg, SAMPLES / "german_credit.csv", "risk")
    text = (SAMPLES / "audit.toml").read_text().replace(
        'directions = { age = "increase" }',
        'directions = { age = "increase", duration = "decrease" }\nbounds = { credit_amount = [500, 10000] }')
    config = parse_config(text)
    search = build_search(config, ds.X, ds.space, adapter, 1, columns=None)
    frame = pd.read_csv(SAMPLES / "german_credit.csv")
    return frame, ds, adapter, search, _adverse(credit_logreg, frame, "risk")


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the same 25 draws on every run
@given(data=st.data())
def test_german_credit_counterfactuals_never_change_immutables(german, credit_logreg, data):
    """Property over many adverse rows: catches any counterfactual that changes a protected attribute (sex,
    age), a configured immutable (purpose), raises the duration, leaves the credit-amount bounds, or that the
    model does not confirm."""
    frame, ds, adapter, search, adverse = german
    rows = np.array(data.draw(st.lists(st.sampled_from(list(adverse)), min_size=1, max_size=4, unique=True)))
    for i, r in zip(rows, _found(search, ds, adapter, rows)):
        assert r.counterfactuals or r.why_none
        for cf in r.counterfactuals:
            raw = ds.space.decode(cf.apply(ds.X[i])[None, :]).iloc[0]
            original = frame.iloc[i]
            for col in ("sex", "age", "purpose"):
                assert raw[col] == original[col]
            assert raw.duration <= original.duration
            assert raw.credit_amount == original.credit_amount or 500 <= raw.credit_amount <= 10000
            assert credit_logreg.predict(pd.DataFrame([raw[CATEGORICAL + NUMERIC]]))[0] == 1


def test_recourse_settings_are_refused_where_they_cannot_apply(german):
    """Catches a direction or bound on a categorical input, or a misspelt input, passing silently."""
    _, ds, adapter, _, _ = german
    columns = list(ds.feature_names) + ["risk"]
    with pytest.raises(ConfigError, match="'housing' is categorical"):
        build_search(parse_config('[recourse]\ndirections = { housing = "increase" }'), ds.X, ds.space, adapter, 1,
                     columns=columns)
    with pytest.raises(ConfigError, match="'durration' is not a column of DATA"):
        build_search(parse_config('[recourse]\nimmutable = ["durration"]'), ds.X, ds.space, adapter, 1, columns=columns)
    with pytest.raises(ConfigError, match="low <= high"):
        parse_config("[recourse]\nbounds = { duration = [24, 6] }")


def test_readme_documents_every_recourse_key():
    """Catches a [recourse] key nobody documented."""
    readme = (ROOT / "README.md").read_text()
    for name in RecourseConfig.model_fields:
        assert f"| `{name}` |" in readme, name


E2E_TOML = FAST_TOML + """
explainers = ["coefficients", "shap"]
favorable_class = "1"
[policy]
protected_attributes = ["sex", "age"]
protected_as_input = "finding"
[recourse]
immutable = ["purpose", "housing", "job", "saving_accounts"]
max_changes = 1
[report]
adverse_decisions = 8
"""


@pytest.fixture(scope="module")
def german_report(credit_logreg, tmp_path_factory):
    from typer.testing import CliRunner

    from audit.cli import app

    tmp = tmp_path_factory.mktemp("e2e")
    model = save_pickle(credit_logreg, tmp / "logreg.pkl")
    (tmp / "audit.toml").write_text(E2E_TOML)
    res = CliRunner().invoke(app, ["run", str(model), str(SAMPLES / "german_credit.csv"), "--target", "risk",
                                   "--config", str(tmp / "audit.toml"), "--out", str(tmp / "out"), "--quiet"])
    expect_verdict(res.exit_code, tmp / "out", passed=False, err=res.output)
    return json.loads((tmp / "out" / "results.json").read_text()), tmp / "out" / "report.pdf", tmp, model


def test_every_adverse_decision_page_shows_verified_recourse_or_says_why_not(german_report, credit_logreg):
    """Catches a decision page without the recourse block, a counterfactual that the model does not confirm
    or that changes an immutable, and a page that is silent when nothing was found."""
    import pypdf

    results, pdf, _, _ = german_report
    frame = pd.read_csv(SAMPLES / "german_credit.csv")
    pages = [p.extract_text() for p in pypdf.PdfReader(pdf).pages]
    decision_pages = [t for t in pages if "Decision for data row" in t]
    adverse = [d for d in results["decisions"] if d["adverse"]][:8]
    assert len(decision_pages) == len(adverse) >= 5
    branches = set()
    for d, text in zip(adverse, decision_pages):
        assert f"Decision for data row {d['row']}" in text and "What would have changed the decision" in text
        rec = d["recourse"]
        if rec["counterfactuals"]:
            branches.add("found")
            assert "Change to the application" in text
        else:
            branches.add("none")
            assert "No change was found" in text and rec["why_none"].split(" (")[0] in " ".join(text.split())
        for cf in rec["counterfactuals"]:
            raw = frame.iloc[d["row"] - 1][CATEGORICAL + NUMERIC].copy()
            for c in cf["changes"]:
                assert c["feature"] not in {"sex", "age", "purpose", "housing", "job", "saving_accounts"}
                raw[c["feature"]] = type(raw[c["feature"]])(float(c["to"])) if c["feature"] in NUMERIC else c["to"]
            proba = credit_logreg.predict_proba(pd.DataFrame([raw]))[0, 1]
            assert cf["verified"] and credit_logreg.predict(pd.DataFrame([raw]))[0] == 1
            np.testing.assert_allclose(cf["score"], proba, rtol=1e-6)
    assert branches == {"found", "none"}  # this configuration leaves some decisions without recourse


def test_consistency_check_is_in_the_gate_and_matches_the_decisions(german_report):
    """Catches a consistency share computed over the wrong decisions or reasons, or a check that blocks."""
    results, _, _, _ = german_report
    searched = [d for d in results["decisions"] if d.get("recourse") and d["recourse"]["counterfactuals"]]
    for method in ("coefficients", "shap"):
        changed = [{c["feature"] for cf in d["recourse"]["counterfactuals"] for c in cf["changes"]} for d in searched]
        hits = [any(r["feature"] in ch for r in d["reasons_by_method"][method]) for d, ch in zip(searched, changed)]
        check = next(c for c in results["gate"]["checks"] if c["name"] == f"recourse_consistency:{method}")
        assert check["value"] == pytest.approx(np.mean(hits)) and check["blocking"] is False
        assert check["verdict"] == ("pass" if np.mean(hits) >= 0.5 else "finding")
        assert results["recourse"]["consistency"][method]["decisions"] == len(searched)
    assert results["schema_version"] == SCHEMA_VERSION


def test_reasons_cli_adds_verified_recourse_for_adverse_rows(german_report, cli):
    """Catches `audit reasons --recourse` writing counterfactuals whose new score is not approval, or rows
    with neither a counterfactual nor a note."""
    _, _, tmp, model = german_report
    out = tmp / "reasons.csv"
    code, _, err = cli("reasons", model, SAMPLES / "german_credit.csv", "--out", out, "--config", tmp / "audit.toml",
                       "--explainer", "coefficients", "--adverse-only", "--recourse", "--quiet")
    assert code == 0, err
    table = pd.read_csv(out)
    assert len(table) and (table.score < 0.5).all()
    found = table.recourse_1.notna()
    assert (table.recourse_score_1[found] > 0.5).all() and table.recourse_note[~found].notna().all()
    assert table.recourse_1[found].str.contains(" instead of ").all()


def test_low_consistency_is_a_finding_that_never_blocks():
    """Catches a consistency check that blocks the gate, or that passes below its threshold."""
    from audit.config import Policy
    from audit.gate import Gate, extend, recourse_checks

    checks = recourse_checks(Policy(min_reason_recourse_consistency=0.6), {"shap": (0.5, 10), "lime": (None, 0)})
    assert [(c.verdict, c.passed) for c in checks] == [("finding", False), ("not_measured", False)]
    assert not checks[1].blocking  # no verified recourse to compare with: not measured, a finding, never a pass
    assert "does not block the gate" in checks[0].role and "reasons point away" in checks[0].message
    gate = extend(Gate(passed=True, checks=(), passing_explainers=("shap",)), checks)
    assert gate.passed and gate.passing_explainers == ("shap",) and len(gate.checks) == 2
    # a gate that already failed stays failed when only findings are added (fails if extend() decided on the
    # added checks alone), and keeps its own checks ahead of the new ones
    failed = Gate(passed=False, checks=(checks[0],), passing_explainers=())
    later = extend(failed, checks[1:])
    assert not later.passed and later.checks == (checks[0], checks[1]) and later.passing_explainers == ()
    # a blocking failure among the added checks fails a gate that had passed
    import dataclasses

    blocking = dataclasses.replace(checks[0], blocking=True)
    assert not extend(Gate(passed=True, checks=(), passing_explainers=("shap",)), [blocking]).passed


def test_verify_drops_a_counterfactual_the_model_does_not_confirm_and_keeps_the_confirmed_one():
    """Issue #28: verify() must call the model and drop what it does not confirm (a verify that kept every
    proposal, or dropped every one, fails here), recording the model's decision and score on what it keeps."""

    from audit.recourse import verify
    from audit.recourse.search import Counterfactual, RowRecourse

    class Threshold:  # approves (class 1) when the first input is at least 5
        classes = np.array([0, 1])

        def predict_label(self, Z):
            return (Z[:, 0] >= 5).astype(int)

        def predict(self, Z):
            return Z[:, 0] / 10

    rows = [np.array([1.0, 0.0])]
    good = Counterfactual(((0, 1.0, 6.0),), 1.0, 0.1, 1.0)
    bad = Counterfactual(((0, 1.0, 4.0),), 0.5, 0.1, 1.0)
    out = verify(Threshold(), rows, [RowRecourse((bad, good), 10)], favorable=1)
    assert [cf.changes for cf in out[0].counterfactuals] == [good.changes]
    kept = out[0].counterfactuals[0]
    assert kept.verified and kept.outcome == "1" and kept.score == pytest.approx(0.6)
    none = verify(Threshold(), rows, [RowRecourse((bad,), 10)], favorable=1)
    assert none[0].counterfactuals == () and none[0].why_none == "the model did not confirm the change"
