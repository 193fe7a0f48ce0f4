"""A small AST mutation tester: one mutant at a time, the tests that cover the mutated line, a timeout.

Why not mutmut 3.x: it copies the tree into ``mutants/`` and runs the whole ``tests_dir`` behind a
trampoline; on a 2-core machine running only the tests that execute a line is what keeps a run bounded.
Operators:

- comparisons: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``in`` <-> ``not in``, ``is`` <-> ``is not``
- ``and`` <-> ``or``; ``not x`` -> ``x``; ``-x`` -> ``x``
- arithmetic ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, ``**`` -> ``*``, ``|`` <-> ``&``;
  ``a - b`` -> ``a`` (drops a subtracted set such as the NEVER list)
- numbers: ``0`` -> ``1``, ``1`` -> ``0``, other ints ``n`` -> ``n + 1``, floats ``x`` -> ``x * 2`` (0.0 -> 1.0);
  ``True`` <-> ``False``
- statement deletion: an assignment, expression, ``raise``, ``assert``, ``if``, ``for``, ``while`` or ``with``
  statement inside a function becomes ``pass`` (a silently dropped check or update)
- return replacement: ``return x`` -> ``return None`` and -> ``return 0``
- call removal: ``f(a, ...)`` whose value is used -> ``a`` (the first argument passed through unchanged), or
  ``None`` for a call without positional arguments

Docstrings, other strings, annotations, decorators and ``__all__`` are not mutated. A mutant is *killed*
when its tests fail, *timeout* when they exceed the per-mutant limit (counted as killed: the mutant
changed behaviour; the limit is ``--timeout`` or, when larger, :data:`LIMIT_FACTOR` times what the line's
tests took on the unmutated code, so a slow set of tests is not taken for a hung mutant), *survived* when
they pass, *uncovered* when no candidate test executes its line (counted as survived). Tests per mutant are
chosen by coverage: the candidate tests run once under coverage.py with pytest-cov's per-test contexts
(``--cov-context=test``), which maps each line to the tests that execute it (setup of a fixture included); a
mutant runs only the tests of its line.

The source file is rewritten in place and always restored (with its mtime, so cached bytecode stays
valid); each mutant gets a distinct mtime and no bytecode is written for it. Run it in a copy of the
tree (``bench/mutation.sh`` does), never in a working checkout other runs use.

Usage: python bench/mutate.py MODULE.py --tests "tests/gate tests/test_fairness.py" [--timeout 120]
       [--log FILE.jsonl] [--only-lines 12,34] [--only-mutants 3,17] [--limit N]
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
       ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
       ast.Pow: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr}
DELETABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Raise, ast.Assert, ast.If, ast.For, ast.While,
             ast.With)


def _skip_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, decorators, __all__."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in node.decorator_list:
                mark(d)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                mark(a.annotation)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
    return skip


def _in_functions(tree: ast.AST) -> set[int]:
    """ids of the statements inside function bodies (statement deletion stays there: module-level
    definitions and imports are not behaviour a test can pin line by line)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt) if isinstance(n, ast.stmt))
    return inside


def _expression_sites(i: int, node: ast.AST, line: int) -> list[tuple[int, int, str, int, str]]:
    out = []
    if isinstance(node, ast.Compare):
        for k, op in enumerate(node.ops):
            if type(op) in CMP:
                out.append((i, k, f"{type(op).__name__} -> {CMP[type(op)].__name__}", line, "comparison"))
    elif isinstance(node, ast.BoolOp):
        out.append((i, 0, f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}", line,
                    "boolean"))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        out.append((i, 0, f"drop {type(node.op).__name__}", line, "unary"))
    elif isinstance(node, ast.BinOp) and type(node.op) in BIN:
        out.append((i, 0, f"{type(node.op).__name__} -> {BIN[type(node.op)].__name__}", line, "arithmetic"))
        if isinstance(node.op, ast.Sub):
            out.append((i, 1, "a - b -> a", line, "arithmetic"))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        out.append((i, 0, f"constant {node.value!r} -> {_constant(node.value)!r}", line, "constant"))
    return out


def sites(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(node index in ast.walk order, variant, description) for every mutation; the description starts
    with ``line N:`` and ends with the operator family in brackets."""
    skip, inside = _skip_nodes(tree), _in_functions(tree)
    expr_calls = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        found = _expression_sites(i, node, line)
        if isinstance(node, DELETABLE) and id(node) in inside:
            found.append((i, 0, f"delete {type(node).__name__} statement", line, "statement deletion"))
        elif isinstance(node, ast.Return) and node.value is not None and id(node) in inside:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                found.append((i, 0, "return x -> return None", line, "return replacement"))
            if not (isinstance(node.value, ast.Constant) and node.value.value == 0):
                found.append((i, 1, "return x -> return 0", line, "return replacement"))
        elif isinstance(node, ast.Call) and id(node) not in expr_calls:
            what = "first argument" if node.args and not isinstance(node.args[0], ast.Starred) else "None"
            found.append((i, 0, f"call -> {what}", line, "call removal"))
        out += [(idx, var, f"line {ln}: {desc} [{family}]") for idx, var, desc, ln, family in found]
    return out


def _constant(v: int | float | bool) -> int | float | bool:
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return {0: 1, 1: 0}.get(v, v + 1)
    return 1.0 if v == 0 else v * 2


def mutate(tree: ast.AST, index: int, variant: int) -> str:
    tree = copy.deepcopy(tree)
    node = list(ast.walk(tree))[index]
    if isinstance(node, ast.Compare):
        node.ops[variant] = CMP[type(node.ops[variant])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):  # `not x` -> `x`, `-x` -> `x`
        _replace(tree, node, node.operand)
    elif isinstance(node, ast.BinOp):
        if variant == 1:
            _replace(tree, node, node.left)
        else:
            node.op = BIN[type(node.op)]()
    elif isinstance(node, ast.Constant):
        node.value = _constant(node.value)
    elif isinstance(node, DELETABLE):
        _replace(tree, node, ast.Pass())
    elif isinstance(node, ast.Return):
        node.value = ast.Constant(None if variant == 0 else 0)
    elif isinstance(node, ast.Call):
        first = node.args[0] if node.args and not isinstance(node.args[0], ast.Starred) else ast.Constant(None)
        _replace(tree, node, first)
    return ast.unparse(ast.fix_missing_locations(tree))


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for fname, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, fname, new)
                return
            if isinstance(value, list):
                for j, item in enumerate(value):
                    if item is old:
                        value[j] = new
                        return


PYTEST_OPTIONS = ["-q", "-x", "-p", "no:cacheprovider", "-o", "addopts="]

# Imported once by the parent in --fork mode, so that each mutant's test process starts from a fork with
# these already loaded (about 3-4 s of a mutant's 5-10 s); nothing of this project is imported before a fork.
PRELOAD = ("numpy", "pandas", "scipy.stats", "scipy.optimize", "scipy.special", "scipy.sparse", "sklearn",
           "sklearn.base", "sklearn.ensemble", "sklearn.linear_model", "sklearn.model_selection", "sklearn.metrics",
           "sklearn.preprocessing", "sklearn.pipeline", "sklearn.compose", "sklearn.inspection", "sklearn.tree",
           "sklearn.svm", "sklearn.neighbors", "sklearn.calibration", "sklearn.impute", "joblib", "threadpoolctl",
           "shap", "lime.lime_tabular", "matplotlib.pyplot", "reportlab.platypus", "reportlab.lib.colors",
           "pydantic", "typer", "rich.console", "hypothesis", "fairlearn.metrics", "skops.io", "pypdf",
           "jsonschema", "pytest", "_pytest.python")


MAIN_TREE: list[str] = []  # the tree the run was started in (and its sys.path spellings), left out of a fork's path


def _pytest(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *PYTEST_OPTIONS, *args]


def preload() -> None:
    import importlib
    import warnings

    os.environ.setdefault("MPLBACKEND", "Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an absent optional package is imported by the tests or not at all
                pass


class Runner:
    """One test run of a mutant in one copy of the tree: a forked child of the preloaded parent (``fork``) or
    a fresh ``python -m pytest`` process. Each runs in its own process group, killed whole when it ends."""

    def __init__(self, tree: Path, tests: list[str], fork: bool) -> None:
        self.t0 = time.perf_counter()
        env = {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
        if not fork:
            self.proc = subprocess.Popen(_pytest(tests), cwd=tree, env={**os.environ, **env}, start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.pid = self.proc.pid
            return
        import warnings

        self.proc = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, fork() may deadlock": BLAS pools
            self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            code = 3
            try:
                os.setsid()
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                os.chdir(tree)
                os.environ.update(env)
                sys.dont_write_bytecode = True
                drop = {"", str(Path(sys.argv[0]).resolve().parent), *MAIN_TREE}
                sys.path[:] = [str(tree)] + [p for p in sys.path if p not in drop]
                import pytest

                code = int(pytest.main([*PYTEST_OPTIONS, *tests]))
            finally:
                os._exit(code)

    def poll(self, timeout: float) -> str | None:
        """None while running; else 'survived', 'killed' or 'timeout'."""
        if self.proc is not None:
            rc = self.proc.poll()
        else:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            rc = None if pid == 0 else os.waitstatus_to_exitcode(status)
        if rc is None and time.perf_counter() - self.t0 <= timeout:
            return None
        self.kill_group()
        if rc is None:
            if self.proc is not None:
                self.proc.wait()
            else:
                os.waitpid(self.pid, 0)
            return "timeout"
        return "survived" if rc == 0 else "killed"

    def kill_group(self) -> None:
        import signal

        try:
            os.killpg(self.pid, signal.SIGKILL)  # the run and whatever it started (CLI subprocesses, loky workers)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.t0


def run_tests(args: list[str], timeout: float, tree: Path | None = None, fork: bool = False) -> tuple[str, float]:
    """('survived' | 'killed' | 'timeout', seconds) of a pytest run over ``args``."""
    run = Runner(tree or Path.cwd(), args, fork)
    while (fate := run.poll(timeout)) is None:
        time.sleep(0.02)
    return fate, run.seconds


DURATIONS_PLUGIN = """
import json, os

_seconds = {}


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    with open(os.environ["MUTATE_DURATIONS"], "w") as f:
        json.dump(_seconds, f)
"""


def coverage_map(module: Path, tests: list[str], timeout: float) -> tuple[dict[int, list[str]], bool, float,
                                                                          dict[str, float]]:
    """Line -> the test node ids that execute it, fastest first (pytest-cov's per-test contexts, setup included; a
    line run only at import, such as a default argument or a module constant, maps to every covering test), whether
    the candidate tests pass on the unmutated code, the seconds they took, and each test's seconds."""
    from coverage import CoverageData

    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / ".coverage"
        (Path(tmp) / "mutate_durations.py").write_text(DURATIONS_PLUGIN)
        env = {**os.environ, "COVERAGE_FILE": str(data_file), "MUTATE_DURATIONS": str(Path(tmp) / "durations.json"),
               "PYTHONPATH": os.pathsep.join([tmp, *filter(None, [os.environ.get("PYTHONPATH")])])}
        args = _pytest(["-p", "mutate_durations", f"--cov={module.parent}", "--cov-context=test", "--cov-report=",
                        *tests])
        args.remove("-x")
        t0 = time.perf_counter()
        res = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        seconds = time.perf_counter() - t0
        data = CoverageData(basename=str(data_file))
        data.read()
        by_line = data.contexts_by_lineno(str(module.resolve())) if data.measured_files() else {}
        durations_file = Path(env["MUTATE_DURATIONS"])
        durations = json.loads(durations_file.read_text()) if durations_file.exists() else {}

    def fastest_first(ids: set[str]) -> list[str]:  # with -x, a killed mutant stops at its first failing test
        return sorted(ids, key=lambda t: (durations.get(t, float("inf")), t))

    out: dict[int, list[str]] = {}
    at_import = []
    for line, contexts in by_line.items():
        ids = fastest_first({c.split("|")[0] for c in contexts if c})
        if ids:
            out[line] = ids
        elif contexts:  # run only while the module was imported (a default, a constant): every test may see it
            at_import.append(line)
    every = fastest_first({t for ids in out.values() for t in ids})
    for line in at_import:
        out[line] = every
    return out, res.returncode == 0, seconds, durations


LIMIT_FACTOR = 2.0  # a mutant's limit: this many times its tests' seconds on the unmutated code (under coverage)


def line_limits(covering: dict[int, list[str]], durations: dict[str, float], timeout: float) -> dict[int, float]:
    """Each line's per-mutant limit: ``timeout``, or :data:`LIMIT_FACTOR` times the line's tests' seconds when
    that is longer (a test without a recorded duration counts as ``timeout``).

    >>> line_limits({3: ["a", "b"], 5: ["a"]}, {"a": 40.0, "b": 30.0}, 90)
    {3: 140.0, 5: 90}
    """
    return {line: max(timeout, LIMIT_FACTOR * sum(durations.get(t, timeout) for t in ids))
            for line, ids in covering.items()}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the finally block restores the source file


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("MUTATION_COMMIT", "unknown")


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("module")
    p.add_argument("--tests", required=True, help="the candidate tests; each mutant runs those covering its line")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--log", default="", help="JSON lines: the run's header, every mutant's fate, the result")
    p.add_argument("--only-lines", default="", help="comma-separated line numbers to mutate (re-checks)")
    p.add_argument("--only-mutants", default="",
                   help="comma-separated mutant indices (a full run's 'mutant' field) to run again (re-checks)")
    p.add_argument("--workers", type=int, default=1, help="mutants at a time, each in its own copy of the tree")
    p.add_argument("--no-fork", action="store_true",
                   help="a fresh python per mutant instead of a fork of a parent that preloaded the libraries")
    return p.parse_args()


def main() -> int:
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    args = _parse()
    path = Path(args.module)
    original, stat = path.read_text(), path.stat()
    tree = ast.parse(original)
    todo = list(enumerate(sites(tree)))  # (the mutant's index in the whole module, its site): the same in every run
    if args.only_lines:
        wanted = {f"line {n}:" for n in args.only_lines.split(",")}
        todo = [(n, s) for n, s in todo if any(s[2].startswith(w) for w in wanted)]
    if args.only_mutants:
        chosen = {int(n) for n in args.only_mutants.split(",")}
        todo = [(n, s) for n, s in todo if n in chosen]
    if args.limit:
        todo = todo[: args.limit]
    tests = shlex.split(args.tests)
    covering, ok, secs, durations = coverage_map(path, tests, args.timeout * 10)
    limits = line_limits(covering, durations, args.timeout)
    if not ok:
        print(f"{path}: the candidate tests fail on the unmutated code; fix that first", file=sys.stderr)
        return 2
    fork = not args.no_fork and hasattr(os, "fork")
    MAIN_TREE[:] = {str(Path.cwd()), str(Path.cwd().resolve())}
    scratch = tempfile.TemporaryDirectory(prefix="mutation-trees-")
    trees = [Path.cwd()] + [Path(shutil.copytree(Path.cwd(), Path(scratch.name) / f"w{k}", symlinks=True))
                            for k in range(1, max(1, args.workers))]
    covered = sorted({t for ids in covering.values() for t in ids})
    if fork:
        preload()
        fate, _ = run_tests(covered, args.timeout * 10, trees[-1], fork=True)
        if fate != "survived":  # e.g. a test that asserts a library is not imported yet
            print(f"{path}: the covering tests fail in a forked, preloaded process on the unmutated code; run with "
                  "--no-fork", file=sys.stderr)
            return 2
    log = open(args.log, "w", encoding="utf-8") if args.log else None  # noqa: SIM115 - closed below
    header = {"module": str(path), "commit": os.environ.get("MUTATION_COMMIT") or _commit(),
              "command": " ".join(shlex.quote(a) for a in sys.argv), "candidate_tests": tests,
              "covering_tests": len(covered), "mutants": len(todo),
              "selection": "mutants" if args.only_mutants else "lines" if args.only_lines else "all",
              "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "timeout_s": args.timeout, "limit_factor": LIMIT_FACTOR, "workers": len(trees), "fork": fork}
    _write(log, header)
    print(f"{path}: {len(todo)} mutants, candidate tests take {secs:.1f} s under coverage", flush=True)
    fates = _run_mutants(path, tree, todo, covering, limits, stat, original, log, trees, fork)
    killed = sum(f in ("killed", "timeout") for f in fates)
    total = len(fates)
    score = 100.0 * killed / total if total else 100.0
    result = {"result": {"killed": killed, "total": total, "score": round(score, 1),
                         "survived": sum(f == "survived" for f in fates),
                         "uncovered": sum(f == "uncovered" for f in fates),
                         "timeout": sum(f == "timeout" for f in fates),
                         "not_compilable": len(todo) - total}}
    _write(log, result)
    if log:
        log.close()
    print(f"RESULT {path}: {killed}/{total} killed, score {score:.1f}% ({total - killed} survived or uncovered, "
          f"{len(todo) - total} not compilable)", flush=True)
    return 0


def _write(log, record: dict) -> None:
    if log is not None:
        log.write(json.dumps(record) + "\n")
        log.flush()


def _run_mutants(path: Path, tree: ast.AST, todo: list, covering: dict[int, list[str]], limits: dict[int, float],
                 stat: os.stat_result, original: str, log, trees: list[Path], fork: bool) -> list[str]:
    """Every mutant's fate, up to ``len(trees)`` at a time (one mutant per copy of the tree)."""
    fates: list[str] = []
    pending = iter(todo)
    site = dict(todo)
    busy: dict[int, tuple[Runner, int, str, int, int]] = {}  # slot -> (run, line, description, tests, mutant)

    nodes = list(ast.walk(tree))

    def record(fate: str, line: int, desc: str, n_tests: int, seconds: float, n: int) -> None:
        fates.append(fate)
        node = nodes[site[n][0]]
        _write(log, {"line": line, "operator": desc.split(": ", 1)[1], "fate": fate, "tests": n_tests,
                     "seconds": round(seconds, 1), "limit_s": round(limits.get(line, 0.0), 1), "mutant": n,
                     "col": getattr(node, "col_offset", 0), "code": " ".join(ast.unparse(node).split())[:120]})
        if fate in ("survived", "uncovered"):
            print(f"  {fate.upper()} {desc}", flush=True)

    def restore(slot: int) -> None:
        target = trees[slot] / path
        target.write_text(original)
        os.utime(target, (stat.st_atime, stat.st_mtime))

    try:
        exhausted = False
        while not exhausted or busy:
            for slot in range(len(trees)):
                while slot not in busy and not exhausted:
                    item = next(pending, None)
                    if item is None:
                        exhausted = True
                        break
                    n, (index, variant, desc) = item
                    source = mutate(tree, index, variant)
                    try:
                        compile(source, str(path), "exec")
                    except SyntaxError:
                        continue
                    line = int(desc.split(":")[0].split()[1])
                    tests = covering.get(line, [])
                    if not tests:
                        record("uncovered", line, desc, 0, 0.0, n)
                        continue
                    target = trees[slot] / path
                    target.write_text(source)
                    fake = stat.st_mtime + 10_000 + n
                    os.utime(target, (fake, fake))
                    busy[slot] = (Runner(trees[slot], tests, fork), line, desc, len(tests), n)
            for slot, (run, line, desc, n_tests, n) in list(busy.items()):
                fate = run.poll(limits[line])
                if fate is not None:
                    del busy[slot]
                    restore(slot)
                    record(fate, line, desc, n_tests, run.seconds, n)
            time.sleep(0.02)
    finally:
        for run, *_ in busy.values():
            run.kill_group()
        for slot in range(len(trees)):
            restore(slot)
    return fates


if __name__ == "__main__":
    raise SystemExit(main())
