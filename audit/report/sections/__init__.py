"""The registry of report sections: the one table of names a template may order, each mapped to the
function that renders it.

A section is a module of this package with ``render(ctx) -> list[Flowable]`` (``ctx``: an
:class:`~audit.report.context.AuditContext`); templates choose which appear and in what order
(``sections``). The compare report (``audit compare``) has its own table, ``COMPARE_SECTIONS``, rendered
the same way from a :class:`~audit.report.context.CompareContext` and ordered by a template's
``compare_sections``.

>>> "decisions" in SECTIONS and callable(SECTIONS["decisions"])
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audit.report.sections import (
                                   agreement,
                                   appendix,
                                   challenger,
                                   contents,
                                   cover,
                                   decisions,
                                   explanation_parity,
                                   fairness,
                                   faithfulness,
                                   gate,
                                   importance,
                                   lda,
                                   methodology,
                                   performance,
                                   protected,
                                   reason_accuracy,
                                   scope,
                                   score_bands,
                                   summary,
                                   trace,
                                   validation,
)
from audit.report.sections.compare import appendix as compare_appendix
from audit.report.sections.compare import cover as compare_cover
from audit.report.sections.compare import drift as compare_drift
from audit.report.sections.compare import flips as compare_flips
from audit.report.sections.compare import gate as compare_gate
from audit.report.sections.compare import performance as compare_performance
from audit.report.sections.compare import reasons as compare_reasons
from audit.report.sections.compare import summary as compare_summary

__all__ = ["SECTIONS", "COMPARE_SECTIONS"]

Render = Callable[[Any], list]

SECTIONS: dict[str, Render] = {
    "cover": cover.render,  # verdict, identity of model and data, sign-off block
    "contents": contents.render,  # table of contents
    "summary": summary.render,  # executive summary in plain language
    "scope": scope.render,  # data used, columns, missing values
    "performance": performance.render,  # performance measures and confusion matrix (with a target)
    "validation": validation.render,  # calibration, discrimination, score bands, population stability, effects
    "global": importance.render,  # global importance per method, each chart with a sentence
    "agreement": agreement.render,  # agreement between methods (rank correlation, top-k overlap)
    "faithfulness": faithfulness.render,  # faithfulness scorecard with controls and confidence intervals
    "gate": gate.render,  # every policy check with value, threshold, verdict and whether it blocks
    "decisions": decisions.render,  # principal reasons per decision, with recourse
    "reason_accuracy": reason_accuracy.render,  # direction words verified, reason stability, coverage
    "protected": protected.render,  # influence of protected attributes
    "fairness": fairness.render,  # outcome fairness per protected group: selection rates, four-fifths, odds
    "score_bands": score_bands.render,  # adverse impact ratio at each decile cutoff, standardized mean difference
    "explanation_parity": explanation_parity.render,  # faithfulness and reason stability per protected group
    "lda": lda.render,  # less discriminatory alternatives (with [lda] enabled): frontier, table, statement
    "challenger": challenger.render,  # benchmark against an interpretable challenger
    "methodology": methodology.render,  # methods, metrics, regulatory context, limitations
    "appendix": appendix.render,  # reproducibility: hashes, versions, command line, configuration
    "trace": trace.render,  # regulation trace: the clauses each check, measure and section supports
}

COMPARE_SECTIONS: dict[str, Render] = {
    "compare_cover": compare_cover.render,  # verdict of the comparison, the two models and the data, sign-off
    "compare_summary": compare_summary.render,  # what changed, in plain language, and what was not measured
    "compare_performance": compare_performance.render,  # both models' performance, paired differences with CIs
    "compare_drift": compare_drift.render,  # explanation drift: importance side by side, rank, top-k, faithfulness
    "compare_reasons": compare_reasons.render,  # how often the principal reason changed on the same rows
    "compare_flips": compare_flips.render,  # decisions that flip, in each direction, by protected group
    "compare_gate": compare_gate.render,  # every [policy.compare] check with value, threshold and verdict
    "compare_appendix": compare_appendix.render,  # reproducibility and what each mode measures
}
