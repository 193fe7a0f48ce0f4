"""Shared fixtures: real sample data, seeded synthetic data, fitted models, a CLI runner."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(SAMPLES))

from synthetic import make_loans  # noqa: E402

CATEGORICAL = ["sex", "housing", "saving_accounts", "checking_account", "purpose"]
NUMERIC = ["job", "credit_amount", "duration", "age"]

# Small but real settings so the suite stays fast; CLI tests pass them through audit.toml.
FAST_TOML = """
rows = 40
background = 40
lime_num_samples = 300
stability_rows = 5
stability_seeds = 3
sensitivity_rows = 4
randomisation_rows = 10
bootstrap = 50
random_controls = 4
"""


@pytest.fixture(scope="session")
def credit() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "german_credit.csv")


@pytest.fixture(scope="session")
def loans() -> pd.DataFrame:
    return make_loans(1500, seed=0)


@pytest.fixture(scope="session")
def credit_logreg(credit):
    from make_samples import credit_logreg

    return credit_logreg().fit(credit[CATEGORICAL + NUMERIC], credit["risk"])


@pytest.fixture(scope="session")
def credit_gbm(credit):
    from make_samples import credit_gbm

    return credit_gbm().fit(credit[CATEGORICAL + NUMERIC], credit["risk"])


@pytest.fixture(scope="session", autouse=True)
def sample_models() -> Path:
    """samples/models/, built as the README's quick start builds it when a fresh clone lacks it (it is not in
    git): tests that audit the bundled samples use these files as a user does."""
    import fcntl

    from samples.make_samples import main

    out = SAMPLES / "models"
    # pytest-xdist's workers each run this fixture: the first builds while the others wait on the lock
    with open(SAMPLES / ".models.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((out / f"{name}.skops").exists() for name in ("credit_logreg", "credit_gbm", "credit_logreg_fair", "synthetic_logreg")):
            main(out)
    return out


@pytest.fixture()
def fast_config(tmp_path) -> Path:
    path = tmp_path / "audit.toml"
    path.write_text(FAST_TOML)
    return path


def save_pickle(model, path: Path) -> Path:
    with open(path, "wb") as fh:
        pickle.dump(model, fh, protocol=5)
    return path


@pytest.fixture()
def cli():
    """Invoke the CLI in-process; returns (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from audit.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        res = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return res.exit_code, res.stdout, res.stderr

    return invoke


def expect_verdict(code: int, out: Path, *, passed: bool, err: str = "") -> list[str]:
    """Assert an `audit run`'s verdict: the exit code (0 passed, 1 failed), results.json's gate, and that a
    failed gate names at least one failed blocking check (a passed one none). Returns the failed blocking
    checks' names. For a run whose verdict is known, never `code in (0, 1)`."""
    import json

    assert code == (0 if passed else 1), f"exit {code}, expected {0 if passed else 1}: {err}"
    gate = json.loads((Path(out) / "results.json").read_text())["gate"]
    assert gate["passed"] is passed
    blocking = [c["name"] for c in gate["checks"] if c["blocking"] and not c["passed"] and c["verdict"] != "waived"]
    assert bool(blocking) is not passed, blocking
    return blocking


def with_value(record: dict, path: tuple, value) -> dict:
    """A deep copy of a JSON ``record`` with the key at ``path`` set to ``value`` (schema tests)."""
    import json

    broken = json.loads(json.dumps(record))
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return broken


def encode(frame: pd.DataFrame, adapter_space) -> np.ndarray:
    """Encode a raw frame into the float matrix of ``adapter_space`` (test helper)."""
    X = np.empty((len(frame), len(adapter_space.names)))
    for j, name in enumerate(adapter_space.names):
        cats = adapter_space.categories.get(name)
        if cats is None:
            X[:, j] = frame[name].to_numpy(dtype=float)
        else:
            index = {c: i for i, c in enumerate(cats)}
            X[:, j] = [index[v] for v in frame[name]]
    return X


@pytest.fixture(autouse=True)
def _every_result_matches_the_published_schema(monkeypatch):
    """Every results.json and compare.json the suite produces (API or CLI) is validated against `audit schema`
    (and `audit schema --compare`)."""
    try:
        import jsonschema
    except ImportError:  # a test dependency: skipping here would skip every test and still exit 0
        pytest.fail("jsonschema is not installed, so results.json cannot be checked against its schema: install the "
                    "test extras (pip install -e '.[test]')", pytrace=False)
    from audit.results import AuditResult, CompareResult
    from audit.schema import COMPARE_SCHEMA, SCHEMA

    for cls, schema, name in ((AuditResult, SCHEMA, "results.json"), (CompareResult, COMPARE_SCHEMA, "compare.json")):
        monkeypatch.setattr(cls, "to_json", _validated(cls.to_json, jsonschema.Draft202012Validator(schema), name))


def _validated(original, validator, name):
    """``original`` (a to_json method) with its output checked against ``validator``."""

    def checked(self):
        out = original(self)
        errors = sorted(validator.iter_errors(out), key=lambda e: list(e.path))
        assert not errors, f"{name} breaks the schema at {list(errors[0].path)}: {errors[0].message}"
        return out

    return checked


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, sample_models) -> Path:
    """One `audit run` through the CLI on copies of the fair credit sample (model, data and audit.toml in a
    temporary folder, so tests may alter them): the folder holding report.pdf and results.json (``out/``)."""
    import shutil

    from typer.testing import CliRunner

    from audit.cli import app

    tmp = tmp_path_factory.mktemp("sample_run")
    model = Path(shutil.copy(sample_models / "credit_logreg_fair.skops", tmp / "model.skops"))
    data = Path(shutil.copy(SAMPLES / "german_credit.csv", tmp / "data.csv"))
    config = tmp / "audit.toml"
    config.write_text(FAST_TOML + 'favorable_class = "1"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(model), str(data), "--target", "risk", "--config", str(config),
                                   "--out", str(tmp / "out"), "--quiet"], catch_exceptions=False)
    assert res.exit_code in (0, 1), res.stderr
    return tmp / "out"
