"""The published JSON Schema (Draft 2020-12) of results.json; ``audit schema`` prints it.

Compatibility rule for ``schema_version`` (``MAJOR.MINOR``): keys are added freely and never renamed or
removed; an addition raises MINOR, and only a rename, a removal or a change of a key's type would raise
MAJOR. Objects therefore allow additional properties, and a consumer written for ``1.x`` reads every
``1.y``.

>>> SCHEMA["$schema"]
'https://json-schema.org/draft/2020-12/schema'
"""

from __future__ import annotations

from typing import Any

from audit.commands.budget import MINIMUMS as BUDGETED_COUNTS
from audit.results import COMPARE_SCHEMA_VERSION, SCHEMA_VERSION

__all__ = ["SCHEMA", "schema", "COMPARE_SCHEMA", "compare_schema", "LDA"]

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_SHA = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


_CHECK = _obj({"name": _STR, "passed": _BOOL, "value": _NUM_OR_NULL, "threshold": _NUM_OR_NULL, "message": _STR},
              {"explainer": _STR_OR_NULL, "blocking": _BOOL,
               "verdict": {"enum": ["pass", "fail", "finding", "not_measured", "not_required", "waived"]},
               "higher_is_better": {"type": ["boolean", "null"]},
               "status": {"enum": ["measured", "not_measured", "not_required", "waived"]},
               "interval": {"type": ["array", "null"], "items": _NUM, "minItems": 2, "maxItems": 2}})

_METRIC = _obj({"value": _NUM_OR_NULL}, {
    "ci95": {"type": "array", "items": _NUM_OR_NULL, "minItems": 2, "maxItems": 2},
    "random_control": _NUM_OR_NULL, "oracle": _NUM_OR_NULL,
    "normalised_score": {"type": ["number", "null"], "minimum": -1, "maximum": 1.5},
    "higher_is_better": _BOOL, "informative": _BOOL, "clipped": _BOOL, "in_score": _BOOL,
    "model_calls": {"type": "integer", "minimum": 0}})

_REASON = _obj({"feature": _STR, "value": _STR, "contribution": _NUM}, {
    "above_typical": {"type": ["boolean", "null"]},
    "direction": {"enum": ["confirmed", "contradicted", "non_monotone"]}})

_CHANGE = _obj({"feature": _STR, "from": _STR, "to": _STR})

_COUNTERFACTUAL = _obj({"changes": {"type": "array", "items": _CHANGE, "minItems": 1}, "verified": _BOOL,
                        "score": _NUM, "outcome": _STR},
                       {"cost": _NUM, "nn_distance": _NUM, "nn_ratio": _NUM})

_RECOURSE = {"type": ["object", "null"], "required": ["found", "counterfactuals"], "properties": {
    "found": _BOOL, "why_none": _STR_OR_NULL, "evaluations": {"type": "integer", "minimum": 0},
    "counterfactuals": {"type": "array", "items": _COUNTERFACTUAL, "maxItems": 3}}}

_RECOURSE_RUN = {"type": ["object", "null"], "properties": {
    "method": _STR, "decisions_searched": {"type": "integer", "minimum": 0},
    "decisions_with_recourse": {"type": "integer", "minimum": 0}, "immutable": {"type": "array", "items": _STR},
    "typical_nn_distance": _NUM, "model_rows": {"type": "integer", "minimum": 0},
    "consistency": {"type": "object", "additionalProperties": _obj(
        {"share": _NUM_OR_NULL, "decisions": {"type": "integer", "minimum": 0}})}}}

_EXPLANATION = _obj({
    "method": _STR, "kind": {"enum": ["intrinsic", "approximate"]}, "rows_explained": {"type": "integer", "minimum": 0},
    "seconds": _NUM, "global_importance": {"type": "object", "additionalProperties": _NUM},
    "faithfulness": {"type": "object", "additionalProperties": _METRIC},
    "faithfulness_score": _NUM_OR_NULL,
}, {
    "faithfulness_score_ci95": {"type": "array", "items": _NUM_OR_NULL, "minItems": 2, "maxItems": 2},
    "faithfulness_summary": _obj({}, {"uninformative_metrics": {"type": "array", "items": _STR},
                                      "clipped_metrics": {"type": "array", "items": _STR},
                                      "identity_with_reference": _BOOL, "identity_share": _NUM}),
    "algorithm": {"type": "object"}, "output_space": _STR, "stability_topk_jaccard": _NUM_OR_NULL,
    "max_sensitivity": _NUM_OR_NULL, "additivity_error": _NUM_OR_NULL,
    "randomisation_check": {"type": ["object", "null"]}, "mean_local_r2": _NUM_OR_NULL,
    "findings": {"type": "array", "items": _STR},
})

_CI = {"type": "array", "items": _NUM_OR_NULL, "minItems": 2, "maxItems": 2}
_RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_COUNTS = _obj({k: {"type": "integer", "minimum": 1} for k in BUDGETED_COUNTS})
_AUDIT_PLAN = {"type": ["object", "null"], "required": ["budget_seconds", "n_jobs", "requested", "used", "reduced"],
               "properties": {"budget_seconds": _NUM, "n_jobs": {"type": "integer", "minimum": 1},
                              "requested": _COUNTS, "used": _COUNTS, "reduced": _BOOL,
                              "planned_seconds_per_row": {"type": "object", "additionalProperties": _NUM},
                              "reference_rows_per_second": _NUM,
                              "estimated_seconds_requested": _NUM, "estimated_seconds_used": _NUM,
                              "explain_budget_s": _NUM_OR_NULL, "finding": _STR_OR_NULL}}
_ESTIMATE = {"type": ["object", "null"], "required": ["value", "ci95"],
             "properties": {"value": _NUM_OR_NULL, "ci95": _CI, "lowest": _STR, "highest": _STR}}
_GROUP = _obj({"group": _STR, "rows": {"type": "integer", "minimum": 0}, "judged": _BOOL, "selection_rate": _RATE,
               "selection_rate_ci95": _CI},
              {"positives": {"type": "integer", "minimum": 0}, "negatives": {"type": "integer", "minimum": 0},
               "true_positive_rate": _RATE, "false_positive_rate": _RATE})
_FAIRNESS_ATTRIBUTE = _obj({"grouping": _STR, "groups": {"type": "array", "items": _GROUP},
                            "too_small": {"type": "array", "items": _STR},
                            "judged_groups": {"type": "integer", "minimum": 0},
                            "selection_rate_ratio": _ESTIMATE, "equalized_odds_difference": _ESTIMATE,
                            "equal_opportunity_difference": _ESTIMATE})
_OUTCOME_FAIRNESS = _obj({"attributes": {"type": "object", "additionalProperties": _FAIRNESS_ATTRIBUTE}}, {
    "not_measured": _STR, "rows": {"type": "integer", "minimum": 0}, "favorable_class": _STR,
    "favorable_class_source": {"enum": ["config", "assumed"]}, "min_group_size": {"type": "integer", "minimum": 1},
    "bootstrap": {"type": "integer", "minimum": 1}, "with_target": _BOOL})

_IDS = {"type": "array", "items": _STR}
_TRACE = {"type": ["object", "null"], "required": ["version", "source", "clauses", "checks", "measures", "sections",
                                                   "unmapped"], "properties": {
    "version": _STR, "source": _STR,
    "clauses": {"type": "object", "additionalProperties": _obj({"regime": _STR, "citation": _STR, "asks": _STR})},
    "checks": {"type": "array", "items": _obj({"name": _STR, "verdict": _STR, "shows": _STR, "clauses": _IDS})},
    "measures": {"type": "array", "items": _obj({"name": _STR, "record": _STR, "recorded": _BOOL, "clauses": _IDS})},
    "sections": {"type": "array", "items": _obj({"name": _STR, "clauses": _IDS})},
    "unmapped": _IDS}}

_BAND = _obj({"quantile": _NUM, "cutoff": _NUM, "air": _NUM_OR_NULL, "lowest": _STR, "highest": _STR})
_SMD = {"type": ["object", "null"], "required": ["value", "ci95", "lowest", "highest"],
        "properties": {"value": _NUM, "ci95": _CI, "lowest": _STR, "highest": _STR}}
_SCORE_DISPARITY = _obj({"attributes": {"type": "object", "additionalProperties": _obj({
    "grouping": _STR, "air_by_band": {"type": "array", "items": _BAND}, "air_at_policy_cutoff": _NUM_OR_NULL,
    "smd": _SMD})}}, {
    "not_measured": _STR, "rows": {"type": "integer", "minimum": 0}, "quantiles": {"type": "array", "items": _NUM},
    "policy_cutoff": _NUM_OR_NULL, "min_group_size": {"type": "integer", "minimum": 1},
    "bootstrap": {"type": "integer", "minimum": 1}})

_PARITY_GROUP = _obj({"group": _STR, "rows": {"type": "integer", "minimum": 0}, "judged": _BOOL},
                     {"faithfulness_score": _NUM_OR_NULL, "reason_stability": _NUM_OR_NULL,
                      "stability_decisions": {"type": "integer", "minimum": 0}})
_EXPLANATION_PARITY = _obj({"attributes": {"type": "object", "additionalProperties": {"type": "array",
                                                                                      "items": _PARITY_GROUP}}}, {
    "method": _STR, "min_group_size": {"type": "integer", "minimum": 1}, "not_measured": _STR,
    "gaps": {"type": "object", "additionalProperties": _obj({}, {"faithfulness": _NUM_OR_NULL,
                                                                 "reason_stability": _NUM_OR_NULL})}})

_LDA_ALTERNATIVE = _obj({"name": _STR, "family": {"enum": ["baseline", "drop", "coarsen", "reduction", "threshold"]},
                         "description": _STR}, {
    "auc": _NUM, "auc_ci95": _CI, "air": _NUM_OR_NULL, "air_ci95": _CI, "lowest": _STR, "highest": _STR,
    "approval_rate": _NUM, "accuracy": _NUM, "on_frontier": _BOOL, "within_tolerance": _BOOL,
    "reduces_disparity": _BOOL, "not_measured": _STR})
LDA = _obj({"attribute": _STR, "training_rows": {"type": "integer", "minimum": 0},
            "holdout_rows": {"type": "integer", "minimum": 0}, "holdout_share": _NUM, "tolerance": _NUM, "min_air": _NUM,
            "bootstrap": {"type": "integer", "minimum": 1}, "seed": {"type": "integer"},
            "proxies": {"type": "array", "items": _STR}, "judged_groups": {"type": "array", "items": _STR},
            "alternatives": {"type": "array", "items": _LDA_ALTERNATIVE}},
           {"needed": _BOOL, "found": {"type": "array", "items": _STR}, "not_measured": _STR, "model": _STR,
            "model_sha256": _SHA, "data_sha256": _SHA})

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://xai-audit.invalid/results/{SCHEMA_VERSION}",
    "title": "xai-audit results.json",
    "description": "One audit of one model on one data file. Keys are added, never renamed or removed.",
    **_obj({
        "schema_version": {"type": "string", "pattern": r"^1\.[0-9]+$"},
        "tool_version": _STR, "created_at": {"type": "string", "format": "date-time"},
        "model": _obj({"path": _STR, "sha256": _SHA, "framework": _STR, "type": _STR,
                       "task": {"enum": ["binary", "multiclass", "regression"]}},
                      {"trusted": _BOOL, "classes": {"type": ["array", "null"], "items": _STR}}),
        "data": _obj({"path": _STR, "sha256": _SHA, "rows": {"type": "integer", "minimum": 1},
                      "features": {"type": "array", "items": _STR, "minItems": 1}},
                     {"explained_rows": {"type": "array", "items": {"type": "integer", "minimum": 1}}}),
        "gate": _obj({"passed": _BOOL, "checks": {"type": "array", "items": _CHECK}},
                     {"passing_explainers": {"type": "array", "items": _STR}}),
        "explanations": {"type": "array", "items": _EXPLANATION},
        "controls": _obj({"random": {"type": "object", "additionalProperties": _NUM_OR_NULL}},
                         {"oracle": {"type": "object"}, "oracle_kind": _STR}),
        "decisions": {"type": "array", "items": _obj({
            "row": {"type": "integer", "minimum": 1}, "prediction": _NUM, "outcome": _STR,
            "reasons": {"type": "array", "items": _REASON, "maxItems": 4}},
            {"adverse": _BOOL, "method": _STR, "recourse": _RECOURSE})},
    }, {
        "config": {"type": "object"}, "agreement": {"type": "object"},
        "performance": {"type": ["object", "null"]}, "challenger": {"type": ["object", "null"]},
        "protected_attributes": _obj({}, {"outcome_fairness": _OUTCOME_FAIRNESS,
                                          "score_disparity": _SCORE_DISPARITY,
                                          "explanation_parity": _EXPLANATION_PARITY}), "reproducibility": _obj({"seed": {"type": "integer"},
                                                                            "config_sha256": _SHA},
                                                                           {"audit_plan": _AUDIT_PLAN}),
        "warnings": {"type": "array", "items": _STR}, "recourse": _RECOURSE_RUN,
        "lda": {"anyOf": [{"type": "null"}, LDA]},
        "reason_directions": {"type": ["object", "null"], "properties": {
            "claims": {"type": "integer", "minimum": 0}, "confirmed": {"type": "integer", "minimum": 0},
            "contradicted": {"type": "integer", "minimum": 0}, "non_monotone": {"type": "integer", "minimum": 0},
            "accuracy": _NUM_OR_NULL, "printed_words": {"enum": ["verified", "typical"]},
            "contradicted_printed": {"type": "integer", "minimum": 0},
            "between_explainers": {"type": "array", "items": _obj(
                {"methods": {"type": "array", "items": _STR, "minItems": 2, "maxItems": 2},
                 "decisions": {"type": "integer", "minimum": 1},
                 "same_set_share": {"type": "number", "minimum": 0, "maximum": 1},
                 "mean_overlap": {"type": "number", "minimum": 0, "maximum": 1},
                 "same_first_share": {"type": "number", "minimum": 0, "maximum": 1}}, {})}}},
        "validation": {"type": ["object", "null"], "required": ["calibration", "discrimination", "score_bands",
                                                                "population_stability", "expected_directions",
                                                                "effects", "not_measured"], "properties": {
            "calibration": {"type": ["object", "null"], "properties": {
                "ece": _NUM, "brier": _NUM, "intercept": _NUM, "slope": _NUM,
                "bins": {"type": "array", "items": _obj({"count": {"type": "integer", "minimum": 1},
                                                         "mean_predicted": _NUM, "observed_rate": _NUM})}}},
            "discrimination": {"type": ["object", "null"]},
            "score_bands": {"type": ["array", "null"], "items": _obj({"count": {"type": "integer", "minimum": 1}})},
            "population_stability": {"type": ["object", "null"], "properties": {
                "data_role": _STR, "reference_rows": {"type": "integer", "minimum": 1},
                "inputs": {"type": "object", "additionalProperties": _obj({"psi": _NUM, "bins": {"type": "array"}})}}},
            "expected_directions": {"type": "object"}, "effects": {"type": "array"},
            "not_measured": {"type": "object", "additionalProperties": _STR}}},
        "reason_reference": {"type": ["object", "null"], "properties": {
            "method": {"enum": ["near_cutoff", "all_applicants", "background"]},
            "configured": {"enum": ["near_cutoff", "all_applicants", "background"]}, "citation": _STR,
            "candidate_rows": {"type": "integer", "minimum": 0}, "background_rows": {"type": "integer", "minimum": 0},
            "cutoff": _NUM_OR_NULL, "band": {"type": ["array", "null"], "items": _NUM, "minItems": 2, "maxItems": 2},
            "band_width": _NUM_OR_NULL, "fallback": _STR_OR_NULL},
            "required": ["method", "configured", "candidate_rows", "background_rows"]},
        "trace": _TRACE,
        "reasons_basis": {"type": ["object", "null"], "required": ["features", "background", "typical"], "properties": {
            "features": {"type": "array", "items": _STR, "minItems": 1},
            "background": {"type": "array", "items": {"type": "array", "items": _NUM_OR_NULL}},
            "typical": {"type": "array", "items": _NUM_OR_NULL}}},
    }),
}


_RATE = {"type": "number", "minimum": 0, "maximum": 1}
_RATE_OR_NULL = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_CI = {"type": "array", "items": _NUM_OR_NULL, "minItems": 2, "maxItems": 2}
_COUNT = {"type": "integer", "minimum": 0}
_COUNT_OR_NULL = {"type": ["integer", "null"], "minimum": 0}
_SIDE = _obj({"path": _STR, "sha256": _SHA, "type": _STR, "task": {"enum": ["binary", "multiclass", "regression"]},
              "gate_passed": _BOOL, "explainers": {"type": "array", "items": _STR}},
             {"features": {"type": "array", "items": _STR}, "reporting_method": _STR_OR_NULL,
              "favorable_class": _STR_OR_NULL, "created_at": _STR_OR_NULL})
_DELTA = _obj({"baseline": _NUM, "candidate": _NUM, "delta": _NUM, "delta_ci95": _CI},
              {"replicates": _COUNT})
_DRIFT = _obj({"spearman": _NUM_OR_NULL, "topk_overlap": _RATE_OR_NULL, "k": _COUNT,
               "faithfulness": _obj({"baseline": _NUM_OR_NULL, "candidate": _NUM_OR_NULL, "delta": _NUM_OR_NULL},
                                    {"baseline_ci95": {"type": ["array", "null"]},
                                     "candidate_ci95": {"type": ["array", "null"]}})},
              {"only_baseline": {"type": "array", "items": _STR}, "only_candidate": {"type": "array", "items": _STR},
               "baseline_importance": {"type": "object", "additionalProperties": _NUM},
               "candidate_importance": {"type": "object", "additionalProperties": _NUM}})
_GROUP = _obj({"group": _STR, "rows": _COUNT, "too_small": _BOOL, "flipped": _COUNT_OR_NULL,
               "to_adverse": _COUNT_OR_NULL, "rate": _RATE_OR_NULL, "adverse_rate": _RATE_OR_NULL})
_FLIPS = _obj({"rows": _COUNT, "flipped": _COUNT, "rate": _RATE, "favorable_class": _STR_OR_NULL,
               "transitions": {"type": "object", "additionalProperties": _COUNT},
               "by_group": {"type": "object", "additionalProperties": _obj(
                   {"groups": {"type": "array", "items": _GROUP}, "gap": _RATE_OR_NULL, "high": _STR_OR_NULL,
                    "low": _STR_OR_NULL}, {"note": _STR})}},
              {"to_adverse": _COUNT, "to_favourable": _COUNT, "min_group_rows": _COUNT})
_REASONS = _obj({"rows": _COUNT, "principal_changed": _COUNT, "principal_change_rate": _RATE,
                 "reason_set_change_rate": _RATE},
                {"baseline_method": _STR, "candidate_method": _STR,
                 "by_method": {"type": "object", "additionalProperties": _obj(
                     {"principal_change_rate": _RATE, "reason_set_change_rate": _RATE})},
                 "examples": {"type": "array", "items": _obj({"row": {"type": "integer", "minimum": 1}}, {
                     "baseline_outcome": _STR, "candidate_outcome": _STR, "baseline_reason": _STR_OR_NULL,
                     "candidate_reason": _STR_OR_NULL})}})

COMPARE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://xai-audit.invalid/compare/{COMPARE_SCHEMA_VERSION}",
    "title": "xai-audit compare.json",
    "description": "audit compare: a candidate model against its baseline on the same rows. Versioned like "
                   "results.json (compare_schema_version MAJOR.MINOR); keys are added, never renamed or removed.",
    **_obj({
        "compare_schema_version": {"type": "string", "pattern": r"^1\.[0-9]+$"},
        "tool_version": _STR, "created_at": {"type": "string", "format": "date-time"},
        "mode": {"enum": ["models", "results"]}, "baseline": _SIDE, "candidate": _SIDE,
        "data": _obj({"path": _STR, "sha256": _SHA, "rows": {"type": "integer", "minimum": 1}, "same_data": _BOOL},
                     {"candidate_sha256": _SHA}),
        "gate": _obj({"passed": _BOOL, "checks": {"type": "array", "items": _CHECK}}),
        "availability": {"type": "object", "additionalProperties": _obj({"available": _BOOL, "note": _STR})},
        "performance": {"oneOf": [{"type": "null"}, _obj({
            "measure": {"enum": ["auc", "accuracy", "r2"]}, "values": {"type": "object", "additionalProperties": _DELTA}},
            {"paired_bootstrap": _COUNT, "rows": _COUNT_OR_NULL})]},
        "explanation_drift": _obj({"method": _STR_OR_NULL, "by_method": {"type": "object", "additionalProperties": _DRIFT}},
                                  {"only_baseline": {"type": "array", "items": _STR},
                                   "only_candidate": {"type": "array", "items": _STR}}),
        "reasons": {"oneOf": [{"type": "null"}, _REASONS]},
        "flips": {"oneOf": [{"type": "null"}, _FLIPS]},
    }, {
        "policy": {"type": "object", "additionalProperties": _NUM, "properties": {
            "waive": {"type": "array", "items": _STR}, "waive_reason": _STR_OR_NULL}},
        "reproducibility": _obj({"seed": {"type": "integer"}, "config_sha256": _SHA}),
        "report": {"type": "object"}, "warnings": {"type": "array", "items": _STR},
    }),
}


def schema() -> dict[str, Any]:
    """A copy of :data:`SCHEMA` (callers may not change the published one)."""
    import copy

    return copy.deepcopy(SCHEMA)


def compare_schema() -> dict[str, Any]:
    """A copy of :data:`COMPARE_SCHEMA`, the schema of ``audit compare``'s compare.json."""
    import copy

    return copy.deepcopy(COMPARE_SCHEMA)
