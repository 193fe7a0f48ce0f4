"""The typed records of results.json and compare.json: one ``TypedDict`` per record a producer writes.

Each record is the JSON object its producer returns (``audit/provenance.py``, ``audit/measures/performance.py``,
``audit/measures/protected.py``, ...) and the result dataclasses of ``audit/results.py`` hold; ``tests/test_records.py``
checks that a real audit writes exactly the keys declared here. A key that only some runs write is declared
in a ``total=False`` subclass of the record's required keys (``NotRequired`` needs Python 3.11). Only values
that are genuinely free-form JSON (the validated configuration, an explainer's own parameters) are
``JSONObject``.

This module imports nothing of the project, so every module may import it.
"""

from __future__ import annotations

from typing import ForwardRef, TypedDict

__all__ = [
    "JSONValue", "JSONObject",
    "ModelRecord", "DataRecord", "ReproducibilityRecord", "AuditPlanRecord", "BudgetedCounts",
    "ControlsRecord", "MetricRecord", "FaithfulnessSummaryRecord", "RandomisationRecord",
    "AgreementRecord", "PairRecord", "ConfusionMatrixRecord", "ScoresRecord", "PerformanceRecord",
    "ChallengerScoresRecord", "ChallengerRecord",
    "ShareRecord", "FlipTestRecord", "ProxyRecord", "ProtectedMeasures", "ProtectedRecord",
    "EstimateRecord", "SelectionRateRatioRecord", "FairnessGroupRecord", "FairnessAttributeRecord",
    "OutcomeFairnessRecord", "BandRecord", "SmdRecord", "ScoreDisparityAttributeRecord", "ScoreDisparityRecord",
    "GroupExplanationRecord", "ExplanationParityRecord", "LdaAlternativeRecord", "LdaRecord",
    "DirectionCounts", "ReasonStabilityRecord", "ExplainerReasonAgreement", "ReasonDirectionsRecord",
    "ReasonReferenceRecord", "ReasonRecord",
    "TraceClauseRecord", "TraceCheckRecord", "TraceMeasureRecord", "TraceSectionRecord", "TraceRecord",
    "ChangeRecord", "CounterfactualRecord", "DecisionRecourseRecord", "ConsistencyRecord", "RecourseRecord",
    "CompareSideRecord", "CompareDataRecord", "AvailabilityRecord", "PerformanceDeltaRecord",
    "ComparePerformanceRecord", "FaithfulnessDeltaRecord", "MethodDriftRecord", "ExplanationDriftRecord",
    "ReasonChangeRates", "ReasonChangeExample", "ReasonChangeRecord", "GroupFlipRecord", "GroupFlipsRecord",
    "FlipsRecord", "CompareReproducibilityRecord",
]

# Any JSON value, defined once. Recursive: its inner references name this module, so that typing.get_type_hints
# resolves them in whichever module's annotation the alias appears.
_SELF = ForwardRef("JSONValue", module=__name__)
JSONValue = str | int | float | bool | None | list[_SELF] | dict[str, _SELF]  # type: ignore[valid-type]
JSONObject = dict[str, JSONValue]
Interval = list[float | None]  # a [low, high] 95% interval; None where not measurable


# --- model, data, reproducibility (audit/provenance.py, audit/commands/budget.py) -----------------------------------

class _ModelRequired(TypedDict):
    path: str
    sha256: str
    framework: str
    type: str
    task: str
    format: str
    loaded_with: str
    trusted: bool
    output: str
    classes: list[str] | None
    explained_class: str | None
    explained_class_per_row: bool
    favorable_class: str | None
    device: str
    favorable_class_source: str | None


class ModelRecord(_ModelRequired, total=False):
    """results.json's ``model`` (``provenance.model_record``); the last three only for the loaders that
    record them (a named model class, a preprocessing spec beside a native booster)."""

    model_class: str
    spec_path: str
    spec_sha256: str


class DataRecord(TypedDict):
    """results.json's ``data`` (``provenance.data_record``)."""

    target_source: str
    role: str
    path: str
    sha256: str
    rows: int
    features: list[str]
    categorical: dict[str, list[str]]
    target: str | None
    ignored_columns: list[str]
    missing_values: dict[str, int]
    class_balance: dict[str, int] | None
    explained_rows: list[int]
    background_rows: int


BudgetedCounts = dict[str, int]  # audit.commands.budget.MINIMUMS' counts: rows, stability_rows, ... -> value


class AuditPlanRecord(TypedDict):
    """``reproducibility.audit_plan`` (``budget.AuditPlan.record``)."""

    budget_seconds: float
    n_jobs: int
    planned_parallel_speedup: float
    planned_seconds_per_row: dict[str, float]
    reference_rows_per_second: float
    requested: BudgetedCounts
    used: BudgetedCounts
    reduced: bool
    estimated_seconds_requested: float
    estimated_seconds_used: float
    explain_budget_s: float | None
    finding: str | None


class ReproducibilityRecord(TypedDict):
    """results.json's ``reproducibility`` (``provenance.reproducibility_record``)."""

    command_line: str | None
    entry_point: str
    seed: int
    config_sha256: str
    config_text: str
    config_overrides: JSONObject
    package_versions: dict[str, str]
    platform: str
    timings_seconds: dict[str, float]
    model_calls_total: int
    model_rows_total: int
    audit_plan: AuditPlanRecord | None


# --- faithfulness (audit/faithfulness/) ----------------------------------------------------------------------

class ControlsRecord(TypedDict):
    """results.json's ``controls`` (``faithfulness.evaluate.controls_record``); per group label where a
    multiclass model is explained one predicted class at a time."""

    random: dict[str, float]
    oracle: dict[str, float]
    oracle_kind: str | None
    uninformative_metrics: dict[str, list[str]]
    reference_winners: dict[str, dict[str, dict[str, float]]]
    reference_model_calls: int
    baseline: str
    random_draws: int
    shared_probe_model_calls: int
    control_model_calls: int
    control_seconds: float


class _MetricRequired(TypedDict):
    value: float | None
    higher_is_better: bool


class MetricRecord(_MetricRequired, total=False):
    """One entry of an explanation's ``faithfulness``: a scored metric (``scoring.MetricScore.to_json``
    and the means over groups) or one of the measures written beside them (additivity, stability, max
    sensitivity, captum's infidelity), each with its own keys."""

    ci95: Interval
    random_control: float | None
    oracle: float | None
    normalised_score: float | None
    normalised_score_ci95: Interval | None
    baseline: str
    model_calls: int
    seconds: float
    raw_normalised_score: float | None
    clipped: bool
    informative: bool
    in_score: bool
    unit: float | None
    reference_winners: dict[str, float]
    max: float  # additivity_error
    output_space: str  # additivity_error
    note: str  # additivity_error, infidelity_captum
    seeds: int  # stability_topk_jaccard
    rows: int  # stability_topk_jaccard, max_sensitivity, infidelity_captum
    k: int  # stability_topk_jaccard
    radius_std: float  # max_sensitivity
    perturbations: int  # max_sensitivity
    sigma: float  # infidelity_captum


class FaithfulnessSummaryRecord(TypedDict):
    """An explanation's ``faithfulness_summary`` (``scoring.FaithfulnessScores.summary`` over the groups)."""

    uninformative_metrics: list[str]
    clipped_metrics: list[str]
    identity_with_reference: bool
    identity_share: float | None
    identity_candidate: str | None
    score_range: list[float]
    informative_floor: float
    reference_kind: str
    rows_scored: int


class _RandomisationRequired(TypedDict):
    similarity: float | None


class RandomisationRecord(_RandomisationRequired, total=False):
    """An explanation's ``randomisation_check``: the measured similarity, or ``not_run`` saying why not."""

    similarity_signed: float
    similarity_abs: float
    rows: int
    method: str
    metric: str
    not_run: str


# --- agreement, performance, challenger (audit/measures/agreement.py, audit/measures/performance.py) ------------------------

class PairRecord(TypedDict):
    a: str
    b: str
    spearman: float


class _AgreementRequired(TypedDict):
    methods: list[str]
    spearman: list[list[float]]
    topk_overlap: list[list[float]]
    k: int


class AgreementRecord(_AgreementRequired, total=False):
    """results.json's ``agreement`` (``agreement.agreement``); no least agreeing pair with one explainer."""

    least_agreeing_pair: PairRecord


class ConfusionMatrixRecord(TypedDict):
    labels: list[str]
    matrix: list[list[int]]


class ScoresRecord(TypedDict, total=False):
    """A model's measures (``performance._metrics``): a classifier's accuracy, balanced accuracy, AUC (binary
    with both classes present) and confusion matrix, or a regressor's R2, RMSE and MAE."""

    accuracy: float
    balanced_accuracy: float
    auc: float
    confusion_matrix: ConfusionMatrixRecord
    r2: float
    rmse: float
    mae: float


class PerformanceRecord(ScoresRecord, total=True):
    """results.json's ``performance`` (``performance.model_performance``)."""

    rows: int
    data_role: str
    note: str


class ChallengerScoresRecord(TypedDict):
    in_sample: ScoresRecord
    cross_validated: ScoresRecord


class ChallengerRecord(TypedDict):
    """results.json's ``challenger`` (``performance.challenger_benchmark``)."""

    metric: str
    overfitting_warning: str | None
    best_cross_validated: float
    challengers: dict[str, ChallengerScoresRecord]
    best_challenger: str
    audited_model: float | None
    gap_in_sample: float
    summary: str


# --- protected attributes and outcome fairness (audit/measures/protected.py, audit/measures/fairness.py) --------------------

class ShareRecord(TypedDict):
    share: float
    per_attribute: dict[str, float]


class _FlipTestRequired(TypedDict):
    rate: float | None
    ci95: list[float] | None
    rows: int
    alternatives: int
    changed: int | None


class FlipTestRecord(_FlipTestRequired, total=False):
    """One protected input's flip test (``protected.flip_test``): how it was changed, or why it was not."""

    method: str
    not_measured: str


class ProxyRecord(TypedDict):
    feature: str
    association: float
    attribution_share: dict[str, float]


class _ProtectedMeasuresRequired(TypedDict):
    attributes: list[str]
    by_explainer: dict[str, ShareRecord]


class ProtectedMeasures(_ProtectedMeasuresRequired, total=False):
    """What ``protected.measure_protected`` measures: the rest only when protected attributes are named."""

    not_model_inputs: list[str]
    direct_inputs: list[str]
    flip_test: dict[str, FlipTestRecord]
    proxies: dict[str, list[ProxyRecord]]
    rows: int


class EstimateRecord(TypedDict):
    value: float | None
    ci95: Interval


class SelectionRateRatioRecord(EstimateRecord):
    lowest: str
    highest: str


class _FairnessGroupRequired(TypedDict):
    group: str
    rows: int
    judged: bool
    selection_rate: float
    selection_rate_ci95: Interval


class FairnessGroupRecord(_FairnessGroupRequired, total=False):
    """One group's rates; the error rates only with a target."""

    positives: int
    negatives: int
    true_positive_rate: float | None
    false_positive_rate: float | None


class FairnessAttributeRecord(TypedDict):
    """One protected attribute's outcome fairness (``fairness.outcome_fairness`` and its grouping)."""

    grouping: str
    groups: list[FairnessGroupRecord]
    too_small: list[str]
    judged_groups: int
    selection_rate_ratio: SelectionRateRatioRecord | None
    equalized_odds_difference: EstimateRecord | None
    equal_opportunity_difference: EstimateRecord | None


class _OutcomeFairnessRequired(TypedDict):
    attributes: dict[str, FairnessAttributeRecord]


class OutcomeFairnessRecord(_OutcomeFairnessRequired, total=False):
    """``protected_attributes.outcome_fairness`` (``fairness.measure_fairness``): the settings only when
    measured, ``not_measured`` when it could not be."""

    not_measured: str
    rows: int
    favorable_class: str
    favorable_class_source: str
    min_group_size: int
    bootstrap: int
    with_target: bool


class BandRecord(TypedDict):
    """The adverse impact ratio when rows scoring at least ``cutoff`` (the score's ``quantile``) are approved."""

    quantile: float
    cutoff: float
    air: float | None
    lowest: str
    highest: str


class SmdRecord(TypedDict):
    value: float
    ci95: Interval
    lowest: str
    highest: str


class ScoreDisparityAttributeRecord(TypedDict):
    """One protected attribute's (or intersection's) disparity by score band (``score_disparity``)."""

    grouping: str
    air_by_band: list[BandRecord]
    air_at_policy_cutoff: float | None
    smd: SmdRecord | None


class _ScoreDisparityRequired(TypedDict):
    attributes: dict[str, ScoreDisparityAttributeRecord]


class ScoreDisparityRecord(_ScoreDisparityRequired, total=False):
    """``protected_attributes.score_disparity`` (``score_disparity.measure_score_disparity``): the settings when
    measured, ``not_measured`` when not."""

    not_measured: str
    rows: int
    quantiles: list[float]
    policy_cutoff: float | None
    min_group_size: int
    bootstrap: int


class _GroupExplanationRequired(TypedDict):
    group: str
    rows: int
    judged: bool


class GroupExplanationRecord(_GroupExplanationRequired, total=False):
    """One group's explanation quality: the faithfulness score on its explained rows and its reason stability."""

    faithfulness_score: float | None
    reason_stability: float | None
    stability_decisions: int


class _ExplanationParityRequired(TypedDict):
    attributes: dict[str, list[GroupExplanationRecord]]


class ExplanationParityRecord(_ExplanationParityRequired, total=False):
    """``protected_attributes.explanation_parity`` (``explanation_parity.measure_explanation_parity``): per
    protected attribute, each group's explanation quality for the explainer that gives the reasons."""

    method: str
    gaps: dict[str, dict[str, float | None]]
    min_group_size: int
    not_measured: str


class _LdaAlternativeRequired(TypedDict):
    name: str
    family: str  # baseline | drop | coarsen | reduction | threshold
    description: str


class LdaAlternativeRecord(_LdaAlternativeRequired, total=False):
    """One alternative of the LDA search (``lda.search``): its held-out measures, or why not measured."""

    auc: float
    auc_ci95: Interval
    air: float | None
    air_ci95: Interval
    lowest: str
    highest: str
    approval_rate: float
    accuracy: float
    on_frontier: bool
    within_tolerance: bool
    reduces_disparity: bool
    not_measured: str


class _LdaRequired(TypedDict):
    attribute: str
    training_rows: int
    holdout_rows: int
    holdout_share: float
    tolerance: float
    min_air: float
    bootstrap: int
    seed: int
    proxies: list[str]
    judged_groups: list[str]
    alternatives: list[LdaAlternativeRecord]


class LdaRecord(_LdaRequired, total=False):
    """results.json's ``lda`` (with ``[lda] enabled``) and ``audit lda``'s lda.json: what was searched and found;
    ``needed`` and ``found`` when measured, ``not_measured`` when the search could not be judged."""

    needed: bool
    found: list[str]
    not_measured: str
    model: str  # the model file's name (audit lda)
    model_sha256: str
    data_sha256: str


class _ProtectedAdded(TypedDict):
    input_action: str
    outcome_fairness: OutcomeFairnessRecord
    score_disparity: ScoreDisparityRecord
    explanation_parity: ExplanationParityRecord
    protected_source: str
    inferred_bases: dict[str, str]


class ProtectedRecord(ProtectedMeasures, _ProtectedAdded):
    """results.json's ``protected_attributes``: the measures, the settled input action, outcome fairness and
    where the protected attributes came from (the runner adds these)."""


# --- reasons and their directions (audit/measures/decisions.py, audit/measures/directions.py, audit/reason_*.py) ------------

class _ReasonRequired(TypedDict):
    feature: str
    value: str
    contribution: float
    above_typical: bool | None


class ReasonRecord(_ReasonRequired, total=False):
    """One reason of a decision (``decisions``); ``direction`` is the model's verdict on its direction word,
    where one was checked."""

    direction: str


class DirectionCounts(TypedDict):
    """``directions.direction_summary``: counts over the adverse decisions' reasons."""

    confirmed: int
    contradicted: int
    non_monotone: int
    claims: int
    accuracy: float | None
    printed_words: str
    contradicted_printed: int
    unsupported_printed: int


class ReasonStabilityRecord(TypedDict):
    """``reason_stability.measure_reason_stability``."""

    method: str
    decisions: int
    redraws: int
    background_rows: int
    share_unchanged: float
    decisions_always_unchanged: float
    changed_rows: list[int]


class ExplainerReasonAgreement(TypedDict):
    """One pair of passing explainers' reasons (``reason_stability.reason_agreement``)."""

    methods: list[str]
    decisions: int
    same_set_share: float
    mean_overlap: float
    same_first_share: float


class ReasonDirectionsRecord(DirectionCounts):
    """results.json's ``reason_directions``: the counts, their stability and the explainers' agreement."""

    stability: ReasonStabilityRecord | None
    between_explainers: list[ExplainerReasonAgreement]


class ReasonReferenceRecord(TypedDict):
    """results.json's ``reason_reference`` (``reason_reference.Reference.record``)."""

    method: str
    configured: str
    citation: str
    candidate_rows: int
    background_rows: int
    cutoff: float | None
    band: list[float] | None
    band_width: float | None
    fallback: str | None


class ReasonsBasisRecord(TypedDict):
    """results.json's ``reasons_basis``: what ``audit reasons --audit`` needs to give the report's reasons without
    a choice audit: the encoded background rows and each input's typical value (JSON null is NaN), in the order
    of ``features``."""

    features: list[str]
    background: list[list[float | None]]
    typical: list[float | None]


class ValidationRecord(TypedDict):
    """results.json's ``validation`` (``evidence.ValidationEvidence.record``): the validator's evidence; each
    part None (with its reason in ``not_measured``) when it could not be measured."""

    calibration: JSONObject | None
    discrimination: JSONObject | None
    score_bands: list[JSONObject] | None
    score_histogram: JSONObject | None
    population_stability: JSONObject | None
    expected_directions: dict[str, JSONObject]
    effects: list[JSONObject]
    not_measured: dict[str, str]


# --- the regulation trace (report_templates/trace.py) -------------------------------------------------------------

class TraceClauseRecord(TypedDict):
    """One clause of the trace: the regime, its clause number and what it asks, in a short neutral line."""

    regime: str
    citation: str
    asks: str


class TraceCheckRecord(TypedDict):
    """A gate check of this audit with its verdict and the clauses its evidence supports."""

    name: str
    verdict: str
    shows: str
    clauses: list[str]


class TraceMeasureRecord(TypedDict):
    """A measure, where it sits in results.json, whether this run recorded it, and its clauses."""

    name: str
    record: str
    recorded: bool
    clauses: list[str]


class TraceSectionRecord(TypedDict):
    name: str
    clauses: list[str]


class TraceRecord(TypedDict):
    """results.json's ``trace`` (``report_templates.trace.Trace.record``)."""

    version: str
    source: str
    clauses: dict[str, TraceClauseRecord]
    checks: list[TraceCheckRecord]
    measures: list[TraceMeasureRecord]
    sections: list[TraceSectionRecord]
    unmapped: list[str]


# --- recourse (audit/recourse/) --------------------------------------------------------------------------------

ChangeRecord = TypedDict("ChangeRecord", {"feature": str, "from": str, "to": str})  # "from" is a keyword


class CounterfactualRecord(TypedDict):
    changes: list[ChangeRecord]
    outcome: str
    score: float
    verified: bool
    cost: float
    nn_distance: float
    nn_ratio: float


class DecisionRecourseRecord(TypedDict):
    """A decision's ``recourse`` (``recourse.describe``)."""

    found: bool
    why_none: str | None
    evaluations: int
    counterfactuals: list[CounterfactualRecord]


class ConsistencyRecord(TypedDict):
    share: float | None
    decisions: int


class RecourseRecord(TypedDict):
    """results.json's top-level ``recourse`` (``recourse._record``)."""

    method: str
    decisions_searched: int
    decisions_with_recourse: int
    immutable: list[str]
    directions: dict[str, str]
    bounds: dict[str, list[float]]
    costs: dict[str, float]
    counterfactuals: int
    max_changes: int
    max_evaluations: int
    max_neighbour_ratio: float
    typical_nn_distance: float
    model_rows: int
    consistency: dict[str, ConsistencyRecord]


# --- compare.json (audit/commands/compare.py) ---------------------------------------------------------------------------

class CompareSideRecord(TypedDict):
    """compare.json's ``baseline`` and ``candidate`` (``compare._side``)."""

    path: str
    sha256: str
    type: str
    task: str
    features: list[str]
    gate_passed: bool
    explainers: list[str]
    reporting_method: str | None
    favorable_class: str | None
    created_at: str | None


class CompareDataRecord(TypedDict):
    path: str
    sha256: str
    rows: int
    candidate_sha256: str
    same_data: bool


class AvailabilityRecord(TypedDict):
    available: bool
    note: str


class _PerformanceDeltaRequired(TypedDict):
    baseline: float
    candidate: float
    delta: float
    delta_ci95: Interval


class PerformanceDeltaRecord(_PerformanceDeltaRequired, total=False):
    """One measure's change; ``replicates`` only for paired bootstrap deltas (two models on DATA)."""

    replicates: int


class ComparePerformanceRecord(TypedDict):
    measure: str
    paired_bootstrap: int
    rows: int | None
    values: dict[str, PerformanceDeltaRecord]


class FaithfulnessDeltaRecord(TypedDict):
    baseline: float | None
    candidate: float | None
    delta: float | None
    baseline_ci95: Interval | None
    candidate_ci95: Interval | None


class MethodDriftRecord(TypedDict):
    """One explainer's importance drift (``agreement.importance_agreement``) and faithfulness change."""

    spearman: float
    topk_overlap: float
    k: int
    only_baseline: list[str]
    only_candidate: list[str]
    faithfulness: FaithfulnessDeltaRecord
    baseline_importance: dict[str, float]
    candidate_importance: dict[str, float]


class ExplanationDriftRecord(TypedDict):
    method: str | None
    by_method: dict[str, MethodDriftRecord]
    only_baseline: list[str]
    only_candidate: list[str]


class ReasonChangeRates(TypedDict):
    principal_change_rate: float
    reason_set_change_rate: float


class ReasonChangeExample(TypedDict):
    row: int
    baseline_outcome: str
    candidate_outcome: str
    baseline_reason: str | None
    candidate_reason: str | None


class ReasonChangeRecord(TypedDict):
    """compare.json's ``reasons`` (``compare.reason_change``)."""

    rows: int
    principal_changed: int
    principal_change_rate: float
    reason_set_change_rate: float
    baseline_method: str
    candidate_method: str
    by_method: dict[str, ReasonChangeRates]
    examples: list[ReasonChangeExample]


class GroupFlipRecord(TypedDict):
    group: str
    rows: int
    too_small: bool
    flipped: int | None
    to_adverse: int | None
    rate: float | None
    adverse_rate: float | None


class _GroupFlipsRequired(TypedDict):
    groups: list[GroupFlipRecord]
    gap: float | None
    high: str | None
    low: str | None


class GroupFlipsRecord(_GroupFlipsRequired, total=False):
    """One attribute's flips by group; ``note`` when no gap could be measured."""

    note: str


class _FlipsRequired(TypedDict):
    rows: int
    flipped: int
    rate: float
    favorable_class: str | None
    transitions: dict[str, int]
    min_group_rows: int
    by_group: dict[str, GroupFlipsRecord]


class FlipsRecord(_FlipsRequired, total=False):
    """compare.json's ``flips`` (``compare.decision_flips``); the directions only with a favourable class."""

    to_adverse: int
    to_favourable: int


class CompareReproducibilityRecord(TypedDict):
    seed: int
    config_sha256: str
    config_text: str
    config_overrides: JSONObject
    command_line: str | None
    package_versions: dict[str, str]
