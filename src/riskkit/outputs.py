"""Writing outputs so that none is ever half-written, and restricted ones stay restricted.

Every file is written to a temporary name in the same folder and renamed into place, so a
crash leaves either the old file or the new one. Restricted outputs (anything with personal
data) are created owner-only, and every text cell bound for a spreadsheet is defused against
formula injection.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from riskkit.paths import RESTRICTED_SUBDIR

# Past this many people the contact-list workbook keeps the highest-priority ones (all are in the CSV).
XLSX_MAX_ROWS = int(os.environ.get("RISKKIT_XLSX_MAX_ROWS", 100_000))
# One character each: _leading finds them by comparing first characters.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``."""
    from riskkit.outfolder import make_private_dirs

    path = Path(path)
    make_private_dirs(path.parent)  # a folder it creates may come to hold personal data: owner-only
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode)


def write_json(path: Path, data: dict, mode: int = 0o644) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", mode)


def restricted_dir(out_dir: Path) -> Path:
    """The owner-only folder for outputs with personal data."""
    folder = Path(out_dir) / RESTRICTED_SUBDIR
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def defuse(value: object) -> object:
    """Make a text cell inert in spreadsheet software: a leading formula character gets a
    leading apostrophe-style quote (OWASP CSV injection guidance). One value through the same
    rule as whole columns (``defuse_frame``)."""
    return _defused(pd.Series([value], dtype=object)).iloc[0]


def _defused(column: pd.Series) -> pd.Series:
    """The column with every formula-led text defused. Every formula prefix is one character,
    so one vectorised look at first characters finds them (a category's labels are looked at
    once, not once per row)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        labels = column.cat.categories
        if not (labels.dtype == object or pd.api.types.is_string_dtype(labels)) or not _leading(labels).any():
            return column
        column = column.astype(object)
    elif not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return column
    rows = np.flatnonzero(_leading(column))
    if not len(rows):
        return column
    out = column.astype(object)
    out.iloc[rows] = "'" + out.iloc[rows].astype(str)
    return out


def _leading(values: pd.Series | pd.Index) -> np.ndarray:
    """True where a value is text starting with a formula character."""
    text = pd.Series(values, copy=False)
    if text.dtype == object:
        is_text = text.map(type).eq(str).to_numpy() if len(text) else np.zeros(0, bool)
        if not is_text.any():
            return is_text
        text = text.where(is_text).astype("str")
    return text.str[:1].isin(FORMULA_PREFIXES).to_numpy(dtype=bool, na_value=False)


def defuse_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{str(col): _defused(frame[col]) for col in frame.columns})


def write_restricted_csv(path: Path, frame: pd.DataFrame) -> Path:
    """An owner-only CSV, written by Arrow's C++ writer (a tenth of pandas' time for a million
    rows); a column Arrow cannot type (mixed text and numbers) goes through pandas instead."""
    safe = defuse_frame(frame)
    try:
        table = pa.Table.from_pandas(safe, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return atomic_write_text(path, safe.to_csv(index=False), mode=0o600)
    buf = pa.BufferOutputStream()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style="needed"))
    return atomic_write_bytes(path, buf.getvalue(), mode=0o600)


def _cell(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return value.item() if isinstance(value, np.generic) else value
    return str(value)


def write_restricted_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An owner-only workbook; every cell is written as a value, never as a formula.

    openpyxl's write-only mode streams rows instead of holding a cell object per value, which
    is what keeps a workbook of a hundred thousand people within memory."""
    with _temporary_files_in(path.parent):
        data = _workbook_bytes(sheets)
    return atomic_write_bytes(path, data, mode=0o600)


@contextmanager
def _temporary_files_in(folder: Path) -> Iterator[None]:
    """openpyxl streams each sheet through a temporary file holding its rows (personal data) and
    removes it at exit; a kernel killed on Ctrl-C never runs that cleanup, and the file stayed in
    TMPDIR. Inside the destination folder (restricted/, in the staging folder of a run) it goes
    with the folder when a failed or interrupted run is cleaned up."""
    before, tempfile.tempdir = tempfile.tempdir, str(folder)
    try:
        yield
    finally:
        tempfile.tempdir = before


def _workbook_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook(write_only=True)
    for title, frame in sheets.items():
        ws = wb.create_sheet(title[:31])
        safe = defuse_frame(frame)
        for i, col in enumerate(safe.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(40, max(10, len(str(col)) + 2))
        ws.freeze_panes = "A2"
        ws.append([str(c) for c in safe.columns])
        # defuse_frame leaves no text starting with "=", so openpyxl stores no cell as a formula
        for row in zip(*(safe[c].tolist() for c in safe.columns), strict=True):
            ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
