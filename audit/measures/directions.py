"""Direction words on adverse-action reasons, verified by the model (Regulation B: reasons must reflect the
factors actually scored, 12 CFR 1002.9(b)(2) and its commentary; CFPB circulars 2022-03 and 2023-03).

A reason such as "Amount of credit requested is too high" claims that a lower amount would have helped.
The claim is a statement about the model, so the model is asked: for each adverse reason on a numeric
input, the value is moved toward what the word says would help and, as a control, the same distance the
other way (:data:`STEPS` steps each, kept inside the values observed in the data), every applicant's
moves in one batched model call, and the favourable score is read:

- ``confirmed``: it rises the claimed way and not the other; the word is printed;
- ``contradicted``: it rises only the other way; the word would be false;
- ``non_monotone``: it rises both ways, or neither (the word cannot be supported).

Only a confirmed word is printed; otherwise the reason names the input and its value in neutral words.
The step is the distance to the typical value, and at least :data:`MIN_STEP_STD` of the input's
standard deviation so that an applicant at the typical value is still tested.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from audit.records import DirectionCounts

__all__ = ["verify_directions", "worded", "printed_word", "direction_summary", "STEPS", "MIN_STEP_STD", "DIRECTIONS"]

STEPS = (1 / 3, 2 / 3, 1.0)
MIN_STEP_STD = 0.25
DIRECTIONS = ("confirmed", "contradicted", "non_monotone")


def verify_directions(favourable: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      claims: Sequence[tuple[int, int, bool]], *, typical: np.ndarray, low: np.ndarray,
                      high: np.ndarray, spread: np.ndarray, tolerance: float = 1e-9) -> list[str]:
    """The model's verdict on each claim ``(row, column, above_typical)`` about the encoded rows ``X``:
    ``above_typical`` True claims a lower value would raise ``favourable`` (the favourable score), False a
    higher one. One call of ``favourable`` covers every claim.

    >>> f = lambda Z: -Z[:, 0] + (Z[:, 1] - 1.0) ** 2  # lower x0 helps; x1 is U-shaped around 1
    >>> X = np.array([[2.0, 3.0], [0.0, 1.0]])
    >>> verify_directions(f, X, [(0, 0, True), (0, 0, False), (1, 1, False)], typical=np.array([1.0, 1.0]),
    ...                   low=np.array([-5.0, -5.0]), high=np.array([5.0, 5.0]), spread=np.array([1.0, 1.0]))
    ['confirmed', 'contradicted', 'non_monotone']
    """
    if not claims:
        return []
    X = np.asarray(X, dtype=float)
    steps = np.asarray(STEPS)
    blocks = [X]
    for r, j, above in claims:
        x = X[r, j]
        step = max(abs(typical[j] - x), MIN_STEP_STD * spread[j], 1e-12)
        claimed = -1.0 if above else 1.0
        for sign in (claimed, -claimed):
            moved = np.repeat(X[r : r + 1], len(steps), axis=0)
            moved[:, j] = np.clip(x + sign * step * steps, low[j], high[j])
            blocks.append(moved)
    scores = np.asarray(favourable(np.vstack(blocks)), dtype=float)
    base, moved = scores[: len(X)], scores[len(X):].reshape(len(claims), 2, len(steps))
    out = []
    for k, (r, _, _) in enumerate(claims):
        gain = moved[k].max(axis=1) - base[r]
        scale = max(tolerance, tolerance * abs(base[r]))
        claimed_helps, other_helps = gain[0] > scale, gain[1] > scale
        out.append("confirmed" if claimed_helps and not other_helps
                   else "contradicted" if other_helps and not claimed_helps else "non_monotone")
    return out


def printed_word(reason: dict[str, Any], words: str | None) -> bool | None:
    """The ``above_typical`` a reason is printed with under ``report.direction_words``: the typical-value
    comparison as it is (``"typical"``), else only a direction the model confirmed (:func:`worded`).

    >>> printed_word({"above_typical": True, "direction": "contradicted"}, "typical")
    True
    """
    return reason.get("above_typical") if words == "typical" else worded(reason)


def worded(reason: dict[str, Any]) -> bool | None:
    """The ``above_typical`` a reason may be worded with: its own when the model confirmed the direction
    (or it was never checked), else None (neutral wording).

    >>> worded({"above_typical": True, "direction": "contradicted"}), worded({"above_typical": True})
    (None, True)
    """
    direction = reason.get("direction")
    return reason.get("above_typical") if direction in (None, "confirmed") else None


def direction_summary(decisions: Sequence[Any], *, printed_words: str) -> DirectionCounts:
    """Counts over the reported reasons of adverse decisions that could carry a direction word: how many the
    model confirmed, contradicted or found non-monotone, the share confirmed, and how many contradicted
    words the report prints (none with ``printed_words = "verified"``; with ``"typical"`` every one).

    >>> d = type("D", (), {"adverse": True, "reasons": ({"direction": "confirmed"}, {"direction": "contradicted"})})
    >>> direction_summary([d], printed_words="verified")["contradicted_printed"]
    0
    """
    counts = dict.fromkeys(DIRECTIONS, 0)
    for d in decisions:
        if d.adverse:
            for r in d.reasons:
                if r.get("direction") in counts:
                    counts[r["direction"]] += 1
    total = sum(counts.values())
    return {**counts, "claims": total, "accuracy": counts["confirmed"] / total if total else None,
            "printed_words": printed_words,
            "contradicted_printed": counts["contradicted"] if printed_words == "typical" else 0,
            "unsupported_printed": counts["contradicted"] + counts["non_monotone"] if printed_words == "typical" else 0}
