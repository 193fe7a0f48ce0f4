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
from audit.gate import ProtectedEvidence
from audit.measures.fairness import check_group_bins, fairness_evidence
from audit.records import FlipTestRecord, ProtectedMeasures
from audit.types import Attribution, Dataset

__all__ = ["infer_protected", "settle_protected", "PROHIBITED_BASES", "protected_shares", "flip_test", "proxies", "QUANTILES", "check_protected_names", "measure_protected",
           "protected_evidence"]

QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


def protected_shares(attrs: Mapping[str, Attribution], protected: Sequence[str],
                     feature_names: Sequence[str]) -> ProtectedMeasures:
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
              rng: np.random.Generator, n_bootstrap: int = 200, tolerance: float | None = None) -> FlipTestRecord:
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
        return {"rate": None, "ci95": None, "rows": int(len(X)), "alternatives": int(len(alts)),
                "changed": None, "not_measured": f"fewer than two observed values in the {len(X)} sampled rows: "
                                                 "nothing to change it to"}
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


# The prohibited bases of ECOA / Regulation B (12 CFR 1002.2(z)) and the EU's comparable grounds, as the
# words a column name uses for them: one word, or a phrase written with or without separators.
PROHIBITED_BASES: dict[str, tuple[str, ...]] = {
    "sex": ("sex", "gender"), "age": ("age", "dateofbirth", "birthdate", "dob", "yearofbirth", "birthyear"),
    "race": ("race",), "colour": ("colour", "color"), "ethnicity": ("ethnicity", "ethnic"),
    "religion": ("religion", "religious"), "national origin": ("nationalorigin", "nationality", "citizenship"),
    "marital status": ("maritalstatus", "marital"),
}
_WORDS = {w: basis for basis, words in PROHIBITED_BASES.items() for w in words}


def _tokens(name: str) -> list[str]:
    """A column name's words: split on anything but letters and digits, and at camelCase humps."""
    import re

    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def infer_protected(columns: Sequence[str]) -> dict[str, str]:
    """Columns whose names say a prohibited basis (case- and separator-insensitive), each with its basis:
    the whole name, one of its words, or adjacent words joined (``date_of_birth``).

    >>> infer_protected(["risk", "Sex", "age", "DateOfBirth", "page_views", "marital-status", "usage"])
    {'Sex': 'sex', 'age': 'age', 'DateOfBirth': 'age', 'marital-status': 'marital status'}
    """
    out = {}
    for col in columns:
        words = _tokens(str(col))
        joined = {"".join(words)} | set(words)
        joined |= {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 2, min(len(words), i + 3) + 1)}
        basis = next((_WORDS[w] for w in sorted(joined) if w in _WORDS), None)
        if basis is not None:
            out[str(col)] = basis
    return out


def settle_protected(config: Any, columns: Sequence[str], target: str | None) -> tuple[Any, str, dict[str, str]]:
    """The configuration with its protected attributes settled, where they came from (``configured``,
    ``declared_none``, ``inferred`` or ``none``) and, when inferred, each column's basis.

    With ``policy.protected_attributes`` unset and a template whose ``[policy_defaults]`` infers them
    (``config.infers_protected``; credit_decision), the columns of DATA whose names say a prohibited basis
    are protected; ``protected_attributes = []`` declares none."""
    policy = config.policy
    if "protected_attributes" in policy.model_fields_set:
        return config, "configured" if policy.protected_attributes else "declared_none", {}
    if not config.infers_protected:
        return config, "none", {}
    found = {c: b for c, b in infer_protected([c for c in columns if c != target]).items()}
    if not found:
        return config, "inferred", {}
    settled = policy.model_copy(update={"protected_attributes": list(found)})
    return config.model_copy(update={"policy": settled}), "inferred", found


def check_protected_names(protected: Sequence[str], ds: Dataset, *, bins: Mapping[str, Sequence[float]] | None = None,
                          intersections: Sequence[Sequence[str]] = ()) -> None:
    """Every protected attribute is a column of the data (a model input, the target or an ignored
    column), or one ConfigError naming it and the valid names: a misspelt name must not pass silently.
    ``bins`` (``policy.group_bins``) may only group numeric attributes."""
    columns = [*ds.feature_names, *ds.ignored_columns, *([ds.target_name] if ds.target_name else [])]
    unknown = [p for p in protected if p not in columns]
    if unknown:
        raise ConfigError(f"policy.protected_attributes: {name_some(unknown)} is not a column of {ds.path}. "
                          f"Columns are: {name_some(columns, 12)}. Fix the name in audit.toml.")
    stray = [b for b in (bins or {}) if b not in protected]
    if stray:
        raise ConfigError(f"policy.group_bins names {name_some(stray)}, which is not a protected attribute "
                          f"({name_some(list(protected)) if protected else 'none'}). Fix the name in audit.toml.")
    check_group_bins(ds, bins or {})
    crossed = [a for attrs in intersections for a in attrs if a not in protected]
    if crossed:
        raise ConfigError(f"policy.intersections names {name_some(crossed)}, which is not a protected attribute "
                          f"({name_some(list(protected)) if protected else 'none'}). Fix the name in audit.toml.")


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
                      seed: int) -> ProtectedMeasures:
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


def protected_evidence(measured: Mapping[str, Any], action: str, note: str | None = None) -> ProtectedEvidence:
    """The gate's view of :func:`measure_protected`'s record; ``action`` and ``note`` are the settled
    protected-input policy and the template's wording of its blocking check (``AuditConfig.protected_input``)."""
    return ProtectedEvidence(
        attributes=tuple(measured.get("attributes", ())), direct_inputs=tuple(measured.get("direct_inputs", ())),
        input_action=action, **({"input_note": note} if note is not None else {}),
        flip_rates={k: (v["rate"], tuple(v["ci95"]), v["rows"]) for k, v in measured.get("flip_test", {}).items()
                    if v["rate"] is not None},
        flip_not_measured={k: v["not_measured"] for k, v in measured.get("flip_test", {}).items() if v["rate"] is None},
        strongest_proxy={k: (v[0]["feature"], v[0]["association"]) for k, v in measured.get("proxies", {}).items() if v},
        fairness=fairness_evidence(measured.get("outcome_fairness", {})),
    )
