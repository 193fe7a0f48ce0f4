"""``audit docs``: a documentation skeleton filled from a results.json, written as Markdown (and DOCX).

Orchestrates only: read the record (:mod:`audit.loading`), take its regulation trace (or, for a record written
before schema 1.7, the shipped table applied to it now), build the blocks (:mod:`audit.report.docs`) and write
the files atomically.

>>> # write_docs(Path("audit-report/results.json"), "annex-iv", Path("annex-iv.md"), docx=True)
"""

from __future__ import annotations

from pathlib import Path

from audit.atomic import atomic_outputs
from audit.errors import InputError
from audit.loading import read_results, sha256_bytes

__all__ = ["write_docs"]


def write_docs(results: Path, template: str, out: Path | None = None, *, docx: bool = False) -> dict[str, Path]:
    """Write the ``template`` skeleton for ``results`` to ``out`` (default: ``TEMPLATE.md`` beside the
    results.json) and, with ``docx``, the same document as ``out`` with the suffix ``.docx``. Returns the paths."""
    from audit.report.docs import build, markdown, write_docx
    from report_templates.docs import load_docs_template
    from report_templates.trace import load_trace

    tpl = load_docs_template(template)
    record, raw = read_results(results, "RESULTS")
    out = Path(out) if out is not None else results.parent / f"{template}.md"
    if out.suffix.lower() == ".docx":
        raise InputError(f"--out {out}: give the Markdown file's name (.md); --docx writes the DOCX beside it.")
    if out.exists() and out.is_dir():
        raise InputError(f"--out {out}: is a folder. Give a file name, e.g. {out / (template + '.md')}.")
    trace = record.get("trace")
    if not trace:  # written before schema 1.7: the shipped table applied to its checks now, and said so
        trace = load_trace().record(record, [])
        trace = {**trace, "source": f"{trace['source']}, applied now: this results.json has no trace of its own"}
    blocks = build(record, tpl, trace, source=results.name, source_sha256=sha256_bytes(raw))
    paths = {"md": out, **({"docx": out.with_suffix(".docx")} if docx else {})}
    with atomic_outputs(paths, beside=out, what=f"--out {out}") as staged:
        staged["md"].write_text(markdown(blocks), encoding="utf-8")
        if docx:
            write_docx(blocks, staged["docx"], created_at=record["created_at"])
    return paths
