"""Portfolio scale, measured in one run on this machine (issue #14). Prints, and with --record appends
to bench/README.md:

1. `audit reasons` on ROWS x 25 HistGradientBoosting rows against calling shap's TreeExplainer directly on
   the same rows with the algorithm `audit reasons` chose (read from OUT.meta.json): the time ratio, and
   the peak RSS of the `audit reasons` process;
2. the same command with `--scheduler local:2`: the time ratio to the serial run and whether the two
   outputs are byte-identical;
3. the default audit of each model family on 4,000 x 10 synthetic rows (KNN and SVC among them): wall
   seconds against the 60 s target, with the rows and workers the time budget chose;
4. with --run-rows N: `audit run --rows N --explainers shap` on N x 25 HistGradientBoosting rows against
   the direct TreeExplainer call with the algorithm the audit recorded.

Usage: python bench/portfolio.py [--rows 100000] [--skip-families] [--skip-reasons] [--skip-direct]
       [--skip-dask] [--run-rows 30000] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
AUDIT = [sys.executable, "-m", "audit"]


def _synthetic(n: int, f: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    logit = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2] * X[:, 3] + 0.3 * np.sin(X[:, 4])
    y = (logit + rng.logistic(size=n) > 0).astype(int)
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(f)]).assign(target=y)


def _timed(cmd: list[str], codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of the child) of a command that must exit with one of ``codes``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in codes:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss // 1024


def _save(model, path: Path) -> Path:
    import skops.io as sio

    sio.dump(model, path)
    return path


def reasons_vs_shap(rows: int, tmp: Path, skip_direct: bool = False, skip_dask: bool = False) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier

    train = _synthetic(20_000, 25, seed=1)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(train.drop(columns="target"),
                                                                            train["target"])
    model_path = _save(model, tmp / "hgb.skops")
    data = _synthetic(rows, 25, seed=2).drop(columns="target")
    data_path = tmp / "portfolio.parquet"
    data.to_parquet(data_path)
    cfg = tmp / "audit.toml"
    cfg.write_text('explainers = ["shap"]\n')
    out = {}
    for name, extra in (("serial", []), ("dask", ["--scheduler", "local:2"]))[: 1 if skip_dask else 2]:
        target = tmp / f"reasons-{name}.parquet"
        out[name] = _timed([*AUDIT, "reasons", str(model_path), str(data_path), "--out", str(target), "--config",
                            str(cfg), "--quiet", "--chunk-rows", "50000", *extra])
    meta = json.loads((tmp / "reasons-serial.parquet.meta.json").read_text())["explainer"]
    params = meta["parameters"]
    background = pd.read_parquet(data_path).head(5000).to_numpy()
    # the direct call: the same algorithm on the same rows (TreeExplainer over a background of the same size)
    direct = None if skip_direct else _direct_tree_shap(model, data.to_numpy(), background, params)
    same = None if "dask" not in out else (
        (tmp / "reasons-serial.parquet").read_bytes() == (tmp / "reasons-dask.parquet").read_bytes())
    return {"rows": rows, "choice": f"{meta['algorithm']} ({params.get('feature_perturbation')}, background "
                                     f"{params.get('background_rows')})",
            "reasons_s": out["serial"][0], "reasons_rss_mib": out["serial"][1], "direct_s": direct,
            "dask_s": out["dask"][0] if "dask" in out else None, "identical": same}


def _direct_tree_shap(model, X: np.ndarray, background: np.ndarray, params: dict) -> float:
    """Seconds of shap's TreeExplainer called directly with the algorithm the audit chose, in 50,000-row calls."""
    import shap

    t0 = time.perf_counter()
    if params.get("feature_perturbation") == "interventional":
        bg = background[np.random.default_rng(0).choice(len(background), params["background_rows"], replace=False)]
        explainer = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output="raw")
    else:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    for start in range(0, len(X), 50_000):
        explainer.shap_values(X[start:start + 50_000], check_additivity=False)
    return time.perf_counter() - t0


def run_vs_shap(rows: int, tmp: Path) -> dict:
    """`audit run --rows N --explainers shap` on N x 25 HistGradientBoosting rows against the direct call."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = _synthetic(rows, 25, seed=4)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(data.drop(columns="target"),
                                                                            data["target"])
    model_path = _save(model, tmp / "hgb-run.skops")
    data_path = tmp / "run.csv"
    data.to_csv(data_path, index=False)
    out = tmp / "out-run"
    seconds, rss = _timed([*AUDIT, "run", str(model_path), str(data_path), "--target", "target", "--rows", str(rows),
                           "--explainers", "shap", "--out", str(out), "--quiet"], codes=(0, 1))
    record = json.loads((out / "results.json").read_text())
    params = record["explanations"][0]["algorithm"]["parameters"]
    X = data.drop(columns="target").to_numpy()
    direct = _direct_tree_shap(model, X, X, params)
    return {"rows": rows, "run_s": seconds, "direct_s": direct, "rss_mib": rss,
            "choice": f"{params.get('feature_perturbation')}, background {params.get('background_rows')}",
            "timings": record["reproducibility"]["timings_seconds"]}


FAMILIES = {
    "knn": "sklearn.neighbors:KNeighborsClassifier", "svc": "sklearn.svm:SVC",
    "logreg": "sklearn.linear_model:LogisticRegression", "random_forest": "sklearn.ensemble:RandomForestClassifier",
    "hist_gbm": "sklearn.ensemble:HistGradientBoostingClassifier", "mlp": "sklearn.neural_network:MLPClassifier",
}


def families(tmp: Path) -> dict[str, tuple[float, str]]:
    """Wall seconds of each family's default audit, and the rows and workers its time budget chose."""
    import importlib

    data = _synthetic(4000, 10, seed=3)
    data_path = tmp / "families.csv"
    data.to_csv(data_path, index=False)
    times = {}
    for name, target in FAMILIES.items():
        module, cls = target.split(":")
        kwargs = {"probability": True, "random_state": 0} if name == "svc" else {}
        model = getattr(importlib.import_module(module), cls)(**kwargs)
        model.fit(data.drop(columns="target"), data["target"])
        path = _save(model, tmp / f"{name}.skops")
        proc_out = tmp / f"out-{name}"
        t0 = time.perf_counter()
        code = subprocess.call([*AUDIT, "run", str(path), str(data_path), "--target", "target", "--out",
                                str(proc_out), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        if code not in (0, 1):
            raise SystemExit(f"audit run failed on {name} (exit {code})")
        plan = json.loads((proc_out / "results.json").read_text())["reproducibility"]["audit_plan"]
        times[name] = (seconds, "" if plan is None else f" ({plan['used']['rows']} rows, n_jobs {plan['n_jobs']})")
    return times


def _reasons_line(r: dict, machine: str) -> str:
    line = (f"`portfolio.py --rows {r['rows']}` ({machine}): `audit reasons` {r['reasons_s']:.1f} s "
            f"({r['rows'] / r['reasons_s']:,.0f} rows/s), peak RSS {r['reasons_rss_mib']} MiB, algorithm {r['choice']}")
    if r["direct_s"] is not None:
        line += f"; shap direct {r['direct_s']:.1f} s with the same algorithm: ratio {r['reasons_s'] / r['direct_s']:.2f}x"
    if r["dask_s"] is not None:
        line += (f"; `--scheduler local:2` {r['dask_s']:.1f} s ({r['dask_s'] / r['reasons_s']:.2f}x serial), output "
                 f"{'byte-identical' if r['identical'] else 'DIFFERENT'}")
    return line + "."


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--skip-families", action="store_true")
    ap.add_argument("--skip-reasons", action="store_true")
    ap.add_argument("--skip-direct", action="store_true", help="reasons only: no direct shap call (1M rows: ~35 min)")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--run-rows", type=int, default=0, help="also `audit run --rows N` on N x 25 HGB vs direct shap")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    machine = f"{platform.node()}, {os.cpu_count()} CPU threads, {platform.python_version()}"
    lines = []
    with tempfile.TemporaryDirectory() as d:
        if not args.skip_reasons:
            lines.append(_reasons_line(reasons_vs_shap(args.rows, Path(d), args.skip_direct, args.skip_dask), machine))
        if args.run_rows:
            r = run_vs_shap(args.run_rows, Path(d))
            lines.append(f"`audit run --rows {r['rows']} --explainers shap` on {r['rows']:,} x 25 HistGradientBoosting "
                         f"({machine}): {r['run_s']:.1f} s wall vs shap direct {r['direct_s']:.1f} s ({r['choice']}): "
                         f"ratio {r['run_s'] / r['direct_s']:.2f}x; peak RSS {r['rss_mib']} MiB; phases "
                         + ", ".join(f"{k} {v:.1f}" for k, v in r["timings"].items()) + ".")
        if not args.skip_families:
            t = families(Path(d))
            lines.append(f"Default audit on 4,000 x 10 synthetic rows ({machine}), wall seconds (rows explained and "
                         "worker processes where the time budget planned them): " + ", ".join(
                f"{k} {v:.1f}{note}" for k, (v, note) in t.items()) +
                f" (target 60 s; slowest {max(v for v, _ in t.values()):.1f} s).")
    text = "\n\n".join(lines)
    print(text)
    if args.record:
        with open(ROOT / "bench" / "README.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
