"""Child process of the native-format fuzzer: load each file named on the command line with the audit's
loader, and when one loads, call its model once; print one JSON line per file.

Outcomes: ``refused`` (an AuditError: the CLI's exit 2, with its message), ``loaded`` (a valid model; the
call's outcome rides along), or ``error`` (any other exception: the CLI's exit 3, a bug). A crash or a hang
of a library ends this process, which the parent sees by its exit status and clock.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np


def _call(obj, n_features: int) -> str:
    X = np.zeros((2, max(n_features, 1)), dtype=np.float32)
    try:
        kind = type(obj).__module__.split(".")[0]
        if kind == "xgboost":
            import xgboost as xgb

            obj.predict(xgb.DMatrix(X))
        elif kind == "onnxruntime":
            first = obj.get_inputs()[0]
            obj.run(None, {first.name: X[:, : (first.shape[-1] if isinstance(first.shape[-1], int) else 1)]})
        else:
            obj.predict(X)
    except Exception as exc:  # noqa: BLE001 - a library's refusal of a call is an answer, not a crash
        return f"call refused: {type(exc).__name__}"
    return "called"


def main(paths: list[str]) -> None:
    from audit.errors import AuditError
    from audit.loading import load_model

    for p in paths:
        print(json.dumps({"file": Path(p).name, "outcome": "started"}), flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                loaded = load_model(Path(p))
            except AuditError as exc:
                line = {"outcome": "refused", "exit_code": exc.exit_code, "message": str(exc)}
            except Exception as exc:  # noqa: BLE001 - what the fuzzer looks for
                line = {"outcome": "error", "message": f"{type(exc).__name__}: {str(exc)[:300]}"}
            else:
                n = (loaded.extra.get("native") or {}).get("num_feature") or 0
                line = {"outcome": "loaded", "call": _call(loaded.obj, int(n))}
        print(json.dumps({"file": Path(p).name, **line}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
