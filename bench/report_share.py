"""Time to render the report for a 1,000-row audit, as a share of the whole run.

    python bench/report_share.py

Audits the German credit logistic-regression pipeline on all 1,000 rows (every applicable
explainer), then renders the PDF, and prints both times and the report's share.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from audit.commands.runner import run_audit
    from audit.config import parse_config
    from audit.report import write_outputs
    from report_templates import load_template

    models = ROOT / "samples" / "models"
    if not (models / "credit_logreg.skops").exists():
        from samples.make_samples import main as build

        build(models)
    config = parse_config("rows = 1000\nlime_num_samples = 500\n", overrides={"target": "risk"})
    t0 = time.perf_counter()
    result = run_audit(models / "credit_logreg.skops", ROOT / "samples" / "german_credit.csv", config=config)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(result, Path(tmp), template=load_template("credit_decision"))
    t2 = time.perf_counter()
    audit, report = t1 - t0, t2 - t1
    print(f"audit (1,000 rows explained): {audit:.1f} s; report: {report:.1f} s; "
          f"report share of the whole run: {report / (audit + report):.1%}")


if __name__ == "__main__":
    main()
