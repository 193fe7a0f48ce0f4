"""Principal reasons for a whole portfolio: the orchestrator of ``audit reasons``.

The explainer is chosen as the report chooses it: an audit of a seeded sample (``rows``) scores every
applicable method and the most faithful one that passes the policy gives the reasons, with the audit's
background and typical values, so a row's reasons are the ones its report page would show (or the
method named with ``--explainer``, with a background sampled from the first 5,000 rows). With ``--audit
results.json`` that choice is read from an earlier audit of the same model file, configuration and seed
(:mod:`audit.commands.choice`), so no choice audit runs and the rows are the same. The explainer's automatic
algorithm decision (TreeSHAP's mode) is the audit's, fixed for every chunk. Then DATA is read in chunks (CSV or Parquet), each chunk is decided and
explained with that method, and its rows are appended to the output (CSV or Parquet), which appears
only when complete. Reasons follow the report's rules (:func:`audit.measures.decisions.decisions`) and the
template's plain language; text cells that a spreadsheet would run as a formula are neutralised
(OWASP CSV injection).
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audit.adapters import Adapter
from audit.atomic import atomic_file
from audit.commands.choice import Choice, explainer_gate, fixed_params, from_record, from_result, read_audit
from audit.commands.distributed import check_scheduler, cluster, map_in_order
from audit.commands.session import StreamSession, prepare_stream
from audit.config import AuditConfig
from audit.errors import GateRefusal, InputError
from audit.extras import require
from audit.loading import is_parquet, iter_chunks, sample_file
from audit.measures.decisions import decisions, favorable_class
from audit.measures.directions import printed_word
from audit.progress import Progress
from audit.types import Dataset

__all__ = ["run_reasons", "ReasonsSummary", "neutralise", "explainer_gate"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHOICE_ROWS = 50_000  # rows the choice audit reads at most (a seeded sample of a larger file)
POOL_ROWS = 5000  # rows the background and typical values are drawn from when no audit chose the method
RECOURSE_COLUMNS = 3  # counterfactuals per row with --recourse (at most [recourse] counterfactuals are filled)


def neutralise(cell: Any) -> Any:
    """A text cell safe to open in a spreadsheet: a leading ``= + - @``, tab or CR gets a ``'`` before
    it, unless the cell is a plain number.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-3.5"), neutralise("own")
    ('\\'=HYPERLINK("http://x")', '-3.5', 'own')
    """
    if not isinstance(cell, str) or not cell.startswith(_FORMULA_START):
        return cell
    try:
        float(cell)
        return cell
    except ValueError:
        return "'" + cell


@dataclass(frozen=True)
class ReasonsSummary:
    path: Path
    rows_read: int
    rows_written: int
    method: str
    method_score: float | None
    gate_passed: bool | None
    favorable_class: str | None
    explainer: dict[str, Any]  # the algorithm the explainer chose and its parameters (first explained chunk)
    metadata_path: Path
    rows_by_algorithm: dict[str, int] = field(default_factory=dict)  # more than one: chunks differed
    explainer_gate: dict[str, Any] = field(default_factory=dict)  # the method's own gate result in the choice audit
    protected: tuple[str, ...] = ()  # protected attributes; an adverse reason naming one is flagged
    reference: dict[str, Any] | None = None  # what the reasons are measured against (audit.measures.reason_reference)
    chosen_by: str = "choice audit"  # or the results.json given with --audit

    @property
    def gate_warning(self) -> str | None:
        """Said when the reasons come from an explainer (named with --explainer) that did not pass the gate."""
        if self.explainer_gate.get("passed", True):
            return None
        failed = "; ".join(self.explainer_gate.get("failed_checks", [])[:5]) or "see the choice audit"
        return f"{self.method} did not pass the policy gate in the choice audit ({failed}): its reasons are not backed"

    @property
    def mixed(self) -> str | None:
        """A warning when chunks were explained by different algorithms (a later chunk's automatic choice, e.g.
        TreeSHAP's fallback after an additivity miss the first chunk did not show), else None."""
        if len(self.rows_by_algorithm) < 2:
            return None
        parts = ", ".join(f"{k}: {v:,} rows" for k, v in self.rows_by_algorithm.items())
        return f"the explainer's automatic choice differed between chunks ({parts}); see rows_by_algorithm in the metadata"


def algorithm_label(meta: dict[str, Any]) -> str:
    """The algorithm a chunk's explanation used, with TreeSHAP's mode: what rows_by_algorithm counts."""
    mode = meta.get("parameters", {}).get("feature_perturbation")
    return str(meta.get("algorithm", "unknown")) + (f" ({mode})" if mode else "")


def _columns(max_reasons: int, recourse: bool) -> list[str]:
    cols = ["row", "decision", "score", "adverse", "method"]
    for i in range(1, max_reasons + 1):
        cols += [f"reason_{i}", f"reason_code_{i}", f"feature_{i}", f"value_{i}", f"contribution_{i}",
                 f"direction_{i}"]
    cols.append("protected_reason")  # protected attributes among an adverse decision's principal reasons
    if recourse:
        cols += [c for i in range(1, RECOURSE_COLUMNS + 1) for c in (f"recourse_{i}", f"recourse_score_{i}")]
        cols.append("recourse_note")
    return cols


@contextmanager
def _writer(out: Path, columns: list[str]) -> Iterator[Callable[[list[list[Any]]], None]]:
    """Append rows to a temporary file beside ``out``; it replaces ``out`` only when all went well."""
    parquet = out.suffix.lower() in (".parquet", ".pq")
    with atomic_file(out, prefix=".reasons-") as tmp:
        if parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([(c, pa.int64() if c == "row" else pa.float64() if c.startswith(("score", "contribution", "recourse_score"))
                                 else pa.bool_() if c == "adverse" else pa.string()) for c in columns])
            with pq.ParquetWriter(tmp, schema) as w:
                yield lambda rows: w.write_table(pa.Table.from_pylist([dict(zip(columns, r)) for r in rows], schema))
        else:
            with open(tmp, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(columns)
                yield lambda rows: writer.writerows([[neutralise(c) for c in r] for r in rows])


def _choose(model_path: Path, data_path: Path, total_rows: int, config: AuditConfig, explainer: str | None,
            run: Any, trust_model: bool, model_class: str | None) -> Choice:
    """The report's choice (unless one is named) from a choice audit run now. It reads DATA whole up to
    CHOICE_ROWS rows, else a seeded uniform sample of CHOICE_ROWS rows read in chunks, so memory stays flat
    with the file's size."""
    if explainer is not None:  # its own gate result, from an audit of that explainer alone
        config = config.model_copy(update={"explainers": [explainer]})
    if total_rows <= CHOICE_ROWS:
        result = run(model_path, data_path, config=config, trust_model=trust_model, model_class=model_class)
    else:
        with tempfile.TemporaryDirectory(prefix="audit-choice-") as d:
            sample = Path(d) / ("sample.parquet" if is_parquet(data_path) else "sample.csv")
            sample_file(data_path, sample, [], rows=CHOICE_ROWS, seed=config.seed)
            result = run(model_path, sample, config=config, trust_model=trust_model, model_class=model_class)
    return from_result(result, explainer)


def _settle(model_path: Path, data_path: Path, total_rows: int, config: AuditConfig, explainer: str | None,
            run: Any, trust_model: bool, model_class: str | None, audit_path: Path | None,
            progress: Progress) -> Choice:
    """The choice: read from ``audit_path`` (checked against the model and configuration before any work), or
    from a choice audit run now; refused when the report's method did not pass the gate."""
    if audit_path is not None:
        choice = from_record(read_audit(audit_path, model_path, config), audit_path)
    else:
        if run is None:
            from audit.commands.runner import run_audit as run
        with progress.step("Choosing the explainer on a sample (as the report does)"):
            choice = _choose(model_path, data_path, total_rows, config, explainer, run, trust_model, model_class)
    if explainer is None and not choice.own_gate["passed"]:
        _refuse(choice.method, choice.own_gate)
    return choice


def run_reasons(model_path: Path, data_path: Path, out: Path, *, config: AuditConfig, template: Any,
                trust_model: bool = False, model_class: str | None = None, explainer: str | None = None,
                adverse_only: bool = False, chunk_rows: int = 5000, progress: Progress | None = None,
                run: Any = None, scheduler: str | None = None, recourse: bool = False,
                audit: Path | None = None) -> ReasonsSummary:
    """Write the decision, score and principal reasons of every row of DATA (or of the adverse ones) to
    ``out`` (``.csv`` or ``.parquet``) and say what was written.

    ``run``: the audit used to choose the explainer (default :func:`audit.commands.runner.run_audit`).
    ``audit``: an earlier audit's results.json whose choice (method, algorithm, background, typical values,
    reason reference) is reused, so no choice audit runs; refused unless it was made for this model file,
    configuration and seed. ``scheduler``: explain the chunks on a Dask cluster (``local:N`` or
    ``tcp://HOST:PORT``, see :mod:`audit.commands.distributed`); the output is identical to the serial run's.
    ``recourse``: add up to three verified counterfactuals per adverse row (the audit's support and rules,
    or with ``explainer`` named, a support from the first 5,000 rows).
    """
    _check_paths(out, data_path, scheduler)
    _check_audit_options(audit, explainer, recourse)
    progress = progress or Progress()
    total_rows = _count_rows(data_path)  # one pass over DATA: the choice's sample cap and the progress bar
    choice = _settle(model_path, data_path, total_rows, config, explainer, run, trust_model, model_class, audit,
                     progress)
    method = choice.method
    stream = prepare_stream(model_path, config, method=method, chunk_rows=chunk_rows, pool_rows=POOL_ROWS,
                            chunks=lambda spec, rows: _chunks(data_path, spec, config, rows),
                            reference=choice.reference, fixed=fixed_params(choice),
                            trust_model=trust_model, model_class=model_class)
    favorable = favorable_class(stream.adapter, config.favorable_class)
    search = _search(config, choice.search, stream.adapter, favorable, data_path, stream.spec) if recourse else None
    shared = {"adapter": stream.adapter, "ex": stream.explainer, "background": stream.background,
              "favorable": favorable, "config": config, "typical": stream.typical, "template": template,
              "adverse_only": adverse_only, "search": search, "protected": choice.protected}
    with _writer(out, _columns(config.report.max_reasons, recourse)) as write, \
            progress.bar(f"Reasons with {method}", total_rows) as advance, cluster(scheduler) as client:
        read, written, chosen, by_algorithm = _explain_chunks(stream, shared, client, write, advance)
    summary = ReasonsSummary(out, read, written, method, choice.score, choice.gate_passed,
                             None if favorable is None else str(favorable), chosen,
                             out.with_name(out.name + ".meta.json"), by_algorithm, choice.own_gate, choice.protected,
                             stream.reference, choice.source)
    _write_metadata(summary, stream.loaded.sha256, data_path, config, chunk_rows, scheduler)
    return summary


def _check_audit_options(audit: Path | None, explainer: str | None, recourse: bool) -> None:
    """--audit reuses the report's own choice: it cannot be combined with a named explainer, and the audit's
    recourse search is not in results.json."""
    if audit is None:
        return
    if explainer is not None:
        raise InputError(f"--audit {audit} with --explainer {explainer}: --audit reuses the audit's own choice of "
                         "explainer. Leave out one of the two.")
    if recourse:
        raise InputError(f"--audit {audit} with --recourse: the audit's recourse search is not recorded in "
                         "results.json. Leave out --audit to run the choice audit (and its search) again.")


def _check_paths(out: Path, data_path: Path, scheduler: str | None) -> None:
    """Refuse an unusable ``--out``, a missing Parquet engine or a bad scheduler before any work."""
    if out.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise InputError(f"--out {out}: write reasons to a .csv or .parquet file.")
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name such as reasons.csv.")
    for needs, where in ((out.suffix.lower() != ".csv", f"--out {out}"), (is_parquet(data_path), f"data {data_path}")):
        if needs:  # Parquet in or out: pyarrow, checked before any work
            require("pyarrow.parquet", where)
    if scheduler is not None:
        check_scheduler(scheduler)


def _refuse(method: str, own_gate: dict[str, Any]) -> None:
    """No explainer passed the gate in the choice audit: reasons must come from one the gate backs."""
    failed = "; ".join(own_gate["failed_checks"][:5]) or "no explainer passed every check"
    raise GateRefusal(f"audit reasons: no explainer passed the policy gate in the choice audit; the most faithful, "
                      f"{method}, failed: {failed}. No reasons were written: reasons must come from an explainer "
                      "the gate backs. Fix the model or the policy, or pass --explainer NAME to write that "
                      "explainer's reasons anyway (its gate result is then recorded in OUT.meta.json and printed).")


def _explain_chunks(stream: StreamSession, shared: dict[str, Any], client: Any,
                    write: Callable[[list[list[Any]]], None], advance: Callable[[int], None]
                    ) -> tuple[int, int, dict[str, Any], dict[str, int]]:
    """Every chunk explained (on ``client``'s workers when there is a cluster) and written in row order:
    rows read, rows written, the first explained chunk's algorithm choice and rows per algorithm."""
    written = read = 0
    chosen: dict[str, Any] = {}
    by_algorithm: dict[str, int] = {}
    for n_rows, rows, meta in map_in_order(client, _chunk_rows, itertools.chain([stream.first], stream.rest), shared,
                                          label=_chunk_label):
        write(rows)
        read += n_rows
        written += len(rows)
        chosen = chosen or meta
        if meta:
            label = algorithm_label(meta)
            by_algorithm[label] = by_algorithm.get(label, 0) + len(rows)
        advance(n_rows)
    return read, written, chosen, by_algorithm


def _chunk_label(index: int, item: tuple) -> str:
    """A chunk in an error message: its number and its rows of DATA (1-based, as the output's ``row``)."""
    start, X = item[0], item[1]
    return f"chunk {index + 1} (rows {start}-{start + len(X) - 1} of DATA)"


def _write_metadata(summary: ReasonsSummary, model_sha256: str, data_path: Path, config: AuditConfig,
                    chunk_rows: int, scheduler: str | None) -> None:
    """``OUT.meta.json``: what produced the file (the explainer's algorithm choice among it), atomically."""
    meta = {"output": summary.path.name, "rows_read": summary.rows_read, "rows_written": summary.rows_written,
            "method": summary.method, "method_faithfulness": summary.method_score,
            "choice_audit_gate_passed": summary.gate_passed, "favorable_class": summary.favorable_class,
            "explainer": summary.explainer, "model_sha256": model_sha256, "data": str(data_path),
            "choice_audit_rows": None if summary.method_score is None or summary.chosen_by != "choice audit"
            else min(summary.rows_read, CHOICE_ROWS),
            "seed": config.seed, "chunk_rows": chunk_rows, "scheduler": scheduler,
            "rows_by_algorithm": summary.rows_by_algorithm, "warning": summary.mixed,
            "explainer_gate": summary.explainer_gate, "gate_warning": summary.gate_warning,
            "protected_attributes": list(summary.protected), "reason_reference": summary.reference,
            "chosen_by": summary.chosen_by}
    with atomic_file(summary.metadata_path, prefix=".reasons-meta-") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2, default=str)


def _search(config: AuditConfig, chosen: Any, adapter: Adapter, favorable: Any, data_path: Path, spec: Any) -> Any:
    """The recourse search of the choice audit, or one on a support from the first POOL_ROWS rows."""
    from audit.recourse import build_search

    if favorable is None:
        raise InputError("--recourse: the model has no favourable outcome to reach; set favorable_class in "
                         "audit.toml (the class an adverse decision would change to).")
    if chosen is not None:  # the choice audit's own search
        return chosen
    _, pool, space = next(_chunks(data_path, spec, config, POOL_ROWS))
    return build_search(config, pool, space, adapter, favorable, columns=None)


def _recourse_cells(search: Any, adapter: Adapter, X: np.ndarray, adverse: list[int], template: Any,
                    space: Any) -> dict[int, list[Any]]:
    """Per adverse row (index into ``X``): each verified counterfactual in the template's words with the
    model's new score, and a note when none was found."""
    from audit.recourse import describe, verify

    if not adverse:
        return {}
    found = verify(adapter, X[adverse], search.run(adapter, X[adverse]), search.favorable)
    out = {}
    for i, r in zip(adverse, found):
        cfs = describe(r, space)["counterfactuals"]
        cells: list[Any] = []
        for k in range(RECOURSE_COLUMNS):
            cells += [template.changes(cfs[k]["changes"]), cfs[k]["score"]] if k < len(cfs) else [None, None]
        out[i] = [*cells, r.why_none]
    return out


def _chunks(path: Path, spec: Any, config: AuditConfig, chunk_rows: int) -> Iterator:
    from audit.types import FeatureSpace

    names = spec.feature_names
    if names is None:
        raise InputError(f"model {path}: records no feature names, so its columns cannot be found in chunks; "
                         "use audit run, or save the model fitted on a DataFrame.")
    space = FeatureSpace(tuple(names), dict(spec.categorical), as_frame=spec.as_frame,
                         frame_categories={n: spec.categorical[n] for n in spec.frame_categorical})
    chunks = iter_chunks(path, space, chunk_rows=chunk_rows)
    try:
        first = next(chunks)
    except StopIteration:
        raise InputError(f"data {path}: no rows to explain.") from None
    yield first
    yield from chunks


def _count_rows(path: Path) -> int:
    """Rows in DATA for the progress bar (Parquet metadata, or a fast line count)."""
    if not path.is_file():
        raise InputError(f"data {path}: file not found. Check the path.")
    if is_parquet(path):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    import gzip

    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:  # type: ignore[operator]
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1)


def _chunk_rows(start: int, X: np.ndarray, space: Any, *, adapter: Adapter, ex: Any, background: np.ndarray,
                favorable: Any, config: AuditConfig, typical: np.ndarray, template: Any,
                adverse_only: bool, search: Any = None, protected: tuple[str, ...] = ()
                ) -> tuple[int, list[list[Any]], dict[str, Any]]:
    """(rows read, output rows, the explainer's choice) of one chunk: decide, keep (adverse only if asked),
    explain, give reasons (and with a recourse ``search``, what would have changed each adverse decision).
    Runs in a Dask worker under --scheduler: everything it needs comes in its arguments."""
    view = copy.copy(adapter)
    view.space = space  # categories unseen so far were appended; codes keep their meaning
    labels = view.predict_label(X)
    keep = np.arange(len(X))
    if adverse_only and favorable is not None:
        keep = np.flatnonzero(np.array([str(v) != str(favorable) for v in labels]))
    if not len(keep):
        return len(X), [], {}
    ds = Dataset(path="", sha256="", X=np.ascontiguousarray(X), space=space)
    adverse = [int(i) for i in keep if favorable is not None and str(labels[i]) != str(favorable)]
    cells = _recourse_cells(search, view, X, adverse, template, space) if search is not None else {}
    groups = [(view, keep)]
    if view.task == "multiclass" and config.explained_class is None:
        predicted = np.argmax(view.predict_all(X[keep]), axis=1)
        groups = [(view.for_class(int(k)), keep[predicted == k]) for k in np.unique(predicted)]
    out: list[list[Any]] = []
    chosen: dict[str, Any] = {}
    for v, idx in groups:
        attr = ex.explain(v, X[idx], background=background, seed=config.seed)
        chosen = chosen or {k: attr.meta[k] for k in ("algorithm", "choice", "reason", "parameters") if k in attr.meta}
        score = np.zeros(len(X))
        score[idx] = v.predict(X[idx])
        for d in decisions(ds, idx, score, labels, v, favorable, ex.name, {ex.name: attr},
                           max_reasons=config.report.max_reasons, typical=typical):
            row = [start + d.row - 1, d.outcome, d.prediction, d.adverse, d.method]
            for r in d.reasons:
                # adverse-action wording only for adverse decisions; otherwise what supported the outcome
                word = printed_word(r, config.report.direction_words)
                text = (template.reason(r["feature"], r["value"], above_typical=word) if d.adverse
                        else f"{r['feature']} = {r['value']} (supported this outcome)")
                row += [text, template.code(r["feature"]) if d.adverse else None, r["feature"], r["value"],
                        r["contribution"], r.get("direction")]
            row += [None] * (6 * config.report.max_reasons - 6 * len(d.reasons))
            named = [r["feature"] for r in d.reasons if r["feature"] in protected] if d.adverse else []
            row.append(", ".join(named) or None)
            if search is not None:
                row += cells.get(d.row - 1, [None] * (2 * RECOURSE_COLUMNS + 1))
            out.append(row)
    return len(X), sorted(out, key=lambda r: r[0]), chosen
