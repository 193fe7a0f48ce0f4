"""The result records are typed end to end (issue #25): no ``Any`` in the fields of the result dataclasses
or in any ``TypedDict`` of ``audit/records.py`` they reach, and a real audit (and a compare of its
results.json with itself) writes exactly the keys each record declares, with values of the declared types,
so the types describe what results.json and compare.json hold."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any, ForwardRef, Union, get_args, get_origin, get_type_hints, is_typeddict

import numpy as np
import pytest

from audit import records
from audit.recourse.search import RecourseRun
from audit.results import AuditResult, CompareResult, Decision, ExplanationResult
from tests.conftest import FAST_TOML, SAMPLES, save_pickle

RESULTS = (AuditResult, ExplanationResult, Decision, CompareResult)
LOCALNS = {"RecourseRun": RecourseRun}  # imported by audit.results only under TYPE_CHECKING (an import cycle)
JSON_ALIAS = "JSONValue"  # the one recursive alias: its self-references stay forward references
# A field's key in its record's to_json() where the two differ.
JSON_KEY = {"protected": "protected_attributes", "randomisation": "randomisation_check", "values": "applicant_values",
            "rule": "decision_path", "faithfulness_score_ci": "faithfulness_score_ci95",
            "stability": "stability_topk_jaccard"}
CONFIG = (FAST_TOML + 'favorable_class = "1"\nprotected_rows = 100\n[policy]\nprotected_attributes = ["sex", "age"]\n')


def _hints(tp: Any) -> dict[str, Any]:
    return get_type_hints(tp, localns=LOCALNS)


def _is_alias_ref(tp: Any) -> bool:
    """A forward reference the JSON alias leaves to itself (nothing else in the records is left unresolved)."""
    return (tp.__forward_arg__ if isinstance(tp, ForwardRef) else tp) == JSON_ALIAS


def _any_in(tp: Any, path: str, seen: set[int]) -> Iterator[str]:
    """Every path under ``tp`` that is ``typing.Any`` (records and the result dataclasses walked into)."""
    if tp is Any:
        yield path
        return
    if isinstance(tp, (ForwardRef, str)):
        if not _is_alias_ref(tp):
            yield f"{path} (unresolved {tp!r})"
        return
    if id(tp) in seen:
        return
    if is_typeddict(tp) or (dataclasses.is_dataclass(tp) and tp in (*RESULTS, RecourseRun)):
        seen.add(id(tp))
        for name, hint in _hints(tp).items():
            yield from _any_in(hint, f"{path}.{name}", seen)
        return
    for i, arg in enumerate(get_args(tp)):
        if arg is not Ellipsis:
            yield from _any_in(arg, f"{path}[{i}]", seen)


def _records_reached() -> set[Any]:
    """Every TypedDict the result dataclasses reach."""
    out: set[Any] = set()

    def walk(tp: Any) -> None:
        if isinstance(tp, (ForwardRef, str)) or tp in out:
            return
        if is_typeddict(tp):
            out.add(tp)
        if is_typeddict(tp) or tp in (*RESULTS, RecourseRun):
            for hint in _hints(tp).values():
                walk(hint)
        for arg in get_args(tp):
            walk(arg)

    for result in RESULTS:
        walk(result)
    return out


def test_no_field_of_a_result_record_is_any():
    found = [p for result in RESULTS for p in _any_in(result, result.__name__, set())]
    assert not found, "typing.Any in the result records:\n" + "\n".join(found)


def test_the_records_reached_are_those_of_audit_records_and_none_is_left_out():
    reached = _records_reached()
    assert reached and all(r.__module__ == "audit.records" for r in reached)
    declared = {getattr(records, n) for n in records.__all__ if is_typeddict(getattr(records, n))}
    keys = [r.__required_keys__ | r.__optional_keys__ for r in reached]  # a producer's part of a larger record
    unused = {r.__name__ for r in declared - reached if not any(r.__required_keys__ | r.__optional_keys__ <= k
                                                                 for k in keys)}
    assert not unused, f"records no result field uses: {sorted(unused)}"


class _Inner(typing.TypedDict):
    x: dict[str, list[Any]]


class _Outer(typing.TypedDict):
    inner: _Inner | None


def test_the_walk_finds_any_nested_in_a_record():
    assert list(_any_in(_Outer, "Outer", set())) == ["Outer.inner[0].x[1][0]"]


# --- the records written match their types -----------------------------------------------------------------

def _problems(value: Any, tp: Any, path: str) -> list[str]:
    """Where ``value`` (JSON, as to_json() writes it) is not of type ``tp``: a missing required key, an
    undeclared key, or a value of another type."""
    if isinstance(tp, (ForwardRef, str)):
        return [] if _is_json(value) else [f"{path}: not JSON"]
    if is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a {tp.__name__}"]
        hints = _hints(tp)
        out = [f"{path}: {tp.__name__} lacks required key {k!r}" for k in sorted(tp.__required_keys__ - value.keys())]
        out += [f"{path}: key {k!r} not declared in {tp.__name__}" for k in sorted(value.keys() - hints.keys())]
        return out + [p for k, v in value.items() if k in hints for p in _problems(v, hints[k], f"{path}.{k}")]
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        arms = [a for a in args if a is not type(None)] if value is not None else args  # say why the record fails
        tried = [_problems(value, arm, path) for arm in arms]
        return [] if any(not t for t in tried) else min(tried, key=len)
    if origin in (list, tuple):
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        items = args[:1] * len(value) if origin is list or args[-1:] == (Ellipsis,) else args
        if len(items) != len(value):
            return [f"{path}: {len(value)} items, not {len(items)}"]
        return [p for i, (v, t) in enumerate(zip(value, items)) for p in _problems(v, t, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not a dict"]
        return [p for k, v in value.items() for p in _problems(v, args[1], f"{path}[{k!r}]")]
    return [] if _is_scalar(value, tp) else [f"{path}: {value!r} is not {tp}"]


def _is_scalar(value: Any, tp: Any) -> bool:
    if tp is type(None):
        return value is None
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _is_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _field_problems(result: Any, record: dict[str, Any], path: str) -> list[str]:
    """Each field of a result dataclass against its key in the record to_json() wrote."""
    out = []
    for name, hint in _hints(type(result)).items():
        key = JSON_KEY.get(name, name)
        if name == "recourse" and isinstance(result, AuditResult):
            hint = records.RecourseRecord | None  # written as the run's record
        elif key not in record or any(dataclasses.is_dataclass(t) for t in (hint, *get_args(hint))):
            continue  # not in the JSON (attributions, background, ...), or a dataclass with its own to_json
        out += _problems(record[key], hint, f"{path}.{key}")
    return out


@pytest.fixture(scope="module")
def audited(credit_logreg, tmp_path_factory):
    """One fast audit of the German credit logistic regression, with a favourable class (so reasons, their
    directions and recourse), protected attributes (so flip test, proxies and outcome fairness) and a target
    (so performance and the challenger)."""
    from audit.commands.runner import run_audit
    from audit.config import parse_config

    tmp = tmp_path_factory.mktemp("records")
    config = parse_config(CONFIG, overrides={"target": "risk"})
    result = run_audit(save_pickle(credit_logreg, tmp / "m.pkl"), SAMPLES / "german_credit.csv", config=config)
    return result, result.to_json(), config


def test_a_real_audit_writes_exactly_the_keys_its_records_declare(audited):
    result, record, _ = audited
    assert record["performance"] and record["challenger"] and record["recourse"] and record["reason_directions"]
    assert record["protected_attributes"]["flip_test"] and record["protected_attributes"]["outcome_fairness"]["attributes"]
    assert any(d["recourse"] for d in record["decisions"]) and any(d["reasons"] for d in record["decisions"])
    problems = _field_problems(result, record, "results")
    for i, (e, j) in enumerate(zip(result.explanations, record["explanations"])):
        problems += _field_problems(e, j, f"results.explanations[{i}]")
    for i, (d, j) in enumerate(zip(result.decisions, record["decisions"])):
        problems += _field_problems(d, j, f"results.decisions[{i}]")
    assert not problems, "\n".join(problems[:40])


def test_a_compare_writes_exactly_the_keys_its_records_declare(audited):
    from audit.commands.compare import compare_results

    _, record, config = audited
    compared = compare_results(record, record, config=config)
    written = compared.to_json()
    assert written["performance"] and written["reasons"] and written["flips"] is not None
    problems = _field_problems(compared, written, "compare")
    assert not problems, "\n".join(problems[:40])


def test_the_checker_sees_a_missing_an_undeclared_and_a_mistyped_key():
    good = {"a": "x", "b": "y", "spearman": 0.5}
    assert _problems(good, records.PairRecord, "p") == []
    assert _problems({"a": "x", "spearman": 0.5}, records.PairRecord, "p") == ["p: PairRecord lacks required key 'b'"]
    assert _problems({**good, "c": 1}, records.PairRecord, "p") == ["p: key 'c' not declared in PairRecord"]
    assert _problems({**good, "spearman": "high"}, records.PairRecord, "p") == ["p.spearman: 'high' is not <class 'float'>"]
    assert _problems({"value": np.nan, "ci95": [None, 1.0]}, records.EstimateRecord, "e") == []
