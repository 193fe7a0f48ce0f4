"""Agreement between explanation methods on the same rows (rank correlation and top-k overlap).

Disagreeing explanations are a finding a validator must see (Krishna et al. 2022, "The disagreement
problem in explainable machine learning"). Pure functions over attributions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from audit.faithfulness import metrics as M
from audit.gate import AgreementEvidence
from audit.types import Attribution

__all__ = ["agreement", "agreement_evidence"]


def agreement(attrs: Mapping[str, Attribution]) -> dict[str, Any]:
    """Pairwise mean per-row Spearman correlation and top-k overlap (k = 3 or fewer), and the least
    agreeing pair.

    >>> a = Attribution(np.array([[3.0, 2.0, 1.0]]), np.zeros(1), ("x", "y", "z"), "a", "approximate")
    >>> b = Attribution(np.array([[1.0, 2.0, 3.0]]), np.zeros(1), ("x", "y", "z"), "b", "approximate")
    >>> agreement({"a": a, "b": b})["least_agreeing_pair"]["spearman"]
    -1.0
    """
    names = list(attrs)
    if len(names) < 2:
        return {"methods": names, "spearman": [[1.0]] * len(names), "topk_overlap": [[1.0]] * len(names), "k": 0}
    f = len(next(iter(attrs.values())).feature_names)
    k = min(3, f)
    sp = np.eye(len(names))
    ov = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            sp[i, j] = sp[j, i] = float(np.mean(M.rank_agreement(attrs[a].values, attrs[b].values)))
            ov[i, j] = ov[j, i] = float(np.mean(M.topk_overlap(attrs[a].values, attrs[b].values, k)))
    pairs = [(names[i], names[j], sp[i, j]) for i in range(len(names)) for j in range(i + 1, len(names))]
    worst = min(pairs, key=lambda p: p[2])
    return {"methods": names, "spearman": sp.round(4).tolist(), "topk_overlap": ov.round(4).tolist(), "k": k,
            "least_agreeing_pair": {"a": worst[0], "b": worst[1], "spearman": float(worst[2])}}


def agreement_evidence(record: Mapping[str, Any]) -> AgreementEvidence:
    """The gate's view of :func:`agreement`'s record."""
    return AgreementEvidence(tuple(record["methods"]), tuple(map(tuple, record["spearman"])),
                             tuple(map(tuple, record["topk_overlap"])), int(record["k"]))
