"""``audit lda MODEL DATA --target COL``, and ``[lda]`` in ``audit run``: the search for less discriminatory
alternatives (:mod:`audit.measures.lda`) on the audited model and DATA.

It loads and validates as an audit does (:func:`audit.commands.session.load_and_adapt`), checks that the search
can run (a target, a binary classifier with a favourable class, a refittable scikit-learn estimator, a
protected attribute that is a column of DATA), chooses the attribute and its proxies, and runs the search.
Everything it needs to refuse is refused before any fitting, with one message and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.config import AuditConfig
from audit.errors import ConfigError
from audit.measures.grouping import attribute_groups, column_values
from audit.measures.lda import LdaData, air, search
from audit.measures.performance import class_labels
from audit.measures.protected import proxies
from audit.records import LdaRecord
from audit.types import Dataset

__all__ = ["run_lda", "lda_for_session", "why_not_searchable"]


def why_not_searchable(model: Any, ds: Dataset, adapter: Any, favorable: Any, config: AuditConfig) -> str | None:
    """Why the search cannot run on this model and DATA (None when it can), worded with the fix."""
    protected = [a for a in config.policy.protected_attributes if a != ds.target_name]
    if ds.target is None:
        return "it needs the true outcomes: give the target column with --target COL"
    if adapter.task != "binary" or favorable is None:
        return "it compares approval rates, so it needs a binary classifier with a favourable class (favorable_class)"
    if not (hasattr(model, "fit") and hasattr(model, "get_params") and hasattr(model, "predict_proba")):
        return (f"it refits the model, which needs a scikit-learn estimator or pipeline with predict_proba; "
                f"{type(model).__name__} cannot be refitted here")
    if not protected:
        return "no protected attribute is a column of DATA: set policy.protected_attributes"
    if config.lda.attribute is not None and config.lda.attribute not in protected:
        return (f"lda.attribute {config.lda.attribute!r} is not a protected attribute ({', '.join(protected)}); "
                "fix audit.toml")
    return None


def _frame(ds: Dataset) -> pd.DataFrame:
    decoded = ds.frame()
    return decoded if isinstance(decoded, pd.DataFrame) else pd.DataFrame(decoded, columns=list(ds.feature_names))


def _attribute(ds: Dataset, config: AuditConfig, approved: np.ndarray) -> str:
    """``[lda] attribute``, else the protected attribute with the lowest adverse impact ratio of the model's own
    decisions on DATA (over groups with ``min_group_size`` rows; ties: the first named)."""
    if config.lda.attribute is not None:
        return config.lda.attribute
    policy = config.policy
    ratios = {}
    for a in (a for a in policy.protected_attributes if a != ds.target_name):
        groups, order, _ = attribute_groups(ds, a, policy.group_bins.get(a))
        judged = [g for g in order if np.sum(groups == g) >= policy.min_group_size]
        ratios[a] = air(approved, groups, judged)[0] if len(judged) > 1 else np.inf
    return min(ratios, key=lambda a: (np.nan_to_num(ratios[a], nan=np.inf),))


def _proxy_inputs(ds: Dataset, attribute: str, top: int) -> list[str]:
    """The attribute itself when it is a model input, then its ``top`` strongest proxies among the inputs."""
    values, categorical = column_values(ds, attribute)
    codes = pd.factorize(pd.Series(values, dtype=object))[0].astype(float) if categorical else values
    found = proxies(ds.X, ds.feature_names, ds.space.categorical_mask, codes, categorical, exclude=attribute, top=top)
    return ([attribute] if attribute in ds.feature_names else []) + [p["feature"] for p in found]


def lda_data(ds: Dataset, adapter: Any, favorable: Any, config: AuditConfig, labels: np.ndarray) -> LdaData:
    """What the search needs from DATA (``labels``: the model's decisions on every row)."""
    approved = np.asarray(labels).astype(str) == str(favorable)
    attribute = _attribute(ds, config, approved)
    groups, order, _ = attribute_groups(ds, attribute, config.policy.group_bins.get(attribute))
    inputs = _proxy_inputs(ds, attribute, config.lda.proxies)
    mask = ds.space.categorical_mask
    return LdaData(frame=_frame(ds), favorable=class_labels(ds.target, [str(c) for c in adapter.classes]) == str(favorable),
                   groups=np.asarray(groups, dtype=object), order=list(order), attribute=attribute, inputs=inputs,
                   categorical={n: bool(mask[j]) for j, n in enumerate(ds.feature_names)})


def _search(model: Any, ds: Dataset, adapter: Any, favorable: Any, config: AuditConfig,
            labels: np.ndarray) -> LdaRecord:
    native = next(c for c in model.classes_ if str(c) == str(favorable))
    return search(model, lda_data(ds, adapter, favorable, config, labels), favorable=native, settings=config.lda,
                  min_group_size=config.policy.min_group_size, min_air=config.policy.min_selection_rate_ratio,
                  n_bootstrap=config.bootstrap, seed=config.seed)


def lda_for_session(session: Any) -> LdaRecord | None:
    """The search inside ``audit run`` (``[lda] enabled``): None when not enabled; when it cannot run, a record
    that says why (the audit itself goes on)."""
    config = session.config
    if not config.lda.enabled:
        return None
    model, ds = session.loaded.obj, session.dataset
    why = why_not_searchable(model, ds, session.adapter, session.favorable, config)
    if why is not None:
        return {"attribute": "", "training_rows": 0, "holdout_rows": 0, "holdout_share": config.lda.holdout,
                "tolerance": config.lda.tolerance, "min_air": config.policy.min_selection_rate_ratio,
                "bootstrap": config.bootstrap, "seed": config.seed, "proxies": [], "judged_groups": [],
                "alternatives": [], "not_measured": f"the search for less discriminatory alternatives did not run: {why}"}
    return _search(model, ds, session.adapter, session.favorable, config, session.labels)


def run_lda(model_path: Path, data_path: Path, *, config: AuditConfig, trust_model: bool = False,
            model_class: str | None = None) -> LdaRecord:
    """``audit lda``: load and validate as an audit does, refuse what the search cannot use (exit 2), search."""
    from audit.commands.session import load_and_adapt

    loaded, ds, config, adapter, labels, favorable = load_and_adapt(model_path, data_path, config=config,
                                                                    trust_model=trust_model, model_class=model_class)
    why = why_not_searchable(loaded.obj, ds, adapter, favorable, config)
    if why is not None:
        raise ConfigError(f"audit lda {model_path.name} {data_path.name}: {why}.")
    record = _search(loaded.obj, ds, adapter, favorable, config, labels)
    return record | {"model": model_path.name, "model_sha256": loaded.sha256, "data_sha256": ds.sha256}
