"""Every sentence a template owns renders sensibly with neutral labels (no favourable class, no
``[report.outcomes]``: "outcome 1") and with configured ones (issue #26): every ``{field}`` is filled, no word
is doubled ("the outcome outcome 1"), nothing reads "None" or leaves empty brackets."""

from __future__ import annotations

import re
import string

import pytest

from report_templates import available_templates, load_template

LABELS = {"neutral": "outcome 1", "configured": "Approved (class good)"}
VALUES = {"a": "shap", "b": "lime", "background_rows": "40", "checks": "3", "citation": "12 CFR 1002.9(b)(2)",
          "ci": "0.61 to 0.74", "configured": "near_cutoff", "drivers": "duration, credit_amount",
          "explained": "class good", "failed": "additivity:lime", "fallback": "the model has no favourable class",
          "features": "sex", "feature": "duration", "from": "24", "to": "12", "high": "0.600", "low": "0.500",
          "immutable": "sex, age", "k": "4", "max_changes": "3", "method": "shap", "min_pass": "1",
          "model_file": "model.skops", "model_type": "LogisticRegression", "n_methods": "2", "output": "predict_proba",
          "primary_score": "0.71", "primary": "shap", "rho": "0.82", "rows": "112", "score": "estimated probability",
          "value": "1,199", "why": "no change within 3 inputs"}
WORDS = {"names": "lime and shap", "verb": "was", "attributes": "sex, age", "metrics": "deletion_auc",
         "selected": "shap", "candidate": "candidate.skops"}
NUMBER = "12"  # every other field is a count, a share or a setting: a number
DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _strings(template):
    """(where, text) for every wording entry and every reason / recourse phrase of the template."""
    yield from ((f"wording.{k}", v) for k, v in template.wording.items())
    for feature, entry in template.reason_codes.items():
        texts = entry.values() if isinstance(entry, dict) else [entry]
        yield from ((f"reason_codes.{feature}", v) for v in texts if isinstance(v, str) and not v.startswith("C0"))
    yield from ((f"recourse_phrases.{k}", v) for k, v in template.recourse_phrases.items())


@pytest.mark.parametrize("labels", sorted(LABELS))
@pytest.mark.parametrize("name", available_templates())
def test_every_template_string_renders_with_neutral_and_configured_labels(name, labels):
    template = load_template(name)
    seen = 0
    for where, raw in _strings(template):
        values = {k: VALUES.get(k, WORDS.get(k, NUMBER)) for k in _fields(raw)}
        text = raw.format(**{**values, "outcome": LABELS[labels]})
        seen += 1
        assert "{" not in text and "}" not in text, f"{name} {where}: unfilled field in {text!r}"
        assert not DOUBLED.search(text), f"{name} {where}: doubled word {DOUBLED.search(text).group(0)!r} in {text!r}"
        assert "None" not in text and "()" not in text and "  " not in text, f"{name} {where}: {text!r}"
        assert text.strip() and text.lstrip() == text, f"{name} {where}: empty or indented {text!r}"
    assert seen > 40


def test_the_doubled_word_check_would_catch_the_old_wording():
    old = "give the outcome {outcome}".format(outcome=LABELS["neutral"])
    assert DOUBLED.search(old)
