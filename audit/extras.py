"""Optional dependencies (the package's extras): which extra installs each, and the one error for a
missing one (exit 2 with the install command, never an internal error).

>>> EXTRAS["pyarrow"], EXTRAS["captum"]
('parquet', 'torch')
>>> str(missing_extra(ModuleNotFoundError("No module named 'lightgbm'", name="lightgbm"), "model m.txt"))
"model m.txt: needs the optional package lightgbm, which is not installed. Install it with pip install 'xai-audit[lightgbm]'."
"""

from __future__ import annotations

import importlib
from types import ModuleType

from audit.errors import InputError

__all__ = ["EXTRAS", "missing_extra", "require"]

# top-level module -> the extra in pyproject.toml that installs it
EXTRAS = {"pyarrow": "parquet", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
          "onnx": "onnx", "onnxruntime": "onnx", "mlflow": "mlflow", "dask": "dask", "distributed": "dask",
          "torch": "torch", "captum": "torch", "safetensors": "torch"}


def missing_extra(exc: BaseException, where: str = "") -> InputError | None:
    """The exit-2 error for an import of an optional package that is not installed (``where``: the file or
    option that needed it), or None when ``exc`` is something else."""
    if not isinstance(exc, ImportError):
        return None
    name = (exc.name or "").split(".")[0]
    if name not in EXTRAS:
        return None
    return InputError(f"{where + ': ' if where else ''}needs the optional package {name}, which is not installed. "
                      f"Install it with pip install 'xai-audit[{EXTRAS[name]}]'.")


def require(module: str, where: str) -> ModuleType:
    """``module`` imported, or the exit-2 error saying which extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        error = missing_extra(exc, where)
        if error is None:
            raise
        raise error from None
