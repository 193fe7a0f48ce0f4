"""HistGradientBoosting: the toolkit's exact interventional TreeSHAP (explainers/_hgb_trees.py) against shap's
interventional TreeExplainer on the same rows and background, measured in one run.

Prints, for each model: seconds for each and their ratio; the additivity error (max |values + base -
decision_function| over the margin's spread) of each; the largest difference between the two, on every row
and on the rows where shap adds up (1e-6 of the spread); and path-dependent TreeSHAP, ours against shap's,
and its difference from the interventional values (the fixture of issue #24: what the audit switched to
before). Then brute-force Shapley values
(every coalition, through decision_function) against ours on a small categorical model.

Models: the synthetic HGB fixture of tests/explainers/test_hist_gradient_boosting.py (800 x 5, 5% NaN, 100
trees); a portfolio-like HGB (20,000 x 25 training rows, 100 trees) on ROWS rows; the same data on an
eighth grid (float32-exact, where shap adds up); a native-categorical HGB with NaN (shap does not follow its
bitset splits; its numbers are given for the record).

Usage: python bench/hgb_treeshap.py [--rows 2000] [--background 100]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np
import pandas as pd


def _fixture() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 5))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) > 0).astype(int)
    return X, y


def _portfolio(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 25))
    logit = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.3 * np.sin(X[:, 4])
    return X, (logit + rng.logistic(size=n) > 0).astype(int)


def _categorical(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10, 0.5, n), "debt_ratio": rng.uniform(0, 1, n), "age": rng.integers(18, 80, n) * 1.0,
        "housing": pd.Categorical(rng.choice(["own", "rent", "free", "mortgage", "council"], n)),
        "purpose": pd.Categorical(rng.choice(["car", "education", "business", "furniture", "repairs", "travel"], n)),
        "employment": pd.Categorical(rng.choice(["none", "<1y", "1-4y", "4-7y", ">7y"], n)),
    })
    for col, share in (("income", 0.08), ("housing", 0.1), ("employment", 0.05)):
        frame.loc[rng.random(n) < share, col] = np.nan
    logit = (frame["housing"].isin(["own", "mortgage"]).to_numpy() - 2 * frame["debt_ratio"].to_numpy()
             + 0.5 * frame["purpose"].isin(["business", "education"]).to_numpy()
             + np.nan_to_num(np.log(frame["income"].to_numpy()) - 10))
    return frame, (logit + rng.logistic(size=n) > 0).astype(int)


def _ours(model, rows, background) -> tuple[np.ndarray, float, float]:
    from explainers._hgb_trees import hist_forest, interventional_shap

    forest = hist_forest(model, 0)
    zp = model._preprocess_X(rows, reset=False)
    zb = model._preprocess_X(background, reset=False)
    interventional_shap(forest, zp[:2], zb[:2])  # compile / load the numba cache outside the timing
    t0 = time.perf_counter()
    values, base = interventional_shap(forest, zp, zb)  # in the estimator's input columns
    return values, base, time.perf_counter() - t0


def _shap(model, rows, background, mode: str = "interventional") -> tuple[np.ndarray, float, float]:
    import shap

    from explainers._base import library_quiet

    t0 = time.perf_counter()
    if mode == "interventional":
        explainer = shap.TreeExplainer(model, data=background, feature_perturbation=mode, model_output="raw")
    else:
        explainer = shap.TreeExplainer(model, feature_perturbation=mode, model_output="raw")
    with library_quiet():  # its progress bar
        values = np.asarray(explainer.shap_values(rows, check_additivity=False), dtype=float)
    return values, float(np.asarray(explainer.expected_value).reshape(-1)[0]), time.perf_counter() - t0


def compare(name: str, model, rows, background, *, path_dependent: bool = False, shap_input=None) -> np.ndarray:
    margin = model.decision_function(rows)
    spread = float(np.std(margin))
    ours, base, t_ours = _ours(model, rows, background)
    add_ours = np.abs(ours.sum(1) + base - margin).max() / spread
    print(f"{name}: {len(rows)} rows x {len(background)} background, {len(model._predictors)} trees")
    print(f"  ours: {t_ours:.3f} s, additivity error {add_ours:.1e} of the spread (max |value + base - margin| "
          f"{np.abs(ours.sum(1) + base - margin).max():.1e}), mean |value| {np.abs(ours).mean():.3f}")
    rows_s, bg_s = (rows, background) if shap_input is None else shap_input
    theirs, base_s, t_shap = _shap(model, rows_s, bg_s)
    if shap_input is not None:  # shap's columns are the encoded matrix's: categorical first
        cat = np.asarray(model.is_categorical_)
        ours = ours[:, np.concatenate([np.flatnonzero(cat), np.flatnonzero(~cat)])]
    miss = np.abs(theirs.sum(1) + base_s - margin) / spread
    adds_up = miss < 1e-6
    diff = np.abs(ours - theirs)
    on_ok = f"{diff[adds_up].max():.1e}" if adds_up.any() else "n/a"
    print(f"  shap interventional: {t_shap:.3f} s (shap / ours = {t_shap / t_ours:.1f}x), additivity error "
          f"max {miss.max():.1e}, rows adding up (1e-6) {adds_up.sum()}/{len(rows)}")
    print(f"  |ours - shap|: max {diff.max():.2e} on all rows, max {on_ok} on the rows where shap adds up")
    if path_dependent:
        from explainers._hgb_trees import hist_forest, path_dependent_shap

        pd_values, pd_base, t_pd = _shap(model, rows_s, bg_s, "tree_path_dependent")
        forest = hist_forest(model, 0)
        zp = model._preprocess_X(rows, reset=False)
        t0 = time.perf_counter()
        native_pd, native_base = path_dependent_shap(forest, zp)
        t_native = time.perf_counter() - t0
        native_pd = native_pd[:, forest.order]  # the encoded matrix's columns, as shap's
        print(f"  path-dependent: shap {t_pd:.3f} s (additivity error "
              f"{np.abs(pd_values.sum(1) + pd_base - margin).max() / spread:.1e}), ours {t_native:.3f} s "
              f"(additivity error {np.abs(native_pd.sum(1) + native_base - margin).max() / spread:.1e}); "
              f"|ours - shap| max {np.abs(native_pd - pd_values).max():.1e}; |interventional - path-dependent| "
              f"max {np.abs(ours - native_pd).max():.3f} (mean |interventional| {np.abs(ours).mean():.3f})")
    return adds_up


def brute_force(name: str, model, rows, background) -> None:
    """Interventional Shapley values by enumerating every coalition through decision_function, against ours."""
    ours, _, _ = _ours(model, rows, background)
    frame = isinstance(rows, pd.DataFrame)
    p = rows.shape[1]
    masks = list(itertools.product((False, True), repeat=p))
    worst = 0.0
    for i in range(len(rows)):
        hybrids = []
        for mask in masks:
            h = background.copy()
            for j in np.flatnonzero(mask):
                if frame:
                    h.iloc[:, j] = rows.iloc[i, j]
                else:
                    h[:, j] = rows[i, j]
            hybrids.append(h)
        stacked = pd.concat(hybrids) if frame else np.vstack(hybrids)
        value = dict(zip(masks, model.decision_function(stacked).reshape(len(masks), len(background)).mean(1)))
        phi = np.zeros(p)
        for mask in masks:
            s = sum(mask)
            for j in np.flatnonzero(~np.array(mask)):
                with_j = tuple(True if k == j else m for k, m in enumerate(mask))
                phi[j] += math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) * (value[with_j] - value[mask])
        worst = max(worst, float(np.abs(ours[i] - phi).max()))
    print(f"  brute force ({name}; every coalition through decision_function, {len(rows)} rows x "
          f"{len(background)} background): max |ours - brute force| {worst:.1e}")


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--background", type=int, default=100)
    args = ap.parse_args()

    X, y = _fixture()
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    compare("numeric fixture (issue #24)", model, X[:200], X[200:300], path_dependent=True)
    brute_force("the same model and background", model, X[:10], X[200:300])

    Xp, yp = _portfolio(20_000, seed=1)
    rows, _ = _portfolio(args.rows + args.background, seed=2)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(Xp, yp)
    compare("portfolio HGB", model, rows[: args.rows], rows[args.rows :], path_dependent=True)
    compare("portfolio HGB, 200 rows", model, rows[:200], rows[args.rows :])
    big_bg, _ = _portfolio(1000, seed=3)
    seconds = _ours(model, rows[: args.rows], big_bg)[2]
    print(f"  ours with 1,000 background rows instead of {args.background}: {seconds:.3f} s for {args.rows} rows")

    grid = np.round(Xp * 8) / 8
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(grid, yp)
    g_rows = np.round(rows * 8) / 8
    compare("portfolio HGB on an eighth grid (float32-exact)", model, g_rows[: args.rows], g_rows[args.rows :])

    frame, yc = _categorical(20_000, seed=1)
    test, _ = _categorical(args.rows + args.background, seed=2)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(frame, yc)
    coded = model._preprocess_X(test, reset=False)  # shap reads the encoded matrix, categorical columns first
    adds_up = compare("native categorical HGB with NaN", model, test[: args.rows], test[args.rows :],
                      shap_input=(coded[: args.rows], coded[args.rows :]), path_dependent=True)
    # shap reads the category codes as numbers: where it happens to add up, its values are still another
    # model's; the brute force on those rows says which is right
    where = np.flatnonzero(adds_up)[:4]
    brute_force(f"rows {where.tolist()}, where shap adds up", model, test.iloc[where].reset_index(drop=True),
                test[args.rows :].reset_index(drop=True))


if __name__ == "__main__":
    main()
