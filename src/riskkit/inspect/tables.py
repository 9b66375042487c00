"""Opening an extract file for inspection: every sheet (hidden ones too), its header row and
its columns as text.

This module is deliberately thin and stands alone: it opens CSV (encoding and delimiter
detected), XLSX (openpyxl) and Parquet (pyarrow) files and yields one ``Sheet`` per table.
It will be replaced by the intake readers (every sheet with visibility, header row found,
strict encoding detection) when those are merged; the classification in this package only
needs what ``Sheet`` holds (a header and a list of text values per column), so swapping the
reader touches nothing else.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from riskkit.errors import ExtractError

HEADER_SCAN_ROWS = 20  # title rows above the header are looked for in this many rows
MAX_SAMPLE_VALUES = 5000  # values per column kept for pattern checks; rows are all counted
EXTRACT_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet"}


@dataclass
class Sheet:
    """One table of an extract file: its place in the file and its columns as text."""

    path: Path
    name: str | None  # the sheet name for workbooks, None for CSV and Parquet
    visibility: str  # "visible", "hidden" or "veryHidden"
    header_row: int  # 1-based row of the header in the file or sheet
    headers: list[str]
    columns: list[list[str]]  # a sample of each column's values, stripped, empties kept
    rows: int  # data rows below the header (trailing empty rows not counted)
    encoding: str | None = None
    delimiter: str | None = None
    sheets_in_file: int = 1
    notes: list[str] = field(default_factory=list)


def read_tables(path: Path) -> Iterator[Sheet]:
    """Every table in ``path``; a file that cannot be read raises a one-line ``ExtractError``."""
    path = Path(path)
    if not path.is_file():
        raise ExtractError(f"{path}: file not found; check the path.")
    if path.stat().st_size == 0:
        raise ExtractError(f"{path}: the file is empty (0 bytes); re-export it.")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        yield from _read_workbook(path)
    elif suffix == ".parquet":
        yield _read_parquet(path)
    else:
        yield _read_csv(path)


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes, else Windows-1252 (what Excel
    on a UK desktop writes for "CSV"); "ascii" when every byte is ASCII, since such a file
    reads the same in either and no content can tell which one the exporting system used."""
    dec = codecs.getincrementaldecoder("utf-8-sig")()
    ascii_only = True
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                ascii_only = ascii_only and chunk.isascii()
                dec.decode(chunk)
            dec.decode(b"", final=True)
            return "ascii" if ascii_only else "utf-8"
        except UnicodeDecodeError:
            return "cp1252"


def find_header(rows: list[list[str]]) -> int:
    """Index of the header among the first rows: the first row that is about as wide as the
    table, all text, with distinct cells (title rows above it are short or one cell)."""
    width = max((sum(1 for c in r if c) for r in rows), default=0)
    for i, row in enumerate(rows):
        cells = [c for c in row if c]
        if len(cells) < max(1, int(0.6 * width)) or len(set(cells)) != len(cells):
            continue
        if all(not _is_number(c) for c in cells):
            return i
    return 0


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def _build(path: Path, rows: Iterator[list[str]], **kw: object) -> Sheet:
    head: list[list[str]] = []
    for row in rows:
        head.append([c.strip() for c in row])
        if len(head) >= HEADER_SCAN_ROWS:
            break
    if not any(any(c for c in r) for r in head):
        raise ExtractError(f"{path}: no header row found in the first {HEADER_SCAN_ROWS} rows; check the export.")
    at = find_header(head)
    header = list(head[at])
    while header and not header[-1]:
        header.pop()
    headers = [h or f"(column {i})" for i, h in enumerate(header, start=1)]
    columns: list[list[str]] = [[] for _ in headers]
    count = blank_run = 0

    def take(row: list[str]) -> None:
        nonlocal count, blank_run
        # Cells may come unstripped (CSV rows past the sample are only counted): a row of spaces is blank.
        if not any(row) or not (row[0].strip() or any(c.strip() for c in row)):
            blank_run += 1
            return
        count += blank_run + 1
        blank_run = 0
        if count - 1 < MAX_SAMPLE_VALUES:
            for j in range(len(headers)):
                columns[j].append(row[j].strip() if j < len(row) else "")

    for row in head[at + 1:]:
        take(row)
    for row in rows:
        take(row)
    return Sheet(path=path, header_row=at + 1, headers=headers, columns=columns, rows=count, **kw)  # type: ignore[arg-type]


def _read_csv(path: Path) -> Sheet:
    encoding = detect_encoding(path)
    opened = "utf-8-sig" if encoding in {"utf-8", "ascii"} else encoding
    with path.open("r", encoding=opened, newline="") as fh:
        sample = fh.read(65536)
    if not sample.strip():
        raise ExtractError(f"{path}: the file holds no text; re-export it.")
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    # Streamed: every row is counted, only the first MAX_SAMPLE_VALUES are kept.
    with path.open("r", encoding=opened, newline="") as fh:
        lines = (line.replace("\x00", "") if "\x00" in line else line for line in fh)
        try:
            reader = csv.reader(lines, delimiter=delimiter)  # cells stripped in _build, for the rows it keeps
            return _build(path, reader, name=None, visibility="visible", encoding=encoding, delimiter=delimiter)
        except csv.Error:
            raise ExtractError(f"{path}: cannot be parsed as CSV; check that this is a CSV export.") from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")  # type: ignore[union-attr]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_workbook(path: Path) -> Iterator[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise ExtractError(f"{path}: the workbook cannot be opened ({type(exc).__name__}); "
                           "open and re-save it in Excel, or export it as CSV.") from None
    try:
        sheets = book.worksheets
        for ws in sheets:
            rows = ([_cell(v) for v in r] for r in ws.iter_rows(values_only=True))
            try:
                yield _build(path, rows, name=ws.title, visibility=ws.sheet_state, sheets_in_file=len(sheets))
            except ExtractError:
                yield Sheet(path, ws.title, ws.sheet_state, 0, [], [], 0, sheets_in_file=len(sheets),
                            notes=["empty sheet"])
    finally:
        book.close()


def _read_parquet(path: Path) -> Sheet:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        first = next(pf.iter_batches(batch_size=MAX_SAMPLE_VALUES), None)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ExtractError(f"{path}: the Parquet file cannot be read ({type(exc).__name__}); re-export it.") from None
    names = [str(n) for n in pf.schema_arrow.names]
    columns = [[_cell(v) for v in first.column(i).to_pylist()] for i in range(len(names))] if first is not None \
        else [[] for _ in names]
    return Sheet(path, None, "visible", 1, names, columns, pf.metadata.num_rows)
