"""Seeded synthetic loan data whose true drivers are known.

The log-odds of default depend only on ``income``, ``debt_ratio`` and ``late_payments`` (x0, x1, x2);
the other columns are noise. ``true_logit`` is the generating function, so the exact attribution of
the data-generating model is known and can serve as the oracle in faithfulness tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DRIVERS = ("income", "debt_ratio", "late_payments")
COEF = {"income": -1.6, "debt_ratio": 2.2, "late_payments": 1.3}
NOISE = ("tenure_months", "num_accounts", "postcode_index", "utilisation_noise", "branch_score",
         "marketing_segment_score", "days_since_contact")


def make_loans(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Return a frame with 3 drivers, 7 noise columns and the binary target ``default``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.standard_normal(n) for name in DRIVERS + NOISE})
    p = 1 / (1 + np.exp(-true_logit(frame)))
    frame["default"] = (rng.random(n) < p).astype(int)
    return frame


def true_logit(frame: pd.DataFrame) -> np.ndarray:
    """The generating log-odds: linear in the three drivers only."""
    return sum(COEF[c] * frame[c].to_numpy(dtype=float) for c in DRIVERS) - 0.3


def true_attribution(X: np.ndarray, columns: list[str], background_mean: np.ndarray) -> np.ndarray:
    """Exact attribution of ``true_logit``: coef_j * (x_j - mean_j) for drivers, 0 for noise."""
    w = np.array([COEF.get(c, 0.0) for c in columns])
    return (np.asarray(X, dtype=float) - background_mean) * w


def oracle(rows: pd.DataFrame, background: pd.DataFrame) -> pd.DataFrame:
    """``audit run ... --oracle samples.synthetic:oracle``: the exact log-odds attribution of each row."""
    columns = list(rows.columns)
    values = true_attribution(rows.to_numpy(dtype=float), columns, background.to_numpy(dtype=float).mean(0))
    return pd.DataFrame(values, columns=columns)


if __name__ == "__main__":
    import sys

    make_loans().to_csv(sys.argv[1] if len(sys.argv) > 1 else "synthetic_loans.csv", index=False)
