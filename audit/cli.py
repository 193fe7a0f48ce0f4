"""Command line: ``audit run MODEL DATA``.

Exit codes: 0 gate passed, 1 gate failed (report written), 2 bad input or usage (one message, nothing
written), 3 internal error (a bug: please report it with --debug output).
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from audit import __version__

if TYPE_CHECKING:
    from audit.config import AuditConfig
    from audit.results import AuditResult
    from report_templates import Template

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Explainability audit for regulated models: explanations, measured faithfulness, "
                       "a policy gate (exit code) and a PDF compliance report.")


class _ConsoleProgress:
    """Progress on stderr: a live spinner on a terminal, one line per finished step otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        t0 = time.perf_counter()
        if self.console.is_terminal:
            with self.console.status(escape(description) + " ..."):
                yield
        else:
            yield
        self.console.print(f"[green]✓[/] {escape(description)} [dim]({time.perf_counter() - t0:.1f} s)[/]", highlight=False)

    def note(self, message: str) -> None:
        self.console.print(f"[yellow]![/] {escape(message)}", highlight=False)

    @contextmanager
    def bar(self, description: str, total: int) -> Iterator[Any]:
        """One bar with rows/s and the time left (on a terminal); a summary line otherwise."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        t0 = time.perf_counter()
        done = [0]
        with Progress(TextColumn(escape(description)), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=self.console,
                      disable=not self.console.is_terminal, transient=True) as bar:
            task = bar.add_task(description, total=total or None, rate="")

            def advance(n: int) -> None:
                done[0] += n
                rate = done[0] / max(time.perf_counter() - t0, 1e-9)
                bar.update(task, advance=n, rate=f"{rate:,.0f} rows/s")

            yield advance
        seconds = time.perf_counter() - t0
        self.console.print(f"[green]✓[/] {escape(description)}: {done[0]:,} rows "
                           f"[dim]({seconds:.1f} s, {done[0] / max(seconds, 1e-9):,.0f} rows/s)[/]", highlight=False)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"audit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Explainability audit toolkit."""


_Scheduler = Annotated[str | None, typer.Option(help="Run on a Dask cluster: local:N (N worker processes started "
                                                     "for this run) or tcp://HOST:PORT (a running scheduler).")]


def _check_format(format_: str) -> None:
    from audit.errors import InputError

    if format_ not in ("text", "github"):
        raise InputError(f"--format {format_!r}: use text or github.")


def _names(explainers: str | None) -> list[str] | None:
    """``--explainers a,b`` as a list (None when not given)."""
    return [e.strip() for e in explainers.split(",") if e.strip()] if explainers else None


@app.command("run")
def run(
    model: Annotated[Path, typer.Argument(help="Fitted model: .skops, .pkl/.joblib (restricted loader), or a "
                                               "torch state_dict (.pt/.safetensors with --model-class).")],
    data: Annotated[Path, typer.Argument(help="CSV with the model's raw input columns (and the target, optionally).")],
    target: Annotated[str | None, typer.Option(help="Target column: enables performance, challenger and the "
                                                       "randomisation check.")] = None,
    config: Annotated[Path | None, typer.Option(help="audit.toml with settings and the policy.")] = None,
    out: Annotated[Path, typer.Option(help="Output folder for report.pdf and results.json.")] = Path("audit-report"),
    explainers: Annotated[str | None, typer.Option(help="Comma-separated explainer names (default: all that apply).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (sampling, controls, bootstrap).")] = None,
    trust_model: Annotated[bool, typer.Option("--trust-model", help="Load the model file without the allow-list. "
                                                                     "Unpickling runs code: only for files you trust.")] = False,
    model_class: Annotated[str | None, typer.Option(help="torch: package.module:Class to rebuild a state_dict. "
                                                            "Importing it runs that package's code, which you vouch for.")] = None,
    oracle: Annotated[str | None, typer.Option(help="package.module:function giving the exact attribution of a "
                                                     "known generating function (validation on synthetic data); "
                                                     "importing it runs that package's code.")] = None,
    device: Annotated[str | None, typer.Option(help="auto|cpu|cuda for torch models and Captum methods.")] = None,
    class_: Annotated[str | None, typer.Option("--class", help="Explain this class (multiclass default: each "
                                                                  "row's predicted class).")] = None,
    template: Annotated[str | None, typer.Option(help="Report template: credit_decision or generic.")] = None,
    rows: Annotated[int | None, typer.Option(help="Rows explained (sampled with the seed; default 200).")] = None,
    junit: Annotated[Path | None, typer.Option(help="Also write the gate checks as JUnit XML (non-blocking findings "
                                                    "as skipped test cases).")] = None,
    no_target: Annotated[bool, typer.Option("--no-target", help="Do not infer a target column when --target is "
                                                                 "not given.")] = False,
    data_role: Annotated[str | None, typer.Option(help="holdout|training: what DATA is to the model (default "
                                                       "unknown); labels the performance figures.")] = None,
    reference_data: Annotated[Path | None, typer.Option(help="The development or training sample (CSV or "
                                                             "Parquet, read like DATA): population stability (PSI "
                                                             "of the score, CSI of each input) against it.")] = None,
    format_: Annotated[str, typer.Option("--format", help="text, or github: also print the gate's failures as "
                                                          "GitHub Actions annotations on stdout.")] = "text",
    html: Annotated[bool, typer.Option("--html", help="Also write report.html: the same report as one self-contained "
                                                      "HTML file (contents sidebar, sortable tables).")] = False,
    mlflow: Annotated[bool, typer.Option("--mlflow", help="Also log report.pdf, results.json, faithfulness scores, "
                                                          "the verdict and the SHA-256s to MLflow (the active run or "
                                                          "a new one; needs the mlflow extra).")] = False,
    scheduler: _Scheduler = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Audit MODEL on DATA and write DIR/report.pdf and DIR/results.json."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        _check_format(format_)
        opts = RunOptions(model, data, out, config=config, target=target, explainers=explainers, seed=seed,
                          trust_model=trust_model, model_class=model_class, oracle=oracle, device=device,
                          class_=class_, template=template, rows=rows, junit=junit, no_target=no_target,
                          data_role=data_role, scheduler=scheduler, mlflow=mlflow, reference_data=reference_data,
                          html=html)
        result, code = _run(opts, err if not quiet else None)
        if format_ == "github":
            typer.echo(github_annotations(result))
        return code

    raise typer.Exit(_guarded(work, err, debug))


def _gh(text: str, *, prop: bool = False) -> str:
    """GitHub workflow-command escaping (data; properties also escape ':' and ',')."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotations(result: Any) -> str:
    """The gate as GitHub Actions annotations: an error per failed blocking check, a warning per finding
    (a non-blocking failure), and a notice with the verdict, so the job log and exit code agree.

    >>> from audit.gate import Check, Gate
    >>> r = type("R", (), {"gate": Gate(False, (Check("explainers_passing", False, 0.0, 1.0, "0 passed"),))})()
    >>> print(github_annotations(r))
    ::error title=audit gate%3A explainers_passing::0 passed
    ::notice title=audit gate::FAILED (0 of 1 checks passed)
    """
    lines = []
    for c in result.gate.checks:
        if not c.passed:
            kind, what = ("error", "audit gate") if c.blocking else ("warning", "audit finding")
            what += " (not measured)" if c.status == "not_measured" else ""
            lines.append(f"::{kind} title={_gh(f'{what}: {c.name}', prop=True)}::{_gh(c.message)}")
    n, ok = len(result.gate.checks), sum(c.passed for c in result.gate.checks)
    lines.append(f"::notice title=audit gate::{'PASSED' if result.gate.passed else 'FAILED'} ({ok} of {n} checks passed)")
    return "\n".join(lines)


@dataclass(frozen=True)
class RunOptions:
    """``audit run``'s command line: the paths, and each option as given (None: not given, so audit.toml or
    the default decides)."""

    model: Path
    data: Path
    out: Path
    config: Path | None = None
    target: str | None = None
    explainers: str | None = None
    seed: int | None = None
    trust_model: bool = False
    model_class: str | None = None
    oracle: str | None = None
    device: str | None = None
    class_: str | None = None
    template: str | None = None
    rows: int | None = None
    junit: Path | None = None
    no_target: bool = False
    data_role: str | None = None
    scheduler: str | None = None
    mlflow: bool = False
    reference_data: Path | None = None
    html: bool = False

    def overrides(self) -> dict[str, Any]:
        """The audit.toml keys the options set (a None value leaves the file's)."""
        return {"target": self.target, "seed": self.seed, "device": self.device, "class": self.class_,
                "rows": self.rows, "explainers": _names(self.explainers),
                "infer_target": False if self.no_target else None, "data_role": self.data_role}


def _run(opts: RunOptions, console: Console | None) -> tuple[AuditResult, int]:
    """The audit of ``opts``, its outputs written: the result and the exit code (0 passed, 1 failed)."""
    from audit.commands.distributed import on_cluster
    from audit.commands.runner import Progress, run_audit
    from audit.loading import import_object
    from audit.report import write_outputs

    cfg, text, tpl = _settings(opts)
    progress = _ConsoleProgress(console) if console else Progress()
    command = "audit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    oracle_fn = import_object(opts.oracle, "--oracle", "function") if opts.oracle else None
    if oracle_fn is not None and not callable(oracle_fn):
        from audit.errors import InputError

        raise InputError(f"--oracle {opts.oracle!r}: names a {type(oracle_fn).__name__}, not a function.")
    with on_cluster(opts.scheduler, cfg) as cfg:  # row-parallel explainers run on the cluster's workers
        result = run_audit(opts.model, opts.data, config=cfg, config_text=text, trust_model=opts.trust_model,
                           model_class=opts.model_class, progress=progress, command_line=command, oracle=oracle_fn,
                           reference_data=opts.reference_data)
    for warning in result.warnings:
        progress.note(warning)
    if console and result.data.get("target_source") == "inferred":
        typer.echo(f"Target column {result.data['target']!r} inferred (pass --target COL or --no-target to change).")
    with progress.step("Writing report.pdf" + (", report.html" if opts.html else "") + " and results.json"):
        paths = write_outputs(result, opts.out, template=tpl, junit=opts.junit, html=opts.html)
    if opts.mlflow:
        from audit.commands.tracking import log_audit

        with progress.step("Logging to MLflow"):
            run_id = log_audit(result, paths)
        if console:
            console.print(f"MLflow run {escape(run_id)}: report, results, scores, verdict and SHA-256s logged.",
                          highlight=False)
    if console:
        _print_verdict(console, result, paths)
    return result, 0 if result.gate.passed else 1


def _settings(opts: RunOptions) -> tuple[AuditConfig, str, Template]:
    """The configuration (audit.toml with the options applied), its text and the report template, every
    path, extra and scheduler checked: a mistake fails here, before the long work."""
    from audit.commands.distributed import check_scheduler
    from audit.errors import InputError
    from audit.loading import load_config_file
    from report_templates import load_template

    if opts.target is not None and opts.no_target:
        raise InputError("--target and --no-target contradict each other. Give one of them.")
    cfg, text = load_config_file(opts.config, opts.overrides())
    if opts.template:
        cfg = cfg.model_copy(update={"report": cfg.report.model_copy(update={"template": opts.template})})
    tpl = load_template(cfg.report.template)  # fail on a bad template before the long work
    _check_output_paths(opts.out, opts.junit)
    if opts.mlflow:
        from audit.commands.tracking import check_mlflow

        check_mlflow()
    if opts.scheduler is not None:
        check_scheduler(opts.scheduler)
    return cfg, text, tpl


def _print_verdict(console: Console, result: AuditResult, paths: dict[str, Path]) -> None:
    """The gate's verdict, where the outputs are, and each failed check (findings said to be findings)."""
    verdict = "[bold green]PASSED[/]" if result.gate.passed else "[bold red]FAILED[/]"
    console.print(f"Gate {verdict}: {sum(c.passed for c in result.gate.checks)}/{len(result.gate.checks)} checks "
                  f"passed. Report: {escape(str(paths['pdf']))}  Results: {escape(str(paths['json']))}",
                  highlight=False)
    failed = [c for c in result.gate.checks if not c.passed]
    summary = next(c for c in result.gate.checks if c.name == "explainers_passing")
    if result.gate.passed and failed:
        console.print(f"  {escape(summary.message)}: the failed checks below are findings, not blockers "
                      f"(see the policy gate in the report).", highlight=False)
    for c in failed:
        console.print(f"  [red]✗[/] {escape(c.name)}: {escape(c.message)}", highlight=False)


def _check_output_paths(out: Path, junit: Path | None) -> None:
    """Refuse unusable output paths before any work, creating nothing (symlinks resolved)."""
    from audit.errors import InputError

    if out.is_symlink() and not out.exists():
        raise InputError(f"--out {out}: a symbolic link to a missing folder ({out.readlink()}). Create the "
                         "folder or choose another path.")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder. Choose another path.")
    for option, path in (("--out", out), ("--junit", junit.parent if junit else None)):
        if path is None:
            continue
        resolved = path.resolve()
        ancestor = next((p for p in (resolved, *resolved.parents) if p.exists()), None)
        if ancestor is None or not ancestor.is_dir():
            raise InputError(f"{option} {path}: {ancestor} is a file, not a folder. Choose another path.")
        if not os.access(ancestor, os.W_OK):
            raise InputError(f"{option} {path}: cannot write in {ancestor}. Choose a writable folder.")


@app.command("reasons")
def reasons(
    model: Annotated[Path, typer.Argument(help="Fitted model (as for audit run).")],
    data: Annotated[Path, typer.Argument(help="CSV or Parquet with the model's input columns (any number of rows).")],
    out: Annotated[Path, typer.Option(help="Output file: .csv or .parquet.")] = Path("reasons.csv"),
    adverse_only: Annotated[bool, typer.Option("--adverse-only", help="Only rows whose decision is not the "
                                                                      "favourable class.")] = False,
    explainer: Annotated[str | None, typer.Option(help="Explainer giving the reasons (default: the report's "
                                                        "choice, the most faithful that passes the policy).")] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows read and explained at a time.")] = 5000,
    target: Annotated[str | None, typer.Option(help="Target column (for the choice audit's checks).")] = None,
    config: Annotated[Path | None, typer.Option(help="audit.toml with settings and the policy.")] = None,
    template: Annotated[str | None, typer.Option(help="Template whose plain-language reasons are used.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    trust_model: Annotated[bool, typer.Option("--trust-model", help="Load the model file without the allow-list.")] = False,
    model_class: Annotated[str | None, typer.Option(help="torch: package.module:Class for a state_dict.")] = None,
    scheduler: _Scheduler = None,
    recourse: Annotated[bool, typer.Option("--recourse", help="Add up to three verified counterfactuals per "
                                                              "adverse row (what would have changed it).")] = False,
    audit: Annotated[Path | None, typer.Option(help="results.json of an earlier `audit run` of this model with this "
                                                    "config and seed: reuse its choice (no choice audit).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Write the decision, score and principal reasons of every row of DATA (or only adverse ones)."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.reasons import run_reasons
        from audit.commands.runner import Progress
        from audit.loading import load_config_file
        from report_templates import load_template

        overrides = {"target": target, "seed": seed}
        cfg, _text = load_config_file(config, overrides)
        tpl = load_template(template or cfg.report.template)
        progress = _ConsoleProgress(err) if not quiet else Progress()
        summary = run_reasons(model, data, out, config=cfg, template=tpl, trust_model=trust_model,
                              model_class=model_class, explainer=explainer, adverse_only=adverse_only,
                              chunk_rows=chunk_rows, progress=progress, scheduler=scheduler, recourse=recourse,
                              audit=audit)
        if not quiet:
            score = "" if summary.method_score is None else f" (faithfulness {summary.method_score:.2f})"
            err.print(f"Reasons by {escape(summary.method)}{escape(score)}: {summary.rows_written:,} of "
                      f"{summary.rows_read:,} rows written to {escape(str(summary.path))} (how: "
                      f"{escape(str(summary.metadata_path))})", highlight=False)
        if summary.mixed:
            err.print(f"warning: {escape(summary.mixed)}", highlight=False)
        if summary.gate_warning:
            err.print(f"warning: {escape(summary.gate_warning)}", highlight=False)
        if summary.protected:
            err.print(f"Protected attributes: {escape(', '.join(summary.protected))} (an adverse reason naming one is "
                      "flagged in the protected_reason column)", highlight=False)
        return 0

    raise typer.Exit(_guarded(work, err, debug))


@app.command("compare")
def compare(
    baseline: Annotated[Path, typer.Argument(help="Baseline: a model file (as for audit run), or the results.json "
                                                  "an earlier audit wrote.")],
    candidate: Annotated[Path, typer.Argument(help="Candidate: a model file, or a results.json (as BASELINE).")],
    data: Annotated[Path | None, typer.Argument(help="CSV both models are audited on (leave it out with two "
                                                     "results.json files).")] = None,
    target: Annotated[str | None, typer.Option(help="Target column: enables the performance deltas.")] = None,
    config: Annotated[Path | None, typer.Option(help="audit.toml with settings, \\[policy] and \\[policy.compare].")] = None,
    out: Annotated[Path, typer.Option(help="Output folder for compare.pdf and compare.json.")] = Path("compare-report"),
    explainers: Annotated[str | None, typer.Option(help="Comma-separated explainer names (default: all that apply).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (sampling, controls, paired bootstrap).")] = None,
    rows: Annotated[int | None, typer.Option(help="Rows explained by both models (sampled with the seed).")] = None,
    trust_model: Annotated[bool, typer.Option("--trust-model", help="Load the model files without the allow-list.")] = False,
    model_class: Annotated[str | None, typer.Option(help="torch: package.module:Class for both state_dicts.")] = None,
    device: Annotated[str | None, typer.Option(help="auto|cpu|cuda for torch models and Captum methods.")] = None,
    template: Annotated[str | None, typer.Option(help="Report template (wording and the compare sections' order).")] = None,
    junit: Annotated[Path | None, typer.Option(help="Also write the compare gate's checks as JUnit XML.")] = None,
    format_: Annotated[str, typer.Option("--format", help="text, or github: also print the compare gate as GitHub "
                                                          "Actions annotations on stdout.")] = "text",
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Compare a candidate model with its baseline on the same rows; write DIR/compare.pdf and DIR/compare.json."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        _check_format(format_)
        overrides = {"target": target, "seed": seed, "device": device, "rows": rows,
                     "explainers": _names(explainers)}
        result = _compare(baseline, candidate, data, config, overrides, template, out, junit, trust_model,
                          model_class, err if not quiet else None)
        if format_ == "github":
            typer.echo(github_annotations(result))
        return 0 if result.gate.passed else 1

    raise typer.Exit(_guarded(work, err, debug))


def _compare(baseline: Path, candidate: Path, data: Path | None, config_path: Path | None, overrides: dict,
             template: str | None, out: Path, junit: Path | None, trust_model: bool, model_class: str | None,
             console: Console | None) -> Any:
    """Both audits (or both results.json files), the comparison and its outputs."""
    from audit.commands.compare import compare_models, compare_results
    from audit.commands.runner import Progress
    from audit.errors import InputError
    from audit.loading import load_config_file, load_results_file
    from audit.report import write_compare_outputs
    from report_templates import load_template

    cfg, text = load_config_file(config_path, overrides)
    tpl = load_template(template or cfg.report.template)
    _check_output_paths(out, junit)
    records = [load_results_file(p, name) for p, name in ((baseline, "BASELINE"), (candidate, "CANDIDATE"))]
    command = "audit " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    progress = _ConsoleProgress(console) if console else Progress()
    if all(r is not None for r in records):
        if data is not None:
            raise InputError(f"DATA {data}: two results.json files are compared as they are, without data. Leave "
                             "DATA out, or give two model files to audit both on it.")
        result = compare_results(records[0], records[1], config=cfg, command_line=command)
    elif any(r is not None for r in records):
        which = "BASELINE" if records[0] is not None else "CANDIDATE"
        raise InputError(f"{which} is a results.json and the other a model file. Give two model files and DATA, "
                         "or two results.json files.")
    elif data is None:
        raise InputError("DATA missing: two models are compared by auditing both on the same CSV. Give it after "
                         "CANDIDATE, or give two results.json files instead of models.")
    else:
        result = compare_models(baseline, candidate, data, config=cfg, config_text=text, trust_model=trust_model,
                                model_class=model_class, progress=progress, command_line=command)
    for warning in result.warnings:
        progress.note(warning)
    with progress.step("Writing compare.pdf and compare.json"):
        paths = write_compare_outputs(result, out, template=tpl, junit=junit)
    if console:
        verdict = "[bold green]PASSED[/]" if result.gate.passed else "[bold red]FAILED[/]"
        console.print(f"Compare gate {verdict}: {sum(c.passed for c in result.gate.checks)}/{len(result.gate.checks)} "
                      f"checks passed. Report: {escape(str(paths['pdf']))}  Results: {escape(str(paths['json']))}",
                      highlight=False)
        for c in result.gate.failed:
            console.print(f"  [red]✗[/] {escape(c.name)}: {escape(c.message)}", highlight=False)
    return result


@app.command("render")
def render(
    results: Annotated[Path, typer.Argument(help="A results.json written by `audit run`.")],
    html: Annotated[bool, typer.Option("--html", help="Write report.html.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Write report.pdf.")] = False,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: the folder of RESULTS).")] = None,
    template: Annotated[str | None, typer.Option(help="Report template (default: the one the run used, "
                                                      "config.report.template in RESULTS).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No output but errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Rebuild report.pdf and/or report.html from a stored results.json (both when neither --pdf nor --html is
    given). The PDF is byte-identical to the one `audit run` wrote with the same tool version."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        paths = _render(results, out if out is not None else results.parent, template, pdf=pdf or not html,
                        html=html or not pdf)
        if not quiet:
            typer.echo("Written: " + ", ".join(str(p) for p in paths.values()))
        return 0

    raise typer.Exit(_guarded(work, err, debug))


@app.command("lda")
def lda(
    model: Annotated[Path, typer.Argument(help="Model file, as for audit run (a scikit-learn estimator or pipeline).")],
    data: Annotated[Path, typer.Argument(help="CSV the alternatives are fitted on and measured on (a held-out split).")],
    target: Annotated[str | None, typer.Option(help="Target column (required: AUC needs the true outcomes).")] = None,
    config: Annotated[Path | None, typer.Option(help="audit.toml with \\[policy] (protected attributes) and \\[lda].")] = None,
    out: Annotated[Path, typer.Option(help="Output folder for lda.pdf and lda.json.")] = Path("lda-report"),
    seed: Annotated[int | None, typer.Option(help="Random seed (split, reductions, bootstrap).")] = None,
    tolerance: Annotated[float | None, typer.Option(help="Largest held-out AUC loss listed (default: \\[lda] "
                                                         "tolerance, 0.01).")] = None,
    trust_model: Annotated[bool, typer.Option("--trust-model", help="Load the model file without the allow-list.")] = False,
    template: Annotated[str | None, typer.Option(help="Report template (wording).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress output.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Search for less discriminatory alternatives to MODEL on DATA; write DIR/lda.pdf and DIR/lda.json. It
    documents the search and ships no model (exit 0 when the search ran, 2 on bad input)."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.lda import run_lda
        from audit.errors import InputError
        from audit.loading import load_config_file
        from audit.provenance import created_at
        from audit.report import write_lda_outputs
        from report_templates import load_template

        if tolerance is not None and not 0 <= tolerance <= 0.5:
            raise InputError(f"--tolerance {tolerance}: give an AUC loss between 0 and 0.5, e.g. 0.01.")
        cfg, _ = load_config_file(config, {"target": target, "seed": seed})
        if tolerance is not None:
            cfg = cfg.model_copy(update={"lda": cfg.lda.model_copy(update={"tolerance": tolerance})})
        tpl = load_template(template or cfg.report.template)
        _check_output_paths(out, None)
        progress = _ConsoleProgress(err) if not quiet else None
        with progress.step("Refitting and measuring the alternatives") if progress else _nothing():
            record = run_lda(model, data, config=cfg, trust_model=trust_model)
        paths = write_lda_outputs(record, out, template=tpl, created_at=created_at(), tool_version=__version__)
        if not quiet:
            from audit.report.sections.lda import statement

            err.print(escape(statement(tpl, record)) + f" Report: {escape(str(paths['pdf']))}  Results: "
                      f"{escape(str(paths['json']))}", highlight=False)
        return 0

    raise typer.Exit(_guarded(work, err, debug))


@app.command("docs")
def docs_command(
    results: Annotated[Path, typer.Argument(help="The results.json that `audit run` wrote.")],
    template: Annotated[str, typer.Option(help="annex-iv (EU AI Act technical documentation) or sr11-7 (model "
                                               "documentation and validation record).")] = "annex-iv",
    out: Annotated[Path | None, typer.Option(help="Markdown file to write (default: TEMPLATE.md beside "
                                                  "results.json).")] = None,
    docx: Annotated[bool, typer.Option("--docx", help="Also write the same document as a Word file (.docx) beside "
                                                      "the Markdown.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Write a documentation skeleton filled from RESULTS; every part a person must write is marked [NEEDS INPUT]."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.docs import write_docs

        paths = write_docs(results, template, out, docx=docx)
        err.print("Written: " + ", ".join(escape(str(p)) for p in paths.values()), highlight=False)
        return 0

    raise typer.Exit(_guarded(work, err, debug))


def _render(results: Path, out: Path, template: str | None, *, pdf: bool, html: bool) -> dict[str, Path]:
    """The reports of the results.json at ``results``, written into ``out`` (``template``, else the run's)."""
    from audit.errors import InputError
    from audit.loading import read_results_file
    from audit.report import write_reports
    from audit.stored import result_from_json
    from report_templates import load_template

    record = read_results_file(results)
    try:
        result = result_from_json(record)
        template_name = record["config"]["report"]["template"]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        where = f" (no {exc.args[0]!r})" if isinstance(exc, KeyError) else f" ({str(exc)[:120]})"
        raise InputError(f"RESULTS {results}: not a complete results.json{where}. Give the results.json that "
                         "`audit run` wrote, unedited.") from None
    _check_output_paths(out, None)
    tpl = load_template(template or template_name)  # a bad name or file: an InputError naming it
    return write_reports(result, out, template=tpl, pdf=pdf, html=html)


_Root = Annotated[Path, typer.Option(help="Folder the model and data paths recorded in results.json are relative to "
                                           "(where the audit ran).")]


@app.command("attest")
def attest_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The audit's output folder (results.json, report.pdf, "
                                                               "report.html).")],
    key: Annotated[Path, typer.Option(help="Ed25519 private key, PEM (audit keygen KEY; an encrypted key reads its "
                                           "passphrase from XAI_AUDIT_KEY_PASSPHRASE).")],
    root: _Root = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Sign an in-toto statement (DSSE envelope) over the audit's files and outputs: DIR/attestation.intoto.json."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.attest import attest

        path, stmt = attest(folder, key, root=root)
        err.print(f"Attested {len(stmt['subject'])} files (verdict {stmt['predicate']['verdict']}): "
                  f"{escape(str(path))}", highlight=False)
        return 0

    raise typer.Exit(_guarded(work, err, debug))


@app.command("verify")
def verify_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The audit's output folder with "
                                                               "attestation.intoto.json.")],
    pub: Annotated[Path, typer.Option(help="The signer's Ed25519 public key, PEM (KEY.pub).")],
    root: _Root = Path("."),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Check the attestation's signature and every file's SHA-256: exit 0 when all hold, 1 naming what differs."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.attest import verify

        result = verify(folder, pub, root=root)
        if result.ok:
            names = ", ".join(s["name"] for s in result.statement["subject"])
            typer.echo(f"Verified: signature by key {result.key[:16]}… and {len(result.statement['subject'])} "
                       f"digests ({names}); verdict {result.statement['predicate']['verdict']}.")
            return 0
        for problem in result.problems:
            err.print(f"[bold red]differs:[/] {escape(problem)}", highlight=False)
        return 1

    raise typer.Exit(_guarded(work, err, debug))


@app.command("keygen")
def keygen_command(
    key: Annotated[Path, typer.Argument(help="Where to write the private key (PEM); the public key goes to KEY.pub.")],
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Write a new Ed25519 key pair for audit attest (KEY) and audit verify (KEY.pub)."""
    err = Console(stderr=True, soft_wrap=True)

    def work() -> int:
        from audit.commands.attest import keygen

        private, public = keygen(key)
        err.print(f"Private key: {escape(str(private))} (keep it secret)  Public key: {escape(str(public))}",
                  highlight=False)
        return 0

    raise typer.Exit(_guarded(work, err, debug))


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@app.command("schema")
def schema_command(
    compare_: Annotated[bool, typer.Option("--compare", help="Print compare.json's schema (audit compare) instead.")] = False,
) -> None:
    """Print the JSON Schema (Draft 2020-12) of results.json (or, with --compare, of compare.json)."""
    import json

    from audit.schema import compare_schema, schema

    typer.echo(json.dumps(compare_schema() if compare_ else schema(), indent=2))


def _guarded(work: Any, err: Console, debug: bool) -> int:
    """Run ``work``; a user's error is one line and exit 2, a bug one line and exit 3 (tracebacks with --debug)."""
    from audit.errors import AuditError

    try:
        return work()
    except typer.Exit:
        raise
    except AuditError as exc:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {escape(' '.join(str(exc).split()))}", highlight=False)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: one line unless --debug
        if debug:
            raise
        from audit.extras import missing_extra

        missing = missing_extra(exc)  # an optional package imported where no loader checked for it first
        if missing is not None:
            err.print(f"[bold red]error:[/] {escape(str(missing))}", highlight=False)
            return missing.exit_code
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}. Re-run with --debug and "
                  "report it.", highlight=False)
        return 3


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
