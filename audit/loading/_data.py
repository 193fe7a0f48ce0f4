"""Reading DATA: a CSV validated against what the model expects."""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import DataError, InputError, name_some
from audit.loading._base import read_bytes, sha256_bytes
from audit.types import Dataset, FeatureSpace, ModelSpec

__all__ = ["load_data", "encode_columns", "MAX_NAME_CHARS", "MAX_MODEL_COLUMNS"]

# Beyond these a report cannot lay names out (and no credit model needs them): refuse, saying so.
MAX_NAME_CHARS = 1_000
MAX_MODEL_COLUMNS = 2_000


def _closest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def load_data(path: Path, spec: ModelSpec, *, target: str | None = None,
              keep: tuple[str, ...] | Callable[[list[str], str | None], Sequence[str]] = (),
              infer_target: bool = False) -> Dataset:
    """Read and validate a CSV (or Parquet) file for a model described by ``spec``.

    Without ``target`` and with ``infer_target``, the one column that is not a model input and whose
    values fit the model's task becomes the target (see :func:`target_candidates`); several candidates
    are listed in a warning, never guessed.

    ``keep``: columns the model does not use whose raw values are kept in ``Dataset.extra`` (protected
    attributes that are not model inputs, for the proxy analysis); absent ones are simply not kept. A
    function instead is called with the file's columns and the target column and returns those names.

    Raises :class:`DataError` naming the file, column and row for: a missing or empty file, missing
    columns, text in a numeric column.
    """
    if path.suffix.lower() not in (".csv", ".tsv", ".txt", ".gz", ".parquet", ".pq"):
        raise DataError(f"data {path}: expected a .csv file (.tsv, .txt, .csv.gz and .parquet also work), "
                        f"got {path.suffix or 'no extension'!r}.")
    raw = read_bytes(path, "data")
    warnings: list[str] = []
    frame, columns, keep = _read_frame(path, raw, spec, target, keep, infer_target, warnings)
    target_source = "given" if target is not None else "none"
    if target is None and infer_target:
        target = _infer_target(frame, spec, warnings)
        target_source = "inferred" if target is not None else target_source
    y = _target_values(path, frame, columns, target)
    candidates = [c for c in columns if c != target]
    names = _model_columns(path, spec, columns, candidates, warnings)
    ignored = tuple(c for c in candidates if c not in names)
    if ignored:
        warnings.append(f"{len(ignored)} column(s) not used by the model were ignored: {name_some(list(ignored), 8)}.")

    X, categories, numeric_dtypes = encode_columns(frame, names, spec.categorical, path, warnings)
    space = FeatureSpace(tuple(names), categories, as_frame=spec.as_frame, numeric_dtypes=numeric_dtypes,
                         frame_categories={n: spec.categorical[n] for n in spec.frame_categorical})
    if callable(keep):
        keep = tuple(keep(columns, target))
    extra = {c: frame[c].to_numpy() for c in keep if c in ignored}
    return Dataset(path=str(path), sha256=sha256_bytes(raw), X=X, space=space, target=y, target_name=target,
                   ignored_columns=ignored, warnings=tuple(warnings), extra=extra, target_source=target_source)


def _read_frame(path: Path, raw: bytes, spec: ModelSpec, target: str | None, keep: Any, infer_target: bool,
                warnings: list[str]) -> tuple[pd.DataFrame, list[str], Any]:
    """The file's rows, its column names and ``keep`` (resolved to names when the header chose them).

    Only the columns the audit uses are read when the header names them all and has others besides (a
    feature-store export: 20,000 unused columns cost no more than skipping them). Inferring the target
    or matching columns by position needs every column.
    """
    wanted = None
    parquet = raw[:4] == b"PAR1"
    text = None if parquet else _decode(path, raw, warnings)
    header = None
    if spec.feature_names is not None and (target is not None or not infer_target):
        header = _parquet_header(raw) if parquet else _csv_header(text)
        if callable(keep) and header:  # the kept columns are chosen from the header's names
            keep = tuple(keep(list(header), target))
        wanted = {*spec.feature_names, *(() if callable(keep) else keep), *([target] if target is not None else [])}
    usecols = [c for c in header if c in wanted] if header and len(header) > len(wanted) else None
    usecols = usecols or None  # none of them named: the full read's errors say which are missing
    frame = _read_parquet(path, raw, usecols) if parquet else _read_csv(path, text, usecols)
    if frame.empty:
        raise DataError(f"data {path}: the header has no data rows below it. Add rows to audit.")
    frame.columns = [str(c) for c in frame.columns]
    columns = list(header) if usecols is not None else list(frame.columns)
    long_names = [i for i, c in enumerate(columns) if len(c) > MAX_NAME_CHARS]
    if long_names:
        i = long_names[0]
        raise DataError(f"data {path}: column {i + 1}'s name is {len(columns[i]):,} characters long (starts "
                        f"{columns[i][:40]!r}); names are limited to {MAX_NAME_CHARS:,}. Shorten the header.")
    return frame, columns, keep


def _infer_target(frame: pd.DataFrame, spec: ModelSpec, warnings: list[str]) -> str | None:
    """The one column that can be the target, or None with a warning listing several."""
    found = target_candidates(frame, spec)
    if len(found) == 1:
        warnings.append(f"target column {found[0]!r} inferred: the only column that is not a model input and "
                        f"whose values fit the model's {spec.task} task. Pass --target COL to choose another, "
                        "or --no-target.")
        return found[0]
    if len(found) > 1:
        warnings.append(f"no target column used: {len(found)} columns could be the target "
                        f"({name_some(found, 8)}). Pass --target COL (or --no-target to silence this).")
    return None


def _target_values(path: Path, frame: pd.DataFrame, columns: list[str], target: str | None) -> np.ndarray | None:
    """The target column's values; a missing column or an empty cell is a DataError."""
    if target is None:
        return None
    if target not in columns:
        raise DataError(
            f"data {path}: --target column {target!r} is not in the file.{_closest(target, columns)} "
            f"Columns are: {name_some(columns, 12)}."
        )
    y = frame[target].to_numpy()
    if pd.isna(frame[target]).any():
        row = int(np.flatnonzero(pd.isna(frame[target]).to_numpy())[0]) + 1
        raise DataError(f"data {path}: target column {target!r} is empty at row {row} (line {row + 1}).")
    return y


def _model_columns(path: Path, spec: ModelSpec, columns: list[str], candidates: list[str],
                   warnings: list[str]) -> tuple[str, ...]:
    """The model's input columns: by name when the model records them, else by position."""
    if spec.feature_names is not None:
        missing = [n for n in spec.feature_names if n not in columns]
        if missing:
            hint = _closest(missing[0], candidates)
            raise DataError(
                f"data {path}: {len(missing)} column(s) the model needs are missing: "
                f"{name_some(missing)}.{hint} Add them or fix the header."
            )
        names = spec.feature_names
    else:
        if spec.n_features is not None and len(candidates) != spec.n_features:
            raise DataError(
                f"data {path}: the model has no feature names and expects {spec.n_features} columns, "
                f"but the file has {len(candidates)} (excluding the target). Give exactly the model's "
                "columns, in training order, or pass --target."
            )
        names = tuple(candidates)
        warnings.append(
            "the model records no feature names: the file's columns were matched by position "
            f"({name_some(list(names), 8)})."
        )
    if len(names) > MAX_MODEL_COLUMNS:
        raise DataError(f"data {path}: the model would use {len(names):,} columns; at most {MAX_MODEL_COLUMNS:,} "
                        "can be audited and reported. Select the model's columns (or reduce the features).")
    return names


def encode_columns(frame: pd.DataFrame, names: tuple[str, ...] | list[str], known: Mapping[str, tuple[Any, ...]],
                   path: Path, warnings: list[str], *, first_row: int = 1) -> tuple[np.ndarray, dict, dict]:
    """The model's columns of ``frame`` as one float matrix (categories as codes into ``known`` plus any
    unseen values, which are warned about), with the categories and integer dtypes found. A text cell
    in a numeric column is a DataError naming the row (``first_row`` is the frame's first data row)."""
    X = np.empty((len(frame), len(names)), dtype=float)
    categories: dict[str, tuple[Any, ...]] = {}
    numeric_dtypes: dict[str, str] = {}
    for j, name in enumerate(names):
        col = frame[name]
        if name in known:
            cats, codes = _encode_categorical(col, known[name])
            unseen = [c for c in cats if known[name] and c not in known[name]]
            if unseen:
                warnings.append(f"column {name!r} has value(s) unseen in training: {name_some(unseen)}.")
            categories[name] = cats
            X[:, j] = codes
            continue
        numbers = pd.to_numeric(col, errors="coerce")
        bad = numbers.isna().to_numpy() & col.notna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + first_row
            raise DataError(
                f"data {path}: column {name!r} must be numeric for this model, but row {row} "
                f"(line {row + 1}) holds {col.iloc[row - first_row]!r}"
                f"{f' ({int(bad.sum())} such rows)' if bad.sum() > 1 else ''}. Fix or remove those values"
                f"{_decimal_comma_hint(col.iloc[row - first_row])}."
            )
        if pd.api.types.is_integer_dtype(col.dtype):
            numeric_dtypes[name] = "int64"
        X[:, j] = numbers.to_numpy(dtype=float)
    return X, categories, numeric_dtypes


def _csv_header(text: str) -> list[str] | None:
    """The header's column names as pandas reads them, or None when they could differ from pandas' (a
    quoted line break, an empty or repeated name, which pandas renames)."""
    line = _first_line(text).rstrip("\r")
    if line.count('"') % 2:
        return None
    try:
        names = next(csv.reader([line], delimiter=_delimiter(text), skipinitialspace=True), [])
    except csv.Error:  # a field over the csv module's limit: pandas reads it, and its length is refused
        return None
    if not names or any(not n for n in names) or len(set(names)) != len(names):
        return None
    return names


def _parquet_header(raw: bytes) -> list[str] | None:
    """A Parquet file's column names (None when pyarrow cannot read them: the full read says why)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = [str(n) for n in pq.ParquetFile(pa.BufferReader(raw)).schema_arrow.names]
    except Exception:  # noqa: BLE001 - the full read reports a missing pyarrow or a damaged file
        return None
    return names if len(set(names)) == len(names) else None


def _read_csv(path: Path, text: str, usecols: list[str] | None = None) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=_delimiter(text), skipinitialspace=True, usecols=usecols)
    except pd.errors.EmptyDataError:
        raise DataError(f"data {path}: the file has no header and no rows.") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"data {path}: not a readable CSV ({str(exc).strip()}). Fix the file format.") from None


def _read_parquet(path: Path, raw: bytes, usecols: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file (by its magic number) from the bytes that were hashed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"data {path}: a Parquet file needs pyarrow. Install it with "
                         "pip install 'xai-audit[parquet]'.") from None
    try:
        return pq.read_table(pa.BufferReader(raw), columns=usecols).to_pandas()
    except Exception as exc:  # noqa: BLE001 - pyarrow's own errors: one clear message
        raise DataError(f"data {path}: not a readable Parquet file ({str(exc)[:200]}).") from None


def target_candidates(frame: pd.DataFrame, spec: ModelSpec) -> list[str]:
    """Columns that are not model inputs and could be the target: the column a torch spec names, else
    those without gaps whose values are a subset of a classifier's classes (at least two of them), or
    numeric for a regressor. Without feature names every column is an input, so there is none."""
    if spec.feature_names is None or spec.task is None:
        return []
    others = [c for c in frame.columns if c not in spec.feature_names]
    if spec.target is not None:
        return [spec.target] if spec.target in others else []
    found = []
    classes = {_class_key(k) for k in spec.classes or ()}
    for c in others:
        col = frame[c]
        if col.isna().any():
            continue
        if spec.task == "regression":
            if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
                found.append(c)
            continue
        unique = col.unique()
        if len(unique) > len(classes) and pd.api.types.is_numeric_dtype(col.dtype):
            continue  # distinct numbers are distinct classes: too many (cheap; a wide file has thousands)
        values = {_class_key(v) for v in unique}
        if len(values) >= 2 and values <= classes:
            found.append(c)
    return found


def _class_key(v: Any) -> str:
    """A value as a class name would print (1.0 and "1" both match class 1)."""
    v = _key(v)
    try:
        f = float(v)
        return str(int(f)) if f.is_integer() else repr(f)
    except (TypeError, ValueError):
        return str(v)


def _decode(path: Path, raw: bytes, warnings: list[str]) -> str:
    """Bytes -> text: gzip by its magic number, UTF-8 (a byte-order mark is dropped), else Windows-1252."""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"data {path}: a damaged gzip file ({exc}). Re-create it.") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise DataError(f"data {path}: not UTF-8 text (byte {exc.start}) nor Windows-1252. "
                            "Save the file as UTF-8 CSV.") from None
        warnings.append(f"the data file is not UTF-8 (byte {exc.start}); it was read as Windows-1252.")
        return text


def _delimiter(text: str) -> str:
    """The header line's most frequent of , ; tab | (comma when none appears)."""
    header = _first_line(text)
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _first_line(text: str) -> str:
    """The text up to its first line break (without copying the rest of a large file)."""
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _decimal_comma_hint(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
        return " (it looks like a decimal comma: write numbers with a '.' decimal point)"
    return ""


def _encode_categorical(col: pd.Series, known: tuple[Any, ...]) -> tuple[tuple[Any, ...], np.ndarray]:
    values = col.to_numpy(dtype=object)
    present = pd.notna(col).to_numpy()
    cats = list(known)
    seen = {_key(c) for c in cats}
    extra = sorted({v for v in values[present] if _key(v) not in seen}, key=str)
    cats += extra
    index = {_key(c): i for i, c in enumerate(cats)}
    codes = np.full(len(values), np.nan)
    codes[present] = [index[_key(v)] for v in values[present]]
    return tuple(_plain(c) for c in cats), codes


def _key(v: Any) -> Any:
    if isinstance(v, (np.integer, np.floating)):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
