"""Counterfactual search for adverse decisions: a deterministic, budgeted beam search in raw data space.

Invariants: only actionable features change (never an immutable one, never against its allowed direction,
never outside its bounds); every candidate value is an observed value (:mod:`audit.recourse.support`);
every counterfactual returned changed the model's decision to the favourable class when the model was
called on it, and is in the data's support; no change it makes can be dropped from it and still be known
to flip the decision; the counterfactuals of one decision change different sets of features, none a
superset of another's (diversity, and each is minimal in its features). Model calls are
batched across the decisions searched: one pair of calls (decision and favourable-class score) per search
depth and refinement round, and at most ``budget`` model rows per decision. Nothing here is random: the
same rows (and the support, drawn with the audit's seed) give the same result.

The search: depth 1 changes one feature to each of its candidate values; the non-flipping candidates
with the highest favourable-class score (at most one per feature set, ``BEAM`` of them) are extended by
one more feature, up to ``max_changes`` features, within ``SEARCH_SHARE`` of the budget. The cheapest
solutions are then made cheaper, one feature per round, by trying the values between the applicant's and
the chosen one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from audit.records import RecourseRecord
from audit.recourse.support import Support

__all__ = ["Rules", "Counterfactual", "RowRecourse", "Search", "RecourseRun", "BEAM"]

BEAM = 10  # partial counterfactuals (distinct feature sets) carried to the next depth
SEARCH_SHARE = 0.75  # of a decision's budget for the search; the rest makes its solutions cheaper


@dataclass(frozen=True, eq=False)
class Rules:
    """What a counterfactual may change, per feature: whether it may change at all, its direction (+1 only
    up, -1 only down, 0 either), its bounds and the weight of its cost."""

    actionable: np.ndarray
    direction: np.ndarray
    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class Counterfactual:
    """Changes ``(feature index, from, to)`` in encoded values, their cost, the distance to the nearest real
    row (and as a ratio of the typical one), and after verification the model's decision and score."""

    changes: tuple[tuple[int, float, float], ...]
    cost: float
    nn_distance: float
    nn_ratio: float
    outcome: str = ""
    score: float = float("nan")
    verified: bool = False

    @property
    def features(self) -> frozenset[int]:
        return frozenset(j for j, _, _ in self.changes)

    def apply(self, x: np.ndarray) -> np.ndarray:
        z = np.array(x, dtype=float)
        for j, _, to in self.changes:
            z[j] = to
        return z


@dataclass(frozen=True)
class RowRecourse:
    """The counterfactuals found for one decision, the model rows spent, and why none was found."""

    counterfactuals: tuple[Counterfactual, ...]
    evaluations: int
    why_none: str | None = None


@dataclass
class _Moves:
    """Single-feature changes open to one row: feature, new value, cost."""

    feature: np.ndarray
    value: np.ndarray
    cost: np.ndarray

    def features(self, state: tuple[int, ...]) -> frozenset[int]:
        return frozenset(self.feature[list(state)].tolist())

    def cost_of(self, state: tuple[int, ...]) -> float:
        return float(self.cost[list(state)].sum())


@dataclass
class _Row:
    """One decision's search: its row, moves, model rows spent, solutions found (feature set -> cheapest
    (cost, state)), the beam, and what the search saw."""

    x: np.ndarray
    moves: _Moves
    budget: int
    spent: int = 0
    implausible: int = 0
    exhausted: bool = False
    found: dict[frozenset[int], tuple[float, tuple[int, ...]]] = field(default_factory=dict)
    flipped: set[tuple[int, ...]] = field(default_factory=set)  # states the model approved, in support or not
    beam: list[tuple[int, ...]] = field(default_factory=lambda: [()])
    best: list[tuple[float, tuple[int, ...]]] = field(default_factory=list)

    def take(self, states: list[tuple[int, ...]], share: float = 1.0) -> list[tuple[int, ...]]:
        """As many of ``states`` as ``share`` of the budget allows (counted as spent)."""
        room = int(share * self.budget) - self.spent
        if len(states) > room:
            self.exhausted = True
            states = states[:max(room, 0)]
        self.spent += len(states)
        return states

    def record(self, states: list[tuple[int, ...]], flips: np.ndarray, plausible: Callable[..., bool]) -> None:
        """Keep each feature set's cheapest state among those that flipped, need every change they make and
        are in support (checked cheapest first, so only until one is)."""
        self.flipped.update(states[s] for s in np.flatnonzero(flips))
        for s in sorted(np.flatnonzero(flips), key=lambda s: self.moves.cost_of(states[s])):
            key, cost = self.moves.features(states[s]), self.moves.cost_of(states[s])
            if (key not in self.found or cost < self.found[key][0]) and self.needs_all(states[s]) \
                    and plausible(self, states[s]):
                self.found[key] = (cost, states[s])

    def needs_all(self, state: tuple[int, ...]) -> bool:
        """Whether no state with one change fewer is known to flip the decision: otherwise that change was
        not needed (say, an input the model ignores, moved only to land near a real row)."""
        return len(state) == 1 or all(tuple(k for k in state if k != m) not in self.flipped for m in state)

    def swaps(self) -> list[tuple[int, tuple[int, ...]]]:
        """(solution, state) for every cheaper value of one changed feature of each best solution."""
        m = self.moves
        return [(i, tuple(sorted((*(k for k in state if k != old), int(new)))))
                for i, (_, state) in enumerate(self.best) for old in state
                for new in np.flatnonzero((m.feature == m.feature[old]) & (m.cost < m.cost[old]))]

    def improve(self, swaps: list[tuple[int, tuple[int, ...]]], flips: np.ndarray,
                plausible: Callable[..., bool]) -> bool:
        """Take the cheapest swap that still flips and is in support, per solution; whether any got cheaper."""
        improved = False
        self.flipped.update(swaps[k][1] for k in np.flatnonzero(flips))
        for k in sorted(np.flatnonzero(flips), key=lambda k: self.moves.cost_of(swaps[k][1])):
            i, state = swaps[k]
            if self.moves.cost_of(state) < self.best[i][0] and self.needs_all(state) and plausible(self, state):
                self.best[i], improved = (self.moves.cost_of(state), state), True
        return improved


@dataclass(frozen=True)
class Search:
    """Counterfactuals for single rows of one model: up to ``n`` per row, each changing at most
    ``max_changes`` features, ``budget`` model rows per row, neighbour ratio at most ``max_ratio``."""

    support: Support
    rules: Rules
    favorable: Any
    favorable_index: int
    n: int = 3
    max_changes: int = 3
    budget: int = 4000
    max_ratio: float = 2.0

    def run(self, adapter: Any, X: np.ndarray) -> list[RowRecourse]:
        """Search counterfactuals for each encoded row of ``X`` (whose decisions are adverse); the rows are
        searched side by side, so each depth is one batch of model calls for all of them."""
        rows = [_Row(np.asarray(x, dtype=float), self._moves(x), self.budget) for x in np.atleast_2d(X)]
        active = [r for r in rows if len(r.moves.feature)]
        for _ in range(self.max_changes):
            asks = [(r, r.take(self._expand(r), SEARCH_SHARE)) for r in active]
            asks = [(r, states) for r, states in asks if states]
            if not asks:
                break
            for (r, states), (flips, score) in zip(asks, self._ask(adapter, asks)):
                r.record(states, flips, self._plausible)
                r.beam = _beam(states, score, flips, r.moves)
            active = [r for r, _ in asks if len(r.found) < self.n and not r.exhausted and r.beam]
        self._refine(adapter, rows)
        return [self._result(r) for r in rows]

    def _moves(self, x: np.ndarray) -> _Moves:
        """Every single-feature change the rules allow for row ``x``."""
        r, s = self.rules, self.support
        feats, values, costs = [], [], []
        for j in np.flatnonzero(r.actionable):
            if np.isnan(x[j]):
                continue  # a missing value has no direction or distance to move from
            grid = s.grids[j]
            ok = (grid != x[j]) & (grid >= r.low[j]) & (grid <= r.high[j])
            if r.direction[j]:
                ok &= np.sign(grid - x[j]) == r.direction[j]
            step = np.ones(ok.sum()) if s.categorical[j] else np.abs(grid[ok] - x[j]) / s.scale[j]
            feats.append(np.full(ok.sum(), j))
            values.append(grid[ok])
            costs.append(r.weight[j] * step)
        if not feats:
            return _Moves(np.array([], int), np.array([]), np.array([]))
        return _Moves(np.concatenate(feats).astype(int), np.concatenate(values), np.concatenate(costs))

    def _expand(self, row: _Row) -> list[tuple[int, ...]]:
        """Each beam state extended by one change of a feature it does not change yet, skipping feature sets
        that contain one already found to flip the decision (they would not be minimal)."""
        out: dict[tuple[int, ...], None] = {}
        for state in row.beam:
            used = set(row.moves.features(state))
            for m, j in enumerate(row.moves.feature.tolist()):
                if j in used or any(f <= used | {j} for f in row.found):
                    continue
                out.setdefault(tuple(sorted((*state, m))), None)
        return list(out)

    def _ask(self, adapter: Any, asks: list[tuple[_Row, list[tuple[int, ...]]]]) -> list[tuple[np.ndarray, ...]]:
        """For each row's states, the model's decision (flipped or not) and favourable-class score: one batch
        of model calls for all rows."""
        Z = np.vstack([_apply(r, states) for r, states in asks])
        flips = np.array([str(v) == str(self.favorable) for v in adapter.predict_label(Z)], dtype=bool)
        score = np.asarray(adapter.predict_all(Z), dtype=float)[:, self.favorable_index]
        ends = np.cumsum([len(states) for _, states in asks])[:-1]
        return list(zip(np.split(flips, ends), np.split(score, ends)))

    def _plausible(self, r: _Row, state: tuple[int, ...]) -> bool:
        """Whether ``state`` applied to the row is in the data's support (counted on the row when not)."""
        z = _apply(r, [state])[0]
        s = self.support
        ok = (s.in_range(z) and s.pairs_seen(z, r.moves.feature[list(state)].tolist())
              and s.nearest(z)[0] <= self.max_ratio * s.typical_nn)
        r.implausible += not ok
        return bool(ok)

    def _refine(self, adapter: Any, rows: list[_Row]) -> None:
        """Make each row's cheapest solutions cheaper where a smaller change of one of their features still
        flips the decision (one batch per round for all rows; at most a round per changeable feature)."""
        for r in rows:
            r.best = sorted(r.found.values())[: 2 * self.n]
        pending = [r for r in rows if r.best]
        for _ in range(self.max_changes):
            asks = []
            for r in pending:
                swaps = r.swaps()
                states = r.take([s for _, s in swaps])
                if states:
                    asks.append((r, swaps[: len(states)], states))
            if not asks:
                break
            answers = self._ask(adapter, [(r, states) for r, _, states in asks])
            pending = [r for (r, swaps, _), (flips, _) in zip(asks, answers) if r.improve(swaps, flips, self._plausible)]

    def _result(self, r: _Row) -> RowRecourse:
        """The row's diverse cheapest counterfactuals, or why there are none."""
        if not len(r.moves.feature):
            return RowRecourse((), 0, "every input is immutable, or held where it is by its bounds and direction")
        out = []
        for cost, state in _diverse(r.best, r.moves, self.n):
            changes = tuple(sorted((int(r.moves.feature[m]), float(r.x[r.moves.feature[m]]), float(r.moves.value[m]))
                                   for m in state))
            d = float(self.support.nearest(Counterfactual(changes, cost, 0.0, 0.0).apply(r.x))[0])
            out.append(Counterfactual(changes, cost, d, d / self.support.typical_nn))
        return RowRecourse(tuple(out), r.spent, None if out else self._why(r))

    def _why(self, r: _Row) -> str:
        if r.exhausted:
            return f"the search budget of {self.budget} model evaluations ran out before a change was found"
        if r.implausible:
            return (f"{r.implausible} candidate change(s) did change the decision but left the data's support "
                    "(values or combinations not seen in the data)")
        return (f"no change of at most {self.max_changes} actionable input(s) to values seen in the data changed "
                "the decision")


def _apply(r: _Row, states: list[tuple[int, ...]]) -> np.ndarray:
    """Row ``r.x`` with each state's changes applied (one row per state)."""
    Z = np.repeat(r.x[None, :], len(states), axis=0)
    for i, state in enumerate(states):
        Z[i, r.moves.feature[list(state)]] = r.moves.value[list(state)]
    return Z


def _beam(states: list[tuple[int, ...]], score: np.ndarray, flips: np.ndarray,
          moves: _Moves) -> list[tuple[int, ...]]:
    """The non-flipping states with the highest favourable-class score, one per feature set."""
    out, seen = [], set()
    for i in np.argsort(-score, kind="stable"):
        if flips[i]:
            continue
        key = frozenset(moves.feature[list(states[i])].tolist())
        if key not in seen:
            seen.add(key)
            out.append(states[i])
        if len(out) == BEAM:
            break
    return out


def _diverse(candidates: list[tuple[float, tuple[int, ...]]], moves: _Moves,
             n: int) -> list[tuple[float, tuple[int, ...]]]:
    """The cheapest candidates whose feature sets differ, none containing another's (cheapest first)."""
    chosen: list[tuple[float, tuple[int, ...]]] = []
    sets: list[frozenset[int]] = []
    for cost, state in sorted(candidates):
        key = frozenset(moves.feature[list(state)].tolist())
        if any(key <= s or s <= key for s in sets):
            continue
        chosen.append((cost, state))
        sets.append(key)
        if len(chosen) == n:
            break
    return chosen


@dataclass(frozen=True)
class RecourseRun:
    """The ``recourse`` record of results.json and the search (its support and rules) that produced it (here,
    beside the search, so that ``audit.results`` can name it without importing ``audit.recourse``)."""

    record: RecourseRecord
    search: Search | None
