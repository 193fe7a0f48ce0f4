"""Reading DATA in chunks for whole-portfolio work: memory stays flat with the file's size.

CSV (delimiter from the header line, UTF-8 or Windows-1252, gzip by magic number) through pandas'
chunked reader, Parquet through pyarrow's batch iterator (the ``parquet`` extra). Each chunk is
encoded into the model's feature space; a category unseen so far is appended to that column's
categories, so earlier codes keep their meaning.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from audit.errors import DataError, InputError, name_some
from audit.loading._data import encode_columns
from audit.types import FeatureSpace

__all__ = ["iter_chunks", "is_parquet", "sample_file"]

_PARQUET_MAGIC = b"PAR1"


def is_parquet(path: Path) -> bool:
    """Parquet by content (its magic number), whatever the suffix."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == _PARQUET_MAGIC
    except OSError:
        return False


def _csv_frames(path: Path, chunk_rows: int, columns: list[str], *, every_column: bool = False,
                numeric: set[str] | None = None) -> Iterator[pd.DataFrame]:
    """DATA's ``columns`` in frames of ``chunk_rows`` rows. When ``numeric`` names every one of them (no
    categorical input), the file is UTF-8 and pyarrow is installed, pyarrow's streaming reader parses it
    (:func:`_arrow_frames`: the same values, several times faster than pandas' chunked reader); a cell it
    cannot read hands the rest of the file to pandas, whose error names the row."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    compression = "gzip" if head[:2] == b"\x1f\x8b" else None
    encoding = "utf-8-sig"
    if compression is None:
        try:
            head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not a multi-byte character cut at the buffer's end
                encoding = "cp1252"
    import gzip

    opener = gzip.open if compression else open
    with opener(path, "rt", encoding=encoding, newline="") as fh:  # type: ignore[operator]
        header = fh.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    sep = max(counts, key=lambda d: counts[d])
    sep = sep if counts[sep] > counts[","] else ","
    names = next(csv.reader([header], delimiter=sep))
    missing = [c for c in columns if c not in [n.strip() for n in names]]
    if missing:
        raise DataError(f"data {path}: column(s) the model needs are missing: {name_some(missing)}.")
    done = 0
    if numeric is not None and not every_column and encoding == "utf-8-sig" and len(set(names)) == len(names):
        wanted = [n for n in names if n.strip() in columns]
        try:
            arrow = _arrow_frames(path, chunk_rows, wanted, sep, compression) if len(wanted) == len(numeric) else None
            for frame in arrow or ():
                yield frame
                done += len(frame)
            if arrow is not None:
                return
        except ValueError:  # pyarrow.ArrowInvalid: e.g. a text cell in a numeric column; pandas names its row
            pass
    yield from pd.read_csv(path, sep=sep, chunksize=chunk_rows, compression=compression, encoding=encoding,
                           skipinitialspace=True, usecols=None if every_column else lambda c: str(c).strip() in columns,
                           skiprows=range(1, done + 1) if done else None)


# pandas' default missing-value strings (read_csv's na_values), so pyarrow reads the same cells as missing
PANDAS_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
             "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def _arrow_frames(path: Path, chunk_rows: int, names: list[str], sep: str, compression: str | None
                  ) -> Iterator[pd.DataFrame] | None:
    """Numeric columns read by pyarrow's streaming CSV reader as float64, in frames of exactly ``chunk_rows``
    rows (the values pandas reads: both parse decimal text to the nearest double; tested), or None without
    pyarrow. A cell pyarrow cannot read as a number raises ``ValueError`` (``ArrowInvalid``) when its block
    is reached."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        return None
    convert = pcsv.ConvertOptions(include_columns=names, column_types={n: pa.float64() for n in names},
                                  null_values=list(PANDAS_NA), strings_can_be_null=True)
    stream = pa.input_stream(str(path), compression="gzip" if compression else None)
    reader = pcsv.open_csv(stream, read_options=pcsv.ReadOptions(block_size=1 << 22),
                           parse_options=pcsv.ParseOptions(delimiter=sep), convert_options=convert)

    def frames() -> Iterator[pd.DataFrame]:
        pending: list = []
        held = 0
        for batch in reader:
            pending.append(batch)
            held += batch.num_rows
            while held >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield table.slice(0, chunk_rows).to_pandas()
                pending, held = table.slice(chunk_rows).to_batches(), held - chunk_rows
        if held:
            yield pa.Table.from_batches(pending).to_pandas()

    return frames()


def _parquet_frames(path: Path, chunk_rows: int, columns: list[str], *, every_column: bool = False
                    ) -> Iterator[pd.DataFrame]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"data {path}: a Parquet file needs pyarrow. Install it with "
                         "pip install 'xai-audit[parquet]'.") from None
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow's own errors: one clear message
        raise DataError(f"data {path}: not a readable Parquet file ({exc}).") from None
    missing = [c for c in columns if c not in pf.schema_arrow.names]
    if missing:
        raise DataError(f"data {path}: column(s) the model needs are missing: {name_some(missing)}.")
    for batch in pf.iter_batches(batch_size=chunk_rows, columns=None if every_column else columns):
        yield batch.to_pandas()


def sample_file(path: Path, out: Path, columns: list[str], *, rows: int, seed: int, chunk_rows: int = 50_000) -> int:
    """Write a uniform random sample of ``rows`` rows of DATA (every column, file order kept) to ``out``
    (Parquet when DATA is Parquet, else CSV), reading DATA in chunks: memory holds the sample, never the
    file. Each row draws a key from one seeded stream; the ``rows`` smallest keys win. Returns the rows
    in DATA."""
    if not path.is_file():
        raise InputError(f"data {path}: file not found. Check the path.")
    parquet = is_parquet(path)
    reader = _parquet_frames if parquet else _csv_frames
    rng = np.random.default_rng(seed)
    kept: pd.DataFrame | None = None
    seen = 0
    for frame in reader(path, chunk_rows, columns, every_column=True):
        frame = frame.assign(_key=rng.random(len(frame)), _row=np.arange(seen, seen + len(frame)))
        seen += len(frame)
        kept = frame if kept is None else pd.concat([kept, frame], ignore_index=True)
        if len(kept) > rows:
            kept = kept.nsmallest(rows, "_key")
    if kept is None:
        raise InputError(f"data {path}: no rows.")
    kept = kept.sort_values("_row").drop(columns=["_key", "_row"])
    if parquet:
        kept.to_parquet(out, index=False)
    else:
        kept.to_csv(out, index=False)
    return seen


def iter_chunks(path: Path, space: FeatureSpace, *, chunk_rows: int = 5000,
                warnings: list[str] | None = None) -> Iterator[tuple[int, np.ndarray, FeatureSpace]]:
    """``(first row, encoded rows, feature space)`` for consecutive chunks of DATA (rows are 1-based).

    >>> # for start, X, space in iter_chunks(Path("portfolio.parquet"), adapter.space): ...
    """
    if not path.is_file():
        raise InputError(f"data {path}: file not found. Check the path.")
    columns = list(space.names)
    numeric = {c for c in columns if c not in space.categories}
    frames = (_parquet_frames(path, chunk_rows, columns) if is_parquet(path)
              else _csv_frames(path, chunk_rows, columns, numeric=numeric if len(numeric) == len(columns) else None))
    start = 1
    warnings = [] if warnings is None else warnings
    try:
        for frame in frames:
            frame.columns = [str(c).strip() for c in frame.columns]
            X, categories, _ = encode_columns(frame, columns, space.categories, path, warnings, first_row=start)
            if any(tuple(categories[n]) != tuple(space.categories[n]) for n in categories):
                space = replace(space, categories={**space.categories, **categories})
            yield start, X, space
            start += len(frame)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"data {path}: not a readable CSV near row {start} ({str(exc).strip()[:200]}).") from None
