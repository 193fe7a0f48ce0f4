"""Deliberately broken oracle functions for the --oracle error tests (imported by name)."""

from __future__ import annotations

import numpy as np

NOT_A_FUNCTION = 3


def wrong_shape(rows, background):
    return np.zeros((len(rows), 2))


def raises(rows, background):
    raise KeyError("income")


def missing_column(rows, background):
    return rows.drop(columns=["income"]) * 0.0
