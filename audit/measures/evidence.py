"""The validator's evidence for one audit: what :mod:`audit.measures.validation` measures, on this model and data.

Calibration, discrimination and the score bands need a target and a probabilistic binary classifier with a
favourable class; population stability needs ``--reference-data`` (the development or training sample,
read by the same loader as DATA); the expected directions need ``[policy.expected_directions]``. What a
run cannot measure is recorded with the reason, never as a pass. The effect curves (ALE, PDP and a thinned
ICE overlay) are drawn for the ``effect_inputs`` numeric inputs the reporting explainer ranks highest.

Model calls are counted, not timed: ICE uses at most :data:`ICE_ROWS` explained rows over
:data:`GRID_POINTS` values, ALE at most :data:`ALE_ROWS` rows of DATA drawn with the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.measures.reason_reference import favorable_scores
from audit.measures.validation import ale, calibration, discrimination, ice_directions, psi, score_bands
from audit.records import ValidationRecord
from audit.types import Dataset

__all__ = ["ValidationEvidence", "measure_evidence", "check_direction_names", "ICE_ROWS", "ALE_ROWS", "GRID_POINTS",
           "ICE_SHOWN"]

ICE_ROWS = 200  # explained rows whose ICE curves are computed (directions and pictures)
ALE_ROWS = 2000  # rows of DATA the ALE curves average over (seeded sample when DATA is larger)
GRID_POINTS = 20  # grid points of an ICE / PDP curve (the input's observed quantiles)
ICE_SHOWN = 30  # ICE curves kept in results.json and drawn (thinned, seeded)
HIST_BINS = 20


@dataclass(frozen=True)
class ValidationEvidence:
    """What was measured (each part None with a reason in ``not_measured`` when it could not be)."""

    calibration: dict[str, Any] | None = None
    discrimination: dict[str, Any] | None = None
    score_bands: list[dict[str, Any]] | None = None
    score_histogram: dict[str, Any] | None = None
    stability: dict[str, Any] | None = None
    directions: dict[str, dict[str, Any]] = field(default_factory=dict)
    effects: list[dict[str, Any]] = field(default_factory=list)
    not_measured: dict[str, str] = field(default_factory=dict)

    def record(self) -> ValidationRecord:
        """results.json's ``validation``."""
        return {"calibration": self.calibration, "discrimination": self.discrimination,
                "score_bands": self.score_bands, "score_histogram": self.score_histogram,
                "population_stability": self.stability, "expected_directions": self.directions,
                "effects": self.effects, "not_measured": self.not_measured}


def _outcomes(ds: Dataset, favorable: Any) -> np.ndarray:
    return np.asarray([str(v) == str(favorable) for v in ds.target], dtype=int)


def _histogram(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    edges = np.linspace(0, 1, HIST_BINS + 1)
    return {"edges": edges.tolist(), "favourable": np.histogram(p[y == 1], edges)[0].tolist(),
            "adverse": np.histogram(p[y == 0], edges)[0].tolist()}


def _performance_part(ds: Dataset, p: np.ndarray | None, favorable: Any, config: Any) -> dict[str, Any]:
    """Calibration, discrimination, bands and the score histogram, or why not."""
    if p is None:
        return {"not_measured": {"calibration": "the model has no favourable class with a probability (binary "
                                                "classifier with predict_proba and favorable_class)"}}
    if ds.target is None:
        return {"not_measured": {"calibration": "no target (--target): calibration and discrimination compare the "
                                                "scores with actual outcomes"}}
    y = _outcomes(ds, favorable)
    if len(np.unique(y)) < 2:
        return {"not_measured": {"calibration": "the target holds only one outcome"}}
    return {"calibration": calibration(y, p), "discrimination": discrimination(y, p, bootstrap=config.bootstrap,
                                                                               seed=config.seed),
            "score_bands": score_bands(y, p), "score_histogram": _histogram(y, p)}


def _stability(ds: Dataset, reference: Dataset | None, p: np.ndarray | None, p_ref: np.ndarray | None,
               role: str, bands: dict[str, float]) -> dict[str, Any] | None:
    """PSI of the score and CSI of every input against the reference sample."""
    if reference is None:
        return None
    inputs = {}
    for j, name in enumerate(ds.feature_names):
        k = reference.feature_names.index(name)
        if ds.space.categorical_mask[j]:
            ref_labels = np.asarray([reference.space.display(k, v) for v in reference.X[:, k]], dtype=object)
            labels = np.asarray([ds.space.display(j, v) for v in ds.X[:, j]], dtype=object)
            inputs[name] = psi(ref_labels, labels, categorical=True)
        else:
            inputs[name] = psi(reference.X[:, k], ds.X[:, j])
    score = psi(p_ref, p) if p is not None and p_ref is not None else None
    return {"reference": reference.path, "reference_rows": int(reference.n_rows), "reference_sha256": reference.sha256,
            "data_role": role, "score": score, "inputs": inputs, "bands": bands}


def _score_fn(adapter: Any, favorable: Any):
    index = None if favorable is None or adapter.classes is None else \
        next(i for i, c in enumerate(adapter.classes) if str(c) == str(favorable))
    if index is None:
        return lambda Z: np.asarray(adapter.predict(Z), dtype=float)
    return lambda Z: np.asarray(adapter.predict_all(Z), dtype=float)[:, index]


def _effects(adapter: Any, ds: Dataset, rows: np.ndarray, favorable: Any, inputs: Sequence[str],
             expected: dict[str, str], config: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """ICE/PDP/ALE for the pictured inputs and the expected-direction measures, in batched model calls."""
    score = _score_fn(adapter, favorable)
    rng = np.random.default_rng([config.seed, 4401])
    ice_rows = rows if len(rows) <= ICE_ROWS else np.sort(rng.choice(rows, ICE_ROWS, replace=False))
    ale_rows = np.arange(ds.n_rows) if ds.n_rows <= ALE_ROWS else np.sort(rng.choice(ds.n_rows, ALE_ROWS, replace=False))
    shown = np.sort(rng.choice(len(ice_rows), min(ICE_SHOWN, len(ice_rows)), replace=False))
    directions, effects = {}, []
    numeric = ~ds.space.categorical_mask
    for name in dict.fromkeys([*expected, *inputs]):
        j = ds.feature_names.index(name)
        if not numeric[j]:
            if name in expected:
                directions[name] = {"expected": expected[name], "violation_share": None,
                                    "why": "a categorical input has no direction"}
            continue
        way = expected.get(name, "increasing")
        ice = ice_directions(score, ds.X, ice_rows, j, way, points=GRID_POINTS,
                             tolerance=config.policy.direction_tolerance)
        curve = ale(score, ds.X[ale_rows], j)
        if name in expected:
            directions[name] = {"expected": way, "violation_share": ice["violation_share"],
                                "violating_rows": ice["violating_rows"], "rows": int(len(ice_rows)),
                                "ale_change": curve["change"], "tolerance": ice["tolerance"],
                                "ale_agrees": bool(curve["change"] > 0) == (way == "increasing")}
        effects.append({"feature": name, "grid": ice["grid"], "pdp": ice["curves"].mean(axis=0).tolist(),
                        "ice": ice["curves"][shown].tolist(), "ale_edges": curve["edges"], "ale": curve["ale"],
                        "rows": int(len(ice_rows)), "ale_rows": int(len(ale_rows)),
                        "expected": expected.get(name)})
    return directions, effects


def measure_evidence(adapter: Any, ds: Dataset, rows: np.ndarray, favorable: Any, config: Any, *,
                     top_inputs: Sequence[str] = (), reference: Dataset | None = None,
                     reference_adapter: Any = None) -> ValidationEvidence:
    """The :class:`ValidationEvidence` of ``adapter`` on ``ds`` (``rows``: the explained rows; ``reference`` and
    ``reference_adapter``: the development sample and an adapter over its feature space)."""
    p = favorable_scores(adapter, ds.X, favorable) if adapter.task == "binary" and adapter.classes is not None \
        and getattr(adapter, "output", "predict_proba") == "predict_proba" else None
    parts = _performance_part(ds, p, favorable, config)
    p_ref = favorable_scores(reference_adapter, reference.X, favorable) \
        if p is not None and reference is not None and reference_adapter is not None else None
    stability = _stability(ds, reference, p, p_ref, config.data_role,
                           {"finding": config.policy.psi_finding, "fail": config.policy.psi_fail})
    expected = dict(config.policy.expected_directions)
    numeric = [n for n in top_inputs if not ds.space.categorical_mask[ds.feature_names.index(n)]]
    directions, effects = _effects(adapter, ds, rows, favorable, numeric[:config.effect_inputs], expected, config)
    missing = dict(parts.pop("not_measured", {}))
    if reference is None:
        missing["population_stability"] = ("no --reference-data: PSI of the score and CSI of every input compare "
                                            "DATA with the development or training sample")
    return ValidationEvidence(stability=stability, directions=directions, effects=effects, not_measured=missing,
                              **parts)


def check_direction_names(policy: Any, ds: Dataset) -> None:
    """``[policy.expected_directions]`` names numeric model inputs only (a typo or a category is refused)."""
    from audit.errors import ConfigError

    for name in policy.expected_directions:
        if name not in ds.feature_names:
            raise ConfigError(f"policy.expected_directions names {name!r}, which is not a model input "
                              f"({', '.join(ds.feature_names[:12])}{', ...' if len(ds.feature_names) > 12 else ''}). "
                              "Fix audit.toml.")
        if ds.space.categorical_mask[ds.feature_names.index(name)]:
            raise ConfigError(f"policy.expected_directions names {name!r}, a categorical input: only a number has a "
                              "direction. Remove it from audit.toml.")
