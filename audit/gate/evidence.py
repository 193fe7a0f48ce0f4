"""Checks on the validator's evidence (:mod:`audit.measures.evidence`): calibration error, population stability of the
score and of each input against the reference sample, and the directions the business expects."""

from __future__ import annotations

from typing import Any

from audit.config import Policy
from audit.gate.checks import Check, not_required, threshold_check

__all__ = ["evidence_checks"]


def evidence_checks(policy: Policy, record: dict[str, Any]) -> list[Check]:
    """The gate's checks on the validator's evidence: calibration error (when ``max_calibration_error`` is
    set), the score's PSI and each input's CSI (with --reference-data), and each expected direction."""
    checks = []
    cal = record["calibration"]
    if policy.max_calibration_error is not None:
        t = policy.max_calibration_error
        checks.append(threshold_check("calibration_error", cal["ece"], t, "expected calibration error of the "
                                      "favourable probability (10 quantile bins)", higher_is_better=False)
                      if cal is not None else
                      not_required("calibration_error", t, record["not_measured"].get("calibration", ""),
                                   higher_is_better=False))
    stability = record["population_stability"]
    if stability is not None:
        checks += _stability_checks(policy, stability)
    for name, rec in record["expected_directions"].items():
        checks.append(threshold_check(
            f"expected_direction:{name}", rec["violation_share"], policy.max_direction_violation,
            f"share of {rec['rows']} explained rows whose favourable score moves against the expected direction "
            f"({rec['expected']} in {name}) by more than {rec['tolerance']:g}", higher_is_better=False,
            detail=f" (ALE end-to-end change {rec['ale_change']:+.3f}"
                   f"{'' if rec['ale_agrees'] else ', against the expected direction'})"))
    return checks


def _stability_checks(policy: Policy, stability: dict[str, Any]) -> list[Check]:
    """PSI of the score (above psi_fail blocks, above psi_finding a finding) and the inputs' CSI (findings)."""
    checks = []
    role = f"; DATA role: {stability['data_role']}"
    if stability.get("score") is not None:
        value = stability["score"]["psi"]
        blocking = value > policy.psi_fail
        checks.append(threshold_check("population_stability:score", value,
                                      policy.psi_fail if blocking else policy.psi_finding,
                                      "population stability index of the favourable score against the reference "
                                      "sample", higher_is_better=False, blocking=blocking, suffix=role))
    shifted = {n: r["psi"] for n, r in stability["inputs"].items() if r["psi"] > policy.psi_finding}
    for name, value in sorted(shifted.items(), key=lambda kv: -kv[1]):
        unseen = stability["inputs"][name]["unseen_categories"]
        checks.append(threshold_check(f"characteristic_stability:{name}", value, policy.psi_finding,
                                      f"characteristic stability index of {name} against the reference sample",
                                      higher_is_better=False, blocking=False,
                                      detail=f" (categories absent from the reference: {', '.join(unseen[:5])})"
                                      if unseen else ""))
    if not shifted and stability["inputs"]:
        worst = max(stability["inputs"].items(), key=lambda kv: kv[1]["psi"])
        checks.append(threshold_check("characteristic_stability", worst[1]["psi"], policy.psi_finding,
                                      f"largest characteristic stability index of an input ({worst[0]})",
                                      higher_is_better=False, blocking=False))
    return checks
