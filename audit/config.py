"""Configuration: ``audit.toml`` validated by pydantic, frozen, unknown keys refused.

>>> cfg = AuditConfig()
>>> cfg.policy.min_faithfulness_score
0.5
"""

from __future__ import annotations

import sys
from typing import Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from audit.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Policy", "ExplainerPolicy", "ComparePolicy", "RecourseConfig", "LdaConfig", "AuditConfig", "ProtectedInput",
           "parse_config"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _known_metrics(value: dict[str, float]) -> dict[str, float]:
    from audit.faithfulness.scoring import METRICS

    unknown = [k for k in value if k not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(map(repr, unknown))}; valid: {', '.join(METRICS)}")
    return value


class ExplainerPolicy(_Frozen):
    """Per-explainer overrides of the policy thresholds."""

    min_faithfulness_score: float | None = None
    max_additivity_error: float | None = None
    min_stability: float | None = None
    metric_minimums: dict[str, float] = Field(default_factory=dict)
    required: bool = False

    _metrics = field_validator("metric_minimums")(_known_metrics)


class _Waivers(_Frozen):
    """``waive`` / ``waive_reason``: checks that may stay unmeasured without failing, and why (printed on the cover)."""

    waive: list[str] = Field(default_factory=list, description="checks (a kind such as 'randomisation', or a full "
                             "check name) whose 'not measured' does not fail the gate; needs waive_reason")
    waive_reason: str | None = Field(None, description="why the waived checks may stay unmeasured (required with "
                                     "waive; printed on the cover and in results.json)")

    @model_validator(mode="after")
    def _reason(self) -> _Waivers:
        if self.waive and not (self.waive_reason or "").strip():
            raise ValueError(f"waive = {self.waive} needs waive_reason: say why these checks may stay unmeasured "
                             "(it is printed on the report's cover)")
        return self


class ComparePolicy(_Waivers):
    """``[policy.compare]``: how far a candidate model may move from its baseline (``audit compare``).
    Comparing a model with itself measures zero on every one of these, so it always passes."""

    max_performance_drop: float = Field(0.02, ge=0, description="largest allowed fall of the headline measure "
                                        "(AUC for binary classifiers, accuracy for multiclass, R² for regressors)")
    min_importance_rank_correlation: float = Field(0.8, ge=-1, le=1, description="least Spearman correlation of "
                                                   "the two models' global importance (reporting method)")
    min_importance_topk_overlap: float = Field(0.6, ge=0, le=1, description="least share of the top-3 global "
                                               "inputs the two models have in common (reporting method)")
    max_reason_change_rate: float = Field(0.2, ge=0, le=1, description="largest share of the same rows whose "
                                          "principal reason changes")
    max_faithfulness_drop: float = Field(0.1, ge=0, description="largest allowed fall of the reporting method's "
                                         "faithfulness score")
    max_flip_rate: float = Field(0.1, ge=0, le=1, description="largest share of rows whose decision flips")
    max_group_flip_gap: float = Field(0.05, ge=0, le=1, description="largest difference between protected groups "
                                      "in the share of rows flipped to the adverse outcome")
    min_group_rows: int = Field(30, ge=1, description="groups with fewer rows are reported as too small, not rated")


class Policy(_Waivers):
    """What the gate demands. Defaults are documented in the README."""

    decide_on: Literal["estimate", "interval"] = Field(
        "estimate", description="what a check with a 95% interval compares with its threshold: the point estimate, "
                                "or the conservative bound of the interval (lower for higher-is-better measures)")
    min_faithfulness_score: float = Field(0.5, ge=-1, le=1)
    max_additivity_error: float = Field(0.01, ge=0)
    min_stability: float = Field(0.6, ge=0, le=1)
    max_randomisation_similarity: float = Field(0.5, ge=-1, le=1)
    require_randomisation_check: bool = True
    metric_minimums: dict[str, float] = Field(default_factory=dict)
    explainers: dict[str, ExplainerPolicy] = Field(default_factory=dict)
    compare: ComparePolicy = Field(default_factory=ComparePolicy, description="[policy.compare]: audit compare")

    _metrics = field_validator("metric_minimums")(_known_metrics)
    protected_attributes: list[str] = Field(default_factory=list, description="columns of DATA that are protected; "
                                            "unset: the report template's [policy_defaults] decides (credit_decision: "
                                            "inferred from column names, sex, age, race, ...); [] declares none")
    max_protected_share: float = Field(0.2, ge=0, le=1)
    min_reason_stability: float = Field(0.7, ge=0, le=1, description="least share of (adverse decision, redrawn "
                                        "background) pairs whose principal-reason set is unchanged (reason_stability)")
    reason_stability_blocks: bool = Field(False, description="reason_stability below its minimum fails the gate "
                                          "(default: a finding, since small backgrounds move it)")
    max_contradicted_reason_words: int = Field(0, ge=0, description="direction words on adverse reasons that the "
                                               "model contradicts and the report prints (reason_directions check)")
    min_explainers_passing: int = Field(1, ge=0)
    protected_as_input: Literal["auto", "fail", "finding"] = Field(
        "auto", description="a protected attribute that is a model input: fail the gate, or report it as a "
                            "finding; auto = the report template's default ([policy_defaults] protected_as_input: "
                            "fail with credit_decision, finding with generic)")
    max_protected_flip_rate: float = Field(0.01, ge=0, le=1, description="share of decisions that may change when "
                                                                         "only a protected attribute is changed")
    max_proxy_association: float | None = Field(None, ge=0, le=1, description="normalised mutual information "
                                                "above which a model input counts as a proxy (None: reported only)")
    min_method_agreement: float = Field(0.4, ge=-1, le=1, description="least pairwise mean per-row Spearman "
                                                                      "between explainers that pass")
    min_topk_agreement: float = Field(0.4, ge=0, le=1, description="least pairwise top-k overlap between "
                                                                   "explainers that pass")
    min_auc: float | None = Field(None, ge=0, le=1, description="performance floor (binary classifiers; needs a target)")
    min_accuracy: float | None = Field(None, ge=0, le=1, description="performance floor (classifiers; needs a target)")
    min_r2: float | None = Field(None, le=1, description="performance floor (regressors; needs a target)")
    max_calibration_error: float | None = Field(None, ge=0, le=1, description="largest expected calibration error "
                                                "of the favourable probability (10 quantile bins; needs a target; None: "
                                                "reported only)")
    psi_finding: float = Field(0.1, ge=0, description="population stability index (score) or characteristic "
                               "stability index (an input) against --reference-data above which a shift is a finding")
    psi_fail: float = Field(0.25, ge=0, description="PSI of the score above which the gate fails (a shift that "
                            "invalidates the development evidence); an input's CSI above it is a finding")
    expected_directions: dict[str, Literal["increasing", "decreasing"]] = Field(
        default_factory=dict, description="[policy.expected_directions]: input -> how the favourable score should "
                                          "move as it rises, checked with ICE curves and ALE")
    max_direction_violation: float = Field(0.05, ge=0, le=1, description="largest share of explained rows whose ICE "
                                           "curve moves against an expected direction")
    direction_tolerance: float = Field(0.01, ge=0, description="a move of the favourable score against the expected "
                                       "direction smaller than this is not a violation")
    min_reason_recourse_consistency: float = Field(
        0.5, ge=0, le=1, description="least share of adverse decisions whose principal reasons name an input a "
                                     "verified counterfactual changes (per explainer; below it: a finding)")
    min_selection_rate_ratio: float = Field(0.8, ge=0, le=1, description="four-fifths rule: least ratio of the "
                                            "lowest to the highest group selection rate, per protected attribute")
    max_equalized_odds_difference: float | None = Field(None, ge=0, le=1, description="largest gap in true- or "
                                                        "false-positive rate between groups (None: reported only)")
    max_equal_opportunity_difference: float | None = Field(None, ge=0, le=1, description="largest gap in "
                                                           "true-positive rate between groups (None: reported only)")
    min_group_size: int = Field(30, ge=1, description="rows a group needs to be judged; smaller groups are "
                                                      "reported as too small to judge (a finding)")
    group_bins: dict[str, list[float]] = Field(default_factory=dict, description="edges that group a numeric "
                                               "protected attribute, e.g. {age = [25, 40, 62]} (default: quartiles)")
    max_explanation_gap: float = Field(0.2, ge=0, description="largest gap between protected groups in the reporting "
                                       "explainer's faithfulness score or reason stability; above it a finding, "
                                       "blocking when this key is set in audit.toml")
    intersections: list[list[str]] = Field(default_factory=list, description="crossed protected attributes, e.g. "
                                           "[[\"sex\", \"age\"]]: every outcome-fairness check also runs on their "
                                           "intersectional groups (each attribute grouped as on its own)")

    @model_validator(mode="after")
    def _group_bins(self) -> Policy:
        """Bins only for protected attributes, with increasing edges (a typo must not pass silently)."""
        for name, edges in self.group_bins.items():
            if name not in self.protected_attributes and "protected_attributes" in self.model_fields_set:
                raise ValueError(f"policy.group_bins names {name!r}, which is not in policy.protected_attributes "
                                 f"({', '.join(self.protected_attributes) or 'none'})")
            if not edges or any(b <= a for a, b in zip(edges, edges[1:])):
                raise ValueError(f"policy.group_bins.{name} must be a non-empty list of increasing edges, "
                                 f"got {edges}")
        for crossed in self.intersections:
            if len(crossed) < 2 or len(set(crossed)) != len(crossed):
                raise ValueError(f"policy.intersections: {crossed} must name at least two different protected "
                                 "attributes, e.g. [\"sex\", \"age\"]")
            stray = [a for a in crossed if a not in self.protected_attributes]
            if stray and "protected_attributes" in self.model_fields_set:
                raise ValueError(f"policy.intersections names {stray[0]!r}, which is not in "
                                 f"policy.protected_attributes ({', '.join(self.protected_attributes) or 'none'})")
        return self


class ReportConfig(_Frozen):
    template: str = "credit_decision"
    organisation: str | None = None
    logo: str | None = None
    adverse_decisions: int = Field(5, ge=0, le=50)
    max_reasons: int = Field(4, ge=1, le=4)
    title: str | None = None
    review_contact: str | None = None
    outcomes: dict[str, str] = Field(default_factory=dict, description="[report.outcomes]: class -> label")
    direction_words: Literal["verified", "typical"] = Field(
        "verified", description="direction words on adverse reasons ('too high', 'too low'): printed only when the "
                                "model confirms them on that applicant (verified), or from the comparison with the "
                                "typical value alone (typical; contradicted words then fail the gate)")


class RecourseConfig(_Frozen):
    """``[recourse]``: what a counterfactual on an adverse decision may change (protected attributes never)."""

    enabled: bool = True
    immutable: list[str] = Field(default_factory=list, description="inputs a counterfactual never changes")
    directions: dict[str, Literal["increase", "decrease", "any"]] = Field(
        default_factory=dict, description="numeric inputs that may only go up or only go down")
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict, description="[low, high] per numeric input")
    costs: dict[str, float] = Field(default_factory=dict, description="weight of a change per input (default 1)")
    counterfactuals: int = Field(3, ge=1, le=3, description="counterfactuals per adverse decision")
    max_changes: int = Field(3, ge=1, le=4, description="inputs one counterfactual may change")
    max_evaluations: int = Field(4000, ge=100, description="model rows the search may evaluate per decision")
    rows: int = Field(100, ge=0, description="adverse decisions searched (the report's pages always are)")
    max_neighbour_ratio: float = Field(2.0, gt=0, description="largest distance to the nearest real row, as a "
                                                              "multiple of the typical distance between real rows")

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        bad = [k for k, (lo, hi) in value.items() if not lo <= hi]
        if bad:
            raise ValueError(f"bounds of {bad[0]!r} must be [low, high] with low <= high")
        return value

    @field_validator("costs")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in value.items() if not w > 0]
        if bad:
            raise ValueError(f"the cost weight of {bad[0]!r} must be above 0 (make it immutable instead)")
        return value


PROTECTED_INPUT_FAIL = ("Remove it from the model's inputs, or set policy.protected_as_input = 'finding' to report "
                         "it without blocking")  # a template without its own protected_input_fail wording


class ProtectedInput(NamedTuple):
    """The settled protected-input policy: ``fail`` blocks the gate, ``finding`` reports it; ``fail_note`` is
    what a blocking check says to do (the template's legal context, e.g. ECOA / Regulation B for credit)."""

    action: Literal["fail", "finding"]
    fail_note: str


class ReasonsConfig(_Frozen):
    """``[reasons]``: the reference principal reasons are measured against (Regulation B's official commentary,
    comment 9(b)(2)-5; see :mod:`audit.measures.reason_reference`)."""

    reference: Literal["near_cutoff", "all_applicants", "background"] | None = Field(
        None, description="near_cutoff: applicants at or slightly above the passing score; all_applicants: the "
                          "average of all applicants; background: a uniform background sample (unset: the report "
                          "template's [policy_defaults] reason_reference; credit_decision: near_cutoff, generic: "
                          "background)")
    near_cutoff_band: float = Field(0.1, gt=0, le=1, description="near_cutoff: favourable scores from the lowest "
                                    "passing score up to that score plus this width")
    min_reference_rows: int = Field(30, ge=5, description="near_cutoff: fewest applicants the reference is drawn "
                                    "from (the band is widened to the lowest passing scores to reach it)")


class LdaConfig(_Frozen):
    """``[lda]``: the search for less discriminatory alternatives (``audit lda``, or in ``audit run`` when
    ``enabled``; see :mod:`audit.measures.lda`)."""

    enabled: bool = Field(False, description="also run the search in audit run (results.json lda, a report section)")
    tolerance: float = Field(0.01, ge=0, le=0.5, description="largest loss of held-out AUC against the refitted "
                             "baseline an alternative may have to be listed")
    holdout: float = Field(0.3, ge=0.1, le=0.5, description="share of DATA held out (stratified by the target, "
                           "seeded) to measure every alternative on")
    attribute: str | None = Field(None, description="the protected attribute whose adverse impact ratio is reduced "
                                  "(default: the one with the lowest ratio for the baseline)")
    proxies: int = Field(2, ge=0, le=10, description="strongest proxies (normalised mutual information) of the "
                         "attribute among the inputs, each dropped and coarsened")
    constraints: list[Literal["demographic_parity", "equalized_odds"]] = Field(
        default_factory=lambda: ["demographic_parity", "equalized_odds"],
        description="fairlearn ExponentiatedGradient constraints around a clone of the estimator")
    reduction_iterations: int = Field(20, ge=1, le=200, description="ExponentiatedGradient max_iter")
    approval_shifts: list[float] = Field(default_factory=lambda: [0.05, 0.10], description="the baseline's cutoff "
                                         "moved so that its approval rate on the training split rises by each share")

    @model_validator(mode="after")
    def _shifts(self) -> LdaConfig:
        if any(not -1 < x < 1 or x == 0 for x in self.approval_shifts):
            raise ValueError(f"lda.approval_shifts must be non-zero shares between -1 and 1, got {self.approval_shifts}")
        return self


class AuditConfig(_Frozen):
    """All run settings; CLI options override the file's values."""

    explainers: list[str] | None = None
    seed: int = 0
    rows: int = Field(200, ge=1, description="rows explained (sampled with the seed)")
    score_rows: int = Field(200, ge=10, description="explained rows faithfulness is estimated on (sampled with "
                                                    "the seed; the bootstrap CI reflects the sample)")
    background: int = Field(100, ge=5, description="background rows for SHAP / baselines")
    target: str | None = None
    explained_class: str | None = Field(None, alias="class")
    favorable_class: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    baseline: Literal["mean", "median", "background"] = "mean"
    shap_algorithm: Literal["auto", "tree", "linear", "deep", "gradient", "exact", "permutation", "kernel"] = "auto"
    shap_tree_mode: Literal["auto", "interventional", "tree_path_dependent"] = "auto"
    lime_num_samples: int = Field(1000, ge=50)
    explain_budget_s: float = Field(60.0, gt=0, description="time budget for model-agnostic SHAP: the algorithm "
                                                             "and its budget are chosen to fit (at most what "
                                                             "audit_budget_s leaves, unless set)")
    audit_budget_s: float = Field(30.0, gt=0, description="time budget for the model-agnostic explainers, their "
                                                           "faithfulness re-runs, the controls and recourse: row "
                                                           "counts you did not set are reduced to fit, never below "
                                                           "the documented minimum")
    time_limit_s: float | None = Field(None, gt=0, description="wall-clock seconds the audit should take on this "
                                       "machine: exceeding it is reported (a warning), never a change in what is "
                                       "measured (unset: no limit)")
    shap_gradient_samples: int = Field(200, ge=10, description="samples per row for shap's GradientExplainer")
    ig_steps: int = Field(128, ge=4, description="integration steps for Integrated Gradients")
    gradient_shap_samples: int = Field(32, ge=4, description="samples per row for Captum's GradientShap")
    stability_rows: int = Field(20, ge=2)
    stability_seeds: int = Field(5, ge=2)
    sensitivity_rows: int = Field(10, ge=2)
    randomisation_rows: int = Field(50, ge=5)
    effect_inputs: int = Field(3, ge=0, le=10, description="inputs pictured with ALE, PDP and ICE curves (the "
                               "reporting explainer's highest ranked)")
    reason_stability_rows: int = Field(40, ge=0, description="adverse decisions whose principal reasons are re-derived "
                                       "with 5 redrawn background samples (reason_stability; 0: not measured)")
    protected_rows: int = Field(1000, ge=10, description="rows for the protected-attribute flip test and proxies")
    max_model_bytes: int | None = Field(None, gt=0, description="byte budget for loading an untrusted model "
                                                               "(default: from the file size, 256 MiB to 4 GiB)")
    bootstrap: int = Field(200, ge=20)
    random_controls: int = Field(8, ge=1)
    n_jobs: int = Field(0, ge=-1, description="worker processes for LIME and model-agnostic SHAP on scikit-learn "
                                            "models; -1: all cores; 0: all cores when that work is estimated "
                                            "over 30 s, else 1")
    policy: Policy = Field(default_factory=Policy)
    report: ReportConfig = Field(default_factory=ReportConfig)
    recourse: RecourseConfig = Field(default_factory=RecourseConfig)
    reasons: ReasonsConfig = Field(default_factory=ReasonsConfig)
    lda: LdaConfig = Field(default_factory=LdaConfig, description="[lda]: less discriminatory alternatives")
    explainer_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="[explainers.NAME] tables: each explainer's own parameters")
    infer_target: bool = Field(True, description="without `target`, use the one column that fits the model's task")
    data_role: Literal["unknown", "holdout", "training"] = "unknown"
    _source: tuple[str, dict[str, Any]] = PrivateAttr(default=("", {}))

    @property
    def source(self) -> tuple[str, dict[str, Any]]:
        """The TOML text this config was parsed from and the overrides applied ("" and {} when built in Python)."""
        return self._source

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _explainers_table(cls, raw: Any) -> Any:
        """``explainers`` is either the list of explainers to run or a table: ``select`` (that list) and
        one ``[explainers.NAME]`` table of parameters per explainer."""
        if not isinstance(raw, dict) or not isinstance(raw.get("explainers"), dict):
            return raw
        raw = dict(raw)
        table = dict(raw.pop("explainers"))
        selected = table.pop("select", None)
        bad = [k for k, v in table.items() if not isinstance(v, dict)]
        if bad:
            raise ValueError(f"[explainers]: {bad[0]!r} must be a table ([explainers.{bad[0]}]) or the key "
                             f"'select' (the list of explainers to run)")
        raw["explainers"] = selected
        raw["explainer_settings"] = {**table, **raw.get("explainer_settings", {})}
        return raw

    @property
    def protected_input(self) -> ProtectedInput:
        """What a protected attribute used as a model input is (``fail`` or ``finding``) and the wording of its
        blocking check: ``policy.protected_as_input``, or with ``auto`` the report template's default. Read
        from the current template each time, so a template set after parsing (``--template``) decides.

        >>> AuditConfig().protected_input.action, AuditConfig(report={"template": "generic"}).protected_input.action
        ('fail', 'finding')
        """
        from report_templates import load_template

        template = load_template(self.report.template)
        action = self.policy.protected_as_input
        if action == "auto":
            action = template.policy_defaults.get("protected_as_input", "finding")
        return ProtectedInput(action, template.text("protected_input_fail") or PROTECTED_INPUT_FAIL)

    @property
    def infers_protected(self) -> bool:
        """Whether the protected attributes are inferred from DATA's column names: ``policy.protected_attributes``
        is unset and the report template's ``[policy_defaults]`` says ``protected_attributes = "inferred"``
        (credit_decision does; ``[]`` in audit.toml declares none).

        >>> AuditConfig().infers_protected, parse_config("[policy]\\nprotected_attributes = []").infers_protected
        (True, False)
        """
        from report_templates import load_template

        if "protected_attributes" in self.policy.model_fields_set:
            return False
        return load_template(self.report.template).policy_defaults.get("protected_attributes") == "inferred"

    @property
    def reason_reference(self) -> str:
        """The reference principal reasons are measured against: ``[reasons] reference``, or when unset the
        report template's ``[policy_defaults] reason_reference`` (credit_decision: near_cutoff, Regulation B's
        first method; generic: background).

        >>> AuditConfig().reason_reference, AuditConfig(report={"template": "generic"}).reason_reference
        ('near_cutoff', 'background')
        """
        from report_templates import load_template

        if self.reasons.reference is not None:
            return self.reasons.reference
        return load_template(self.report.template).policy_defaults.get("reason_reference", "background")

    def top_level(self) -> dict[str, Any]:
        """The top-level settings as plain values (explainers map some of them to their parameters)."""
        return self.model_dump(exclude={"policy", "report", "explainer_settings", "recourse", "reasons"})


def parse_config(text: str, *, source: str = "audit.toml", overrides: dict | None = None) -> AuditConfig:
    """Parse TOML text into an :class:`AuditConfig`, applying CLI ``overrides``.

    >>> parse_config("seed = 3").seed
    3
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}). Fix the syntax and run again.") from None
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if isinstance(raw.get("explainers"), dict) and "explainers" in given:  # --explainers keeps the tables
        raw["explainers"] = {**raw["explainers"], "select": given.pop("explainers")}
    raw.update(given)
    try:
        config = AuditConfig.model_validate(raw)
        config._source = (text, {k: v for k, v in (overrides or {}).items() if v is not None})
        return config
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            valid = _valid_keys(err["loc"])
            raise ConfigError(
                f"{source}: unknown key {key!r}. Valid keys here: {', '.join(valid)}. "
                "Remove or correct it."
            ) from None
        if not key:  # a rule over several keys: its message names them
            raise ConfigError(f"{source}: {err['msg'].removeprefix('Value error, ')}. Correct it.") from None
        raise ConfigError(
            f"{source}: key {key!r} has invalid value {err.get('input')!r}: {err['msg']}. "
            "Correct the value."
        ) from None


def _valid_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = AuditConfig
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        else:
            break
    return sorted((f.alias or n) for n, f in model.model_fields.items())
