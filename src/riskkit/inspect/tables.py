"""Opening an extract file for inspection exactly as the intake does: every sheet (hidden ones
too), its header row and a bounded sample of its columns as text.

There is one reader in riskkit, not two: the encoding comes from ``intake.encoding`` (a
byte-order mark, or the whole file valid UTF-8, or valid Windows-1252 with no UTF-8 character
in it; anything else is an ``ExtractError`` naming the byte, never a guess), the delimiter and
header row from ``readers._csv_setup`` (title rows skipped as ``assess`` skips them), and
workbooks from ``intake.workbook`` (every sheet with its visibility, its dimensions not
trusted). So the draft ``inspect`` writes reads the same columns ``assess`` will. The
classification only needs what ``Sheet`` holds (a header and a sample of text values per
column), so it does not care which reader filled it.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from riskkit.errors import ExtractError
from riskkit.intake import workbook
from riskkit.readers import _csv_setup

MAX_SAMPLE_VALUES = 5000  # values per column kept for pattern checks
EXTRACT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet"}


@dataclass
class Sheet:
    """One table of an extract file: its place in the file and a sample of its columns as text."""

    path: Path
    name: str | None  # the sheet name for workbooks, None for CSV and Parquet
    visibility: str  # "visible", "hidden" or "veryHidden"
    header_row: int  # 1-based row of the header in the file or sheet
    headers: list[str]
    columns: list[list[str]]  # a sample of each column's values, stripped, empties kept
    rows: int  # data rows below the header (blank rows not counted); see ``counted``
    encoding: str | None = None
    delimiter: str | None = None
    sheets_in_file: int = 1
    notes: list[str] = field(default_factory=list)
    counted: bool = True  # False when ``rows`` is only the sample's (the caller knows the real count)


def read_tables(path: Path, count_rows: bool = True, sample_rows: int = MAX_SAMPLE_VALUES) -> Iterator[Sheet]:
    """Every table in ``path``, with at most ``sample_rows`` values per column; a file that
    cannot be read raises a one-line ``ExtractError``. With ``count_rows`` False a CSV is read
    only as far as the sample (its ``rows`` then counts the sample): for callers that already
    know the count, such as the briefing's inventory after ``ingest``."""
    path = Path(path)
    if not path.is_file():
        raise ExtractError(f"{path}: file not found; check the path.")
    if path.stat().st_size == 0:
        raise ExtractError(f"{path}: the file is empty (0 bytes); re-export it.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        yield from _read_workbook(path, sample_rows)
    elif suffix == ".parquet":
        yield _read_parquet(path, sample_rows)
    else:
        yield _read_csv(path, count_rows, sample_rows)


def _headers(cells: list[str]) -> list[str]:
    header = [c.strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    return [h or f"(column {i})" for i, h in enumerate(header, start=1)]


def _sample(headers: list[str], rows: Iterator[list[str]], sample_rows: int) -> tuple[list[list[str]], int]:
    """The first ``sample_rows`` non-blank rows as columns, and how many were taken."""
    columns: list[list[str]] = [[] for _ in headers]
    taken = 0
    while taken < sample_rows:  # checked before the next row is pulled: none is lost to the count
        row = next(rows, None)
        if row is None:
            break
        if not any(c.strip() for c in row):
            continue
        taken += 1
        for j, column in enumerate(columns):
            column.append(row[j].strip() if j < len(row) else "")
    return columns, taken


def _read_csv(path: Path, count_rows: bool, sample_rows: int) -> Sheet:
    layout = _csv_setup(path, None, None)  # intake's encoding rule, delimiter and header row
    headers = _headers(layout.headers)
    csv.field_size_limit(sys.maxsize)
    with path.open("r", encoding=layout.encoding, newline="") as fh:
        lines = (line.replace("\x00", "") if "\x00" in line else line for line in fh)
        reader = csv.reader(lines, delimiter=layout.delimiter)
        try:
            for _ in range(layout.header_row):
                next(reader, None)
            columns, rows = _sample(headers, reader, sample_rows)
            if count_rows:
                rows += sum(1 for row in reader if any(c.strip() for c in row))
        except csv.Error:
            raise ExtractError(f"{path}: cannot be parsed as CSV; check that this is a CSV export.") from None
    return Sheet(path, None, "visible", layout.header_row, headers, columns, rows, encoding=layout.encoding,
                 delimiter=layout.delimiter, counted=count_rows or rows < sample_rows)


def _read_workbook(path: Path, sample_rows: int) -> Iterator[Sheet]:
    sheets = workbook.read_sheets(path)  # read whole by intake: every row is counted anyway
    for ws in sheets:
        if ws.empty:
            yield Sheet(path, ws.name, ws.visibility, 0, [], [], 0, sheets_in_file=len(sheets), notes=["empty sheet"])
            continue
        at = workbook.find_header(ws, None)
        headers = _headers(ws.rows[at][1])
        below = ws.rows[at + 1:]
        columns, _ = _sample(headers, (cells for _, cells in below), sample_rows)
        yield Sheet(path, ws.name, ws.visibility, ws.rows[at][0], headers, columns, len(below),
                    sheets_in_file=len(sheets))


def _read_parquet(path: Path, sample_rows: int) -> Sheet:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        first = next(pf.iter_batches(batch_size=sample_rows), None)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ExtractError(f"{path}: the Parquet file cannot be read ({type(exc).__name__}); re-export it.") from None
    names = [str(n) for n in pf.schema_arrow.names]
    columns = [["" if v is None else workbook.cell_text(v).strip() for v in first.column(i).to_pylist()]
               for i in range(len(names))] if first is not None else [[] for _ in names]
    return Sheet(path, None, "visible", 1, names, columns, pf.metadata.num_rows)
