"""The published results.json schema: printed by `audit schema`, valid Draft 2020-12, and strict enough
to catch a broken result."""

from __future__ import annotations

import json

import jsonschema
import pytest

from audit.schema import SCHEMA
from tests.conftest import with_value


def test_audit_schema_prints_a_valid_draft_2020_12_schema(cli):
    code, out, _ = cli("schema")
    assert code == 0
    printed = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == SCHEMA


def test_the_schema_rejects_what_a_validator_must_not_accept(logreg_result_json):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    assert not list(validator.iter_errors(logreg_result_json))
    for path, bad in ((("gate", "passed"), "yes"), (("model", "sha256"), "abc"), (("model", "task"), "ranking"),
                      (("schema_version",), "2.0")):
        assert list(validator.iter_errors(with_value(logreg_result_json, path, bad))), path
    broken = json.loads(json.dumps(logreg_result_json))
    broken["explanations"][0]["faithfulness"]["deletion_auc"]["normalised_score"] = 9.0  # outside [-1, 1.5]
    assert list(validator.iter_errors(broken))


@pytest.fixture(scope="module")
def logreg_result_json(credit_logreg, tmp_path_factory):
    from audit.config import parse_config
    from audit.runner import run_audit
    from tests.conftest import FAST_TOML, SAMPLES, save_pickle

    path = save_pickle(credit_logreg, tmp_path_factory.mktemp("schema") / "m.pkl")
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=parse_config(FAST_TOML + '\nexplainers = ["coefficients"]\n', overrides={"target": "risk"}))
    return json.loads(result.dumps())
