"""HistGradientBoosting trees read from scikit-learn's own predictors: split decisions, Saabas path
contributions, exact interventional TreeSHAP and path-dependent TreeSHAP, for numeric and native categorical
splits.

Invariants (each one tested):

- Rows reach the trees exactly as in ``HistGradientBoosting*._raw_predict``: the final estimator's input
  (the decoded frame for a bare model, the pipeline's output otherwise) goes through the estimator's own
  ``_preprocess_X``, i.e. its internal OrdinalEncoder for native categorical features. The audit's category
  codes therefore never meet the estimator's codes: both go through the category labels.
- Every split is decided as ``_predictor.pyx`` decides it: NaN goes to the learned missing side; a
  categorical value goes left when its code is in the node's ``raw_left_cat_bitsets`` row, right when it is
  a known category of the feature, and to the missing side otherwise (unknown or negative); a numeric value
  goes left when ``<= num_threshold``.
- Hence Saabas contributions plus the bias, interventional SHAP values plus the background's mean raw output,
  and path-dependent SHAP values plus the trees' count-weighted mean, equal the raw output (log-odds / value,
  ``decision_function``) to float rounding.
- Interventional SHAP is exact: for each (row x, background row z) pair and each tree it gives the Shapley
  values of the game v(S) = tree(x_S, z_rest), then averages over z (Lundberg et al. 2020, "interventional
  TreeSHAP"; Laberge & Pequignot 2022). A leaf reached only when the features in S_x follow x and those in
  S_z follow z is worth v(leaf) * [S_x within S, S_z outside S]; its Shapley values are closed-form:
  +v (a-1)! b! / (a+b)! to each of S_x and -v a! (b-1)! / (a+b)! to each of S_z (a = |S_x|, b = |S_z|).
  Summed leaf by leaf (``_accumulate``), with the background reduced per leaf to the distinct sets of path
  features its rows satisfy, a row costs about leaves x path length per tree whatever the background's size.
- Attributions come back in the final estimator's input columns (the encoder's reordering, categorical
  columns first, is undone).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["HistForest", "hist_forest", "is_hist_gradient_boosting", "hist_supported", "has_native_categories",
           "predictor_matrix", "output_column", "saabas", "interventional_shap", "path_dependent_shap", "raw_output"]

HIST_TYPES = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
ROW_CHUNK = 2048  # explained rows per call of the pairwise reference: bounds its (rows x nodes) decisions


def is_hist_gradient_boosting(final: Any) -> bool:
    return type(final).__name__ in HIST_TYPES and hasattr(final, "_predictors")


def hist_supported(final: Any) -> bool:
    """A fitted HistGradientBoosting whose raw output is what the audit explains: classifiers (log-odds) and
    regressors with an identity link (a Poisson or Gamma regressor's raw output is the log of its prediction)."""
    if not is_hist_gradient_boosting(final):
        return False
    if type(final).__name__.endswith("Regressor"):
        link = getattr(getattr(final, "_loss", None), "link", None)
        return type(link).__name__ == "IdentityLink"
    return True


def has_native_categories(final: Any) -> bool:
    """Whether the estimator encodes categorical columns itself (then only its own preprocessing reads them)."""
    mask = getattr(final, "is_categorical_", None)
    return mask is not None and bool(np.any(mask))


@dataclass(frozen=True)
class HistForest:
    """The trees of one output column, flattened: node ``i`` of tree ``t`` is ``roots[t] + i``."""

    roots: np.ndarray  # (T,) global index of each tree's root
    feature: np.ndarray  # (N,) predictor column of the split (-1 at leaves)
    left: np.ndarray  # (N,) global child indices
    right: np.ndarray
    leaf: np.ndarray  # (N,) bool
    value: np.ndarray  # (N,) leaf value (learning rate applied); 0 at internal nodes
    count: np.ndarray  # (N,) training samples through the node
    threshold: np.ndarray  # (N,) numeric threshold
    missing_left: np.ndarray  # (N,) bool
    categorical: np.ndarray  # (N,) bool
    left_bits: np.ndarray  # (N, 8) uint32: categories sent left (raw_left_cat_bitsets row)
    known_bits: np.ndarray  # (N, 8) uint32: the feature's known categories
    baseline: float  # the raw prediction before any tree
    order: np.ndarray  # predictor column c -> the estimator's input column order[c]
    n_inputs: int
    max_depth: int

    def go_left(self, Zp: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """(rows x nodes) bool: whether each row goes to the left child at each node ``lo..hi-1`` (False at
        leaves)."""
        hi = len(self.leaf) if hi is None else hi
        internal = lo + np.flatnonzero(~self.leaf[lo:hi])
        out = np.zeros((len(Zp), hi - lo), dtype=bool)
        if not len(internal):
            return out
        x = Zp[:, self.feature[internal]]
        miss = np.isnan(x)
        numeric = x <= self.threshold[internal]
        cat = self.categorical[internal]
        if cat.any():
            ci = internal[cat]
            xc = x[:, cat]
            valid = ~np.isnan(xc) & (xc >= 0) & (xc < 256)
            code = np.where(valid, xc, 0).astype(np.int64)  # truncation, as the predictor's cast to uint8
            word, bit = code >> 5, (code & 31).astype(np.uint32)
            in_left = (np.take_along_axis(self.left_bits[ci].T, word, 0) >> bit) & 1
            known = (np.take_along_axis(self.known_bits[ci].T, word, 0) >> bit) & 1
            # unknown categories and negative values take the missing side, like NaN
            miss[:, cat] |= ~valid | (known == 0) & (in_left == 0)
            numeric[:, cat] = in_left.astype(bool)
        out[:, internal - lo] = np.where(miss, self.missing_left[internal], numeric)
        return out

    def leaves(self, go_left: np.ndarray) -> np.ndarray:
        """(rows x trees) global index of the leaf each row reaches."""
        node = np.broadcast_to(self.roots, (len(go_left), len(self.roots))).copy()
        rows = np.arange(len(go_left))[:, None]
        for _ in range(self.max_depth + 1):
            at = ~self.leaf[node]
            if not at.any():
                break
            nxt = np.where(go_left[rows, node], self.left[node], self.right[node])
            node = np.where(at, nxt, node)
        return node


def hist_forest(final: Any, column: int) -> HistForest:
    """The trees of output column ``column`` (0 for binary classifiers and regressors)."""
    known_all, f_idx_map = final._bin_mapper.make_known_categories_bitsets()
    parts, offset, roots = [], 0, []
    for iteration in final._predictors:
        predictor = iteration[column]
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)  # stored as uint8
        cat = nodes["is_categorical"].astype(bool) & ~leaf
        feature = np.where(leaf, -1, nodes["feature_idx"]).astype(np.int64)
        left_bits = np.zeros((len(nodes), 8), dtype=np.uint32)
        known_bits = np.zeros((len(nodes), 8), dtype=np.uint32)
        if cat.any():
            left_bits[cat] = np.asarray(predictor.raw_left_cat_bitsets)[nodes["bitset_idx"][cat]]
            known_bits[cat] = np.asarray(known_all)[np.asarray(f_idx_map)[feature[cat]]]
        parts.append(dict(
            feature=feature, left=np.where(leaf, -1, nodes["left"].astype(np.int64) + offset),
            right=np.where(leaf, -1, nodes["right"].astype(np.int64) + offset), leaf=leaf,
            value=np.where(leaf, nodes["value"], 0.0).astype(np.float64), count=nodes["count"].astype(np.float64),
            threshold=nodes["num_threshold"].astype(np.float64), missing_left=nodes["missing_go_to_left"].astype(bool),
            categorical=cat, left_bits=left_bits, known_bits=known_bits, depth=int(nodes["depth"].max())))
        roots.append(offset)
        offset += len(nodes)
    n_inputs = int(final.n_features_in_)
    order = _input_order(final, n_inputs)
    cat_fields = ("feature", "left", "right", "leaf", "value", "count", "threshold", "missing_left", "categorical",
                  "left_bits", "known_bits")
    return HistForest(roots=np.asarray(roots, dtype=np.int64),
                      **{k: np.concatenate([p[k] for p in parts]) for k in cat_fields},
                      baseline=float(np.asarray(final._baseline_prediction).reshape(-1)[column]),
                      order=order.astype(np.int64), n_inputs=n_inputs,
                      max_depth=max(p["depth"] for p in parts))


def _input_order(final: Any, n_inputs: int) -> np.ndarray:
    """The estimator's input column behind each column its trees read: its own encoder (scikit-learn >= 1.4,
    native categorical features) outputs the categorical columns first."""
    pre = getattr(final, "_preprocessor", None)
    if pre is None:
        return np.arange(n_inputs)
    index = getattr(pre, "_transformer_to_input_indices", None)
    if index is not None:
        order = np.full(n_inputs, -1)
        for name, where in pre.output_indices_.items():
            cols = np.asarray(index.get(name, []), dtype=np.int64)
            order[np.arange(where.start, where.stop)] = cols
        if (np.sort(order) == np.arange(n_inputs)).all():
            return order
    mask = np.asarray(final.is_categorical_, dtype=bool)
    return np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)])


def predictor_matrix(adapter: Any, X: np.ndarray) -> np.ndarray:
    """What the trees read for the encoded raw rows ``X``: the final estimator's input through the estimator's
    own preprocessing (``_preprocess_X``: its OrdinalEncoder for native categorical columns, then validation)."""
    final = adapter.final_estimator
    if not hasattr(adapter, "final_input") and has_native_categories(final):
        raise ValueError(f"{type(adapter).__name__} does not give the final estimator's input (final_input), which "
                         f"{type(final).__name__}'s own categorical encoding needs")
    inp = adapter.final_input(X) if hasattr(adapter, "final_input") else adapter.transform(X)
    if not hasattr(final, "_preprocess_X"):  # scikit-learn < 1.4: no encoder of its own, numbers only
        inp = inp.to_numpy() if hasattr(inp, "to_numpy") else inp
        return np.ascontiguousarray(inp, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # feature names absent after a pipeline's numpy output
        Zp = final._preprocess_X(inp, reset=False)
    return np.ascontiguousarray(Zp, dtype=np.float64)


def output_column(final: Any, adapter: Any) -> tuple[int, float]:
    """(predictor column, sign) of the explained class: one column and the binary sign for binary models."""
    if len(final._predictors[0]) == 1:
        return 0, float(adapter.binary_sign) if adapter.task == "binary" else 1.0
    return int(adapter.class_index or 0), 1.0


def raw_output(forest: HistForest, go_left: np.ndarray) -> np.ndarray:
    """The raw prediction of each row (baseline plus its leaves), as ``_raw_predict`` computes it."""
    return forest.baseline + forest.value[forest.leaves(go_left)].sum(1)


def _to_inputs(forest: HistForest, values: np.ndarray) -> np.ndarray:
    out = np.zeros((len(values), forest.n_inputs))
    out[:, forest.order] = values
    return out


def saabas(forest: HistForest, Zp: np.ndarray) -> tuple[np.ndarray, float]:
    """Saabas contributions (rows x estimator inputs) and the bias, summed over the trees.

    Leaf values already carry the learning rate; an internal node's expected value is the count-weighted mean
    of its children's (the stored internal values are neither shrunk nor set at the root), so contributions
    plus the bias equal the raw output exactly.
    """
    expected = forest.value.copy()
    for i in np.argsort(-_depths(forest), kind="stable"):  # children before parents
        if not forest.leaf[i]:
            lc, rc = forest.left[i], forest.right[i]
            total = forest.count[lc] + forest.count[rc]
            expected[i] = (expected[lc] * forest.count[lc] + expected[rc] * forest.count[rc]) / total if total else 0.0
    go_left = forest.go_left(Zp)
    n, p = len(Zp), int(forest.order.size)
    out = np.zeros((n, p))
    rows = np.arange(n)
    node = np.broadcast_to(forest.roots, (n, len(forest.roots))).copy()
    for _ in range(forest.max_depth + 1):
        at = ~forest.leaf[node]
        if not at.any():
            break
        r, t = np.nonzero(at)
        cur = node[r, t]
        nxt = np.where(go_left[rows[r], cur], forest.left[cur], forest.right[cur])
        np.add.at(out, (r, forest.feature[cur]), expected[nxt] - expected[cur])
        node[r, t] = nxt
    bias = forest.baseline + float(expected[forest.roots].sum())
    return _to_inputs(forest, out), bias


def _depths(forest: HistForest) -> np.ndarray:
    depth = np.zeros(len(forest.leaf), dtype=np.int64)
    for _ in range(forest.max_depth):
        internal = np.flatnonzero(~forest.leaf)
        depth[forest.left[internal]] = depth[internal] + 1
        depth[forest.right[internal]] = depth[internal] + 1
    return depth


def interventional_shap(forest: HistForest, Zp: np.ndarray, Zb: np.ndarray, *,
                        method: str = "leaves") -> tuple[np.ndarray, float]:
    """Exact interventional TreeSHAP (rows x estimator inputs) over the background rows ``Zb``, and the base
    value (the background's mean raw output), both in raw (log-odds / value) space.

    ``method="leaves"`` (the default) sums the closed form leaf by leaf, with the background summarised per leaf
    (below), so a row costs about leaves x path length per tree whatever the background's size;
    ``method="pairs"`` walks every (row, background row) pair through every tree, the textbook algorithm,
    kept as the reference the other is tested against.

    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> m = HistGradientBoostingRegressor(max_iter=5).fit(X, X[:, 0] * X[:, 1])
    >>> f = hist_forest(m, 0)
    >>> phi, base = interventional_shap(f, X[:4], X[100:])
    >>> bool(np.allclose(phi.sum(1) + base, m.predict(X[:4]), atol=1e-12))
    True
    """
    Zp, Zb = np.asarray(Zp, dtype=np.float64), np.asarray(Zb, dtype=np.float64)
    if not len(Zb):
        raise ValueError("interventional TreeSHAP needs at least one background row; got none")
    gb_all = forest.go_left(Zb)
    base = float(raw_output(forest, gb_all).mean())
    p = int(forest.order.size)
    wx, wz = _weights(min(forest.max_depth, p) + 1)
    values = np.zeros((len(Zp), p))
    paths = [_leaf_paths(forest, t) for t in range(len(forest.roots))]
    if method == "pairs" or max(int(path.k.max()) for path in paths) > 62:  # local masks are int64
        kernel = _jit(_shap_pairs)
        gb = np.ascontiguousarray(gb_all)
        for a in range(0, len(Zp), ROW_CHUNK):
            gx = np.ascontiguousarray(forest.go_left(Zp[a : a + ROW_CHUNK]))
            kernel(forest.roots, forest.feature, forest.left, forest.right, forest.leaf, forest.value, gx, gb, p,
                   forest.max_depth + 2, wx, wz, values[a : a + ROW_CHUNK])
    else:
        unsat, accumulate = _jit(_leaf_unsat), _jit(_accumulate)
        bounds = np.append(forest.roots, len(forest.leaf))
        for t, path in enumerate(paths):
            lo, hi = int(bounds[t]), int(bounds[t + 1])
            gb = np.ascontiguousarray(gb_all[:, lo:hi])
            masks, ptr, counts = _background_masks(path, unsat(gb, path.ptr, path.node, path.left, path.bit,
                                                               len(path.k)))
            cache_at, cache_size = _cache_layout(path.k, len(Zp))
            cache = np.zeros(cache_size)
            done = np.zeros(cache_size, dtype=np.bool_)
            for a in range(0, len(Zp), LEAF_CHUNK):
                gx = np.ascontiguousarray(forest.go_left(Zp[a : a + LEAF_CHUNK], lo, hi))
                R = unsat(gx, path.ptr, path.node, path.left, path.bit, len(path.k))
                accumulate(R, path.value, path.k, path.feat, ptr, masks, counts, wx, wz, cache_at, cache, done,
                           values[a : a + LEAF_CHUNK])
    values /= len(Zb)
    return _to_inputs(forest, values), base


def path_dependent_shap(forest: HistForest, Zp: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact path-dependent TreeSHAP (rows x estimator inputs) and its base value (the trees' count-weighted
    mean output), in raw space: the Shapley values of v(S) = E[f | x_S] under the trees' own training
    distribution (Lundberg et al. 2020, Algorithm 1: a feature outside S follows both children, weighted by
    the training rows each keeps). A leaf's share of that game is v(leaf) prod_{j in S} o_j prod_{j not in S}
    r_j over its path features (o_j: x takes the path's way at every split on j; r_j: the share of training
    rows the path keeps there), whose Shapley values are closed-form in the elementary symmetric polynomials
    of the r_j; they depend on (leaf, the features x fails) only, and are cached per pattern.

    >>> import numpy as np
    >>> from sklearn.ensemble import HistGradientBoostingRegressor
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> m = HistGradientBoostingRegressor(max_iter=5).fit(X, X[:, 0] * X[:, 1])
    >>> phi, base = path_dependent_shap(hist_forest(m, 0), X[:4])
    >>> bool(np.allclose(phi.sum(1) + base, m.predict(X[:4]), atol=1e-12))
    True
    """
    Zp = np.asarray(Zp, dtype=np.float64)
    p = int(forest.order.size)
    values = np.zeros((len(Zp), p))
    base = forest.baseline
    unsat, accumulate = _jit(_leaf_unsat), _jit(_accumulate_path)
    bounds = np.append(forest.roots, len(forest.leaf))
    for t in range(len(forest.roots)):
        path = _leaf_paths(forest, t)
        base += float((path.value * np.prod(path.ratio, axis=1)).sum())
        lo, hi = int(bounds[t]), int(bounds[t + 1])
        cache_at, cache_size = _cache_layout(path.k, len(Zp))
        cache = np.zeros(cache_size)
        done = np.zeros(cache_size, dtype=np.bool_)
        weights = _path_weights(int(path.k.max()))
        for a in range(0, len(Zp), LEAF_CHUNK):
            gx = np.ascontiguousarray(forest.go_left(Zp[a : a + LEAF_CHUNK], lo, hi))
            R = unsat(gx, path.ptr, path.node, path.left, path.bit, len(path.k))
            accumulate(R, path.value, path.k, path.feat, path.ratio, weights, cache_at, cache, done,
                       values[a : a + LEAF_CHUNK])
    return _to_inputs(forest, values), base


def _path_weights(kmax: int) -> np.ndarray:
    """w[k, t] = t! (k-t-1)! / k! = 1 / (k C(k-1, t)): the Shapley weight of a coalition of t among k players."""
    from math import comb

    w = np.zeros((kmax + 1, kmax + 1))
    for k in range(1, kmax + 1):
        for t in range(k):
            w[k, t] = 1.0 / (k * comb(k - 1, t))
    return w


def _accumulate_path(R, value, k, feat, ratio, weights, cache_at, cache, done, out):  # pragma: no cover - jitted
    """Add every leaf's path-dependent Shapley values to ``out`` (rows x features).

    phi_i = v (o_i - r_i) prod_{j in R, j != i} r_j sum_t w[k, t] e_{m-t}(r_j : j in O, j != i), with O the
    path features x satisfies, R the others, m = |O - {i}| and e_q the elementary symmetric polynomials.
    """
    n = R.shape[0]
    kmax = feat.shape[1]
    scratch = np.zeros(kmax + 1)
    e = np.zeros(kmax + 1)
    for r in range(n):
        for leaf in range(R.shape[1]):
            v = value[leaf]
            kk = k[leaf]
            if v == 0.0 or kk == 0:
                continue
            rr = R[r, leaf]
            sums, fresh = _cache_slot(cache_at[leaf], rr, kk, cache, done, scratch)
            if fresh:
                for i in range(kk):
                    # e over the satisfied features other than i, and the product over the failed ones
                    e[:] = 0.0
                    e[0] = 1.0
                    m = 0
                    failed = 1.0
                    for j in range(kk):
                        if j == i:
                            continue
                        if (rr >> j) & 1:
                            failed *= ratio[leaf, j]
                        else:
                            m += 1
                            for q in range(m, 0, -1):
                                e[q] += ratio[leaf, j] * e[q - 1]
                    total = 0.0
                    for t in range(m + 1):
                        total += weights[kk, t] * e[m - t]
                    o_i = 0.0 if (rr >> i) & 1 else 1.0
                    sums[i] = (o_i - ratio[leaf, i]) * failed * total
            for j in range(kk):
                out[r, feat[leaf, j]] += v * sums[j]


LEAF_CHUNK = 65536  # explained rows per leaf-kernel call
CACHE_BITS = 16  # leaves with at most this many distinct path features cache their per-pattern sums
CACHE_ENTRIES = 1 << 22  # per tree (32 MiB of sums); leaves past it compute their sums afresh for every row


@dataclass(frozen=True)
class _LeafPaths:
    """One tree's leaves, each with its root-to-leaf path and the distinct features on it ("local bits")."""

    value: np.ndarray  # (L,) leaf value
    k: np.ndarray  # (L,) distinct features on the path
    feat: np.ndarray  # (L, kmax) predictor column of each local bit
    ptr: np.ndarray  # (L+1,) path of leaf l: entries ptr[l]..ptr[l+1]-1 of node / left / bit
    node: np.ndarray  # tree-local node index of each split on the path
    left: np.ndarray  # whether the path goes left there
    bit: np.ndarray  # the split feature's local bit
    ratio: np.ndarray  # (L, kmax) share of the training rows the path keeps at the splits on each local feature


def _leaf_paths(forest: HistForest, t: int) -> _LeafPaths:
    """The leaves of tree ``t`` and their paths (a depth-first walk from the root)."""
    root = int(forest.roots[t])
    values, ks, feats, ratios, ptr, nodes, lefts, bits = [], [], [], [], [0], [], [], []
    stack: list[tuple[int, list[tuple[int, bool]]]] = [(root, [])]
    while stack:
        node, path = stack.pop()
        if forest.leaf[node]:
            local: dict[int, int] = {}
            for split, _ in path:
                local.setdefault(int(forest.feature[split]), len(local))
            values.append(forest.value[node])
            ks.append(len(local))
            feats.append(list(local))
            ratio = np.ones(len(local))
            for split, went_left in path:
                nodes.append(split - root)
                lefts.append(went_left)
                bits.append(local[int(forest.feature[split])])
                child = forest.left[split] if went_left else forest.right[split]
                ratio[local[int(forest.feature[split])]] *= forest.count[child] / forest.count[split]
            ratios.append(ratio)
            ptr.append(len(nodes))
            continue
        stack.append((int(forest.right[node]), [*path, (node, False)]))
        stack.append((int(forest.left[node]), [*path, (node, True)]))
    kmax = max(max(ks), 1)
    feat = np.zeros((len(ks), kmax), dtype=np.int64)
    ratio = np.ones((len(ks), kmax))
    for i, (f, r) in enumerate(zip(feats, ratios)):
        feat[i, : len(f)] = f
        ratio[i, : len(r)] = r
    return _LeafPaths(value=np.asarray(values, dtype=np.float64), k=np.asarray(ks, dtype=np.int64), feat=feat,
                      ptr=np.asarray(ptr, dtype=np.int64), node=np.asarray(nodes, dtype=np.int64),
                      left=np.asarray(lefts, dtype=np.bool_), bit=np.asarray(bits, dtype=np.int64), ratio=ratio)


def _background_masks(path: _LeafPaths, unsat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per leaf, the distinct sets M of path features a background row satisfies (bitmasks) and how many rows
    have each: (masks, ptr, counts), leaf l's entries at ptr[l]..ptr[l+1]-1."""
    masks, counts, ptr = [], [], [0]
    for leaf in range(len(path.k)):
        full = (1 << int(path.k[leaf])) - 1
        m, c = np.unique(full & ~unsat[:, leaf], return_counts=True)
        masks.append(m)
        counts.append(c)
        ptr.append(ptr[-1] + len(m))
    return (np.concatenate(masks).astype(np.int64), np.asarray(ptr, dtype=np.int64),
            np.concatenate(counts).astype(np.float64))


def _cache_layout(k: np.ndarray, rows: int) -> tuple[np.ndarray, int]:
    """Where each leaf's table of per-pattern sums starts (-1: not cached), and the total size. A table has
    2^k patterns x (k + 1) sums; it is kept only where it is small and rows may share patterns."""
    at = np.full(len(k), -1, dtype=np.int64)
    size = 0
    for leaf, kk in enumerate(k.tolist()):
        if kk <= CACHE_BITS and (1 << kk) <= max(64, rows) and size + (1 << kk) * (kk + 1) <= CACHE_ENTRIES:
            at[leaf] = size
            size += (1 << kk) * (kk + 1)
    return at, size


def _leaf_unsat(go_left, ptr, node, left, bit, n_leaves):  # pragma: no cover - jitted
    """(rows x leaves) int64: the local bits of the path features each row does not satisfy (a feature is
    satisfied when the row takes the path's way at every split on it)."""
    n = go_left.shape[0]
    out = np.zeros((n, n_leaves), np.int64)
    for r in range(n):
        for leaf in range(n_leaves):
            m = 0
            for e in range(ptr[leaf], ptr[leaf + 1]):
                if go_left[r, node[e]] != left[e]:
                    m |= np.int64(1) << bit[e]
            out[r, leaf] = m
    return out


def _cache_slot(at, rr, kk, cache, done, scratch):  # pragma: no cover - jitted
    """The k + 1 sums of (leaf, pattern rr): its cache slot (``at``: the leaf's table, -1 if none) and whether
    they are still to be computed, or zeroed scratch space when the leaf is not cached."""
    if at >= 0:
        start = at + rr * (kk + 1)
        fresh = not done[start]
        done[start] = True
        return cache[start : start + kk + 1], fresh
    sums = scratch[: kk + 1]
    sums[:] = 0.0
    return sums, True


def _popcount(x):  # pragma: no cover - jitted
    c = 0
    while x:
        x &= x - 1
        c += 1
    return c


def _accumulate(R, value, k, feat, ptr, masks, counts, wx, wz, cache_at, cache, done, out):  # pragma: no cover
    """Add every leaf's Shapley values, summed over the background, to ``out`` (rows x features).

    For a row x and a leaf with path features F, let R be those x fails. A hybrid (x on S, z elsewhere) reaches
    the leaf iff every feature in R comes from z and z satisfies it (M >= R, M the features z satisfies), and
    every feature x satisfies but z fails comes from x: S_z = R (b = |R|) and S_x = F - M (a = |F| - |M|). So
    the leaf gives +v wx[a, b] to each feature of F - M and -v wz[a, b] to each of R, summed over background
    rows with M >= R; those sums depend on (leaf, R) only, and are cached per pattern.
    """
    n = R.shape[0]
    scratch = np.zeros(feat.shape[1] + 1)
    for r in range(n):
        for leaf in range(R.shape[1]):
            v = value[leaf]
            if v == 0.0:
                continue
            kk = k[leaf]
            rr = R[r, leaf]
            sums, fresh = _cache_slot(cache_at[leaf], rr, kk, cache, done, scratch)
            if fresh:
                b = _popcount(rr)
                for e in range(ptr[leaf], ptr[leaf + 1]):
                    mm = masks[e]
                    if mm & rr != rr:
                        continue
                    a = kk - _popcount(mm)
                    if a > 0:
                        w = counts[e] * wx[a, b]
                        for j in range(kk):
                            if not (mm >> j) & 1:
                                sums[j] += w
                    if b > 0:
                        sums[kk] += counts[e] * wz[a, b]
            for j in range(kk):
                if (rr >> j) & 1:
                    out[r, feat[leaf, j]] -= v * sums[kk]
                else:
                    out[r, feat[leaf, j]] += v * sums[j]


def _weights(size: int) -> tuple[np.ndarray, np.ndarray]:
    """wx[a, b] = (a-1)! b! / (a+b)! = 1 / (a C(a+b, a)); wz[a, b] = a! (b-1)! / (a+b)! = 1 / (b C(a+b, b))."""
    from math import comb

    wx, wz = np.zeros((size + 1, size + 1)), np.zeros((size + 1, size + 1))
    for a in range(size + 1):
        for b in range(size + 1):
            if a:
                wx[a, b] = 1.0 / (a * comb(a + b, a))
            if b:
                wz[a, b] = 1.0 / (b * comb(a + b, b))
    return wx, wz


def _shap_pairs(roots, feature, left, right, leaf, value, gx, gb, p, max_stack, wx, wz, out):  # pragma: no cover - jitted
    """Sum over background rows of each pair's Shapley values, added to ``out`` (rows x features): every
    (row, background row, tree) walked by :func:`_shap_pair_tree` with one set of work arrays.

    ``side[f]`` holds each feature's assignment on the current path (1: x's side, 2: z's) and ``trail`` the
    assignments made, undone when the search backs up past them; the stacks hold the nodes still to visit.
    """
    n, m = gx.shape[0], gb.shape[0]
    side = np.zeros(p, np.int8)
    stack_node = np.empty(max_stack * 2, np.int64)
    stack_depth = np.empty(max_stack * 2, np.int64)
    stack_feat = np.empty(max_stack * 2, np.int64)
    stack_side = np.empty(max_stack * 2, np.int8)
    trail_feat = np.empty(max_stack, np.int64)
    trail_depth = np.empty(max_stack, np.int64)
    for i in range(n):
        for j in range(m):
            for t in range(roots.shape[0]):
                _shap_pair_tree(roots[t], feature, left, right, leaf, value, gx[i], gb[j], wx, wz, out[i], side,
                                stack_node, stack_depth, stack_feat, stack_side, trail_feat, trail_depth)


def _add_leaf(up, down, trail, trail_feat, side, out_i):  # pragma: no cover - jitted
    """A reached leaf's share: ``up`` to each feature on x's side of the path, ``-down`` to each on z's."""
    for k in range(trail):
        f = trail_feat[k]
        if side[f] == 1:
            out_i[f] += up
        else:
            out_i[f] -= down


def _shap_pair_tree(root, feature, left, right, leaf, value, gxi, gbj, wx, wz, out_i, side, stack_node, stack_depth,
                    stack_feat, stack_side, trail_feat, trail_depth):  # pragma: no cover - jitted
    """One pair's Shapley values in one tree, added to ``out_i`` (``gxi``, ``gbj``: which way each node sends
    the explained row x and the background row z).

    Depth-first over the nodes either row of the pair can reach: where x and z agree there is one way on;
    where they differ on a feature already assigned to x's side (or z's) that side's way is taken; otherwise
    both ways, the feature joining S_x on x's and S_z on z's. Leaves ``side`` clean for the next pair.
    """
    stack_node[0], stack_depth[0], stack_feat[0], stack_side[0] = root, 0, -1, 0
    top = 1
    trail = 0
    na = 0
    nb = 0
    while top > 0:
        top -= 1
        node, d, f_new, s_new = stack_node[top], stack_depth[top], stack_feat[top], stack_side[top]
        while trail > 0 and trail_depth[trail - 1] >= d:
            trail -= 1
            f_old = trail_feat[trail]
            if side[f_old] == 1:
                na -= 1
            else:
                nb -= 1
            side[f_old] = 0
        if f_new >= 0:
            side[f_new] = s_new
            trail_feat[trail], trail_depth[trail] = f_new, d
            trail += 1
            if s_new == 1:
                na += 1
            else:
                nb += 1
        if leaf[node]:
            if value[node] != 0.0 and trail > 0:
                _add_leaf(value[node] * wx[na, nb], value[node] * wz[na, nb], trail, trail_feat, side, out_i)
            continue
        f = feature[node]
        x_left, z_left = gxi[node], gbj[node]
        x_next = left[node] if x_left else right[node]
        if x_left == z_left or side[f] == 1:
            stack_node[top], stack_depth[top], stack_feat[top], stack_side[top] = x_next, d + 1, -1, 0
            top += 1
            continue
        z_next = right[node] if x_left else left[node]
        if side[f] == 2:
            stack_node[top], stack_depth[top], stack_feat[top], stack_side[top] = z_next, d + 1, -1, 0
            top += 1
            continue
        stack_node[top], stack_depth[top], stack_feat[top], stack_side[top] = z_next, d + 1, f, 2
        top += 1
        stack_node[top], stack_depth[top], stack_feat[top], stack_side[top] = x_next, d + 1, f, 1
        top += 1
    while trail > 0:  # the path state must be clean for the next pair
        trail -= 1
        side[trail_feat[trail]] = 0


_COMPILED: dict[str, Any] = {}


def _jit(fn: Any) -> Any:
    """``fn`` compiled with numba (cached on disk), or plain Python when numba is missing. The kernels are
    compiled together, each replacing its module global, so that a kernel calling another calls it compiled."""
    if not _COMPILED:
        try:
            import numba
        except ImportError:  # pragma: no cover - shap depends on numba
            def compile_(f: Any) -> Any:
                return f
        else:
            compile_ = numba.njit(cache=True, nogil=True)
        space = globals()
        for name in ("_popcount", "_cache_slot", "_leaf_unsat", "_accumulate", "_accumulate_path", "_add_leaf",
                     "_shap_pair_tree", "_shap_pairs"):
            _COMPILED[name] = space[name] = compile_(space[name])
    return _COMPILED[fn.__name__]
