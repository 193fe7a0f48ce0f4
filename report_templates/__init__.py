"""Report templates: section order, wording, reason codes and styles, as TOML shipped in the wheel.

Edit the ``.toml`` files (or pass a path to your own) to change the report without touching Python.

>>> load_template("generic").name
'generic'
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from audit.errors import ConfigError
from audit.report.sections import COMPARE_SECTIONS, SECTIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Template", "load_template", "available_templates", "SECTIONS"]

@dataclass(frozen=True)
class Template:
    name: str
    title: str
    sections: tuple[str, ...]
    wording: dict[str, str]
    reason_codes: dict[str, Any]
    style: dict[str, Any] = field(default_factory=dict)
    compare_sections: tuple[str, ...] = tuple(COMPARE_SECTIONS)  # the audit compare report's sections
    recourse_phrases: dict[str, str] = field(default_factory=dict)
    policy_defaults: dict[str, str] = field(default_factory=dict)  # what policy "auto" settings mean here
    trace_clauses: tuple[str, ...] = ()  # clause-id prefixes the regulation trace keeps (empty: every clause)

    def text(self, key: str, **values: Any) -> str:
        """A wording entry with its ``{name}`` fields filled in."""
        raw = self.wording.get(key, "")
        try:
            return raw.format(**values)
        except (KeyError, IndexError, ValueError):
            return raw

    def reason(self, feature: str, value: str, *, above_typical: bool | None) -> str:
        """Plain-language principal reason for ``feature`` (adverse-action style). ``above_typical`` None
        (no confirmed direction) never prints a direction word: the entry's ``text``, else the default.

        >>> t = Template("t", "T", (), {}, {"_default": "{feature}: {value}", "amount": {"high": "Too high"}})
        >>> t.reason("amount", "9", above_typical=True), t.reason("amount", "9", above_typical=None)
        ('Too high', 'amount: 9')
        """
        entry = self.reason_codes.get(feature)
        if isinstance(entry, str):
            return entry.format(value=value, feature=feature)
        if isinstance(entry, dict):  # a direction word only when the caller has one (the model confirmed it)
            key = "high" if above_typical else "low"
            text = entry.get(key) if above_typical is not None else None
            text = text or entry.get("text")
            if text:
                return str(text).format(value=value, feature=feature)
        generic = self.reason_codes.get("_default", "{feature}: {value}")
        return str(generic).format(value=value, feature=feature.replace("_", " "))


    def code(self, feature: str) -> str | None:
        """The reason code the template gives ``feature`` (``code`` in its ``[reason_codes]`` entry), if any.

        >>> Template("t", "T", (), {}, {"duration": {"code": "D1", "text": "Duration"}}).code("duration")
        'D1'
        """
        entry = self.reason_codes.get(feature)
        return str(entry["code"]) if isinstance(entry, dict) and entry.get("code") else None

    def has_text(self, feature: str) -> bool:
        """Whether the template words ``feature`` itself (a reason without one gets the generic default)."""
        entry = self.reason_codes.get(feature)
        return isinstance(entry, str) or isinstance(entry, dict) and any(entry.get(k) for k in ("text", "high", "low"))

    def change(self, feature: str, old: str, new: str) -> str:
        """Plain-language phrase for one change of a counterfactual (``[recourse_phrases]``).

        >>> Template("t", "T", (), {}, {}).change("duration", "24", "12")
        'duration of 12 instead of 24'
        """
        phrase = self.recourse_phrases.get(feature) or self.recourse_phrases.get("_default", "{feature} of {to} instead of {from}")
        return str(phrase).format(**{"from": old, "to": new, "feature": feature.replace("_", " ")})


    def changes(self, changes: list[dict[str, str]]) -> str:
        """One counterfactual's changes (``feature``, ``from``, ``to``) as one phrase joined with "and".

        >>> Template("t", "T", (), {}, {}).changes([{"feature": "a", "from": "1", "to": "2"},
        ...                                          {"feature": "b", "from": "x", "to": "y"}])
        'a of 2 instead of 1 and b of y instead of x'
        """
        phrases = [self.change(c["feature"], c["from"], c["to"]) for c in changes]
        return ", ".join(phrases[:-1]) + (" and " if len(phrases) > 1 else "") + phrases[-1]


def available_templates() -> list[str]:
    """The shipped templates' names (``_base.toml``, the wording they share, is not one)."""
    return sorted(p.name[:-5] for p in resources.files(__name__).iterdir()
                  if p.name.endswith(".toml") and not p.name.startswith("_"))


def base_wording() -> dict[str, str]:
    """The wording every template shares unless it sets the same key (``_base.toml``): the report's fixed
    paragraphs (methodology, method notes), so that a template of one's own need not copy them."""
    text = (resources.files(__name__) / "_base.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text).get("wording", {}))


def load_template(name_or_path: str) -> Template:
    """Load a shipped template by name, or a TOML file by path (``--template FILE.toml``).

    A name resolves only among the shipped templates: one with a path in it (``../x/name``) is an error
    that says to pass a ``.toml`` file instead, never a file outside this package.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise ConfigError(f"--template {name_or_path!r}: no such file. Give the path of a .toml template, "
                              f"or the name of a shipped one: {', '.join(available_templates())}.")
        text, source = path.read_text(encoding="utf-8"), str(path)
    else:
        if any(sep in name_or_path for sep in ("/", "\\", ":")) or name_or_path.startswith(".") or not name_or_path:
            raise ConfigError(f"--template {name_or_path!r}: a template name cannot hold a path; names are "
                              f"{', '.join(available_templates())}. To use your own template, pass its file: "
                              "--template path/to/template.toml.")
        if name_or_path not in available_templates():
            raise ConfigError(f"--template {name_or_path!r}: no such template. Available: "
                              f"{', '.join(available_templates())}, or the path of a .toml file.")
        res = resources.files(__name__) / f"{name_or_path}.toml"
        text, source = res.read_text(encoding="utf-8"), f"report_templates/{name_or_path}.toml"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"template {source}: invalid TOML ({exc}).") from None
    sections = tuple(raw.get("sections", tuple(SECTIONS)))
    bad = [s for s in sections if s not in SECTIONS]
    if bad:
        raise ConfigError(f"template {source}: unknown section(s) {bad}. Valid: {', '.join(SECTIONS)}.")
    compare_sections = tuple(raw.get("compare_sections", tuple(COMPARE_SECTIONS)))
    bad = [s for s in compare_sections if s not in COMPARE_SECTIONS]
    if bad:
        raise ConfigError(f"template {source}: unknown compare section(s) {bad}. Valid: {', '.join(COMPARE_SECTIONS)}.")
    moved = [k for k in ("organisation", "logo", "outcome_labels") if k in raw]
    if moved:  # identity and outcome semantics are facts about the audit, not wording
        raise ConfigError(f"template {source}: {', '.join(moved)} belong in audit.toml ([report] organisation, "
                          "logo, review_contact; favorable_class and [report.outcomes]). Move them there.")
    defaults = _policy_defaults(raw.get("policy_defaults", {}), source)
    prefixes = raw.get("trace_clauses", [])
    if not isinstance(prefixes, list) or not all(isinstance(x, str) and x for x in prefixes):
        raise ConfigError(f"template {source}: trace_clauses must be a list of clause-id prefixes, e.g. "
                          '["sr11-7.", "euaia."].')
    return Template(name=raw.get("name", path.stem), title=raw.get("title", "Explainability audit report"),
                    sections=sections, wording={**base_wording(), **raw.get("wording", {})},
                    reason_codes=raw.get("reason_codes", {}), style=raw.get("style", {}),
                    compare_sections=compare_sections, recourse_phrases=raw.get("recourse_phrases", {}),
                    policy_defaults=defaults, trace_clauses=tuple(prefixes))


_POLICY_DEFAULTS = {  # key -> the values a template may give it
    "protected_as_input": ("fail", "finding"),  # what policy.protected_as_input = "auto" means
    "protected_attributes": ("inferred", "none"),  # policy.protected_attributes unset: inferred from column names
    "reason_reference": ("near_cutoff", "all_applicants", "background"),  # [reasons] reference unset
}


def _policy_defaults(table: Any, source: str) -> dict[str, str]:
    """``[policy_defaults]``: what a policy setting left at ``auto`` (or unset) means with this template (a credit
    template infers the protected attributes and blocks on one used as an input; a generic one declares none
    and reports it), checked like audit.toml."""
    if not isinstance(table, dict):
        raise ConfigError(f"template {source}: policy_defaults must be a table ([policy_defaults]).")
    for key, value in table.items():
        if key not in _POLICY_DEFAULTS:
            raise ConfigError(f"template {source}: unknown key {key!r} in [policy_defaults]. Valid keys: "
                              f"{', '.join(_POLICY_DEFAULTS)}.")
        if value not in _POLICY_DEFAULTS[key]:
            raise ConfigError(f"template {source}: [policy_defaults] {key} = {value!r}; valid values: "
                              f"{', '.join(map(repr, _POLICY_DEFAULTS[key]))}.")
    return dict(table)
