"""The audit's budget: counted costs (never timed) decide the row counts and workers, within documented minimums."""

from __future__ import annotations

import numpy as np
import pytest

from audit.commands.budget import MINIMUMS, PLANNED_WORKERS, budgeted, plan_audit, reruns, sample
from audit.commands.runner import run_audit
from audit.config import AuditConfig, parse_config
from audit.faithfulness.evaluate import randomised_model
from audit.types import Dataset
from explainers.lime_tabular import Lime
from explainers.shap_explainer import Shap
from tests.adapters.test_toy_framework import CallableAdapter
from tests.conftest import SAMPLES, save_pickle


class _Costly:
    """An explainer whose counted cost per row is fixed."""

    def __init__(self, name: str, seconds: float | None) -> None:
        self.name, self.seconds = name, seconds

    def planned_seconds_per_row(self, adapter, n_features, *, n_background):
        return self.seconds


def _adapter(parallel: bool = False) -> CallableAdapter:
    adapter = CallableAdapter(lambda Z: Z[:, 0] - Z[:, 1], ["a", "b", "c"])
    adapter.capabilities = adapter.capabilities.__class__(margin=True, parallel_safe=parallel)
    return adapter


def _plan(costs: dict[str, float | None], config: AuditConfig, *, parallel: bool = False, n_available: int = 4000):
    return plan_audit([_Costly(k, v) for k, v in costs.items()], _adapter(parallel), 3, 20, config,
                      n_available=n_available, randomised=True)


def test_cheap_explainers_leave_every_count_alone_and_record_no_plan():
    config = AuditConfig()
    effective, plan = _plan({"coefficients": None, "tree_path": None}, config)
    assert plan is None
    assert {k: getattr(effective, k) for k in MINIMUMS} == {k: getattr(config, k) for k in MINIMUMS}
    assert effective.n_jobs == 1 and effective.explain_budget_s == config.explain_budget_s


def test_within_budget_nothing_is_reduced_and_shap_gets_what_is_left():
    config = AuditConfig(audit_budget_s=30.0)
    effective, plan = _plan({"shap": 0.001, "lime": 0.001}, config)
    assert plan.used == plan.requested and plan.finding is None and effective.rows == 200
    # Counted by hand from the defaults: 200 explained rows + 20 stability rows x 4 further seeds
    # + 10 sensitivity rows x 4 perturbed copies + 50 randomisation rows = 370 rows per explainer.
    assert reruns(plan.used, True) == 370 and reruns(plan.used, False) == 320
    # The toy model's static rate is 1 / 1.05 us; the overhead is 1,200 model rows per explained row:
    # 240,000 model rows = 0.252 s; the two explainers cost 2 x 0.001 s x 370 rows = 0.74 s.
    assert plan.rows_per_second == pytest.approx(1 / 1.05e-6)
    assert plan.estimated_seconds_used == pytest.approx(0.74 + 0.252, rel=1e-6)
    # Conservation, not the code's formula: SHAP's budget for its 200 rows, spread over its 370 rows, plus LIME
    # and the overhead, spends the 30 s budget exactly (to the 0.01 s rounding of the budget it is given).
    spent = effective.explain_budget_s * 370 / 200 + 0.001 * 370 + 0.252
    assert effective.explain_budget_s == plan.explain_budget_s < 60.0
    assert spent == pytest.approx(30.0, abs=0.01 * 370 / 200)


def test_over_budget_scales_free_counts_down_in_proportion_never_below_the_minimums():
    config = AuditConfig(audit_budget_s=10.0)
    effective, plan = _plan({"shap": 0.05, "lime": 0.03}, config)
    used = plan.used
    assert used != plan.requested and all(used[k] >= MINIMUMS[k] for k in MINIMUMS)
    assert MINIMUMS["rows"] < used["rows"] < 200  # a share of the requested rows, above the floor
    assert plan.estimated_seconds_used <= 10.0 < plan.estimated_seconds_requested
    assert effective.rows == used["rows"] and effective.stability_seeds == used["stability_seeds"]
    assert "audit_budget_s" in plan.finding and f"rows = {used['rows']}" in plan.finding
    assert plan.record()["reduced"] is True


def test_at_the_minimum_the_overrun_is_stated_not_hidden():
    effective, plan = _plan({"lime": 1.0}, AuditConfig(audit_budget_s=1.0))
    assert plan.used == {k: min(MINIMUMS[k], plan.requested[k]) for k in MINIMUMS}
    assert plan.estimated_seconds_used > 1.0
    assert "documented minimum" in plan.finding and "still estimated" in plan.finding


def test_counts_set_explicitly_are_kept_and_the_overrun_is_a_finding():
    config = parse_config("rows = 120\naudit_budget_s = 1.0")
    effective, plan = _plan({"lime": 0.05}, config)
    assert effective.rows == 120 and plan.used["rows"] == 120
    assert plan.used["stability_rows"] == MINIMUMS["stability_rows"]  # the counts left to the budget did shrink
    explicit = parse_config("rows = 120\nstability_rows = 20\nstability_seeds = 5\nsensitivity_rows = 10\n"
                            "randomisation_rows = 50\naudit_budget_s = 1.0")
    _, plan = _plan({"lime": 0.05}, explicit)
    assert plan.used == plan.requested and "set explicitly" in plan.finding and "nothing was reduced" in plan.finding


def test_explicit_explain_budget_is_not_overridden():
    effective, plan = _plan({"shap": 0.001}, parse_config("explain_budget_s = 7.5"))
    assert effective.explain_budget_s == 7.5 and plan.explain_budget_s is None


def test_workers_only_when_the_model_can_be_copied_and_the_work_is_long(monkeypatch):
    slow = AuditConfig(audit_budget_s=1000.0)
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    effective, plan = _plan({"lime": 1.0}, slow, parallel=True)
    assert effective.n_jobs == 7 and plan.n_jobs == PLANNED_WORKERS  # every core works; the plan assumes 2
    assert _plan({"lime": 1.0}, slow, parallel=False)[1].n_jobs == 1  # a torch model stays in-process
    assert _plan({"lime": 1e-5}, slow, parallel=True)[1].n_jobs == 1  # short work: process start-up would dominate
    assert _plan({"lime": 1.0}, parse_config("n_jobs = 1\naudit_budget_s = 1000"), parallel=True)[1].n_jobs == 1


@pytest.mark.parametrize("n_jobs", [0, -1])
def test_the_rows_measured_do_not_depend_on_the_machines_core_count(monkeypatch, n_jobs):
    """The same configuration on a 1-, 2- and 64-core machine: the same plan (rows, seeds, SHAP's budget, the
    finding's words), only the worker processes differ. A plan that scaled the budget by the cores would
    explain more rows on the bigger machine, and the verdict could follow the machine."""
    config = AuditConfig(audit_budget_s=30.0, n_jobs=n_jobs)
    plans = {}
    for cores in (1, 2, 64):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        effective, plan = _plan({"shap": 0.2, "lime": 0.3}, config, parallel=True)
        assert effective.n_jobs == cores
        plans[cores] = (plan.record(), effective.rows, effective.explain_budget_s)
    assert plans[1] == plans[2] == plans[64]
    record = plans[2][0]
    assert record["reduced"] and record["n_jobs"] == PLANNED_WORKERS and "planned for 2 worker" in record["finding"]


def test_rows_never_exceed_the_data():
    _, plan = _plan({"lime": 0.001}, AuditConfig(), n_available=30)
    assert plan.requested["rows"] == plan.used["rows"] == 30


@pytest.mark.parametrize("make", [lambda: Lime(num_samples=200), lambda: Shap(algorithm="permutation")])
def test_a_rows_attribution_does_not_depend_on_the_rows_after_it(make):
    """Stability's first seed reuses the explained rows' own attribution: valid only if explaining the
    first n rows alone gives exactly what they got among all rows (per-row seeds)."""
    rng = np.random.default_rng(3)
    X, bg = rng.normal(size=(12, 4)), rng.normal(size=(30, 4))
    adapter = CallableAdapter(lambda Z: np.tanh(Z[:, 0] * Z[:, 1]) + Z[:, 2], ["a", "b", "c", "d"])
    explainer = make()
    whole = explainer.explain(adapter, X, background=bg, seed=5)
    assert whole.meta["parameters"]["per_row_seed"]
    np.testing.assert_array_equal(explainer.explain(adapter, X[:5], background=bg, seed=5).values, whole.values[:5])


def test_a_slow_audit_explains_fewer_rows_and_says_how_to_reproduce_them(credit_logreg, tmp_path):
    """Real data, a tiny budget: the run drops to the documented minimum, records the plan and the finding,
    and the counts the finding names, set explicitly, reproduce the same rows and attributions."""
    path = save_pickle(credit_logreg, tmp_path / "logreg.pkl")
    base = "explainers = ['lime']\nlime_num_samples = 100\nbackground = 30\nbootstrap = 50\nrandom_controls = 2\n"
    budgeted = run_audit(path, SAMPLES / "german_credit.csv",
                         config=parse_config(base + "audit_budget_s = 0.01", overrides={"target": "risk"}))
    record = budgeted.to_json()
    plan = record["reproducibility"]["audit_plan"]
    assert plan["reduced"] and plan["used"] == MINIMUMS and plan["planned_seconds_per_row"]["lime"] > 0
    lime = record["explanations"][0]
    assert lime["rows_explained"] == 50 and lime["faithfulness"]["stability_topk_jaccard"]["rows"] == 10
    assert lime["faithfulness"]["stability_topk_jaccard"]["seeds"] == 3
    assert any(w.startswith("budget:") for w in record["warnings"])
    assert record["config"]["rows"] == 50  # the configuration that ran
    from pypdf import PdfReader

    from audit.report import write_outputs
    from report_templates import load_template

    pdf = write_outputs(budgeted, tmp_path / "out", template=load_template("generic"))["pdf"]
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages)
    assert "Budget. Before the run, the work of lime, faithfulness re-runs included, was counted" in text
    assert "50 of 200 requested rows were explained" in text and "budget: the model-agnostic" in text
    counts = "".join(f"{k} = {v}\n" for k, v in plan["used"].items())
    explicit = run_audit(path, SAMPLES / "german_credit.csv",
                         config=parse_config(base + counts, overrides={"target": "risk"}))
    again = explicit.to_json()
    assert again["reproducibility"]["audit_plan"]["reduced"] is False
    assert [d["row"] for d in again["decisions"]] == [d["row"] for d in record["decisions"]]
    np.testing.assert_array_equal(explicit.attributions["lime"].values, budgeted.attributions["lime"].values)
    assert again["explanations"][0]["stability_topk_jaccard"] == lime["stability_topk_jaccard"]


def test_compare_explains_the_rows_the_baseline_budget_chose_in_both_audits(credit_gbm, credit_logreg, tmp_path,
                                                                             monkeypatch):
    """A slow baseline and a fast candidate: alone, their budgets would explain different rows; compare must
    give the candidate the baseline's counts, or the paired measures would pair different decisions."""
    import audit.commands.runner
    from audit.commands.compare import compare_models

    def cost(self, adapter, n_features, *, n_background):
        return 1.0 if "GradientBoosting" in type(adapter.final_estimator).__name__ else 1e-5

    monkeypatch.setattr(Lime, "planned_seconds_per_row", cost)
    audits = []
    real = audit.commands.runner.run_audit
    monkeypatch.setattr(audit.commands.runner, "run_audit", lambda *a, **k: audits.append(real(*a, **k)) or audits[-1])
    config = parse_config("explainers = ['lime']\nlime_num_samples = 100\nbackground = 30\nbootstrap = 50\n"
                          "random_controls = 2\n", overrides={"target": "risk"})
    slow, fast = save_pickle(credit_gbm, tmp_path / "gbm.pkl"), save_pickle(credit_logreg, tmp_path / "lr.pkl")
    compare_models(slow, fast, SAMPLES / "german_credit.csv", config=config)
    plans = [a.reproducibility["audit_plan"] for a in audits]
    assert plans[0]["reduced"] and plans[0]["used"]["rows"] == MINIMUMS["rows"]
    assert plans[1]["used"] == plans[0]["used"] and not plans[1]["reduced"]
    assert [d.row for d in audits[0].decisions] == [d.row for d in audits[1].decisions]
    alone = run_audit(fast, SAMPLES / "german_credit.csv", config=config)
    assert alone.reproducibility["audit_plan"]["used"]["rows"] == 200  # what the candidate would have done alone


def test_two_planned_workers_buy_more_rows_within_the_same_wall_clock_budget():
    """The budget is wall-clock seconds: with two worker processes planned the audit may do about 1.7x the
    serial work, so it keeps more rows than one process would, and both estimates stay within the budget."""
    one = _plan({"lime": 0.1}, parse_config("n_jobs = 1\naudit_budget_s = 20"), parallel=True)[1]
    two = _plan({"lime": 0.1}, parse_config("n_jobs = 2\naudit_budget_s = 20"), parallel=True)[1]
    assert one.n_jobs == 1 and two.n_jobs == 2
    assert MINIMUMS["rows"] < one.used["rows"] < two.used["rows"] < 200
    assert one.estimated_seconds_used <= 20.0 and two.estimated_seconds_used <= 20.0
    # the same configured work is estimated to take less wall-clock time on two workers
    assert two.estimated_seconds_requested < one.estimated_seconds_requested


def test_the_plan_counts_randomisation_reruns_exactly_when_the_audit_runs_them():
    """The plan and the check agree on when the model-randomisation check runs: a dataset without a target
    cannot refit a random model, so its plan counts no randomisation rows."""

    adapter = _adapter()
    adapter.capabilities = adapter.capabilities.__class__(margin=True, randomisation="refit on shuffled targets")
    X = np.random.default_rng(0).normal(size=(400, 3))
    config = AuditConfig(audit_budget_s=1000.0)
    for target, counted in ((None, False), (X[:, 0] > 0, True)):
        ds = Dataset("d.csv", "0" * 64, X, adapter.space, target=target)
        runs = randomised_model(adapter, ds, 0)[1] is None  # None: no reason it cannot run
        _, plan = budgeted(adapter, ds, config, [_Costly("lime", 0.01)])
        expected = plan_audit([_Costly("lime", 0.01)], adapter, 3, 200, config, n_available=400, randomised=counted)[1]
        assert runs is counted and plan.estimated_seconds_used == expected.estimated_seconds_used
        other = plan_audit([_Costly("lime", 0.01)], adapter, 3, 200, config, n_available=400, randomised=not counted)[1]
        assert plan.estimated_seconds_used != other.estimated_seconds_used


def test_the_explained_rows_are_drawn_once_each_in_row_order():

    ds = Dataset("d.csv", "0" * 64, np.arange(3000.0).reshape(1000, 3), _adapter().space)
    rows, background = sample(ds, AuditConfig(rows=120, seed=5, background=80))
    assert len(rows) == 120 and (np.diff(rows) > 0).all() and rows.max() < 1000
    assert (rows == sample(ds, AuditConfig(rows=120, seed=5, background=80))[0]).all()
    assert background.shape == (80, 3) and len(np.unique(background[:, 0])) == 80  # every row a candidate
    assert len(sample(ds, AuditConfig(rows=5000))[0]) == 1000  # never more rows than the data has


def test_worker_processes_start_only_above_the_auto_parallel_estimate(monkeypatch):
    """n_jobs = 0: an estimate exactly at ``AUTO_PARALLEL_S`` stays in one process; just above it, two."""
    config = AuditConfig(audit_budget_s=1000.0, n_jobs=0)
    estimate = _plan({"lime": 0.05}, config, parallel=True)[1].estimated_seconds_requested  # serial: one job
    monkeypatch.setattr("audit.commands.budget.AUTO_PARALLEL_S", estimate)
    assert _plan({"lime": 0.05}, config, parallel=True)[1].n_jobs == 1
    monkeypatch.setattr("audit.commands.budget.AUTO_PARALLEL_S", estimate * (1 - 1e-9))
    assert _plan({"lime": 0.05}, config, parallel=True)[1].n_jobs == PLANNED_WORKERS


def test_rerun_counts_never_exceed_the_rows_explained():
    """Counted by hand: 5 explained rows cap the 20 stability rows, 10 sensitivity rows and 50 randomisation
    rows at 5 each: 5 + 5 x 4 further seeds + 5 x 4 perturbed copies + 5 randomised = 50."""
    counts = {"rows": 5, "stability_rows": 20, "stability_seeds": 5, "sensitivity_rows": 10, "randomisation_rows": 50}
    assert reruns(counts, True) == 50 and reruns(counts, False) == 45


@pytest.mark.parametrize("n_jobs,expected", [(-1, -1), (0, 1), (3, 3)])
def test_without_a_plan_the_configured_workers_are_kept(n_jobs, expected):
    effective, plan = _plan({"coefficients": None}, AuditConfig(n_jobs=n_jobs), parallel=True)
    assert plan is None and effective.n_jobs == expected


def test_a_model_that_cannot_be_copied_or_short_work_runs_in_one_process(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 7)
    slow = AuditConfig(audit_budget_s=1000.0)
    for effective, plan in (_plan({"lime": 1.0}, slow, parallel=False), _plan({"lime": 1e-5}, slow, parallel=True),
                            _plan({"lime": 1.0}, parse_config("n_jobs = 4\naudit_budget_s = 1000"), parallel=False)):
        assert effective.n_jobs == 1 and plan.n_jobs == 1


def test_a_reduced_plan_keeps_whole_counts_never_above_the_data_and_says_what_it_cut():
    effective, plan = _plan({"lime": 1.0}, AuditConfig(audit_budget_s=10.0), n_available=30)
    assert plan.used["rows"] == 30  # the floor never raises a count above what there is
    effective, plan = _plan({"shap": 0.05, "lime": 0.03}, AuditConfig(audit_budget_s=10.0))
    assert all(type(v) is int for v in plan.used.values())
    assert f"reduced to fit: rows explained 200 -> {plan.used['rows']}, " in plan.finding
    assert "still estimated" not in plan.finding  # above the minimum, the reduced plan fits the budget
    # SHAP is never given less than 1.2x its counted cost for the rows it explains, however tight the budget
    effective, plan = _plan({"shap": 0.05, "lime": 0.05}, AuditConfig(audit_budget_s=1.0))
    assert plan.used["rows"] == MINIMUMS["rows"] and effective.explain_budget_s == pytest.approx(0.05 * 50 * 1.2)


def test_the_cost_is_counted_against_the_background_the_data_can_give():

    seen = []

    class _Recording(_Costly):
        def planned_seconds_per_row(self, adapter, n_features, *, n_background):
            seen.append(n_background)
            return self.seconds

    adapter = _adapter()
    for n in (40, 4000):
        ds = Dataset("d.csv", "0" * 64, np.zeros((n, 3)), adapter.space)
        budgeted(adapter, ds, AuditConfig(background=200), [_Recording("lime", 0.01)])
    assert seen == [40, 200]
