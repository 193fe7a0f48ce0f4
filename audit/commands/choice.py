"""The explainer choice ``audit reasons`` writes its reasons with, made once.

A :class:`Choice` is what the reasons need from an audit: the method (the report's primary explainer, or
the one named with ``--explainer``), its faithfulness and own gate result, the protected attributes, the
background, typical values and reason reference the report's reasons were measured against, and the
algorithm the explainer settled on (``explanations[].algorithm``). It comes either from a choice audit run
now (:func:`from_result`) or from an earlier audit's results.json (``audit reasons --audit``,
:func:`from_record`), which holds the same values (``reasons_basis``: the background and typical values,
exactly as floats), so both give the same rows and reasons. A results.json is reused only for the model
file and configuration it was made with (:func:`check_record`): anything else is refused before any work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.config import AuditConfig
from audit.errors import InputError
from audit.loading import load_results_file, sha256_input
from audit.provenance import sha256_text

__all__ = ["Choice", "from_result", "from_record", "read_audit", "explainer_gate", "fixed_params"]


@dataclass(frozen=True)
class Choice:
    method: str
    score: float | None  # the method's faithfulness score in the audit
    gate_passed: bool | None  # the audit's gate
    own_gate: dict[str, Any]  # the method's own checks: passed, failed_checks
    protected: tuple[str, ...]
    reference: tuple[np.ndarray, np.ndarray, dict[str, Any] | None] | None  # background, typical, reason reference
    algorithm: dict[str, Any]  # the method's recorded algorithm choice (its meta: algorithm, choice, parameters)
    search: Any = None  # the audit's recourse search (only from an audit run now)
    source: str = "choice audit"  # or the results.json path


def explainer_gate(gate: Any, method: str) -> dict[str, Any]:
    """Whether ``method`` passed every one of its checks in ``gate`` (a ``Gate`` or its results.json form),
    and the checks it did not pass."""
    record = gate if isinstance(gate, dict) else gate.to_json()
    failed = [f"{c['name']}: {c['message']}" for c in record["checks"]
              if c.get("explainer") == method and not c["passed"]]
    return {"passed": method in record.get("passing_explainers", []), "failed_checks": failed}


def from_result(result: Any, explainer: str | None) -> Choice:
    """The choice of an audit run now: the report's primary method (or ``explainer``). A named explainer
    keeps its documented background (DATA's first rows), so no reference is taken from the audit."""
    method = explainer or (result.decisions[0].method if result.decisions else result.explanations[0].method)
    found = next(e for e in result.explanations if e.method == method)
    named = explainer is not None
    search = None if named or result.recourse is None else result.recourse.search
    return Choice(method, found.faithfulness_score, result.gate.passed, explainer_gate(result.gate, method),
                  tuple(result.protected.get("attributes", ())),
                  None if named else (result.background, result.typical, result.reason_reference),
                  dict(found.algorithm), search)


def from_record(record: dict[str, Any], path: Path) -> Choice:
    """The choice recorded in an audit's results.json (read by :func:`read_audit`): the same values an audit
    run now would give, the background and typical values read back exactly (JSON null is NaN)."""
    decisions, explanations = record["decisions"], record["explanations"]
    method = decisions[0]["method"] if decisions else explanations[0]["method"]
    found = next(e for e in explanations if e["method"] == method)
    basis = record["reasons_basis"]
    background = np.array(basis["background"], dtype=float).reshape(len(basis["background"]), -1)
    typical = np.array(basis["typical"], dtype=float)
    protected = tuple((record.get("protected_attributes") or {}).get("attributes", ()))
    return Choice(method, found.get("faithfulness_score"), record["gate"]["passed"],
                  explainer_gate(record["gate"], method), protected,
                  (background, typical, record.get("reason_reference")), dict(found.get("algorithm") or {}),
                  source=str(path))


def read_audit(path: Path, model_path: Path, config: AuditConfig) -> dict[str, Any]:
    """The results.json at ``path`` (``--audit``), refused unless an audit of this model file with this
    configuration and seed wrote it: an InputError (exit 2) naming what differs and the fix."""
    if path.suffix.lower() != ".json" or not path.is_file():
        raise InputError(f"--audit {path}: not an audit's results.json ({'not a .json file' if path.is_file() else 'file not found'}). "
                         "Give the results.json that `audit run` wrote for this model.")
    record = load_results_file(path, "--audit")
    if record is None:
        raise InputError(f"--audit {path}: a model saved as JSON, not an audit's results.json. Give the "
                         "results.json that `audit run` wrote for this model.")
    check_record(record, path, sha256_input(model_path, "model"), config)
    return record


def check_record(record: dict[str, Any], path: Path, model_sha256: str, config: AuditConfig) -> None:
    """Refuse a results.json made for another model file, configuration or seed, or without the choice."""
    if not isinstance(record.get("reasons_basis"), dict):
        raise InputError(f"--audit {path}: this results.json (schema {record.get('schema_version')}) does not record "
                         "the background and typical values the reasons need (reasons_basis, schema 1.7). Re-run "
                         "`audit run` with this version of the tool, or leave out --audit.")
    recorded = record["model"].get("sha256")
    if recorded != model_sha256:
        raise InputError(f"--audit {path}: was written for another model file (SHA-256 {str(recorded)[:12]}..., this "
                         f"model's is {model_sha256[:12]}...). Audit this model with `audit run` and pass that "
                         "results.json, or leave out --audit.")
    repro = record.get("reproducibility") or {}
    config_sha = sha256_text(config.source[0])
    if repro.get("config_sha256") != config_sha:
        raise InputError(f"--audit {path}: was written with another configuration (config SHA-256 "
                         f"{str(repro.get('config_sha256'))[:12]}..., this one's is {config_sha[:12]}...). Pass the "
                         "same --config as the audit, or leave out --audit.")
    if repro.get("seed") != config.seed:
        raise InputError(f"--audit {path}: was written with seed {repro.get('seed')}, this run's is {config.seed} (the "
                         f"seed draws the background). Pass --seed {repro.get('seed')}, or leave out --audit.")


def fixed_params(choice: Choice) -> dict[str, Any]:
    """Parameters that fix the recorded automatic decision for every chunk: TreeSHAP's mode (interventional or
    path-dependent), decided once by the audit, so the chunks never decide it again."""
    params = choice.algorithm.get("parameters") or {}
    if choice.algorithm.get("choice") == "tree" and params.get("feature_perturbation"):
        return {"tree_mode": params["feature_perturbation"]}
    return {}
