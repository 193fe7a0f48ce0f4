"""Decision pages counted one by one (``count("Principal reasons") >= 6`` also counted the section title
and the contents entry), and decision paths checked on a tree model that has them (the old check,
``"Decision path" not in text or "->" in text``, ran on a model without rules and held for any text).
"""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader
from sklearn.tree import DecisionTreeClassifier

from tests.conftest import FAST_TOML, expect_verdict, save_pickle


@pytest.fixture(scope="module")
def tree_report(credit, tmp_path_factory):
    from typer.testing import CliRunner

    from audit.cli import app

    tmp = tmp_path_factory.mktemp("tree_report")
    frame = credit[["duration", "age", "credit_amount", "risk"]]
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame.iloc[:, :3], frame["risk"])
    data = tmp / "data.csv"
    frame.to_csv(data, index=False)
    cfg = tmp / "audit.toml"
    cfg.write_text(FAST_TOML.replace("rows = 40", "rows = 150") + "[policy]\nrequire_randomisation_check = false\nprotected_attributes = []\n")
    out = tmp / "out"
    res = CliRunner().invoke(app, ["run", str(save_pickle(model, tmp / "tree.pkl")), str(data), "--target", "risk",
                                   "--config", str(cfg), "--out", str(out), "--quiet", "--explainers", "tree_path"])
    expect_verdict(res.exit_code, out, passed=True, err=res.stderr)
    pages = [p.extract_text() for p in PdfReader(out / "report.pdf").pages]
    return pages, json.loads((out / "results.json").read_text())


def test_one_decision_page_per_shown_decision_each_with_its_reasons_and_path(tree_report):
    pages, results = tree_report
    n = results["config"]["report"]["adverse_decisions"]
    shown = [d for d in results["decisions"] if d["adverse"]][:n]
    assert len(shown) >= 2 and all(d["decision_path"] for d in shown)
    body = "\n".join(p for p in pages if ".  .  ." not in p)  # the contents page lists every decision too
    parts = re.split(r"Decision for data row (\d+):", body)
    rows, segments = [int(x) for x in parts[1::2]], parts[2::2]
    assert rows == [d["row"] for d in shown]
    segments[-1] = segments[-1].split("Influence of protected attributes")[0]
    for page, d in zip(segments, shown):
        assert len(re.findall(r"Principal reasons(?! for individual)", page)) == 1
        flat = " ".join(page.split())
        assert flat.count("Decision path (tree model):") == 1
        path = flat.split("Decision path (tree model):")[1]
        head = " ".join(d["decision_path"].split(" -> ")[0].split())
        assert path.lstrip().startswith(head[:40]) and "->" in path
        first = d["reasons"][0]
        assert f"{first['feature']} = {first['value']}" in flat
