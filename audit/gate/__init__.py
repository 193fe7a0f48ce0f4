"""The policy gate: pure functions from measured evidence to typed checks, and the verdict over them.

- :mod:`audit.gate.checks`: :class:`Check`, :class:`Gate` and the helpers every check is built with
  (:func:`threshold_check`, :func:`not_measured`, :func:`not_required`, :func:`waived`);
- :mod:`audit.gate.audit`: the audit policy (``[policy]``): :func:`evaluate` and its evidence types;
- :mod:`audit.gate.reasons`: the checks on the reported reasons added after it (recourse consistency,
  direction words, reason stability, explanation parity);
- :mod:`audit.gate.evidence`: the checks on the validator's evidence (calibration, population stability,
  expected directions), added after it;
- :mod:`audit.gate.compare`: the compare policy (``[policy.compare]``): :func:`evaluate_compare`.

Every name is re-exported here: ``from audit.gate import ...`` is the public surface.
"""

from __future__ import annotations

from audit.gate.audit import (
    AgreementEvidence,
    ExplainerEvidence,
    FairnessEvidence,
    ProtectedEvidence,
    agreement_checks,
    evaluate,
    explainer_checks,
    fairness_checks,
    performance_checks,
    protected_checks,
)
from audit.gate.checks import (
    STATUSES,
    Check,
    Gate,
    extend,
    meets,
    not_measured,
    not_required,
    threshold_check,
    waived,
)
from audit.gate.compare import CompareEvidence, evaluate_compare
from audit.gate.evidence import evidence_checks
from audit.gate.reasons import direction_checks, explanation_parity_checks, recourse_checks, stability_checks

__all__ = ["Check", "Gate", "threshold_check", "meets", "not_measured", "not_required", "waived", "STATUSES",
           "ExplainerEvidence", "ProtectedEvidence", "FairnessEvidence", "AgreementEvidence", "evaluate",
           "explainer_checks", "protected_checks", "fairness_checks", "agreement_checks", "performance_checks",
           "CompareEvidence", "evaluate_compare", "recourse_checks", "direction_checks", "stability_checks", "extend",
           "evidence_checks", "explanation_parity_checks"]
