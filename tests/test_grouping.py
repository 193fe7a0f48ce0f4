"""One attribute, one set of groups: the fairness section and the model comparison's flips by group put
every row of a protected attribute into the same group, with the default grouping and with
``policy.group_bins`` (before audit/measures/grouping.py, compare binned numbers above five values and ignored
``group_bins``, fairness above ten and honoured them)."""

from __future__ import annotations

import numpy as np
import pytest

from audit.commands.compare import _flips
from audit.config import AuditConfig
from audit.measures.fairness import measure_fairness
from audit.results import RowOutcomes
from audit.types import Dataset, FeatureSpace

ROWS = 240


@pytest.fixture(scope="module")
def data():
    """Age (many values, with a missing one), a seven-valued score (where the two old rules disagreed), a
    categorical input and a kept numeric column that is not a model input."""
    rng = np.random.default_rng(3)
    age = rng.integers(18, 75, ROWS).astype(float)
    age[5] = np.nan
    X = np.column_stack([age, rng.integers(0, 7, ROWS).astype(float), rng.integers(0, 2, ROWS).astype(float)])
    space = FeatureSpace(("age", "score", "sex"), {"sex": ("female", "male")})
    ds = Dataset("d.csv", "", X, space, extra={"income": rng.normal(3000, 800, ROWS).round()})
    base = rng.integers(0, 2, ROWS).astype(str)
    cand = np.where(rng.random(ROWS) < 0.3, 1 - base.astype(int), base.astype(int)).astype(str)
    return ds, base, cand


def _both(data, bins):
    """(fairness groups, compare groups) per attribute: each group's name and rows, in the reported order."""
    ds, base, cand = data
    attrs = ["age", "score", "sex", "income"]
    fairness = measure_fairness(ds, base, classes=["0", "1"], favorable="1", favorable_source="config",
                                protected=attrs, bins=bins, min_group_size=1, n_bootstrap=5, seed=0)
    config = AuditConfig.model_validate({"policy": {"protected_attributes": attrs, "group_bins": bins}})
    rows = (RowOutcomes(ds, np.zeros(ROWS), base), RowOutcomes(ds, np.zeros(ROWS), cand))
    flips = _flips({"model": {"favorable_class": "1"}}, {}, rows, config)
    out = {}
    for attr in attrs:
        f = [(g["group"], g["rows"]) for g in fairness["attributes"][attr]["groups"]]
        c = [(g["group"], g["rows"]) for g in flips["by_group"][attr]["groups"]]
        out[attr] = (f, c)
    return out


def test_fairness_and_compare_group_every_attribute_identically(data):
    """Catches the two sections grouping one attribute differently (thresholds, bin names or order)."""
    for attr, (fairness, compare) in _both(data, {}).items():
        assert fairness == compare, attr
        assert sum(n for _, n in compare) == ROWS
    groups = _both(data, {})
    assert [g for g, _ in groups["score"][0]] == [str(v) for v in range(7)]  # seven values: each its own group
    assert groups["age"][0][0][0].startswith("< ") and groups["age"][0][-1][0] == "missing"


def test_group_bins_reach_the_comparison_too(data):
    """Catches ``policy.group_bins`` honoured by the fairness section but not by the comparison."""
    groups = _both(data, {"age": [30, 50], "income": [2500.0]})
    for attr, (fairness, compare) in groups.items():
        assert fairness == compare, attr
    assert [g for g, _ in groups["age"][1]] == ["< 30", "30 to < 50", ">= 50", "missing"]
    assert [g for g, _ in groups["income"][1]] == ["< 2500", ">= 2500"]
