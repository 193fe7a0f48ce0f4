"""``audit compare`` names a JSON file that is not a results.json: the argument, the file and the keys it lacks."""

from __future__ import annotations

import json

import pytest

from audit.errors import InputError
from audit.loading import load_results_file

RESULTS = {"schema_version": "1.3", "model": {}, "data": {}, "gate": {}, "explanations": [], "decisions": []}


@pytest.mark.parametrize("which", ["BASELINE", "CANDIDATE"])
def test_a_json_that_is_not_a_results_json_is_named_with_its_argument(which, cli, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "base.json"
    good.write_text(json.dumps(RESULTS))
    bad.write_text("{}")
    args = (bad, good) if which == "BASELINE" else (good, bad)
    code, _, err = cli("compare", *args, "--out", tmp_path / "out", "--quiet")
    text = " ".join(err.split())
    assert code == 2 and text.startswith(f"error: {which} {bad}: not a results.json"), err
    assert "'schema_version', 'model', 'data', 'gate', 'explanations', 'decisions'" in text
    assert "is a results.json and the other a model file" not in text and not (tmp_path / "out").exists()


def test_other_json_shapes(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="a JSON list, not an object"):
        load_results_file(path, "BASELINE")
    path.write_text("{not json")
    with pytest.raises(InputError, match="BASELINE .*not readable as JSON"):
        load_results_file(path, "BASELINE")
    path.write_text(json.dumps({**RESULTS, "explanations": None}))
    with pytest.raises(InputError, match="no 'explanations'"):
        load_results_file(path, "CANDIDATE")
    path.write_text(json.dumps({k: v for k, v in RESULTS.items() if k != "gate"}))
    with pytest.raises(InputError, match="no 'gate'"):
        load_results_file(path, "CANDIDATE")


def test_models_are_still_models(tmp_path):
    xgb = tmp_path / "model.json"
    xgb.write_text(json.dumps({"learner": {}, "version": [2, 1, 0]}))  # an XGBoost JSON model
    assert load_results_file(xgb, "BASELINE") is None
    assert load_results_file(tmp_path / "model.skops", "BASELINE") is None
    good = tmp_path / "r.json"
    good.write_text(json.dumps(RESULTS))
    assert load_results_file(good, "BASELINE") == RESULTS
