"""The mutation table of bench/README.md, generated from the per-module logs of bench/mutation.sh.

Each ``bench/mutation-results/KEY.jsonl`` holds a header (module, commit, command), one line per mutant
(line, operator, fate) and the result. The table lists every module with a log: the commit it ran at, the
mutants, killed (timeouts included), survived, uncovered and the score, then every surviving or uncovered
mutant by line and operator. It replaces what lies between the two markers in bench/README.md.

Usage: python bench/mutation_table.py [--check]   (--check: exit 1 when README's table is not the generated one)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
START, END = "<!-- mutation-table:start -->", "<!-- mutation-table:end -->"


def read_log(path: Path) -> tuple[dict, list[dict], dict | None]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    header = records[0]
    mutants = [r for r in records[1:] if "fate" in r]
    result = next((r["result"] for r in records if "result" in r), None)
    return header, mutants, result


def table(results: Path) -> str:
    """The full runs' table and survivors, then the re-checks' (``recheck/``: only the survivors' lines,
    after tests were added)."""
    text = _table(sorted(results.glob("*.jsonl")))
    rechecks = sorted((results / "recheck").glob("*.jsonl"))
    if rechecks:
        text += "\n\nRe-checks of the survivors' lines after tests were added (`--only-lines`, `recheck/`):\n\n"
        text += _table(rechecks)
        text += "\n\n" + _combined(results, rechecks)
    return text


def _same_module(module: str, a: str, b: str) -> bool:
    """Whether ``module`` is the same file at commits ``a`` and ``b`` (so a re-check completes the full run)."""
    import subprocess

    res = subprocess.run(["git", "diff", "--quiet", a, b, "--", module], cwd=HERE.parent, capture_output=True)
    return res.returncode == 0


def _combined(results: Path, rechecks: list[Path]) -> str:
    """Each re-checked module's score: the full run's mutants the re-check did not revisit (by line, or by mutant
    index for a ``RECHECK=1`` run), with their fates in the full run, plus the re-check's, when the module's
    source is the same at both commits."""
    rows = ["Module scores, full run completed by its re-check (the module's source unchanged between the two "
            "commits):", "", "| module | full run | re-check | mutants | killed | score |", "|---|---|---|---|---|---|"]
    for log in rechecks:
        full = results / log.name
        if not full.exists():
            continue
        fh, fm, _ = read_log(full)
        rh, rm, _ = read_log(log)
        if not _same_module(fh["module"], fh["commit"], rh["commit"]):
            rows.append(f"| `{fh['module']}` | {fh['commit'][:10]} | {rh['commit'][:10]} | module changed: not "
                        "combined | | |")
            continue
        if rh.get("selection") == "mutants":  # the full run's mutants it did not re-run, by index
            again = {m["mutant"] for m in rm}
            kept = [m for m in fm if m["mutant"] not in again]
        else:  # every mutant of the re-checked lines was re-run
            lines = {m["line"] for m in rm}
            kept = [m for m in fm if m["line"] not in lines]
        total = len(kept) + len(rm)
        killed = sum(m["fate"] in ("killed", "timeout") for m in kept + rm)
        rows.append(f"| `{fh['module']}` | {fh['commit'][:10]} | {rh['commit'][:10]} | {total} | {killed} | "
                    f"**{100 * killed / total:.1f}%** |")
    return "\n".join(rows)


def _table(logs: list[Path]) -> str:
    rows = ["| module | commit | mutants | killed | survived | uncovered | score |", "|---|---|---|---|---|---|---|"]
    notes = []
    for log in logs:
        header, mutants, result = read_log(log)
        killed = sum(m["fate"] in ("killed", "timeout") for m in mutants)
        survived = [m for m in mutants if m["fate"] == "survived"]
        uncovered = [m for m in mutants if m["fate"] == "uncovered"]
        done = "" if result is not None else " (interrupted)"
        score = f"{100 * killed / len(mutants):.1f}%" if mutants else "n/a"
        rows.append(f"| `{header['module']}` | {header['commit'][:10]} | {len(mutants)}{done} | {killed} | "
                    f"{len(survived)} | {len(uncovered)} | **{score}** |")
        left = sorted(survived + uncovered, key=lambda m: m["line"])
        if left:
            notes.append(f"- `{header['module']}` ({log.name}): " + "; ".join(
                f"{m['line']} {m['operator']}{' at `' + m['code'] + '`' if m.get('code') else ''}"
                f"{' (uncovered)' if m['fate'] == 'uncovered' else ''}" for m in left))
    return "\n".join(rows + ["", "Surviving and uncovered mutants (line, operator):", "", *notes])


def main() -> int:
    readme = HERE / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"{readme}: no {START} ... {END} markers", file=sys.stderr)
        return 2
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table(HERE / 'mutation-results')}\n{END}{tail}"
    if "--check" in sys.argv[1:]:
        return 0 if new == text else 1
    readme.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
