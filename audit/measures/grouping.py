"""How a protected attribute's rows are put into groups: one rule for every section that groups them.

The fairness section (:mod:`audit.measures.fairness`) and the model comparison's decision flips
(:mod:`audit.commands.compare`) both group through here, so one attribute gets the same groups in both:

- a categorical attribute's categories, as they are;
- a numeric one with at most ``MAX_CATEGORIES`` distinct values: each value is a group;
- a wider numeric one: cut at ``policy.group_bins`` edges when given, else at its quartiles;
- missing values: the group ``missing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from audit.types import Dataset

__all__ = ["MAX_CATEGORIES", "MISSING", "group_labels", "column_values", "holds", "attribute_groups", "as_categorical",
           "crossed_groups", "intersection_name"]

MAX_CATEGORIES = 10
MISSING = "missing"
_QUARTILES = (0.25, 0.50, 0.75)


def _bin_names(edges: Sequence[float]) -> list[str]:
    """Readable names of the bins cut at ``edges``: each bin holds its lower edge."""
    e = [f"{x:g}" for x in edges]
    return [f"< {e[0]}", *(f"{a} to < {b}" for a, b in zip(e, e[1:])), f">= {e[-1]}"]


def group_labels(values: np.ndarray, categorical: bool, edges: Sequence[float] | None = None
                 ) -> tuple[np.ndarray, list[str], str]:
    """Each row's group, the groups in order, and how they were formed.

    >>> labels, order, how = group_labels(np.array([19.0, 30, 45, 61, np.nan]), False, [25, 40])
    >>> list(labels), order, how
    (['< 25', '25 to < 40', '>= 40', '>= 40', 'missing'], ['< 25', '25 to < 40', '>= 40', 'missing'], 'edges from policy.group_bins')
    """
    series = pd.Series(values, dtype=object)
    missing = series.isna().to_numpy()
    if not categorical:
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
        how = "edges from policy.group_bins"
        if edges is None and len(np.unique(numbers[~missing])) > MAX_CATEGORIES:
            edges, how = list(np.unique(np.quantile(numbers[~missing], _QUARTILES))), "quartiles"
        if edges is not None:
            names = _bin_names(edges)
            codes = np.searchsorted(np.asarray(edges, dtype=float), np.where(missing, 0.0, numbers), side="right")
            labels = np.where(missing, MISSING, np.asarray(names, dtype=object)[codes])
            return labels.astype(object), names + ([MISSING] if missing.any() else []), how
        series = pd.Series([f"{x:g}" for x in numbers], dtype=object).where(~missing)
    labels = np.where(missing, MISSING, series.astype(str).to_numpy())
    order = sorted(set(labels[~missing]), key=_natural) + ([MISSING] if missing.any() else [])
    return labels.astype(object), order, "categories"


def _natural(label: str) -> tuple:
    """Numbers in numeric order, before other labels in text order."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def holds(ds: Dataset, attr: str) -> bool:
    """Whether DATA has the attribute as a model input or as a kept column."""
    return attr in ds.feature_names or attr in ds.extra


def column_values(ds: Dataset, attr: str) -> tuple[np.ndarray, bool]:
    """A protected attribute's raw values (category labels, or numbers) and whether it is categorical."""
    names = list(ds.feature_names)
    if attr in names:
        j = names.index(attr)
        col = ds.X[:, j]
        cats = ds.space.categories.get(attr)
        if cats is None:
            return col, False
        lookup = np.array([str(c) for c in cats] + [None], dtype=object)
        return lookup[np.where(np.isnan(col), len(cats), col).astype(int)], True
    raw = pd.Series(ds.extra[attr])
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().sum() == raw.notna().sum():
        return numbers.to_numpy(dtype=float), False
    return raw.where(raw.notna(), None).astype(object).to_numpy(), True


def attribute_groups(ds: Dataset, attr: str, edges: Sequence[float] | None = None) -> tuple[np.ndarray, list[str], str]:
    """:func:`group_labels` of the attribute's column in DATA (see :func:`column_values`)."""
    values, categorical = column_values(ds, attr)
    return group_labels(values, categorical, edges)


def as_categorical(labels: np.ndarray, order: list[str]) -> Any:
    """The groups as an ordered ``pandas.Categorical`` (the groups' order kept, empty groups included)."""
    return pd.Categorical(labels, categories=order, ordered=True)


def intersection_name(attrs: Sequence[str]) -> str:
    """The key of a crossed group of attributes in records and the report: ``"sex x age"``."""
    return " x ".join(attrs)


def crossed_groups(ds: Dataset, attrs: Sequence[str], bins: Any = None) -> tuple[np.ndarray, list[str], str]:
    """Each row's intersectional group over ``attrs`` (each attribute grouped by :func:`attribute_groups`, with its
    ``policy.group_bins`` edges), the crossed groups that hold rows in the attributes' orders, and how they were formed.

    A row's label joins its groups with ``" & "`` (``"female & < 25"``); a crossed group with no row is left out,
    since it has no rate to report.
    """
    parts = [attribute_groups(ds, a, (bins or {}).get(a)) for a in attrs]
    labels = np.asarray(parts[0][0]).astype(str)
    for p in parts[1:]:
        labels = np.char.add(np.char.add(labels, " & "), np.asarray(p[0]).astype(str))
    labels = labels.astype(object)
    present = set(labels)
    order = [label for label in (" & ".join(c) for c in _product([p[1] for p in parts])) if label in present]
    how = "crossed: " + "; ".join(f"{a} by {p[2]}" for a, p in zip(attrs, parts))
    return labels, order, how


def _product(orders: list[list[str]]) -> list[tuple[str, ...]]:
    """Every combination of one group per attribute, the first attribute varying slowest."""
    import itertools

    return list(itertools.product(*orders))
