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
    from audit.commands.runner import run_audit
    from audit.config import parse_config
    from tests.conftest import FAST_TOML, SAMPLES, save_pickle

    path = save_pickle(credit_logreg, tmp_path_factory.mktemp("schema") / "m.pkl")
    result = run_audit(path, SAMPLES / "german_credit.csv",
                       config=parse_config(FAST_TOML + '\nexplainers = ["coefficients"]\n', overrides={"target": "risk"}))
    return json.loads(result.dumps())


def test_the_outcome_fairness_record_validates_and_a_broken_one_does_not():
    """Fails when the schema of protected_attributes.outcome_fairness does not match what the audit writes, or
    accepts a rate outside [0, 1] or an unknown source of the favourable class."""
    import numpy as np

    from audit.measures.fairness import measure_fairness
    from audit.results import to_jsonable
    from audit.types import Dataset, FeatureSpace

    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 2, 200), rng.normal(40, 10, 200)].astype(float)
    ds = Dataset("d.csv", "0" * 64, X, FeatureSpace(("sex", "age"), {"sex": ("f", "m")}),
                 target=rng.integers(0, 2, 200))
    record = to_jsonable(measure_fairness(ds, rng.integers(0, 2, 200), classes=[0, 1], favorable=1,
                                          favorable_source="config", protected=["sex", "age"], bins={},
                                          min_group_size=30, n_bootstrap=20, seed=0))
    validator = jsonschema.Draft202012Validator(SCHEMA["properties"]["protected_attributes"])
    assert not list(validator.iter_errors({"outcome_fairness": record}))
    for path, bad in ((("attributes", "age", "groups", 0, "selection_rate"), 1.5),
                      (("favorable_class_source",), "guessed"), (("attributes", "sex", "too_small"), "none")):
        broken = json.loads(json.dumps(record))
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = bad
        assert list(validator.iter_errors({"outcome_fairness": broken})), path
