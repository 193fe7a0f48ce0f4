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
from audit.records import AgreementRecord
from audit.types import Attribution

__all__ = ["agreement", "agreement_evidence", "importance_agreement"]


def agreement(attrs: Mapping[str, Attribution]) -> AgreementRecord:
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


def importance_agreement(a: Mapping[str, float], b: Mapping[str, float], k: int = 3) -> dict[str, Any]:
    """Spearman correlation and top-k overlap of two global importances (input -> mean |contribution|),
    over the union of their inputs; an input one model does not take counts as 0 importance in it.

    >>> drift = importance_agreement({"x": 3.0, "y": 2.0, "z": 1.0}, {"x": 3.0, "z": 1.0}, k=2)
    >>> drift["topk_overlap"], drift["only_baseline"]
    (0.5, ['y'])
    """
    names = list(a) + [n for n in b if n not in a]
    va = np.array([[a.get(n, 0.0) for n in names]])
    vb = np.array([[b.get(n, 0.0) for n in names]])
    k = min(k, len(names))
    return {"spearman": round(float(M.rank_agreement(va, vb)[0]), 4),
            "topk_overlap": round(float(M.topk_overlap(va, vb, k)[0]), 4), "k": k,
            "only_baseline": [n for n in a if n not in b], "only_candidate": [n for n in b if n not in a]}
