"""A small AST mutation tester: one mutant at a time, a pytest subset per module, a per-mutant timeout.

Why not mutmut 3.x: it copies the tree into ``mutants/`` and runs the whole ``tests_dir`` behind a
trampoline, with no mapping from a module to the fast tests that cover it; on a 2-core machine the
per-module subsets below are what keeps a run bounded. The operators are the usual ones:

- comparisons: ``<`` <-> ``<=``, ``>`` <-> ``>=``, ``==`` <-> ``!=``, ``in`` <-> ``not in``, ``is`` <-> ``is not``
- ``and`` <-> ``or``; ``not x`` -> ``x``; ``-x`` -> ``x``
- arithmetic ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``, ``**`` -> ``*``, ``|`` <-> ``&``;
  ``a - b`` -> ``a`` (drops a subtracted set such as the NEVER list)
- numbers: ``0`` -> ``1``, ``1`` -> ``0``, other ints ``n`` -> ``n + 1``, floats ``x`` -> ``x * 2`` (0.0 -> 1.0);
  ``True`` <-> ``False``

Docstrings, other strings, annotations and ``__all__`` are not mutated. A mutant is *killed* when the
subset fails or times out. The source file is rewritten in place and always restored (with its mtime,
so cached bytecode stays valid); each mutant gets a distinct mtime and no bytecode is written for it.

Usage: python bench/mutate.py MODULE.py --tests "tests/gate -x" [--timeout 120] [--limit N]
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
       ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
       ast.Pow: ast.Mult, ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr}


def _skip_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, __all__."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                mark(a.annotation)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            mark(node)
    return skip


def sites(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(node index in ast.walk order, variant, description) for every mutation."""
    skip = _skip_nodes(tree)
    out = []
    for i, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in CMP:
                    out.append((i, k, f"line {line}: {type(op).__name__} -> {CMP[type(op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            out.append((i, 0, f"line {line}: {type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            out.append((i, 0, f"line {line}: drop {type(node.op).__name__}"))
        elif isinstance(node, ast.BinOp) and type(node.op) in BIN:
            out.append((i, 0, f"line {line}: {type(node.op).__name__} -> {BIN[type(node.op)].__name__}"))
            if isinstance(node.op, ast.Sub):
                out.append((i, 1, f"line {line}: a - b -> a"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            out.append((i, 0, f"line {line}: constant {node.value!r} -> {_constant(node.value)!r}"))
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


def run_tests(tests: str, timeout: float) -> tuple[bool, float]:
    """True when the subset passes (mutant survived)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-o", "addopts=",
           *shlex.split(tests)]
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        return res.returncode == 0, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - t0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the finally block restores the source file


def main() -> int:
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    p = argparse.ArgumentParser()
    p.add_argument("module")
    p.add_argument("--tests", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--only-lines", default="", help="comma-separated line numbers to mutate (re-checks)")
    args = p.parse_args()
    path = Path(args.module)
    original = path.read_text()
    stat = path.stat()
    tree = ast.parse(original)
    todo = sites(tree)
    if args.only_lines:
        wanted = {f"line {n}:" for n in args.only_lines.split(",")}
        todo = [s for s in todo if any(s[2].startswith(w) for w in wanted)]
    if args.limit:
        todo = todo[: args.limit]
    ok, secs = run_tests(args.tests, args.timeout * 3)
    if not ok:
        print(f"{path}: the test subset fails on the unmutated code; fix that first", file=sys.stderr)
        return 2
    print(f"{path}: {len(todo)} mutants, subset takes {secs:.1f} s unmutated", flush=True)
    survived, killed, skipped = [], 0, 0
    try:
        for n, (index, variant, desc) in enumerate(todo):
            source = mutate(tree, index, variant)
            try:
                compile(source, str(path), "exec")
            except SyntaxError:
                skipped += 1
                continue
            path.write_text(source)
            fake = stat.st_mtime + 10_000 + n
            os.utime(path, (fake, fake))
            alive, _ = run_tests(args.tests, args.timeout)
            if alive:
                survived.append(desc)
                print(f"  SURVIVED {desc}", flush=True)
            else:
                killed += 1
    finally:
        path.write_text(original)
        os.utime(path, (stat.st_atime, stat.st_mtime))
    total = killed + len(survived)
    score = 100.0 * killed / total if total else 100.0
    print(f"RESULT {path}: {killed}/{total} killed, score {score:.1f}% ({len(survived)} survived, "
          f"{skipped} not compilable)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
