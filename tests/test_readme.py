from __future__ import annotations

import re

from tests.conftest import ROOT


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert len(blocks) == 2, "the README holds exactly two copy-paste commands"
    ci = (ROOT / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci
    assert "audit run samples/" in blocks[0]


def test_readme_documents_every_setting():
    from audit.config import AuditConfig, ComparePolicy, Policy, ReasonsConfig, ReportConfig

    readme = (ROOT / "README.md").read_text()
    assert "`[policy.compare]`" in readme
    for model in (AuditConfig, Policy, ReportConfig, ComparePolicy, ReasonsConfig):
        for name, field in model.model_fields.items():
            if name in ("policy", "report", "explainer_settings", "compare"):  # tables, documented below
                continue
            key = re.escape(field.alias or name)
            assert re.search(rf"`{key}(`| = )", readme), f"README does not document {model.__name__}.{name}"


def test_readme_documents_every_cli_option():
    import typer

    from audit.cli import app

    readme = (ROOT / "README.md").read_text()
    for name, command in typer.main.get_command(app).commands.items():
        assert f"`audit {name}" in readme, f"README does not document audit {name}"
        if name not in ("run", "compare", "schema"):  # reasons: its options are listed in its usage line
            continue
        section = readme[readme.index(f"`audit {name}"):]
        for param in command.params:
            if param.param_type_name == "option":
                flag = max(param.opts, key=len)
                assert f"`{flag}" in section or f"[{flag}" in section, f"README does not document {name} {flag}"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    import shutil

    from samples.make_samples import main as build

    readme = (ROOT / "README.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)\n```", readme, flags=re.S)
    (tmp_path / "samples").mkdir()
    for name in ("german_credit.csv", "audit.toml"):
        shutil.copy(ROOT / "samples" / name, tmp_path / "samples" / name)
    build(tmp_path / "samples" / "models")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["result"].explanations and (tmp_path / "audit-report" / "report.pdf").exists()


def test_readme_documents_every_explainer_parameter():
    """Each declared parameter of each built-in explainer has a row `| `name` | `param` |` (fails when an
    explainer gains a parameter nobody documented)."""
    from explainers import registry

    readme = (ROOT / "README.md").read_text()
    for name, cls in registry().items():
        for param in cls.Params.model_fields:
            assert f"| `{name}` | `{param}` |" in readme, f"README does not document {name}.{param}"


def test_readme_names_every_fairness_check_and_mlflow_key():
    """Fails when the gate gains a fairness check, or --mlflow a metric or tag, that the README does not name."""
    from types import SimpleNamespace

    from audit.commands.tracking import audit_metrics, audit_tags
    from audit.config import Policy
    from audit.gate import FairnessEvidence, Gate, fairness_checks

    readme = (ROOT / "README.md").read_text()
    ev = FairnessEvidence(group_rows=(("a", 3), ("b", 90), ("c", 90)), min_group_size=30,
                          selection_rate_ratio=(0.9, (0.8, 1.0), "b", "c"), equalized_odds_difference=(0.1, (0.0, 0.2)),
                          equal_opportunity_difference=(0.1, (0.0, 0.2)), with_target=True)
    policy = Policy(max_equalized_odds_difference=0.2, max_equal_opportunity_difference=0.2)
    for check in fairness_checks(policy, "x", ev):
        assert f"`{check.name.replace(':x', ':ATTR')}`" in readme, check.name
    result = SimpleNamespace(
        gate=Gate(True, ()), tool_version="0", model={"sha256": "0"}, data={"sha256": "0"},
        reproducibility={"config_sha256": "0"}, explanations=(SimpleNamespace(method="m", faithfulness_score=0.5),),
        protected={"outcome_fairness": {"attributes": {"x": {"selection_rate_ratio": {"value": 0.9}}}}})
    for name in audit_metrics(result):
        assert f"`{name.replace('/m', '/METHOD').replace('/x', '/ATTR')}`" in readme, name
    for tag in audit_tags(result, {}):
        assert f"`{tag}`" in readme or f"`.{tag.rsplit('.', 1)[1]}`" in readme, tag
