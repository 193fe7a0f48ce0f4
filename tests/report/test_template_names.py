"""``--template NAME`` resolves only among the shipped templates; ``--template FILE.toml`` loads that file."""

from __future__ import annotations

from pathlib import Path

import pytest

import report_templates
from audit.errors import ConfigError
from report_templates import available_templates, load_template


@pytest.fixture()
def outside(tmp_path) -> str:
    """A template file outside the package, and a name that walks to it from the package's folder."""
    (tmp_path / "evil.toml").write_text('name = "evil"\ntitle = "Loaded from outside"\n')
    package = Path(report_templates.__file__).resolve().parent
    return str(Path("../" * len(package.parts)) / tmp_path.relative_to(tmp_path.anchor) / "evil")


def test_a_name_with_a_path_is_refused_and_says_to_pass_a_toml_file(outside):
    with pytest.raises(ConfigError, match=r"cannot hold a path.*--template path/to/template\.toml"):
        load_template(outside)
    for name in ("../generic", "sub/generic", "..\\generic", ".generic", "C:generic", ""):
        with pytest.raises(ConfigError, match="cannot hold a path"):
            load_template(name)


def test_shipped_names_and_toml_files_still_load(outside, tmp_path):
    for name in available_templates():
        assert load_template(name).sections
    assert load_template(str(tmp_path / "evil.toml")).title == "Loaded from outside"  # an explicit file is the user's
    with pytest.raises(ConfigError, match="no such template. Available: credit_decision, generic"):
        load_template("credit")
    with pytest.raises(ConfigError, match="no such file"):
        load_template(str(tmp_path / "missing.toml"))


def test_cli_answers_a_path_as_name_with_exit_2(cli, outside, tmp_path):
    from tests.conftest import SAMPLES

    code, _out, err = cli("run", str(SAMPLES / "models" / "credit_logreg.skops"), str(SAMPLES / "german_credit.csv"),
                          "--template", outside, "--out", str(tmp_path / "out"), "--quiet")
    assert code == 2, err
    assert err.startswith("error:") and ".toml" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
