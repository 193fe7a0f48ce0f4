"""A wide file (the model's columns plus thousands of others, as a feature-store export) reads only the
columns the audit uses, and gives the same dataset as the narrow file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.adapters._base import ModelSpec
from audit.loading import load_data
from tests.conftest import SAMPLES

FEATURES = ("sex", "job", "housing", "saving_accounts", "checking_account", "credit_amount", "duration", "purpose",
            "age")


def _spec() -> ModelSpec:
    categorical = {c: () for c in ("sex", "housing", "saving_accounts", "checking_account", "purpose")}
    return ModelSpec(feature_names=FEATURES, n_features=len(FEATURES), categorical=categorical, task="binary",
                     classes=("0", "1"))


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    narrow = pd.read_csv(SAMPLES / "german_credit.csv").head(200)
    extra = pd.DataFrame(np.arange(200 * 3000).reshape(200, 3000) % 97, columns=[f"fs_{i}" for i in range(3000)])
    path = tmp_path_factory.mktemp("wide") / "wide.csv"
    pd.concat([narrow.iloc[:, :3], extra, narrow.iloc[:, 3:]], axis=1).to_csv(path, index=False)
    small = path.with_name("narrow.csv")
    narrow.to_csv(small, index=False)
    return path, small


@pytest.mark.parametrize("parquet", [False, True])
def test_wide_file_reads_only_the_used_columns_and_matches_the_narrow_file(wide, parquet, monkeypatch):
    path, small = wide
    if parquet:
        pd.read_csv(path).to_parquet(path.with_suffix(".parquet"))
        pd.read_csv(small).to_parquet(small.with_suffix(".parquet"))
        path, small = path.with_suffix(".parquet"), small.with_suffix(".parquet")
    from audit.loading import _data

    read = _data._read_parquet if parquet else _data._read_csv
    seen = []
    monkeypatch.setattr(_data, "_read_parquet" if parquet else "_read_csv",
                        lambda *a: seen.append(a[-1]) or read(*a))
    ds = load_data(path, _spec(), target="risk", keep=("sex", "age"))
    assert sorted(seen[0]) == sorted({*FEATURES, "risk"})  # usecols: 3,000 others never parsed
    assert len(ds.ignored_columns) == 3000 and ds.ignored_columns[:2] == ("fs_0", "fs_1")
    assert any("3000 column(s) not used by the model" in w for w in ds.warnings)
    ref = load_data(small, _spec(), target="risk", keep=("sex", "age"))
    np.testing.assert_array_equal(ds.X, ref.X)
    np.testing.assert_array_equal(ds.target, ref.target)
    assert ds.space.names == ref.space.names and dict(ds.space.categories) == dict(ref.space.categories)


def test_inferring_the_target_still_reads_every_column(wide):
    path, _ = wide
    ds = load_data(path, _spec(), infer_target=True)
    assert ds.target_name == "risk" and ds.target_source == "inferred"


def test_a_header_pandas_would_rename_takes_the_full_read(tmp_path):
    path = tmp_path / "dup.csv"
    narrow = pd.read_csv(SAMPLES / "german_credit.csv").head(50)
    text = narrow.to_csv(index=False).splitlines()
    path.write_text("\n".join([text[0] + ",x,x,"] + [line + ",1,2,3" for line in text[1:]]) + "\n")
    ds = load_data(path, _spec(), target="risk")
    assert ds.ignored_columns == ("x", "x.1", "Unnamed: 12")


def test_missing_model_columns_are_still_named(wide, tmp_path):
    path, _ = wide
    frame = pd.read_csv(path).drop(columns=["age"])
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    from audit.errors import DataError

    with pytest.raises(DataError, match="'age'"):
        load_data(bad, _spec(), target="risk")
