"""The sample audit the HTML tests share: `audit run` on the README's sample model with --html (one run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES


@pytest.fixture(scope="session")
def html_sample(tmp_path_factory) -> tuple[Path, dict]:
    """The folder `audit run ... --html` wrote (report.pdf, report.html, results.json) and results.json's record:
    the README's quick-start model and configuration, 60 rows explained (--rows) to keep it short."""
    from typer.testing import CliRunner

    from audit.cli import app

    out = tmp_path_factory.mktemp("html") / "out"
    res = CliRunner().invoke(app, ["run", str(SAMPLES / "models" / "credit_logreg_fair.skops"),
                                   str(SAMPLES / "german_credit.csv"), "--target", "risk", "--config",
                                   str(SAMPLES / "audit.toml"), "--rows", "60", "--out", str(out), "--html", "--quiet"])
    assert res.exit_code in (0, 1), res.output
    return out, json.loads((out / "results.json").read_text(encoding="utf-8"))
