"""Reading one extract file into an all-text table, refusing what cannot be read safely.

Every value is read as text so nothing is silently converted (leading zeros in phone numbers,
dates that pandas would guess month-first); typing happens later, column by column, where a
failure becomes a quarantine reason instead of a lost row.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from riskkit.errors import ExtractError

MAX_XLSX_UNCOMPRESSED = 1_000_000_000
MAX_EXTRACT_BYTES = int(os.environ.get("RISKKIT_MAX_EXTRACT_BYTES", 1_500_000_000))
PARTITION_BYTES = int(os.environ.get("RISKKIT_PARTITION_BYTES", 200_000_000))  # stream CSVs larger than this
PARTITION_BLOCK_BYTES = int(os.environ.get("RISKKIT_PARTITION_BLOCK_BYTES", 64_000_000))
MAX_XLSX_RATIO = 200
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class RawTable:
    """An extract file as text, with the rows that could not be parsed kept, not dropped."""

    frame: pd.DataFrame  # all columns text, plus ``source_row`` (header is row 1)
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad_rows)


def read_any(path: Path, sheet: str | None = None, encoding: str | None = None,
             delimiter: str | None = None) -> RawTable:
    """The whole file as one table (see ``iter_any`` for the partitioned path)."""
    blocks = list(iter_any(path, sheet, encoding, delimiter, partition_bytes=None))
    return blocks[0] if len(blocks) == 1 else RawTable(pd.concat([b.frame for b in blocks], ignore_index=True),
                                                       [r for b in blocks for r in b.bad_rows])


def iter_any(path: Path, sheet: str | None = None, encoding: str | None = None, delimiter: str | None = None,
             partition_bytes: int | None = PARTITION_BYTES) -> Iterator[RawTable]:
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
        yield _read_xlsx(path, sheet)
        return
    if suffix == ".parquet":
        yield _read_parquet(path)
        return
    if head.startswith(_ZIP_MAGIC) or head.startswith(_OLE_MAGIC):
        raise ExtractError(f"{path}: looks like a workbook or archive but is named {suffix or 'without an extension'}; "
                           "rename it to .xlsx or export it as CSV.")
    if partition_bytes is not None and size > partition_bytes:
        blocks, rows = iter_csv(path, encoding, delimiter, PARTITION_BLOCK_BYTES), 0
        for block in blocks:
            rows += block.rows_read
            yield block
        if rows == 0:
            raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
        return
    yield _read_csv(path, encoding, delimiter)


def _check_headers(path: Path, headers: list[str]) -> list[str]:
    headers = [str(h).strip() for h in headers]
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        if h in seen:
            raise ExtractError(f"{path}: duplicate column header '{h}' (columns {seen[h]} and {i}); "
                               "rename one of them in the file.")
        seen[h] = i
    return headers


def _detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes, else Windows-1252, which is
    what Excel on a UK Windows desktop writes for "CSV"."""
    dec = codecs.getincrementaldecoder("utf-8-sig")()
    with path.open("rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                dec.decode(chunk)
            dec.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            return "cp1252"


def _csv_setup(path: Path, encoding: str | None, delimiter: str | None) -> tuple[str, str, list[str]]:
    """Encoding, delimiter and header of a CSV file, checked before any data row is parsed."""
    encoding = encoding or _detect_encoding(path)
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            sample = fh.read(65536)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ExtractError(f"{path}: cannot be read as {encoding} ({type(exc).__name__}); set "
                           "'encoding' for this file in the incident file.") from None
    if not sample.strip():
        raise ExtractError(f"{path}: the file holds no text; re-export the extract.")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        header_line = next(csv.reader(io.StringIO(sample.replace("\x00", "")), delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise ExtractError(f"{path}: the header row cannot be read as CSV; check that this is a CSV export "
                           "and set 'delimiter' for this file in the incident file.") from None
    if header_line:
        # A UTF-8 byte-order mark in front of Windows-1252 text decodes as these three characters.
        header_line[0] = header_line[0].removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
    return encoding, delimiter, _check_headers(path, header_line)


def iter_csv(path: Path, encoding: str | None = None, delimiter: str | None = None,
             block_bytes: int = 1 << 26) -> Iterator[RawTable]:
    """A CSV file as a stream of blocks of about ``block_bytes``, each with its rows numbered
    as in the file and its unparseable rows kept: the partitioned path for large extracts."""
    encoding, delimiter, headers = _csv_setup(path, encoding, delimiter)
    bad: list[tuple[int, str]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        # Keep only the shape of the row: its text may be personal data.
        bad.append((int(row.number) if row.number is not None else -1,
                    f"row has {row.actual_columns} fields, header has {row.expected_columns}"))
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1, encoding=encoding,
                                           use_threads=False, block_size=block_bytes),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad),
            convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        next_row, seen_bad, emitted = 2, 0, False
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            new_bad = bad[seen_bad:]
            seen_bad = len(bad)
            frame = batch.to_pandas()
            consumed = len(frame) + len(new_bad)
            rows = np.arange(next_row, next_row + consumed)
            if new_bad:
                rows = rows[~np.isin(rows, [n for n, _ in new_bad])]
            frame["source_row"] = rows[: len(frame)]
            next_row += consumed
            emitted = True
            yield RawTable(frame, new_bad)
        if bad[seen_bad:] or not emitted:
            yield RawTable(pd.DataFrame({**{h: pd.Series([], dtype=str) for h in headers},
                                         "source_row": pd.Series([], dtype=int)}), bad[seen_bad:])
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        kind = "encoding" if "utf" in str(exc).lower() else "CSV structure"
        raise ExtractError(f"{path}: cannot be parsed ({kind} problem); check the export settings "
                           "or set 'encoding'/'delimiter' for this file in the incident file.") from None


def _read_csv(path: Path, encoding: str | None, delimiter: str | None) -> RawTable:
    blocks = list(iter_csv(path, encoding, delimiter, block_bytes=1 << 30))
    frame = pd.concat([b.frame for b in blocks], ignore_index=True)
    table = RawTable(frame, [r for b in blocks for r in b.bad_rows])
    if table.rows_read == 0:
        raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
    return table


def _read_xlsx(path: Path, sheet: str | None) -> RawTable:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            size = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
    except zipfile.BadZipFile:
        raise ExtractError(f"{path}: the workbook is corrupt (not a readable zip); re-export it.") from None
    if size > MAX_XLSX_UNCOMPRESSED or size / packed > MAX_XLSX_RATIO:
        raise ExtractError(f"{path}: the workbook expands to {size:,} bytes ({size / packed:.0f}x its "
                           "size), beyond riskkit's limits; export the sheet as CSV instead.")
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise ExtractError(f"{path}: the workbook cannot be opened ({type(exc).__name__}); "
                           "open and re-save it in Excel, or export it as CSV.") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ExtractError(f"{path}: no sheet named '{sheet}'; sheets are: "
                               f"{', '.join(book.sheetnames)}. Fix 'sheet' in the incident file.")
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ExtractError(f"{path}: the sheet '{ws.title}' is empty; check the workbook.")
        width = len(header)
        while width and header[width - 1] is None:
            width -= 1
        headers = _check_headers(path, ["" if h is None else h for h in header[:width]])
        data = []
        for values in rows:
            cells = ["" if v is None else _cell_text(v) for v in values[:width]]
            cells += [""] * (width - len(cells))
            data.append(cells)
    finally:
        book.close()
    while data and not any(data[-1]):
        data.pop()  # trailing formatted-but-empty rows are not records
    if not data:
        raise ExtractError(f"{path}: has a header but no data rows; check that this is the right export.")
    frame = pd.DataFrame(data, columns=headers)
    frame["source_row"] = range(2, len(frame) + 2)
    return RawTable(frame)


def _cell_text(value: object) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d")  # type: ignore[union-attr]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
