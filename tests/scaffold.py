"""A "Fooling LIME and SHAP" scaffold (Slack et al., AIES 2020) for the protected-attribute tests.

On rows of the data it was fitted on (matched on every input except the protected one, so that
changing only the protected attribute keeps a row "real") it decides by the protected attribute
alone; on anything else (the off-manifold rows that SHAP's masking, LIME's sampling and ablation
metrics create) it answers with an innocuous feature. Importable, so a pickle of it loads with
--trust-model.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Scaffold(ClassifierMixin, BaseEstimator):
    """Works on encoded columns: ``protected`` is the column index of the protected indicator,
    ``ignore`` the columns left out of the on-manifold key (the protected attribute's one-hot group),
    ``innocuous`` an innocuous numeric column."""

    def __init__(self, protected: int = 0, ignore: tuple[int, ...] = (), innocuous: int = 1):
        self.protected = protected
        self.ignore = ignore
        self.innocuous = innocuous

    def _keys(self, Z):
        keep = [j for j in range(Z.shape[1]) if j not in self.ignore]
        return [tuple(np.round(row, 6)) for row in np.asarray(Z, dtype=float)[:, keep]]

    def fit(self, Z, y):
        Z = np.asarray(Z, dtype=float)
        self.classes_ = np.unique(y)
        self.n_features_in_ = Z.shape[1]
        self.real_ = set(self._keys(Z))
        self.threshold_ = float(np.median(Z[:, self.innocuous]))
        return self

    def predict_proba(self, Z):
        Z = np.asarray(Z, dtype=float)
        real = np.array([k in self.real_ for k in self._keys(Z)])
        biased = np.where(Z[:, self.protected] > 0.5, 0.9, 0.1)
        innocuous = np.where(Z[:, self.innocuous] > self.threshold_, 0.35, 0.65)
        p = np.where(real, biased, innocuous)
        return np.column_stack([1 - p, p])

    def predict(self, Z):
        return self.classes_[np.argmax(self.predict_proba(Z), axis=1)]
