"""The registry of report sections: the one list of names a template may order.

Each name is rendered by the report builder's ``section_<name>`` method (a test checks that every
entry has one and that there is no other); templates choose which appear and in what order.

>>> "decisions" in SECTIONS
True
"""

from __future__ import annotations

__all__ = ["SECTIONS"]

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
    "protected": "influence of protected attributes",
    "fairness": "outcome fairness per protected group: selection rates, four-fifths rule, equalised odds",
    "challenger": "benchmark against an interpretable challenger",
    "methodology": "methods, metrics, regulatory context, limitations",
    "appendix": "reproducibility: hashes, versions, command line, configuration",
}
