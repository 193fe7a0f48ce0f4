"""Very long column names and very wide files are refused at load time (exit 2), not mid-report."""

from __future__ import annotations

import pytest

from audit.adapters._base import ModelSpec
from audit.errors import DataError
from audit.loading import load_data
from audit.loading._data import MAX_MODEL_COLUMNS, MAX_NAME_CHARS


def _spec(n: int | None = None, names: tuple[str, ...] | None = None) -> ModelSpec:
    import inspect

    params = inspect.signature(ModelSpec).parameters
    kwargs = {k: v for k, v in {"feature_names": names, "n_features": n, "categorical": {}}.items() if k in params}
    return ModelSpec(**kwargs)


def test_long_column_name_is_refused(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a," + "x" * 200_000 + "\n1,2\n")
    with pytest.raises(DataError, match=f"limited to {MAX_NAME_CHARS:,}"):
        load_data(path, _spec(names=("a",)))


def test_very_wide_file_is_refused(tmp_path):
    n = 20_000
    path = tmp_path / "d.csv"
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join("1" for _ in range(n)) + "\n")
    with pytest.raises(DataError, match=f"at most {MAX_MODEL_COLUMNS:,}"):
        load_data(path, _spec(n=n))
