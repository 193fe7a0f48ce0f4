"""What every gate check is and the one way to build one: the shared vocabulary of both policies.

A :class:`Check` carries its measured value, the threshold applied, ``passed``, ``blocking``, its
``status`` and its ``verdict``; the PDF, JUnit and the annotations read these fields and never recompute
them. Every comparison of a measured value with a threshold is made by :func:`threshold_check` (one
wording, ``decide_on`` applied, a NaN never passes); a measure that could not be taken is
:func:`not_measured` (never a pass), one the policy does not ask for :func:`not_required`, and
:func:`waived` applies ``policy.waive``. :class:`Gate` is the verdict over the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

__all__ = ["Check", "Gate", "STATUSES", "threshold_check", "meets", "not_measured", "not_required", "waived",
           "extend", "format_value"]


@dataclass(frozen=True)
class Check:
    """One policy check: the measured value, the threshold applied, the verdict and whether a failure
    blocks the gate by itself (``blocking``) or only counts against its explainer (``explainer``)."""

    name: str
    passed: bool
    value: float | None
    threshold: float | None
    message: str
    explainer: str | None = None
    blocking: bool = True
    higher_is_better: bool | None = None  # None: the check is not a comparison with a threshold
    status: Literal["measured", "not_measured", "not_required", "waived"] = "measured"
    interval: tuple[float, float] | None = None  # the measure's 95% interval, where it has one

    @property
    def verdict(self) -> str:
        """``pass``, ``fail`` (blocking) or ``finding`` for a measured check; otherwise its status."""
        if self.status != "measured":
            return self.status
        return "pass" if self.passed else ("fail" if self.blocking else "finding")

    @property
    def kind(self) -> str:
        """What is checked (``faithfulness``, ``randomisation``, ``protected_flip``, ...): the name before the
        first colon, the part a waiver names."""
        return self.name.split(":", 1)[0]

    @property
    def subject(self) -> str | None:
        """What it is checked on (an explainer, an attribute, a metric and explainer), if anything."""
        return self.name.split(":", 1)[1] if ":" in self.name else None

    @property
    def role(self) -> str:
        """Why a failure does or does not block, in words."""
        if self.blocking:
            return "blocks the gate when it fails"
        if self.explainer is None:
            return "is reported as a finding and does not block the gate"
        return f"counts against explainer {self.explainer}; blocks only through explainers_passing or required"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "value": self.value, "threshold": self.threshold,
                "message": self.message, "explainer": self.explainer, "blocking": self.blocking,
                "verdict": self.verdict, "higher_is_better": self.higher_is_better, "status": self.status,
                "interval": None if self.interval is None else list(self.interval)}


STATUSES = ("measured", "not_measured", "not_required", "waived")


def threshold_check(name: str, value: float, threshold: float, what: str, *, higher_is_better: bool,
                    explainer: str | None = None, blocking: bool = True, interval: tuple[float, float] | None = None,
                    decide_on: str = "estimate", fmt: str = ".3f", tfmt: str = "", shown: str | None = None,
                    detail: str = "", suffix: str = "", on_pass: str = "", on_fail: str = "") -> Check:
    """One comparison of a measured value with its threshold, in the one wording every check uses:
    ``"{what} {value}{detail} >= {threshold}{suffix}"`` (``<``, ``<=`` or ``>`` as the verdict is; ``shown``
    replaces the formatted value; an empty ``what`` starts the message with it), then ``on_pass`` or ``on_fail``
    as the verdict is. With ``decide_on = "interval"`` and an interval, the conservative bound decides, and
    the message says so. A NaN value never passes.

    >>> threshold_check("x", 0.7, 0.5, "score", higher_is_better=True).message
    'score 0.700 >= 0.5'
    >>> c = threshold_check("x", 0.7, 0.5, "score", higher_is_better=True, interval=(0.4, 0.9), decide_on="interval")
    >>> c.passed, c.message
    (False, 'score 0.700 (decided on the lower 95% bound 0.400) < 0.5')
    """
    decided, note = value, ""
    if decide_on == "interval" and interval is not None:
        decided = interval[0] if higher_is_better else interval[1]
        note = f" (decided on the {'lower' if higher_is_better else 'upper'} 95% bound {decided:{fmt}})"
    ok = meets(decided, threshold, higher_is_better=higher_is_better)
    sign = (">=" if ok else "<") if higher_is_better else ("<=" if ok else ">")
    text = f"{value:{fmt}}" if shown is None else shown
    head = f"{what} {text}" if what else text
    return Check(name, ok, float(value), threshold,
                 f"{head}{detail}{note} {sign} {threshold:{tfmt}}{suffix}{on_pass if ok else on_fail}",
                 explainer, blocking=blocking, higher_is_better=higher_is_better, interval=interval)


def meets(value: float, threshold: float, *, higher_is_better: bool) -> bool:
    """Whether ``value`` is on the passing side of ``threshold`` (reaching it passes); NaN never does.
    :func:`threshold_check` decides with it; a check with wording of its own (a count) uses it too.

    >>> meets(0.5, 0.5, higher_is_better=True), meets(float("nan"), 1.0, higher_is_better=False)
    (True, False)
    """
    return bool(value == value and (value >= threshold if higher_is_better else value <= threshold))


def not_measured(name: str, threshold: float | None, why: str, *, explainer: str | None = None,
                 blocking: bool = True, higher_is_better: bool | None = None) -> Check:
    """A check whose measure could not be taken: never a pass (see the module docstring)."""
    return Check(name, False, None, threshold, f"not measured: {why}", explainer, blocking=blocking,
                 higher_is_better=higher_is_better, status="not_measured")


def not_required(name: str, threshold: float | None, why: str, *, explainer: str | None = None,
                 blocking: bool = True, higher_is_better: bool | None = None) -> Check:
    """A check the policy does not ask for in this run, saying why (not a pass)."""
    return Check(name, True, None, threshold, f"not required: {why}", explainer, blocking=blocking,
                 higher_is_better=higher_is_better, status="not_required")


def waived(check: Check, waive: list[str] | tuple[str, ...], reason: str | None) -> Check:
    """``check`` waived when it was not measured and the policy names it (its kind or its full name)."""
    if check.status != "not_measured" or not (check.kind in waive or check.name in waive):
        return check
    return replace(check, passed=True, status="waived",
                   message=f"{check.message}; waived by policy.waive ({check.kind}): {reason}")


@dataclass(frozen=True)
class Gate:
    passed: bool
    checks: tuple[Check, ...]
    passing_explainers: tuple[str, ...] = ()

    def check(self, name: str) -> Check | None:
        """The check called ``name``, if the gate made one."""
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [c.to_json() for c in self.checks],
                "passing_explainers": list(self.passing_explainers)}



def extend(gate: Gate, checks: list[Check]) -> Gate:
    """``gate`` with further global checks measured after it (they do not change which explainers passed)."""
    ok = gate.passed and all(c.passed for c in checks if c.blocking)
    return Gate(passed=ok, checks=(*gate.checks, *checks), passing_explainers=gate.passing_explainers)


def format_value(x: float | None) -> str:
    """A measure in a message, three decimals, or ``n/a`` when there is none."""
    return "n/a" if x is None else f"{x:.3f}"
