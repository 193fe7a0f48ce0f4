"""`audit reasons --audit results.json` (issue #29): an earlier audit's choice (method, algorithm, background,
typical values, reason reference) is reused, so no choice audit runs and the rows are the same; a results.json
made for another model file, configuration or seed is refused with exit 2 and nothing is written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.commands.reasons import run_reasons
from audit.commands.runner import run_audit
from audit.config import parse_config
from audit.errors import InputError
from audit.measures.reason_reference import basis_record
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

CREDIT = SAMPLES / "german_credit.csv"


@pytest.fixture(scope="module")
def audited_gbm(credit_gbm, tmp_path_factory):
    """The gradient-boosting sample model (TreeSHAP, whose mode is an automatic choice), its audit's
    results.json written as `audit run` writes it, and the audit itself."""
    tmp = tmp_path_factory.mktemp("reuse")
    model = save_pickle(credit_gbm, tmp / "gbm.pkl")
    result = run_audit(model, CREDIT, config=_config())
    path = tmp / "results.json"
    path.write_text(result.dumps(), encoding="utf-8")
    return model, path, result


def _config(text: str = FAST_TOML, seed: int | None = None):
    return parse_config(text, overrides={"target": "risk", "seed": seed})


def _reasons(model, out, **kw):
    return run_reasons(model, CREDIT, out, template=load_template("credit_decision"), chunk_rows=300, **kw)


def _no_choice_audit(*args, **kwargs):
    raise AssertionError("a choice audit ran although --audit was given")


def test_reasons_with_audit_equal_reasons_without_it(audited_gbm, tmp_path):
    """Same rows, same reasons, byte for byte; with --audit no choice audit runs (the ``run`` passed would fail)."""
    model, results, audit = audited_gbm
    fresh = _reasons(model, tmp_path / "fresh.csv", config=_config())
    reused = _reasons(model, tmp_path / "reused.csv", config=_config(), audit=results, run=_no_choice_audit)
    assert (tmp_path / "fresh.csv").read_bytes() == (tmp_path / "reused.csv").read_bytes()
    assert fresh.rows_written == reused.rows_written == 1000
    assert fresh.method == reused.method == audit.decisions[0].method
    assert fresh.method_score == pytest.approx(reused.method_score, abs=0)
    assert fresh.explainer == reused.explainer and fresh.rows_by_algorithm == reused.rows_by_algorithm
    meta = json.loads((tmp_path / "reused.csv.meta.json").read_text())
    assert meta["chosen_by"] == str(results) and meta["choice_audit_rows"] is None


def test_the_recorded_basis_reads_back_as_the_audits_arrays(audited_gbm):
    """Background and typical values go through results.json exactly (NaN as null included)."""
    from audit.commands.choice import from_record

    _, results, audit = audited_gbm
    choice = from_record(json.loads(results.read_text()), results)
    background, typical, reference = choice.reference
    np.testing.assert_array_equal(background, audit.background)
    np.testing.assert_array_equal(typical, audit.typical)
    assert reference == audit.reason_reference
    gap = basis_record(["a", "b"], np.array([[np.nan, 0.1 + 0.2]]), np.array([1 / 3, np.nan]))
    assert gap["background"] == [[None, 0.30000000000000004]] and gap["typical"] == [1 / 3, None]


def test_tree_mode_is_fixed_from_the_recorded_choice(audited_gbm):
    """The automatic TreeSHAP mode the audit settled is fixed for every chunk (no chunk decides it again)."""
    from audit.commands.choice import Choice, fixed_params

    _, _, audit = audited_gbm
    shap = next(e for e in audit.explanations if e.method == "shap")
    mode = shap.algorithm["parameters"]["feature_perturbation"]
    choice = Choice("shap", 0.5, True, {"passed": True}, (), None, dict(shap.algorithm))
    assert fixed_params(choice) == {"tree_mode": mode}
    assert fixed_params(Choice("lime", 0.5, True, {}, (), None, {"algorithm": "lime"})) == {}


@pytest.mark.parametrize("change", ["model", "config", "seed"])
def test_a_changed_model_config_or_seed_is_refused_and_nothing_is_written(audited_gbm, credit_logreg, change,
                                                                         tmp_path, cli):
    model, results, _ = audited_gbm
    args = [model, CREDIT, "--out", tmp_path / "r.csv", "--target", "risk", "--audit", results, "--quiet"]
    config = tmp_path / "audit.toml"
    config.write_text(FAST_TOML.replace("background = 40", "background = 30") if change == "config" else FAST_TOML)
    args += ["--config", config]
    if change == "model":
        args[0] = save_pickle(credit_logreg, tmp_path / "other.pkl")
    if change == "seed":
        args += ["--seed", "7"]
    code, _, err = cli("reasons", *args)
    assert code == 2, err
    assert {"model": "another model file", "config": "another configuration", "seed": "seed"}[change] in err
    assert "--audit" in err and "Traceback" not in err
    assert not list(tmp_path.glob("r.csv*")) and not list(tmp_path.glob(".reasons-*"))


def test_not_an_audits_results_json_is_refused(audited_gbm, tmp_path):
    model, results, _ = audited_gbm
    record = json.loads(results.read_text())
    del record["reasons_basis"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(record))
    other = tmp_path / "notes.json"
    other.write_text('{"hello": 1}')
    for path, words in ((older, "reasons_basis"), (other, "not a results.json"), (tmp_path / "none.json", "not found"),
                        (CREDIT, "not a .json file")):
        with pytest.raises(InputError, match=words):
            _reasons(model, tmp_path / "r.csv", config=_config(), audit=path, run=_no_choice_audit)
    with pytest.raises(InputError, match="--explainer"):
        _reasons(model, tmp_path / "r.csv", config=_config(), audit=results, explainer="shap")
    assert not (tmp_path / "r.csv").exists()
