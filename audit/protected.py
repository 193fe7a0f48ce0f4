"""Protected attributes: their share of attribution mass, the counterfactual flip test and proxies.

Under ECOA / Regulation B a prohibited basis as a model input is not a matter of degree, so three
measures are taken: (1) whether the attribute is a direct model input (judged by the gate);
(2) the *flip test*: the share of decisions that change when only the attribute is changed on real
rows, every other input kept (categories swapped for each other value seen; continuous attributes
moved to the 10th, 25th, 50th, 75th and 90th percentiles of their observed range), with a bootstrap
95% CI over rows; (3) *proxies*: the model inputs most associated with the attribute (normalised
mutual information on quantile-binned values), with their attribution shares. Changes stay on the
data's manifold (observed values only), so a model that behaves differently off-manifold (the
"Fooling LIME and SHAP" scaffold, Slack et al. 2020) is still caught.

Pure functions: the model is reached only through the ``decide`` callable passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from audit.errors import ConfigError, name_some
from audit.fairness import check_group_bins, fairness_evidence
from audit.gate import ProtectedEvidence
from audit.types import Attribution, Dataset

__all__ = ["protected_shares", "flip_test", "proxies", "QUANTILES", "check_protected_names", "measure_protected",
           "protected_evidence"]

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


def protected_shares(attrs: Mapping[str, Attribution], protected: Sequence[str],
                     feature_names: Sequence[str]) -> dict[str, Any]:
    """Per explainer, the share of mean |attribution| on the protected attributes that are model inputs.

    >>> a = Attribution(np.array([[3.0, -1.0]]), np.zeros(1), ("income", "sex"), "m", "approximate")
    >>> protected_shares({"m": a}, ["sex"], ("income", "sex"))["by_explainer"]["m"]["share"]
    0.25
    """
    if not protected:
        return {"attributes": [], "by_explainer": {}}
    names = list(feature_names)
    missing = [p for p in protected if p not in names]
    idx = [names.index(p) for p in protected if p in names]
    by = {}
    for name, a in attrs.items():
        mass = np.abs(a.values).mean(0)
        total = mass.sum()
        by[name] = {"share": float(mass[idx].sum() / total) if total > 0 else 0.0,
                    "per_attribute": {names[j]: float(mass[j] / total) if total > 0 else 0.0 for j in idx}}
    return {"attributes": list(protected), "not_model_inputs": missing, "by_explainer": by}


def _alternatives(values: np.ndarray, categorical: bool) -> np.ndarray:
    """The values the attribute is set to: every category seen, or quantiles of the observed range."""
    seen = values[~np.isnan(values)]
    if categorical:
        return np.unique(seen)
    return np.unique(np.quantile(seen, QUANTILES)) if len(seen) else np.empty(0)


def flip_test(decide: Callable[[np.ndarray], np.ndarray], X: np.ndarray, j: int, *, categorical: bool,
              rng: np.random.Generator, n_bootstrap: int = 200, tolerance: float | None = None) -> dict[str, Any]:
    """Share of rows whose decision changes when only column ``j`` is set to another observed value.

    ``decide`` maps encoded rows to decisions (labels, or any array compared with ``!=``). One batched
    call covers every row and alternative.

    >>> X = np.array([[0.0, 1.0], [1.0, 2.0], [0.0, 3.0], [1.0, 4.0]])
    >>> flip_test(lambda Z: Z[:, 0] > 0.5, X, 0, categorical=True, rng=np.random.default_rng(0))["rate"]
    1.0
    >>> flip_test(lambda Z: Z[:, 1] > 2.5, X, 0, categorical=True, rng=np.random.default_rng(0))["rate"]
    0.0
    """
    X = np.asarray(X, dtype=float)
    alts = _alternatives(X[:, j], categorical)
    if len(X) == 0 or len(alts) < 2:
        return {"rate": 0.0, "ci95": [0.0, 0.0], "rows": int(len(X)), "alternatives": int(len(alts)),
                "changed": 0, "note": "fewer than two observed values: nothing to change"}
    base = np.asarray(decide(X))
    Z = np.repeat(X, len(alts), axis=0)
    Z[:, j] = np.tile(alts, len(X))
    out = np.asarray(decide(Z)).reshape(len(X), len(alts))
    if tolerance is None:
        changed = (out != base[:, None]).any(1)
    else:  # a continuous output: a decision changes when the output moves by more than the tolerance
        changed = (np.abs(out.astype(float) - base[:, None].astype(float)) > tolerance).any(1)
    boot = changed[rng.integers(0, len(X), size=(n_bootstrap, len(X)))].mean(1)
    return {"rate": float(changed.mean()), "ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
            "rows": int(len(X)), "alternatives": int(len(alts)), "changed": int(changed.sum()),
            "method": "categories swapped for every other observed value" if categorical
            else "moved to the 10/25/50/75/90th percentiles of its observed values"}


def _binned(values: np.ndarray, categorical: bool, bins: int = 10) -> np.ndarray:
    """Codes for mutual information: categories as they are, numbers by quantile bin; missing is a code."""
    v = np.asarray(values, dtype=float)
    missing = np.isnan(v)
    if categorical:
        codes = np.where(missing, -1, v)
    else:
        edges = np.unique(np.nanquantile(v, np.linspace(0, 1, bins + 1)[1:-1])) if (~missing).any() else []
        codes = np.where(missing, -1, np.searchsorted(edges, v, side="right"))
    return codes.astype(int)


def proxies(X: np.ndarray, feature_names: Sequence[str], categorical: np.ndarray, protected: np.ndarray,
            protected_categorical: bool, *, exclude: str | None = None, top: int = 3) -> list[dict[str, Any]]:
    """The model inputs most associated with a protected attribute's values (normalised mutual
    information in [0, 1], arithmetic normalisation), strongest first.

    >>> X = np.array([[0.0, 5.0], [1.0, 3.0], [0.0, 4.0], [1.0, 3.5]])
    >>> [p["feature"] for p in proxies(X, ("a", "b"), np.array([True, False]), np.array([0., 1., 0., 1.]), True)]
    ['a', 'b']
    """
    from sklearn.metrics import normalized_mutual_info_score

    target = _binned(protected, protected_categorical)
    out = []
    for j, name in enumerate(feature_names):
        if name == exclude:
            continue
        score = float(normalized_mutual_info_score(target, _binned(X[:, j], bool(categorical[j]))))
        out.append({"feature": name, "association": round(score, 4)})
    return sorted(out, key=lambda p: -p["association"])[:top]


def check_protected_names(protected: Sequence[str], ds: Dataset, *, bins: Mapping[str, Sequence[float]] | None = None
                          ) -> None:
    """Every protected attribute is a column of the data (a model input, the target or an ignored
    column), or one ConfigError naming it and the valid names: a misspelt name must not pass silently.
    ``bins`` (``policy.group_bins``) may only group numeric attributes."""
    columns = [*ds.feature_names, *ds.ignored_columns, *([ds.target_name] if ds.target_name else [])]
    unknown = [p for p in protected if p not in columns]
    if unknown:
        raise ConfigError(f"policy.protected_attributes: {name_some(unknown)} is not a column of {ds.path}. "
                          f"Columns are: {name_some(columns, 12)}. Fix the name in audit.toml.")
    check_group_bins(ds, bins or {})


def _extra_codes(values: np.ndarray) -> tuple[np.ndarray, bool]:
    """A kept raw column as floats: numbers as they are, anything else as category codes."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.notna().sum() == pd.Series(values).notna().sum():
        return numbers.to_numpy(dtype=float), False
    codes, _ = pd.factorize(pd.Series(values), use_na_sentinel=True)
    return np.where(codes < 0, np.nan, codes).astype(float), True


def measure_protected(ds: Dataset, attrs: Mapping[str, Attribution], protected: Sequence[str], *,
                      decide: Callable[[np.ndarray], np.ndarray], tolerance: float | None, rows: int,
                      seed: int) -> dict[str, Any]:
    """Shares, the flip test for each protected model input, and proxies for every protected attribute,
    on up to ``rows`` rows of the data sampled with ``seed``."""
    out = protected_shares(attrs, protected, ds.feature_names)
    if not protected:
        return out
    rng = np.random.default_rng(seed + 104729)
    take = np.sort(rng.choice(ds.n_rows, size=min(rows, ds.n_rows), replace=False))
    X = ds.X[take]
    names = list(ds.feature_names)
    categorical = ds.space.categorical_mask
    share = {n: np.abs(a.values).mean(0) / max(np.abs(a.values).mean(0).sum(), 1e-300) for n, a in attrs.items()}
    out["direct_inputs"] = [p for p in protected if p in names]
    out["flip_test"], out["proxies"] = {}, {}
    for p in protected:
        if p in names:
            j = names.index(p)
            out["flip_test"][p] = flip_test(decide, X, j, categorical=bool(categorical[j]), rng=rng, tolerance=tolerance)
            values, is_cat = X[:, j], bool(categorical[j])
        elif p in ds.extra:
            values, is_cat = _extra_codes(ds.extra[p][take])
        else:  # the target: its association with the inputs is the model's job, not a proxy finding
            continue
        found = proxies(X, names, categorical, values, is_cat, exclude=p)
        for item in found:
            k = names.index(item["feature"])
            item["attribution_share"] = {n: float(v[k]) for n, v in share.items()}
        out["proxies"][p] = found
    out["rows"] = int(len(take))
    return out


def protected_evidence(measured: Mapping[str, Any], action: str) -> ProtectedEvidence:
    """The gate's view of :func:`measure_protected`'s record."""
    return ProtectedEvidence(
        attributes=tuple(measured.get("attributes", ())), direct_inputs=tuple(measured.get("direct_inputs", ())),
        input_action=action,
        flip_rates={k: (v["rate"], tuple(v["ci95"]), v["rows"]) for k, v in measured.get("flip_test", {}).items()},
        strongest_proxy={k: (v[0]["feature"], v[0]["association"]) for k, v in measured.get("proxies", {}).items() if v},
        fairness=fairness_evidence(measured.get("outcome_fairness", {})),
    )
