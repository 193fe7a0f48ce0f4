"""Every explanation method, one module each, behind one protocol and an ordered registry.

The registry lists intrinsic methods first, then approximate ones; ``select`` keeps those that
support the model. Third parties add explainers through the ``xai_audit.explainers`` entry-point
group (each entry point names an :class:`Explainer` class).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any

from audit.errors import ConfigError, InputError
from explainers._base import Explainer, ExplainerBase, ExplainerParams, row_cluster
from explainers._budget import model_cost
from explainers.captum_methods import CAPTUM_EXPLAINERS
from explainers.coefficients import Coefficients
from explainers.lime_tabular import Lime
from explainers.shap_explainer import Shap
from explainers.tree_path import TreePath

__all__ = ["Explainer", "ExplainerBase", "ExplainerParams", "registry", "select", "explainer_settings", "check_names",
           "reconfigure", "ENTRY_POINT_GROUP", "model_cost", "row_cluster"]

RESERVED = ("select",)  # a key of the [explainers] table, not an explainer name

ENTRY_POINT_GROUP = "xai_audit.explainers"
_BUILTIN: tuple[type, ...] = (Coefficients, TreePath, *CAPTUM_EXPLAINERS, Shap, Lime)


def registry() -> dict[str, type]:
    """Name -> explainer class, in selection order (built-ins, then entry points)."""
    out = {cls.name: cls for cls in _BUILTIN}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        out.setdefault(cls.name, cls)
    return out


def explainer_settings(cls: type, top_level: Mapping[str, Any], table: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters ``cls`` is built with: top-level audit.toml keys it maps (``config_keys``), then its
    ``[explainers.NAME]`` table, which wins.

    >>> from explainers.lime_tabular import Lime
    >>> explainer_settings(Lime, {"lime_num_samples": 500, "seed": 1}, {"n_jobs": 2})
    {'num_samples': 500, 'n_jobs': 2}
    """
    out = {param: top_level[key] for key, param in getattr(cls, "config_keys", {}).items() if key in top_level}
    out.update(table or {})
    return out


def check_names(names: Iterator[str] | list[str], where: str) -> None:
    """Every name is a registered explainer, or one ConfigError naming the section and the valid names."""
    known = registry()
    for name in names:
        if name not in known:
            raise ConfigError(f"{where.format(name=name)}: there is no explainer called {name!r}. "
                              f"Valid names: {', '.join(known)}. Fix the section name in the config.")


def select(adapter: Any, names: list[str] | None = None, *, top_level: Mapping[str, Any] | None = None,
           settings: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[list[Any], list[str]]:
    """Instantiate the explainers to run and say why any requested one was skipped.

    ``names`` None means every registered method that supports the model. Each explainer is built with
    :func:`explainer_settings` from ``top_level`` (the audit.toml's top-level values) and its table in
    ``settings`` (``[explainers.NAME]``); built-in and entry-point explainers alike.
    """
    reg = registry()
    settings = settings or {}
    check_names(list(settings), "[explainers.{name}]")
    if names:
        unknown = [n for n in names if n not in reg]
        if unknown:
            raise InputError(
                f"--explainers: unknown explainer(s) {', '.join(map(repr, unknown))}. "
                f"Valid names: {', '.join(reg)}."
            )
        wanted = [reg[n] for n in dict.fromkeys(names)]
    else:
        wanted = list(reg.values())
    chosen, skipped, applicable = [], [], []
    for cls in reg.values():
        explainer = _build(cls, explainer_settings(cls, top_level or {}, settings.get(cls.name)))
        if not explainer.supports(adapter):
            if names and cls in wanted:
                skipped.append(f"{cls.name}: does not apply to a {adapter.type_name}")
            continue
        applicable.append(cls.name)
        if cls in wanted:
            chosen.append(explainer)
    if not chosen:
        raise InputError(f"--explainers: none of {names} applies to a {adapter.type_name}. "
                         f"Applicable here: {', '.join(applicable)}.")
    chosen.sort(key=lambda e: wanted.index(type(e)))
    return chosen, skipped


def reconfigure(explainers: list[Any], *, before: Mapping[str, Any], after: Mapping[str, Any],
                settings: Mapping[str, Mapping[str, Any]] | None = None) -> list[Any]:
    """The explainers :func:`select` built from the top-level settings ``before``, with the parameters the
    settings ``after`` give them (the audit's budget sets ``n_jobs`` and ``explain_budget_s`` once it has asked
    the built explainers their cost). The selection, its order and each ``supports`` answer stay; an explainer
    whose parameters are unchanged is returned as it is, one whose parameters changed as a copy with them
    re-validated (a third-party class not derived from ``ExplainerBase`` is constructed with them).

    >>> from explainers.lime_tabular import Lime
    >>> [e.params.n_jobs for e in reconfigure([Lime(n_jobs=1)], before={"n_jobs": 1}, after={"n_jobs": 4})]
    [4]
    """
    out = []
    for ex in explainers:
        table = (settings or {}).get(ex.name)
        params = explainer_settings(type(ex), after, table)
        if params == explainer_settings(type(ex), before, table):
            out.append(ex)
        elif isinstance(ex, ExplainerBase):
            out.append(ex.with_params(**params))
        else:
            out.append(_build(type(ex), params))
    return out


def _build(cls: type, params: dict[str, Any]) -> Any:
    if issubclass(cls, ExplainerBase):
        return cls(**params)
    try:  # a third-party class of its own making: its constructor decides what it accepts
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"explainer {cls.name}: its constructor refused the settings {sorted(params)} ({exc}). "
                          f"Fix [explainers.{cls.name}] in audit.toml.") from None
