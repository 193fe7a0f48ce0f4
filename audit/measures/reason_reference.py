"""The reference principal reasons are measured against, per Regulation B's official commentary.

Comment 9(b)(2)-5 to 12 CFR 1002.9 describes two ways a creditor using a credit scoring system may
select the principal reasons: compare the applicant's value on each factor with "the average score
achieved by applicants whose total score was at or slightly above the minimum passing score"
(``near_cutoff``), or with "the average score achieved by all applicants" (``all_applicants``). An
attribution method measures every contribution from a reference point (SHAP: the expectation over
its background rows; coefficients x (x - mean)), so the reference is chosen by choosing the rows the
background is drawn from, and the direction words compare with those rows' mean:

- ``near_cutoff``: the applicants whose favourable score lies in ``[cutoff, cutoff + band]``, where the
  cutoff is the lowest favourable score that received the favourable outcome in DATA. When fewer than
  ``min_rows`` applicants lie in that band, the ``min_rows`` lowest passing scores are used and the
  band actually used is recorded.
- ``all_applicants``: every applicant in DATA; the background is a uniform sample and the direction
  words compare with the mean over all applicants.
- ``background``: a uniform background sample, and direction words against that sample's own mean
  (the interventional reference of a general-purpose explanation).

A model without a favourable class (regression, multiclass without ``favorable_class``) has no passing
score: ``near_cutoff`` then falls back to ``all_applicants`` and says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from audit.records import ReasonReferenceRecord, ReasonsBasisRecord

__all__ = ["Reference", "METHODS", "CITATION", "choose_reference", "draw_background", "reference_values",
           "favorable_scores", "describe", "session_reference", "basis_record"]

Method = Literal["near_cutoff", "all_applicants", "background"]
METHODS: tuple[str, ...] = ("near_cutoff", "all_applicants", "background")
CITATION = "12 CFR 1002.9(b)(2), comment 9(b)(2)-5"


@dataclass(frozen=True)
class Reference:
    """The rows principal reasons are measured against, and why those."""

    method: str  # what was used: near_cutoff | all_applicants | background
    configured: str  # what the configuration asked for
    candidates: np.ndarray | None  # row indices of DATA the background is drawn from (None: every row)
    cutoff: float | None = None  # the lowest favourable score that was given the favourable outcome
    band: tuple[float, float] | None = None  # the favourable-score range of the candidates (near_cutoff)
    band_width: float | None = None  # the configured band width
    fallback: str | None = None  # why the configured method could not be used

    @property
    def rows(self) -> int | None:
        """How many applicants the reference is drawn from (None: all of DATA)."""
        return None if self.candidates is None else int(len(self.candidates))

    def record(self, background_rows: int, data_rows: int) -> ReasonReferenceRecord:
        """results.json's ``reason_reference`` and ``audit reasons``' OUT.meta.json entry."""
        return {"method": self.method, "configured": self.configured, "citation": CITATION,
                "candidate_rows": self.rows if self.rows is not None else data_rows,
                "background_rows": int(background_rows), "cutoff": self.cutoff,
                "band": list(self.band) if self.band is not None else None, "band_width": self.band_width,
                "fallback": self.fallback}


def favorable_scores(adapter: Any, X: np.ndarray, favorable: Any) -> np.ndarray | None:
    """Each row's score for the favourable class (one batched call), or None without a favourable class."""
    if favorable is None or adapter.classes is None:
        return None
    index = next(i for i, c in enumerate(adapter.classes) if str(c) == str(favorable))
    return np.asarray(adapter.predict_all(X), dtype=float)[:, index]


def choose_reference(method: str, scores: np.ndarray | None, passed: np.ndarray | None, *, band_width: float,
                     min_rows: int) -> Reference:
    """The :class:`Reference` for ``method`` given every row's favourable score and whether the row was given
    the favourable outcome (both None without a favourable class).

    >>> s = np.array([0.1, 0.45, 0.52, 0.55, 0.58, 0.9, 0.95])
    >>> r = choose_reference("near_cutoff", s, s >= 0.5, band_width=0.1, min_rows=2)
    >>> r.candidates.tolist(), r.cutoff, r.band
    ([2, 3, 4], 0.52, (0.52, 0.58))
    """
    if method not in METHODS:
        raise ValueError(f"unknown reason reference {method!r}; use one of {', '.join(METHODS)}")
    if method != "near_cutoff":
        return Reference(method, method, None)
    if scores is None or passed is None:
        return Reference("all_applicants", method, None, band_width=band_width,
                         fallback="the model has no favourable class, so there is no passing score")
    passing = np.flatnonzero(np.asarray(passed, dtype=bool) & np.isfinite(scores))
    if len(passing) < min_rows:
        return Reference("all_applicants", method, None, band_width=band_width,
                         fallback=f"only {len(passing)} applicant(s) were given the favourable outcome "
                                  f"(fewer than min_reference_rows = {min_rows})")
    cutoff = float(scores[passing].min())
    inside = passing[scores[passing] <= cutoff + band_width]
    if len(inside) < min_rows:  # widen to the min_rows lowest passing scores
        inside = passing[np.argsort(scores[passing], kind="stable")[:min_rows]]
    inside = np.sort(inside)
    return Reference("near_cutoff", method, inside, cutoff=round(cutoff, 6),
                     band=(round(cutoff, 6), round(float(scores[inside].max()), 6)), band_width=band_width)


def draw_background(reference: Reference, X: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` background rows drawn with ``rng`` from the reference's candidates (every row when None).
    With every row as candidates this is the same draw as a plain uniform sample."""
    pool = np.arange(len(X)) if reference.candidates is None else reference.candidates
    return X[pool[np.sort(rng.choice(len(pool), size=min(size, len(pool)), replace=False))]]


def reference_values(reference: Reference | None, background: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Each input's reference value for direction words: the mean over all applicants for
    ``all_applicants``, else the background's mean (the point the contributions are measured from), and
    the data's median where those have no value.

    >>> X = np.array([[0.0, 5.0], [9.0, 7.0], [3.0, 6.0]])
    >>> reference_values(None, np.array([[1.0, np.nan], [3.0, np.nan]]), X).tolist()
    [2.0, 6.0]
    >>> reference_values(Reference("all_applicants", "all_applicants", None), X[:1], X).tolist()
    [4.0, 6.0]
    """
    source = X if reference is not None and reference.method == "all_applicants" else background
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.asarray(source, dtype=float), axis=0)
        median = np.nanmedian(np.asarray(X, dtype=float), axis=0)
    return np.where(np.isfinite(mean), mean, median)


def describe(record: dict[str, Any], template: Any, *, short: bool = False) -> str:
    """One sentence naming the reference (the methodology and Reason accuracy), worded by the template's
    ``reference_<method>`` entry (and ``reference_fallback`` when the configured method could not be used);
    ``short``: the decision pages' one-line footnote (``reference_short_<method>``)."""
    lo, hi = record["band"] or (None, None)
    values = {"rows": record["candidate_rows"], "background_rows": record["background_rows"],
              "low": f"{lo:.3f}" if lo is not None else "", "high": f"{hi:.3f}" if hi is not None else "",
              "citation": CITATION, "configured": record["configured"], "fallback": record.get("fallback") or ""}
    text = template.text(f"reference_{'short_' if short else ''}{record['method']}", **values)
    if short or not record.get("fallback"):
        return text
    return f"{text} {template.text('reference_fallback', **values)}"


def session_reference(config: Any, adapter: Any, X: np.ndarray, labels: np.ndarray, favorable: Any) -> Reference:
    """The configured reference (``config.reason_reference``) for rows ``X`` with decisions ``labels``."""
    method = config.reason_reference
    passed = None if favorable is None else np.asarray([str(v) == str(favorable) for v in labels])
    scores = favorable_scores(adapter, X, favorable) if method == "near_cutoff" else None
    return choose_reference(method, scores, passed, band_width=config.reasons.near_cutoff_band,
                            min_rows=config.reasons.min_reference_rows)


def basis_record(features: tuple[str, ...] | list[str], background: np.ndarray, typical: np.ndarray) -> ReasonsBasisRecord:
    """results.json's ``reasons_basis``: the background and typical values the reasons were measured with, every
    float written exactly (JSON's shortest round-trip form; NaN as null), so ``audit reasons --audit`` reads back
    the very arrays the audit used.

    >>> basis_record(["a"], np.array([[1.5], [np.nan]]), np.array([1.5]))["background"]
    [[1.5], [None]]
    """
    def plain(x: float) -> float | None:
        return None if not np.isfinite(x) else float(x)

    return {"features": [str(f) for f in features],
            "background": [[plain(v) for v in row] for row in np.asarray(background, dtype=float)],
            "typical": [plain(v) for v in np.asarray(typical, dtype=float)]}
