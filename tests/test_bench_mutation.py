"""bench/mutate.py's operators and bench/mutation_table.py's table, on a small module and a written log."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SOURCE = '''
def check(x, limit):
    """A docstring is never mutated."""
    seen = validate(x)
    record(seen)
    if seen > limit:
        raise ValueError("over")
    return seen * 2
'''


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _mutants(mutate, family: str) -> dict[str, str]:
    tree = ast.parse(SOURCE)
    return {desc: mutate.mutate(tree, i, v) for i, v, desc in mutate.sites(tree) if desc.endswith(f"[{family}]")}


def test_statement_deletion_return_replacement_and_call_removal():
    mutate = _load("mutate")
    deleted = _mutants(mutate, "statement deletion")
    assert sorted(d.split(":")[0] for d in deleted) == ["line 4", "line 5", "line 6", "line 7"]  # assign, call, if, raise
    assert "record(seen)" not in deleted["line 5: delete Expr statement [statement deletion]"]
    assert "raise ValueError" not in deleted["line 6: delete If statement [statement deletion]"]
    returns = _mutants(mutate, "return replacement")
    assert set(returns) == {"line 8: return x -> return None [return replacement]",
                            "line 8: return x -> return 0 [return replacement]"}
    assert "return None" in returns["line 8: return x -> return None [return replacement]"]
    calls = _mutants(mutate, "call removal")  # a used value: validate(x) -> x; ValueError("over") -> "over"
    assert "seen = x" in calls["line 4: call -> first argument [call removal]"]
    assert all("docstring is never mutated" in m for m in calls.values())
    assert not any("record" in d for d in calls)  # a call statement is statement deletion's, not twice


def test_the_table_is_generated_from_the_logs(tmp_path, monkeypatch):
    table = _load("mutation_table")
    logs = tmp_path / "mutation-results"
    logs.mkdir()
    header = {"module": "audit/x.py", "commit": "0123456789abcdef", "command": "bench/mutate.py audit/x.py"}
    fates = [{"line": 3, "operator": "Lt -> LtE [comparison]", "fate": "killed"},
             {"line": 5, "operator": "return x -> return None [return replacement]", "fate": "survived"},
             {"line": 9, "operator": "call -> None [call removal]", "fate": "uncovered"},
             {"line": 11, "operator": "delete If statement [statement deletion]", "fate": "timeout"}]
    (logs / "x.jsonl").write_text("\n".join(json.dumps(r) for r in [header, *fates, {"result": {}}]))
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{table.START}\nold\n{table.END}\nafter\n")
    monkeypatch.setattr(table, "HERE", tmp_path)
    assert table.main() == 0
    text = readme.read_text()
    assert "| `audit/x.py` | 0123456789 | 4 | 2 | 1 | 1 | **50.0%** |" in text
    assert "5 return x -> return None [return replacement]; 9 call -> None [call removal] (uncovered)" in text
    assert text.startswith("intro\n") and text.endswith("after\n") and "old" not in text
    monkeypatch.setattr(sys, "argv", ["mutation_table.py", "--check"])
    assert table.main() == 0


def test_a_recheck_of_chosen_mutants_replaces_only_those_and_a_recheck_of_lines_replaces_the_lines(tmp_path,
                                                                                                      monkeypatch):
    """RECHECK=1 re-runs the full run's unkilled mutants by index: the full run's other mutants on the same line
    keep their fates. A re-check by line (--only-lines) re-ran every mutant of its lines, so it replaces them."""
    table = _load("mutation_table")
    monkeypatch.setattr(table, "_same_module", lambda module, a, b: True)
    full = [{"line": 3, "operator": "Lt -> LtE [comparison]", "fate": "killed", "mutant": 0},
            {"line": 3, "operator": "constant 1 -> 0 [constant]", "fate": "survived", "mutant": 1},
            {"line": 5, "operator": "call -> None [call removal]", "fate": "timeout", "mutant": 2},
            {"line": 7, "operator": "Gt -> GtE [comparison]", "fate": "killed", "mutant": 3}]
    header = {"module": "audit/x.py", "commit": "a" * 40, "command": "c"}
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(r) for r in [header, *full, {"result": {}}]))
    (tmp_path / "recheck").mkdir()
    again = [{"line": 3, "operator": "constant 1 -> 0 [constant]", "fate": "killed", "mutant": 1},
             {"line": 5, "operator": "call -> None [call removal]", "fate": "survived", "mutant": 2}]
    log = tmp_path / "recheck" / "x.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in [{**header, "commit": "b" * 40, "selection": "mutants"}, *again]))
    assert "| `audit/x.py` | aaaaaaaaaa | bbbbbbbbbb | 4 | 3 | **75.0%** |" in table._combined(tmp_path, [log])
    log.write_text("\n".join(json.dumps(r) for r in [{**header, "commit": "b" * 40, "selection": "lines"}, *again]))
    assert "| `audit/x.py` | aaaaaaaaaa | bbbbbbbbbb | 3 | 2 | **66.7%** |" in table._combined(tmp_path, [log])


def test_a_slow_lines_limit_grows_with_its_tests_time():
    mutate = _load("mutate")
    limits = mutate.line_limits({3: ["a", "b"], 5: ["a"], 8: ["c"]}, {"a": 40.0, "b": 30.0}, 90)
    assert limits == {3: 140.0, 5: 90, 8: 180.0}  # a test without a recorded time counts as the timeout
