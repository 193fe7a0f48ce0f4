"""Output paths are validated before any work; nothing is created outside --out."""

from __future__ import annotations

import pytest

from tests.security.models import families, save


@pytest.fixture()
def model(tmp_path):
    return save(families()["tree"], tmp_path / "m.pkl")


def test_dangling_symlink_out_is_refused_before_work(tmp_path, cli, model):
    target = tmp_path / "elsewhere" / "deep" / "report"
    link = tmp_path / "out"
    link.symlink_to(target)
    code, _out, err = cli("run", model, tmp_path / "missing.csv", "--out", link, "--quiet")
    assert code == 2 and "symbolic link" in err
    assert not (tmp_path / "elsewhere").exists()


def test_out_below_a_file_is_refused_before_work(tmp_path, cli, model):
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    code, _out, err = cli("run", model, tmp_path / "missing.csv", "--out", afile / "sub", "--quiet")
    assert code == 2 and "is a file" in err
    assert "missing.csv" not in err  # refused before the data was even looked at
