"""The registry of report sections: the one list of names a template may order.

Each name is rendered by the report builder's ``section_<name>`` method (a test checks that every
entry has one and that there is no other); templates choose which appear and in what order. The
compare report (``audit compare``) has its own list, rendered by the compare builder and ordered by a
template's ``compare_sections``.

>>> "decisions" in SECTIONS
True
"""

from __future__ import annotations

__all__ = ["SECTIONS", "COMPARE_SECTIONS"]

SECTIONS: dict[str, str] = {
    "cover": "verdict, identity of model and data, sign-off block",
    "contents": "table of contents",
    "summary": "executive summary in plain language",
    "scope": "data used, columns, missing values",
    "performance": "performance measures and confusion matrix (with a target)",
    "global": "global importance per method, each chart with a sentence",
    "agreement": "agreement between methods (rank correlation, top-k overlap)",
    "faithfulness": "faithfulness scorecard with controls and confidence intervals",
    "gate": "every policy check with value, threshold, verdict and whether it blocks",
    "decisions": "principal reasons per decision",
    "reason_accuracy": "direction words verified by the model, reason stability under redrawn backgrounds, coverage",
    "protected": "influence of protected attributes",
    "fairness": "outcome fairness per protected group: selection rates, four-fifths rule, equalised odds",
    "challenger": "benchmark against an interpretable challenger",
    "methodology": "methods, metrics, regulatory context, limitations",
    "appendix": "reproducibility: hashes, versions, command line, configuration",
}

COMPARE_SECTIONS: dict[str, str] = {
    "compare_cover": "verdict of the comparison, the two models and the data, sign-off block",
    "compare_summary": "what changed, in plain language, and what this mode could not measure",
    "compare_performance": "performance of both models and the paired differences with confidence intervals",
    "compare_drift": "explanation drift: global importance side by side, rank correlation, top-k overlap, faithfulness",
    "compare_reasons": "how often the principal reason changed on the same rows, with examples",
    "compare_flips": "decisions that flip, in each direction, by protected group",
    "compare_gate": "every [policy.compare] check with value, threshold and verdict",
    "compare_appendix": "reproducibility: hashes, seed, configuration, command line, what each mode measures",
}
