"""Every explanation method, one module each, behind one protocol and an ordered registry.

The registry lists intrinsic methods first, then approximate ones; ``select`` keeps those that
support the model. Third parties add explainers through the ``xai_audit.explainers`` entry-point
group (each entry point names an :class:`Explainer` class).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from audit.errors import InputError
from explainers._base import Explainer, ExplainerBase
from explainers.captum_methods import CAPTUM_EXPLAINERS
from explainers.coefficients import Coefficients
from explainers.lime_tabular import Lime
from explainers.shap_explainer import Shap
from explainers.tree_path import TreePath

__all__ = ["Explainer", "ExplainerBase", "registry", "select", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "xai_audit.explainers"
_BUILTIN: tuple[type, ...] = (Coefficients, TreePath, *CAPTUM_EXPLAINERS, Shap, Lime)


def registry() -> dict[str, type]:
    """Name -> explainer class, in selection order (built-ins, then entry points)."""
    out = {cls.name: cls for cls in _BUILTIN}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        out.setdefault(cls.name, cls)
    return out


def select(adapter: Any, names: list[str] | None = None, **options: Any) -> tuple[list[Any], list[str]]:
    """Instantiate the explainers to run and say why any requested one was skipped.

    ``names`` None means every registered method that supports the model.
    """
    reg = registry()
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
    chosen, skipped = [], []
    for cls in wanted:
        explainer = cls(**options)
        if explainer.supports(adapter):
            chosen.append(explainer)
        elif names:
            skipped.append(f"{cls.name}: does not apply to a {adapter.type_name}")
    if not chosen:
        raise InputError(
            f"--explainers: none of {names} applies to a {adapter.type_name}. "
            f"Applicable here: {', '.join(c.name for c in map(lambda k: k(**options), reg.values()) if c.supports(adapter))}."
        )
    return chosen, skipped
