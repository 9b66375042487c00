"""Reading one extract file into an all-text table, refusing what cannot be read safely.

Every value is read as text so nothing is silently converted (leading zeros in phone numbers,
dates that pandas would guess month-first); typing happens later, column by column, where a
failure becomes a quarantine reason instead of a lost row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
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
    title_rows: int = 0  # non-empty lines above the header, not read


MAX_HEADER_CHARS = 16_000_000


def _header_records(path: Path, encoding: str, wanted: int) -> list[str]:
    """The first ``wanted`` records' text, read line by line so a header of any length is
    whole. A record ends at a line break outside quotes, i.e. where the quotes seen so far are
    even in number."""
    with path.open("r", encoding=encoding, newline="") as fh:
        lines: list[str] = []
        size = quotes = records = 0
        for line in fh:
            lines.append(line)
            size += len(line)
            quotes += line.count('"')
            records += quotes % 2 == 0
            if records >= wanted or size > MAX_HEADER_CHARS:
                break
    return lines


def _records(text: str, delimiter: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter))
    except csv.Error:
        return []


DELIMITERS = ",;\t|"


def _sniff_delimiter(text: str, complete: bool) -> str:
    """The delimiter that splits the first records most consistently: the one under which most
    records share one width of two or more fields (ties: the wider). Judged over many records,
    not the first line, so a title line above a semicolon or tab header ("Staff list run
    01/02/2024") cannot make the file look like one comma column."""
    if complete and not text.endswith(("\n", "\r")):
        text = text[: max(text.rfind("\n"), text.rfind("\r")) + 1] or text  # drop a cut-off last line
    best, best_score = ",", (0, 0)
    for candidate in DELIMITERS:
        widths = [len(r) for r in _records(text, candidate) if any(c.strip() for c in r)]
        counts: dict[int, int] = {}
        for w in widths:
            if w >= 2:
                counts[w] = counts.get(w, 0) + 1
        if not counts:
            continue
        width, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if (n, width) > best_score:
            best, best_score = candidate, (n, width)
    return best


def _csv_setup(path: Path, encoding: str | None, delimiter: str | None, header_row: int | None = None) -> CsvLayout:
    """Encoding, delimiter and header of a CSV file, checked before any data row is parsed.

    Without ``header_row`` the header is the first of the first few records that is at least
    half as wide as the widest (``workbook.header_index``): title lines above it are skipped
    and reported."""
    found = intake_encoding.scan(path, encoding)
    try:
        lines = _header_records(path, found.encoding, header_row or workbook.HEADER_SEARCH_ROWS)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ExtractError(f"{path}: cannot be read as {found.encoding} ({type(exc).__name__}); set "
                           "'encoding' for this file in the incident file.") from None
    text = "".join(lines)
    if not text.strip():
        raise ExtractError(f"{path}: the file holds no text; re-export the extract.")
    if delimiter is None:
        delimiter = _sniff_delimiter(lines[-1] if header_row else text, complete=header_row is None)
    records = _records(text, delimiter)
    if header_row is None and records:
        complete = records[:-1] if len(records) > 1 and not text.endswith(("\n", "\r")) else records
        widths = [sum(1 for c in r if c.strip()) for r in complete]
        header_row = workbook.header_index(widths) + 1
    wanted = header_row or 1
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter)
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
    titles = sum(1 for r in records[: wanted - 1] if any(c.strip() for c in r))
    return CsvLayout(found.encoding, delimiter, _check_headers(path, header_line), wanted, reader.line_num,
                     found.lines, titles)


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
        reader = pacsv.open_csv(path, **_arrow_options(layout, on_bad, threads=False, block_bytes=block_bytes))
        next_row, seen_bad, emitted = layout.header_row + 1, 0, False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            new_bad = bad[seen_bad:]
            seen_bad = len(bad)
            frame = batch.to_pandas()
            records += len(frame) + len(new_bad)
            # The rows of this batch are the next numbers that are not unparseable rows. Arrow
            # may report a bad row of the block after this one before it returns this batch
            # (it reads ahead), so bad rows are skipped by their numbers, not counted here.
            skip = [n for n, _ in bad if n >= next_row]
            rows = np.arange(next_row, next_row + len(frame) + len(skip))
            rows = rows[~np.isin(rows, skip)][: len(frame)] if skip else rows[: len(frame)]
            frame["source_row"] = rows
            next_row = int(rows[-1]) + 1 if len(rows) else next_row
            yield RawTable(frame, new_bad, title_rows=0 if emitted else layout.title_rows,
                           header_row=layout.header_row)
            emitted = True
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


def _arrow_options(layout: CsvLayout, on_bad: Callable[[pacsv.InvalidRow], str], threads: bool,
                   block_bytes: int | None = None) -> dict:
    """Arrow's read, parse and convert options for a checked layout: every column text, empty
    cells empty (not missing), values over several lines allowed, bad rows to ``on_bad``."""
    read = {"block_size": block_bytes} if block_bytes else {}
    return {
        "read_options": pacsv.ReadOptions(column_names=layout.headers, skip_rows=layout.header_row,
                                          encoding=layout.encoding, use_threads=threads, **read),
        "parse_options": pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True,
                                            invalid_row_handler=on_bad),
        "convert_options": pacsv.ConvertOptions(column_types={h: pa.string() for h in layout.headers},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
    }


class _RowNumbersNeededError(Exception):
    """A row could not be parsed while reading on several threads, which do not number rows."""


def _read_csv_threaded(path: Path, encoding: str | None, delimiter: str | None,
                       header_row: int | None) -> RawTable:
    """The whole file on all cores (Arrow's multi-threaded reader, as ``pd.read_csv(engine=
    "pyarrow")`` reads), rows numbered in order: the common case of a file whose every row
    parses. Raises ``_RowNumbersNeededError`` when a row does not, because only the single-threaded
    reader can say which row it was."""
    layout = _csv_setup(path, encoding, delimiter, header_row)

    bad: list[int] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        bad.append(1)  # an exception here would be printed by Arrow, not raised
        return "skip"

    try:
        table = pacsv.read_csv(path, **_arrow_options(layout, on_bad, threads=True))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise _RowNumbersNeededError from None  # the single-threaded reader names the problem
    if bad:
        raise _RowNumbersNeededError
    frame = table.to_pandas()
    del table
    frame["source_row"] = np.arange(layout.header_row + 1, layout.header_row + 1 + len(frame))
    physical.check(path, layout.encoding, layout.delimiter, layout.lines, layout.header_lines, len(frame),
                   len(layout.headers))
    return RawTable(frame, [], title_rows=layout.title_rows, header_row=layout.header_row)


def _read_csv(path: Path, encoding: str | None, delimiter: str | None, header_row: int | None = None) -> RawTable:
    try:
        table = _read_csv_threaded(path, encoding, delimiter, header_row)
    except _RowNumbersNeededError:
        blocks = list(iter_csv(path, encoding, delimiter, block_bytes=1 << 30, header_row=header_row))
        table = RawTable(pd.concat([b.frame for b in blocks], ignore_index=True), [r for b in blocks for r in b.bad_rows],
                         title_rows=blocks[0].title_rows, header_row=blocks[0].header_row)
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
    """Every column as text through Arrow, so an integer column with gaps stays "1" (pandas
    would make it float, "1.0") and dates are ISO dates."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise ExtractError(f"{path}: the Parquet file cannot be read ({type(exc).__name__}); re-export it.") from None
    _check_parquet_names(path, table)
    headers = _check_headers(path, table.column_names)
    if table.num_rows == 0:
        raise ExtractError(f"{path}: has no data rows; check that this is the right export.")
    columns = {}
    for i, (name, col) in enumerate(zip(headers, table.columns, strict=True), start=1):
        kind = col.type
        if pa.types.is_dictionary(kind):
            col, kind = col.cast(kind.value_type), kind.value_type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            text = pc.strftime(col, format="%Y-%m-%d")
        elif pa.types.is_floating(kind):
            # Whole numbers without ".0", as from a workbook: a case reference of 1.0 is "1".
            whole = pc.equal(col, pc.floor(col))
            text = pc.if_else(whole, pc.cast(pc.cast(col, pa.int64(), safe=False), pa.string()), pc.cast(col, pa.string()))
        else:
            try:
                text = pc.cast(col, pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ExtractError(f"{path}: column {i} ('{name[:30]}') holds {kind}, not values riskkit can read "
                                   "as text; export it as text or leave it out.") from None
        columns[name] = pd.Series(text.to_pandas(), dtype="string").fillna("")
    frame = pd.DataFrame(columns)
    frame["source_row"] = range(2, len(frame) + 2)
    return RawTable(frame)


def _check_parquet_names(path: Path, table: pa.Table) -> None:
    """Column names must be text: pandas writes a number as its digits and notes the type,
    and a mapping could then match the wrong column."""
    meta = table.schema.pandas_metadata or {}
    kinds = {c.get("pandas_type") for c in meta.get("column_indexes", [])} - {"unicode", "string", "empty", None}
    if kinds:
        numeric = [(i, n) for i, n in enumerate(table.column_names, start=1) if not n.strip().isidentifier()]
        i, name = numeric[0] if numeric else (1, table.column_names[0])
        raise ExtractError(f"{path}: column {i} ('{name[:30]}') was named by a number, not text (pandas "
                           f"'{sorted(kinds)[0]}' column names); give every column a text heading and re-export.")
    for i, name in enumerate(table.column_names, start=1):
        if not str(name).strip():
            raise ExtractError(f"{path}: column {i} has no name; give every column a heading and re-export.")
