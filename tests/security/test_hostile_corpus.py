"""Every hostile file exits 2 through the real CLI: bounded time and memory, nothing written or run."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.security.hostile import CASES

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120  # a hang guard (a crafted file must not loop or stall), not a performance bound
MAX_RSS_BYTES = 1 << 30
ADDRESS_SPACE_CAP = 4 << 30  # a safety net only; the RSS assertion is the bound under test


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))


def run_cli(*args: object, cwd: Path, module: str = "audit", stdout: int | None = subprocess.DEVNULL
            ) -> tuple[int, str, float, int]:
    """Run ``audit`` (or ``python -m module``) in a child process; returns (exit code, stderr, seconds, peak
    RSS bytes of that child alone: ``wait4`` on its pid, so earlier children of the test process do not count).
    ``stdout``: where the child's output goes (a file to read it back)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", module, *map(str, args)], cwd=cwd, env=env,
                                stdout=stdout, stderr=err, preexec_fn=_limit)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > TIMEOUT_S:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"audit did not finish within {TIMEOUT_S} s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    return proc.returncode, text, time.perf_counter() - t0, usage.ru_maxrss * 1024


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_file_exits_2_without_side_effects(tmp_path, case):
    canary = tmp_path / "canary"
    model = CASES[case](tmp_path, canary)
    data = tmp_path / "data.csv"
    data.write_text("a,b,c,d\n" + "\n".join("0.1,0.2,0.3,1" for _ in range(20)) + "\n")
    before = set(tmp_path.rglob("*"))
    code, err, seconds, rss = run_cli("run", model, data, "--out", tmp_path / "out", "--quiet", cwd=tmp_path)
    assert code == 2, f"{case}: exit {code}\n{err[-2000:]}"
    assert err.count("\n") <= 1 and err.startswith("error:"), err
    assert not canary.exists(), f"{case}: the payload ran"
    assert set(tmp_path.rglob("*")) == before, f"{case}: something was written"
    assert rss < MAX_RSS_BYTES, f"{case}: peak RSS {rss / 2**20:.0f} MiB"
