"""Fair lending in depth (issue #31): intersectional groups counted by hand on a small table, the adverse
impact ratio by score band against a hand computation, explanation parity, and the gate's and config's
handling of each."""

from __future__ import annotations

import numpy as np
import pytest

from audit.config import Policy
from audit.errors import ConfigError
from audit.gate import ProtectedEvidence, protected_checks
from audit.measures.fairness import fairness_evidence, measure_fairness
from audit.measures.protected import check_protected_names
from audit.types import Dataset, FeatureSpace

# sex x age band, 4 cells; (rows, approved) per cell, chosen so each cell's rate differs
CELLS = {("female", 20.0): (12, 3), ("female", 50.0): (10, 6), ("male", 20.0): (8, 6), ("male", 50.0): (30, 27)}


def _small_table() -> tuple[Dataset, np.ndarray]:
    """60 rows: sex (categorical input), age (two values, so each value is a group) and the decisions."""
    sex, age, label = [], [], []
    for (s, a), (n, k) in CELLS.items():
        sex += [0.0 if s == "female" else 1.0] * n
        age += [a] * n
        label += ["1"] * k + ["0"] * (n - k)
    space = FeatureSpace(("sex", "age"), {"sex": ("female", "male")})
    return Dataset("small.csv", "", np.column_stack([sex, age]), space), np.array(label)


def test_intersectional_rates_equal_hand_counts_on_a_small_table():
    """Catches crossed groups that are mislabelled, miscounted, or judged without the small-group rule."""
    ds, labels = _small_table()
    record = measure_fairness(ds, labels, classes=["0", "1"], favorable="1", favorable_source="config",
                              protected=["sex", "age"], bins={}, min_group_size=10, n_bootstrap=20, seed=0,
                              intersections=[["sex", "age"]])
    crossed = record["attributes"]["sex x age"]
    got = {g["group"]: (g["rows"], g["selection_rate"], g["judged"]) for g in crossed["groups"]}
    assert got == {f"{s} & {a:g}": (n, k / n, n >= 10) for (s, a), (n, k) in CELLS.items()}
    assert [g["group"] for g in crossed["groups"]] == ["female & 20", "female & 50", "male & 20", "male & 50"]
    assert crossed["too_small"] == ["male & 20"]
    # judged cells only: lowest female & 20 (3/12), highest male & 50 (27/30)
    ratio = crossed["selection_rate_ratio"]
    assert ratio["value"] == pytest.approx((3 / 12) / (27 / 30), abs=1e-12)
    assert (ratio["lowest"], ratio["highest"]) == ("female & 20", "male & 50")
    assert crossed["grouping"] == "crossed: sex by categories; age by categories"
    # the single attributes are unchanged by the intersection
    sex = {g["group"]: g["selection_rate"] for g in record["attributes"]["sex"]["groups"]}
    assert sex == pytest.approx({"female": 9 / 22, "male": 33 / 38})


def test_the_gate_runs_every_fairness_check_on_the_crossed_groups():
    """Catches an intersection that is measured but never judged (no four-fifths check, no small-group finding)."""
    ds, labels = _small_table()
    record = measure_fairness(ds, labels, classes=["0", "1"], favorable="1", favorable_source="config",
                              protected=["sex", "age"], bins={}, min_group_size=10, n_bootstrap=20, seed=0,
                              intersections=[["sex", "age"]])
    policy = Policy(protected_attributes=["sex", "age"], intersections=[["sex", "age"]], min_group_size=10)
    checks = {c.name: c for c in protected_checks(policy, ProtectedEvidence(
        attributes=("sex", "age"), fairness=fairness_evidence(record)))}
    ratio = checks["selection_rate_ratio:sex x age"]
    assert not ratio.passed and ratio.blocking and ratio.value == pytest.approx(0.25 / 0.9)
    assert not checks["group_size:sex x age"].passed and "'male & 20' (8 rows)" in checks["group_size:sex x age"].message


def test_intersections_must_name_protected_attributes():
    """Catches a misspelt or single-attribute intersection that would silently measure nothing."""
    with pytest.raises(ValueError, match="at least two different"):
        Policy(protected_attributes=["sex", "age"], intersections=[["sex"]])
    with pytest.raises(ValueError, match="'race', which is not in policy.protected_attributes"):
        Policy(protected_attributes=["sex", "age"], intersections=[["sex", "race"]])
    ds, _ = _small_table()
    with pytest.raises(ConfigError, match="policy.intersections names 'race'"):
        check_protected_names(["sex", "age"], ds, intersections=[["sex", "race"]])


def test_air_by_band_equals_a_hand_computation_at_two_cutoffs():
    """Catches a cutoff taken at the wrong quantile, a ratio over the wrong groups, or a too-small group compared."""
    from audit.measures.score_disparity import air_by_band

    rng = np.random.default_rng(5)
    groups = np.array(["a"] * 120 + ["b"] * 80 + ["c"] * 5, dtype=object)
    scores = np.r_[rng.beta(4, 2, 120), rng.beta(2, 3, 80), np.ones(5)]  # c: tiny and always approved
    bands = air_by_band(scores, groups, ["a", "b", "c"], min_group_size=30, quantiles=[0.3, 0.7])
    for band, q in zip(bands, [0.3, 0.7]):
        pos = q * (len(scores) - 1)
        lo, frac = int(np.floor(pos)), pos - np.floor(pos)
        ordered = np.sort(scores)
        cutoff = ordered[lo] + frac * (ordered[lo + 1] - ordered[lo])
        rate_a = np.sum(scores[:120] >= cutoff) / 120
        rate_b = np.sum(scores[120:200] >= cutoff) / 80
        # numpy's default (linear) quantile, by hand
        assert band["cutoff"] == pytest.approx(cutoff, abs=1e-12)
        assert band["air"] == pytest.approx(min(rate_a, rate_b) / max(rate_a, rate_b), abs=1e-12)
        assert (band["lowest"], band["highest"]) == ("b", "a")
    assert bands[0]["air"] > bands[1]["air"]  # the disparity deepens as the cutoff rises


def test_smd_and_its_seeded_bootstrap_interval():
    """Catches an SMD with the wrong sign or scale, a CI that misses it, or a bootstrap that is not seeded."""
    from audit.measures.score_disparity import standardized_mean_difference

    rng = np.random.default_rng(1)
    scores = np.r_[rng.normal(0.6, 0.1, 200), rng.normal(0.5, 0.1, 150)]
    groups = np.array(["x"] * 200 + ["y"] * 150, dtype=object)
    smd = standardized_mean_difference(scores, groups, ["x", "y"], min_group_size=30, n_bootstrap=300,
                                       rng=np.random.default_rng(0))
    expected = (scores[200:].mean() - scores[:200].mean()) / scores.std()
    assert smd["value"] == pytest.approx(expected, abs=1e-12) and (smd["lowest"], smd["highest"]) == ("y", "x")
    assert smd["ci95"][0] < expected < smd["ci95"][1] < 0
    again = standardized_mean_difference(scores, groups, ["x", "y"], min_group_size=30, n_bootstrap=300,
                                         rng=np.random.default_rng(0))
    assert again == smd
