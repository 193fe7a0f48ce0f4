"""Portfolio scale, measured in one run on this machine (issue #14). Prints, and with --record appends
to bench/README.md:

1. `audit reasons` on ROWS x 25 HistGradientBoosting rows against calling shap's TreeExplainer directly on
   the same rows with the algorithm `audit reasons` chose (read from OUT.meta.json): the time ratio, and
   the peak RSS of the `audit reasons` process;
2. the same command with `--scheduler local:2`: the time ratio to the serial run and whether the two
   outputs are byte-identical;
3. the default audit (200 rows) of each model family on 4,000 x 10 synthetic rows (KNN and SVC among
   them): wall seconds against the 60 s target.

Usage: python bench/portfolio.py [--rows 100000] [--skip-families] [--record]
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


def _timed(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of the child) of a command that must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss // 1024


def _save(model, path: Path) -> Path:
    import skops.io as sio

    sio.dump(model, path)
    return path


def reasons_vs_shap(rows: int, tmp: Path) -> dict:
    import shap
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
    for name, extra in (("serial", []), ("dask", ["--scheduler", "local:2"])):
        target = tmp / f"reasons-{name}.parquet"
        out[name] = _timed([*AUDIT, "reasons", str(model_path), str(data_path), "--out", str(target), "--config",
                            str(cfg), "--quiet", "--chunk-rows", "50000", *extra])
    meta = json.loads((tmp / "reasons-serial.parquet.meta.json").read_text())["explainer"]
    params = meta["parameters"]
    background = pd.read_parquet(data_path).head(5000).to_numpy()
    # the direct call: the same algorithm on the same rows (TreeExplainer over a background of the same size)
    t0 = time.perf_counter()
    X = data.to_numpy()
    if params.get("feature_perturbation") == "interventional":
        bg = background[np.random.default_rng(0).choice(len(background), params["background_rows"], replace=False)]
        explainer = shap.TreeExplainer(model, data=bg, feature_perturbation="interventional", model_output="raw")
    else:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
    for start in range(0, len(X), 50_000):
        explainer.shap_values(X[start:start + 50_000], check_additivity=False)
    direct = time.perf_counter() - t0
    same = (tmp / "reasons-serial.parquet").read_bytes() == (tmp / "reasons-dask.parquet").read_bytes()
    return {"rows": rows, "choice": f"{meta['algorithm']} ({params.get('feature_perturbation')}, background "
                                     f"{params.get('background_rows')})",
            "reasons_s": out["serial"][0], "reasons_rss_mib": out["serial"][1], "direct_s": direct,
            "dask_s": out["dask"][0], "identical": same}


FAMILIES = {
    "knn": "sklearn.neighbors:KNeighborsClassifier", "svc": "sklearn.svm:SVC",
    "logreg": "sklearn.linear_model:LogisticRegression", "random_forest": "sklearn.ensemble:RandomForestClassifier",
    "hist_gbm": "sklearn.ensemble:HistGradientBoostingClassifier", "mlp": "sklearn.neural_network:MLPClassifier",
}


def families(tmp: Path) -> dict[str, float]:
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
        times[name] = time.perf_counter() - t0
        if code not in (0, 1):
            raise SystemExit(f"audit run failed on {name} (exit {code})")
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--skip-families", action="store_true")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    machine = f"{platform.node()}, {os.cpu_count()} CPU threads, {platform.python_version()}"
    lines = []
    with tempfile.TemporaryDirectory() as d:
        r = reasons_vs_shap(args.rows, Path(d))
        lines.append(f"`portfolio.py --rows {r['rows']}` ({machine}): `audit reasons` {r['reasons_s']:.1f} s vs shap "
                     f"direct {r['direct_s']:.1f} s with the same algorithm, {r['choice']}: ratio "
                     f"{r['reasons_s'] / r['direct_s']:.2f}x; peak RSS {r['reasons_rss_mib']} MiB; "
                     f"`--scheduler local:2` {r['dask_s']:.1f} s ({r['dask_s'] / r['reasons_s']:.2f}x serial), "
                     f"output {'byte-identical' if r['identical'] else 'DIFFERENT'}.")
        if not args.skip_families:
            t = families(Path(d))
            lines.append("Default audit (200 rows) on 4,000 x 10 synthetic rows, wall seconds: " + ", ".join(
                f"{k} {v:.1f}" for k, v in t.items()) + f" (target 60 s; slowest {max(t.values()):.1f} s).")
    text = "\n\n".join(lines)
    print(text)
    if args.record:
        with open(ROOT / "bench" / "README.md", "a", encoding="utf-8") as fh:
            fh.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
