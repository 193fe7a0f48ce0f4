"""Chunked CSV reading through pyarrow (issue #29): where every input is numeric, pyarrow's streaming reader
parses the file and gives exactly the values (and chunk boundaries) pandas' chunked reader gives; a cell it
cannot read hands the rest to pandas, whose error names the row."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import audit.loading._stream as stream
from audit.errors import DataError
from audit.loading import iter_chunks
from audit.types import FeatureSpace

pytest.importorskip("pyarrow.csv")

SPACE = FeatureSpace(("a", "b", "c"), {})


def _frame(n: int = 12_345) -> pd.DataFrame:
    rng = np.random.default_rng(29)
    frame = pd.DataFrame({"a": rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, n), "b": rng.lognormal(10, 2, n),
                          "c": rng.integers(0, 100, n), "note": rng.choice(["x", "y, z"], n)})
    frame.loc[[i for i in (5, 4000) if i < n], "a"] = np.nan
    return frame


def _read(path, monkeypatch=None, chunk_rows=1000):
    """(start, X) of every chunk; with ``monkeypatch``, pandas only (pyarrow's reader switched off)."""
    if monkeypatch is not None:
        monkeypatch.setattr(stream, "_arrow_frames", lambda *a, **k: None)
    return [(start, X) for start, X, _ in iter_chunks(path, SPACE, chunk_rows=chunk_rows)]


def _same(a, b) -> None:
    assert [s for s, _ in a] == [s for s, _ in b]
    for (_, x), (_, y) in zip(a, b):
        np.testing.assert_array_equal(x, y)  # bit for bit, NaN in the same cells


@pytest.mark.parametrize("gz", [False, True])
def test_pyarrow_reads_the_values_pandas_reads(tmp_path, monkeypatch, gz):
    text = _frame().to_csv(index=False).replace("\n7", "\n 7")  # leading spaces too (pandas skips them)
    text = text.replace(",,", ",NA,", 1).replace(",,", ",None,", 1)  # pandas' missing-value words
    path = tmp_path / ("d.csv.gz" if gz else "d.csv")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    used = []
    real = stream._arrow_frames
    monkeypatch.setattr(stream, "_arrow_frames", lambda *a, **k: used.append(1) or real(*a, **k))
    arrow = _read(path, chunk_rows=1000)
    assert used, "pyarrow's reader was not used"
    monkeypatch.undo()
    pandas = _read(path, monkeypatch, chunk_rows=1000)
    assert len(arrow) == 13 and [len(x) for _, x in arrow][:-1] == [1000] * 12
    _same(arrow, pandas)
    assert np.isnan(arrow[0][1][5, 0]) and np.isnan(arrow[4][1][0, 0])


def test_a_text_cell_after_the_first_chunks_gets_pandas_row_message(tmp_path, monkeypatch):
    frame = _frame(40_000).astype({"b": object})
    frame.loc[30_000, "b"] = "12,5"  # a decimal comma, in a block pyarrow reaches after yielding chunks
    frame.to_csv(tmp_path / "d.csv", index=False)
    chunks = iter_chunks(tmp_path / "d.csv", SPACE, chunk_rows=5000)
    got = [next(chunks) for _ in range(6)]  # rows 1..30,000
    assert got[-1][0] == 25_001
    with pytest.raises(DataError, match="row 30001"):
        next(chunks)
    with pytest.raises(DataError, match="row 30001"):
        _read(tmp_path / "d.csv", monkeypatch, chunk_rows=5000)


def test_categorical_inputs_stay_with_pandas(tmp_path, monkeypatch):
    """pyarrow would keep a category's leading space, which pandas strips: such files are pandas' alone."""
    _frame(300).to_csv(tmp_path / "d.csv", index=False)
    monkeypatch.setattr(stream, "_arrow_frames", lambda *a, **k: pytest.fail("pyarrow used for a categorical input"))
    space = FeatureSpace(("a", "note"), {"note": ("x", "y, z")})
    chunks = list(iter_chunks(tmp_path / "d.csv", space, chunk_rows=100))
    assert [s for s, _, _ in chunks] == [1, 101, 201]
