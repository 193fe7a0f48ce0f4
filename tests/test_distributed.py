"""--scheduler: `audit reasons` chunks and `audit run`'s row-parallel explainers on a Dask cluster
started in the test (a LocalCluster; no external service), with output identical to the serial run."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from audit.commands.reasons import run_reasons
from audit.config import parse_config
from report_templates import load_template
from tests.conftest import FAST_TOML, SAMPLES, expect_verdict, save_pickle

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    """The address of a 2-worker LocalCluster, reached as a remote scheduler (the tcp:// path)."""
    from audit.commands.distributed import cluster

    with cluster("local:2") as client:
        yield client.scheduler.address


@pytest.fixture(scope="module")
def credit_files(credit_logreg, tmp_path_factory):
    d = tmp_path_factory.mktemp("dask")
    pd.read_csv(SAMPLES / "german_credit.csv").head(120).to_csv(d / "credit.csv", index=False)
    return save_pickle(credit_logreg, d / "logreg.pkl"), d / "credit.csv"


def _task_log(scheduler):
    """The scheduler's task stream (its TaskStreamPlugin, installed by the first call): every task a worker
    ran, with the worker's address; the check that work really left this process."""
    from dask.distributed import Client

    with Client(scheduler, timeout="10s") as client:
        return client.get_task_stream(), sorted(client.scheduler_info()["workers"])


def test_reasons_on_a_cluster_are_identical_to_the_serial_run(credit_files, scheduler, tmp_path):
    """LIME samples per row: fails if chunks run on workers get other seeds, arrive out of order or are
    lost (the two files must be byte-identical), or if the chunks never ran on the workers (the
    scheduler's task log must hold one task per chunk, run by the cluster's workers)."""
    model, data = credit_files
    cfg = parse_config(FAST_TOML, overrides={"target": "risk"})
    tpl = load_template("credit_decision")
    serial = run_reasons(model, data, tmp_path / "serial.csv", config=cfg, template=tpl, explainer="lime",
                         chunk_rows=25)
    before, workers = _task_log(scheduler)
    dask = run_reasons(model, data, tmp_path / "dask.csv", config=cfg, template=tpl, explainer="lime",
                       chunk_rows=25, scheduler=scheduler)
    after, _ = _task_log(scheduler)
    chunks = [t for t in after[len(before):] if "_chunk_rows" in str(t["key"])]
    assert len(chunks) == 5 and {t["worker"] for t in chunks} <= set(workers)  # 120 rows in chunks of 25
    assert serial.rows_written == dask.rows_written == 120
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()


def test_audit_run_uses_the_cluster_for_lime_and_gets_the_serial_attributions(cli, credit_files, scheduler, tmp_path):
    """`--scheduler ADDRESS`: LIME's rows are spread over the cluster's 2 workers (n_jobs recorded as 2, and
    the scheduler's task log shows the work ran there) and every attribution equals the serial run's (fails
    if per-row seeds depend on the split)."""
    import dask

    model, data = credit_files
    cfg = tmp_path / "audit.toml"
    cfg.write_text(FAST_TOML)
    runs = {}
    before, workers = _task_log(scheduler)
    for name, extra in (("serial", ()), ("dask", ("--scheduler", scheduler))):
        # every task carries the model on purpose: dask's large-graph warning (threshold lowered here so that it
        # would fire) is not shown to the user
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1B"}), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            code, _, err = cli("run", model, data, "--target", "risk", "--config", cfg, "--out", tmp_path / name,
                               "--explainers", "lime", "--trust-model", "--rows", "20", *extra)
        assert not [w for w in caught if "Sending large graph" in str(w.message)] and "large graph" not in err
        expect_verdict(code, tmp_path / name, passed=False, err=err)  # 20 rows: too few to pass
        runs[name] = json.loads((tmp_path / name / "results.json").read_text())
    after, _ = _task_log(scheduler)
    ran = after[len(before):]
    assert len(ran) >= 2 and {t["worker"] for t in ran} == set(workers)  # both workers did LIME's rows
    assert runs["serial"]["config"]["n_jobs"] == 1 and runs["dask"]["config"]["n_jobs"] == 2
    lime = {k: next(e for e in r["explanations"] if e["method"] == "lime") for k, r in runs.items()}
    assert lime["serial"]["global_importance"] == lime["dask"]["global_importance"]
    assert [d["reasons"] for d in runs["serial"]["decisions"]] == [d["reasons"] for d in runs["dask"]["decisions"]]


@pytest.mark.parametrize("value,words", [("local:0", "at least 1"), ("local:two", "at least 1"),
                                         ("http://host:8786", "tcp://HOST:PORT"), ("tcp://", "tcp://HOST:PORT")])
def test_a_bad_scheduler_is_exit_2_before_any_work(cli, credit_files, tmp_path, value, words):
    model, data = credit_files
    code, _, err = cli("reasons", model, data, "--out", tmp_path / "r.csv", "--trust-model", "--scheduler", value)
    assert code == 2 and words in err
    assert not (tmp_path / "r.csv").exists()


@pytest.fixture(scope="module")
def fragile(tmp_path_factory):
    """A 2-worker cluster whose scheduler gives up on a task after the second worker dies under it (the default
    is the fourth) and a model whose pipeline kills the worker process on the chunk holding a planted value."""
    import dask
    from make_samples import credit_logreg
    from sklearn.pipeline import Pipeline

    from audit.commands.distributed import cluster
    from tests.conftest import CATEGORICAL, NUMERIC
    from tests.crashing import CrashOnSentinel

    d = tmp_path_factory.mktemp("crash")
    credit = pd.read_csv(SAMPLES / "german_credit.csv")
    frame = credit.head(120).copy()
    frame.loc[60, "credit_amount"] = 50_000_000  # row 61, in the third chunk of 25; far outside any real amount
    frame.to_csv(d / "credit.csv", index=False)

    def model(once):
        steps = credit_logreg().steps
        fitted = Pipeline([steps[0], ("crash", CrashOnSentinel(once=once)), *steps[1:]])
        return fitted.fit(credit[CATEGORICAL + NUMERIC], credit["risk"])

    paths = {"always": save_pickle(model(None), d / "always.pkl"),
             "once": save_pickle(model(str(d / "crashed.marker")), d / "once.pkl"),
             "once_run": save_pickle(model(str(d / "crashed_run.marker")), d / "once_run.pkl")}
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), cluster("local:2") as client:
        yield client.scheduler.address, paths, d


def _reasons_cli(cli, model, data, out, scheduler=None):
    extra = ("--scheduler", scheduler) if scheduler else ()
    return cli("reasons", model, data, "--out", out, "--trust-model", "--explainer", "coefficients",
               "--chunk-rows", "25", "--quiet", *extra)


def test_a_worker_killed_once_mid_run_is_retried_and_the_output_is_the_serial_one(cli, fragile, tmp_path):
    """The first worker to explain rows 51-75 dies (os._exit, no exception); the scheduler retries the chunk on
    the other worker. Fails if a lost worker's chunk is not retried (its data must travel with the task, not
    sit on the dead worker), or if any row is lost or reordered (byte-identical to the serial file)."""
    scheduler, paths, d = fragile
    code, _, err = _reasons_cli(cli, paths["once"], d / "credit.csv", tmp_path / "serial.csv")
    assert code == 0, err
    assert not (d / "crashed.marker").exists()  # serial: no worker, no crash
    code, _, err = _reasons_cli(cli, paths["once"], d / "credit.csv", tmp_path / "dask.csv", scheduler)
    assert code == 0, err
    assert (d / "crashed.marker").exists()  # a worker did die under the chunk
    assert (tmp_path / "serial.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()


def test_a_chunk_that_kills_every_worker_is_exit_2_naming_its_rows_and_writes_nothing(cli, fragile, tmp_path):
    """Each retry of rows 51-75 kills its worker too: exit 2 with one message naming the chunk, what to do, and
    no traceback; neither the output, its metadata nor a temporary file is left behind."""
    scheduler, paths, d = fragile
    out = tmp_path / "reasons.csv"
    code, _, err = _reasons_cli(cli, paths["always"], d / "credit.csv", out, scheduler)
    assert code == 2, err
    assert "a Dask worker process died while running chunk 3 (rows 51-75 of DATA)" in " ".join(err.split())
    assert "run without --scheduler" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_audit_run_whose_lime_chunks_kill_every_worker_is_exit_2_and_writes_no_report(cli, fragile, tmp_path):
    """`audit run --scheduler`: LIME's perturbations of the planted amount reach the pipeline step that ends any
    worker meeting it, on each retry too. The run stops with exit 2 and one message saying the row-parallel
    explainers' worker died and what to do; no report, no results.json, no traceback. Serially (no worker) the
    same model audits normally, so the exit 2 is the lost worker's and nothing else's."""
    scheduler, paths, d = fragile
    config = tmp_path / "audit.toml"
    config.write_text(FAST_TOML.replace("\nrows = 40\n", "\nrows = 120\n") + "explainers = ['lime']\n")  # row 61 too
    args = ("run", paths["always"], d / "credit.csv", "--target", "risk", "--trust-model", "--config", config,
            "--quiet")
    code, _, err = cli(*args, "--out", tmp_path / "serial")
    assert "protected_input:sex" in expect_verdict(code, tmp_path / "serial", passed=False, err=err)  # the model's
    out = tmp_path / "dask"
    code, _, err = cli(*args, "--out", out, "--scheduler", scheduler)
    assert code == 2, err
    message = " ".join(err.split())
    assert "a Dask worker process died while running the row-parallel explainers" in message, message
    assert "Traceback" not in err and err.count("error:") == 1
    assert not (out / "report.pdf").exists() and not (out / "results.json").exists()


def test_audit_run_whose_lime_chunk_kills_one_worker_is_retried_and_gets_the_serial_attributions(cli, fragile,
                                                                                                 tmp_path):
    """`audit run --scheduler`: the first worker to run LIME's chunk holding row 61 dies; the scheduler retries
    the chunk on the other worker, which needs nothing the dead worker held (each task carries its adapter and
    rows; joblib's dask backend scattered them to single workers and a lost copy hung the run). Fails if the
    run hangs, stops, or its attributions differ from the serial run's."""
    scheduler, paths, d = fragile
    config = tmp_path / "audit.toml"
    config.write_text(FAST_TOML.replace("\nrows = 40\n", "\nrows = 120\n") + "explainers = ['lime']\n")
    args = ("run", paths["once_run"], d / "credit.csv", "--target", "risk", "--trust-model", "--config", config,
            "--quiet")
    runs = {}
    for name, extra in (("serial", ()), ("dask", ("--scheduler", scheduler))):
        code, _, err = cli(*args, "--out", tmp_path / name, *extra)
        expect_verdict(code, tmp_path / name, passed=False, err=err)
        runs[name] = json.loads((tmp_path / name / "results.json").read_text())
        assert (d / "crashed_run.marker").exists() == (name == "dask")  # a worker did die, and only on the cluster
    assert runs["dask"]["config"]["n_jobs"] == 2
    lime = {k: next(e for e in r["explanations"] if e["method"] == "lime") for k, r in runs.items()}
    assert lime["serial"]["global_importance"] == lime["dask"]["global_importance"]
    assert [d["reasons"] for d in runs["serial"]["decisions"]] == [d["reasons"] for d in runs["dask"]["decisions"]]
