"""Reading one extract file into an all-text table, refusing what cannot be read safely.

Every value is read as text so nothing is silently converted (leading zeros in phone numbers,
dates that pandas would guess month-first); typing happens later, column by column, where a
failure becomes a quarantine reason instead of a lost row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from riskkit.errors import ExtractError
from riskkit.intake import encoding as intake_encoding
from riskkit.intake import physical, workbook

MAX_EXTRACT_BYTES = int(os.environ.get("RISKKIT_MAX_EXTRACT_BYTES", 1_500_000_000))
PARTITION_BYTES = int(os.environ.get("RISKKIT_PARTITION_BYTES", 200_000_000))  # stream CSVs larger than this
PARTITION_BLOCK_BYTES = int(os.environ.get("RISKKIT_PARTITION_BLOCK_BYTES", 64_000_000))
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class RawTable:
    """An extract file as text, with the rows that could not be parsed kept, not dropped."""

    frame: pd.DataFrame  # all columns text, plus ``source_row`` (header is row 1)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    sheet: str | None = None  # for a workbook: the sheet, its visibility and what was not plain data
    visibility: str | None = None
    hidden_rows: int = 0
    hidden_columns: int = 0
    title_rows: int = 0  # non-empty rows above the header, reported and not read
    header_row: int = 1

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad_rows)


def read_any(path: Path, sheet: str | None = None, encoding: str | None = None,
             delimiter: str | None = None, header_row: int | None = None) -> RawTable:
    """The whole file (one sheet of a workbook) as one table (see ``iter_any`` for the rest)."""
    blocks = list(iter_any(path, sheet, encoding, delimiter, partition_bytes=None, header_row=header_row))
    return blocks[0] if len(blocks) == 1 else RawTable(pd.concat([b.frame for b in blocks], ignore_index=True),
                                                       [r for b in blocks for r in b.bad_rows])


def iter_any(path: Path, sheet: str | None = None, encoding: str | None = None, delimiter: str | None = None,
             partition_bytes: int | None = PARTITION_BYTES, header_row: int | None = None,
             sheets: str | dict | None = None, exclude_sheets: dict[str, str] | None = None) -> Iterator[RawTable]:
    """A file as one or more blocks: CSV files larger than ``partition_bytes`` stream in blocks
    of ``PARTITION_BLOCK_BYTES`` so the raw text never sits in memory whole.

    Dispatch is on the file's content, not only its name: an ``.xlsx`` that is really a CSV
    gets a clear message rather than a zip error."""
    if not path.is_file():
        raise ExtractError(f"{path}: extract file not found; check 'files' in the incident file.")
    size = path.stat().st_size
    if size == 0:
        raise ExtractError(f"{path}: the file is empty (0 bytes); re-export the extract.")
    if size > MAX_EXTRACT_BYTES:
        raise ExtractError(f"{path}: {size / 1e9:.1f} GB is over the {MAX_EXTRACT_BYTES / 1e9:.1f} GB limit for one "
                           "extract file; split it into several files listed in the incident, or raise "
                           "RISKKIT_MAX_EXTRACT_BYTES if this machine has the memory (about 5x the file size).")
    with path.open("rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        if head.startswith(_OLE_MAGIC):
            raise ExtractError(f"{path}: a password-protected or old-format (.xls) workbook; "
                               "remove the password and save it as .xlsx.")
        if not head.startswith(_ZIP_MAGIC):
            raise ExtractError(f"{path}: named {suffix} but is not an Excel workbook (it looks like "
                               "text); rename it to .csv if it is a CSV export.")
        yield from _read_xlsx(path, sheet, header_row, sheets, exclude_sheets)
        return
    if suffix == ".parquet":
        yield _read_parquet(path)
        return
    if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC):
        raise ExtractError(f"{path}: looks like a workbook or archive but is named {suffix or 'without an extension'}; "
                           "rename it to .xlsx or export it as CSV.")
    if partition_bytes is not None and size > partition_bytes:
        blocks, rows = iter_csv(path, encoding, delimiter, PARTITION_BLOCK_BYTES, header_row), 0
        for block in blocks:
            rows += block.rows_read
            yield block
        if rows == 0:
            raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
        return
    yield _read_csv(path, encoding, delimiter, header_row)


def _check_headers(path: Path, headers: list[str]) -> list[str]:
    headers = [str(h).strip() for h in headers]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        if h in seen:
            raise ExtractError(f"{path}: duplicate column header '{h}' (columns {seen[h]} and {i}); "
                               "rename one of them in the file.")
        seen[h] = i
    return headers


@dataclass
class CsvLayout:
    """How to read one CSV: checked before any data row is parsed."""

    encoding: str
    delimiter: str
    headers: list[str]
    header_row: int  # the header's record number (1 unless title rows sit above it)
    header_lines: int  # physical lines up to and including the header
    lines: int | None  # physical lines in the file (None when bytes cannot be counted)


MAX_HEADER_CHARS = 16_000_000


def _header_records(path: Path, encoding: str, wanted: int) -> tuple[list[str], int, str]:
    """The first ``wanted`` records' text (read line by line, so a header of any length is
    whole), the physical lines they span, and the first line for sniffing."""
    with path.open("r", encoding=encoding, newline="") as fh:
        lines: list[str] = []
        size = 0
        for line in fh:
            lines.append(line)
            size += len(line)
            # Enough once the text holds ``wanted`` complete records (quotes balanced).
            text = "".join(lines)
            if text.count('"') % 2 == 0 and len([r for r in _records(text, ",")]) >= wanted or size > MAX_HEADER_CHARS:
                break
    return lines, len(lines), lines[0] if lines else ""


def _records(text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text.replace("\x00", "")), delimiter=delimiter))
    except csv.Error:
        return []


def _csv_setup(path: Path, encoding: str | None, delimiter: str | None, header_row: int | None = None) -> CsvLayout:
    """Encoding, delimiter and header of a CSV file, checked before any data row is parsed."""
    found = intake_encoding.scan(path, encoding)
    wanted = header_row or 1
    try:
        lines, _, first = _header_records(path, found.encoding, wanted)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ExtractError(f"{path}: cannot be read as {found.encoding} ({type(exc).__name__}); set "
                           "'encoding' for this file in the incident file.") from None
    text = "".join(lines)
    if not text.strip():
        raise ExtractError(f"{path}: the file holds no text; re-export the extract.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(first.rstrip("\r\n")[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text.replace("\x00", "")), delimiter=delimiter)
    header_line: list[str] = []
    try:
        for _ in range(wanted):
            header_line = next(reader)
    except (csv.Error, StopIteration):
        raise ExtractError(f"{path}: the header row cannot be read as CSV; check that this is a CSV export "
                           "and set 'delimiter' (or 'header_row') for this file in the incident file.") from None
    if header_line:
        # A UTF-8 byte-order mark in front of Windows-1252 text decodes as these three characters.
        header_line[0] = header_line[0].removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
    return CsvLayout(found.encoding, delimiter, _check_headers(path, header_line), wanted, reader.line_num,
                     found.lines)


def iter_csv(path: Path, encoding: str | None = None, delimiter: str | None = None,
             block_bytes: int = 1 << 26, header_row: int | None = None) -> Iterator[RawTable]:
    """A CSV file as a stream of blocks of about ``block_bytes``, each with its rows numbered
    as in the file and its unparseable rows kept: the partitioned path for large extracts.

    After the last block, the records parsed are checked against the file's physical lines
    (``intake.physical``): a stray quote stops the run instead of merging records."""
    layout = _csv_setup(path, encoding, delimiter, header_row)
    encoding, delimiter, headers = layout.encoding, layout.delimiter, layout.headers
    bad: list[tuple[int, str]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        # Keep only the shape of the row: its text may be personal data.
        bad.append((int(row.number) if row.number is not None else -1,
                    f"row has {row.actual_columns} fields, header has {row.expected_columns}"))
        return "skip"

    records = 0
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=headers, skip_rows=layout.header_row, encoding=encoding,
                                           use_threads=False, block_size=block_bytes),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        next_row, seen_bad, emitted = layout.header_row + 1, 0, False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            new_bad = bad[seen_bad:]
            seen_bad = len(bad)
            frame = batch.to_pandas()
            consumed = len(frame) + len(new_bad)
            records += consumed
            rows = np.arange(next_row, next_row + consumed)
            if new_bad:
                rows = rows[~np.isin(rows, [n for n, _ in new_bad])]
            frame["source_row"] = rows[: len(frame)]
            next_row += consumed
            emitted = True
            yield RawTable(frame, new_bad)
        records += len(bad) - seen_bad
        if bad[seen_bad:] or not emitted:
            yield RawTable(pd.DataFrame({**{h: pd.Series([], dtype=str) for h in headers},
                                         "source_row": pd.Series([], dtype=int)}), bad[seen_bad:])
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        kind = "encoding" if "utf" in str(exc).lower() else "CSV structure"
        # The strict pass names the line of a quote problem, which Arrow's message does not.
        physical.strict_records(path, encoding, delimiter, layout.header_lines, len(headers))
        raise ExtractError(f"{path}: cannot be parsed ({kind} problem); check the export settings "
                           "or set 'encoding'/'delimiter' for this file in the incident file.") from None
    physical.check(path, encoding, delimiter, layout.lines, layout.header_lines, records, len(headers))


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, header_row: int | None = None) -> RawTable:
    blocks = list(iter_csv(path, encoding, delimiter, block_bytes=1 << 30, header_row=header_row))
    frame = pd.concat([b.frame for b in blocks], ignore_index=True)
    table = RawTable(frame, [r for b in blocks for r in b.bad_rows])
    if table.rows_read == 0:
        raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
    return table


def _read_xlsx(path: Path, sheet: str | None, header_row: int | None = None, sheets: str | dict | None = None,
               exclude_sheets: dict[str, str] | None = None) -> Iterator[RawTable]:
    """One table per sheet read (see ``intake.workbook``): rows numbered as in the sheet, the
    header found or given, cells beyond the header's width quarantined with their row."""
    book = workbook.read_sheets(path)
    chosen = workbook.select(path, book, sheet, sheets, exclude_sheets or {})
    for ws in chosen:
        try:
            at = workbook.find_header(ws, header_row)
        except ExtractError as exc:
            raise ExtractError(f"{path}: {exc}") from None
        header = ws.rows[at][1]
        headers = _check_headers(path, header)
        width = len(headers)
        data, numbers, bad = [], [], []
        for number, cells in ws.rows[at + 1:]:
            if len(cells) > width:
                bad.append((number, f"row has {len(cells)} fields, header has {width}"))
                continue
            data.append(cells + [""] * (width - len(cells)))
            numbers.append(number)
        if not data and not bad and len(chosen) == 1:
            raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
        frame = pd.DataFrame(data, columns=headers) if data else \
            pd.DataFrame({h: pd.Series([], dtype=object) for h in headers})
        frame["source_row"] = pd.Series(numbers, dtype=int)
        yield RawTable(frame, bad, sheet=ws.name, visibility=ws.visibility, hidden_rows=ws.hidden_rows,
                       hidden_columns=ws.hidden_columns, title_rows=at, header_row=ws.rows[at][0])


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ExtractError(f"{path}: the Parquet file cannot be read ({type(exc).__name__}); re-export it.") from None
    _check_headers(path, list(frame.columns))
    if frame.empty:
        raise ExtractError(f"{path}: has no data rows; check that this is the right export.")
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
        frame[col] = frame[col].astype("string").fillna("")
    frame = frame.reset_index(drop=True)
    frame["source_row"] = range(2, len(frame) + 2)
    return RawTable(frame)
