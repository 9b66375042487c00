"""Every sheet of an XLSX workbook, read whole: the declared size is not trusted, hidden
sheets, rows and columns are read like visible ones, and the header row is found.

When a workbook leaks, every sheet in it leaked (the PSNI breach of August 2023 was a hidden
tab), so a sheet with data is either mapped or excluded with a reason in the incident file;
otherwise the run stops listing the sheets, their visibility and their row counts. openpyxl's
read-only mode trusts ``<dimension ref=...>``, which other tools often write too small, so
each sheet's dimensions are reset before reading.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from riskkit.errors import ExtractError

MAX_XLSX_UNCOMPRESSED = 1_000_000_000
MAX_XLSX_RATIO = 200
HEADER_SEARCH_ROWS = 30
_HIDDEN_ROW = re.compile(rb"<(?:\w+:)?row\b[^>]*\bhidden=\"(?:1|true)\"")
_HIDDEN_COL = re.compile(rb"<(?:\w+:)?col\b[^>]*>")
_DATA_LIKE = re.compile(r"^[\d\s/.:+()-]+$|@|^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE)


@dataclass
class Sheet:
    """One worksheet as text rows, with what the briefing reports about it (never values)."""

    name: str
    visibility: str  # visible, hidden or veryHidden
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (sheet row number, cells) non-empty rows
    hidden_rows: int = 0
    hidden_columns: int = 0

    @property
    def empty(self) -> bool:
        return not self.rows


def _check_size(path: Path) -> None:
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


def cell_text(value: object) -> str:
    """A cell as text: dates as ISO dates, whole floats without '.0', and a time of day as a
    time (never the date 1900-01-01 that Excel's day zero would give)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _hidden(book: object, ws: object) -> tuple[int, int]:
    """Hidden rows and columns, counted from the sheet's XML (read-only mode does not load them)."""
    part = getattr(ws, "_worksheet_path", None)
    if not part:
        return 0, 0
    xml = book._archive.read(part)  # type: ignore[attr-defined]
    cols = 0
    for tag in _HIDDEN_COL.findall(xml):
        if re.search(rb"\bhidden=\"(?:1|true)\"", tag):
            lo = re.search(rb"\bmin=\"(\d+)\"", tag)
            hi = re.search(rb"\bmax=\"(\d+)\"", tag)
            cols += int(hi.group(1)) - int(lo.group(1)) + 1 if lo and hi else 1
    return len(_HIDDEN_ROW.findall(xml)), cols


def read_sheets(path: Path) -> list[Sheet]:
    """Every worksheet of the workbook, in order, with its non-empty rows as text."""
    _check_size(path)
    try:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise ExtractError(f"{path}: the workbook cannot be opened ({type(exc).__name__}); "
                           "open and re-save it in Excel, or export it as CSV.") from None
    sheets = []
    try:
        for ws in book.worksheets:
            ws.reset_dimensions()  # never trust <dimension ref=...>
            sheet = Sheet(ws.title, getattr(ws, "sheet_state", "visible") or "visible")
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                cells = ["" if v is None else cell_text(v) for v in values]
                while cells and not cells[-1].strip():
                    cells.pop()
                if any(c.strip() for c in cells):
                    sheet.rows.append((number, cells))
            sheet.hidden_rows, sheet.hidden_columns = _hidden(book, ws)
            sheets.append(sheet)
    except ExtractError:
        raise
    except Exception as exc:  # a sheet's XML that openpyxl cannot parse
        raise ExtractError(f"{path}: a sheet of the workbook cannot be read ({type(exc).__name__}); "
                           "open and re-save it in Excel, or export it as CSV.") from None
    finally:
        book.close()
    return sheets


def select(path: Path, sheets: list[Sheet], sheet: str | None, mapped: str | dict | None,
           excluded: dict[str, str]) -> list[Sheet]:
    """The sheets to read: every non-empty sheet must be mapped or excluded with a reason."""
    names = [s.name for s in sheets]
    named = ([sheet] if sheet else []) + (list(mapped) if isinstance(mapped, dict) else []) + list(excluded)
    unknown = [n for n in named if n not in names]
    if unknown:
        raise ExtractError(f"{path}: no sheet named '{unknown[0]}'; sheets are: {', '.join(names)}. "
                           "Fix 'sheet', 'sheets' or 'exclude_sheets' in the incident file.")
    with_data = [s for s in sheets if not s.empty and s.name not in excluded]
    if mapped == "all":
        chosen = with_data
    elif isinstance(mapped, dict):
        chosen = [s for s in with_data if s.name in mapped]
    elif sheet:
        chosen = [s for s in sheets if s.name == sheet]
    else:
        chosen = with_data[:1]
    left = [s for s in with_data if s not in chosen]
    if left:
        listing = "; ".join(f"'{s.name}' ({s.visibility}, {len(s.rows):,} non-empty rows)" for s in sheets)
        raise ExtractError(f"{path}: sheet(s) {', '.join(repr(s.name) for s in left)} hold data but are neither "
                           f"mapped nor excluded (sheets: {listing}); map them under 'sheets' or list them in "
                           "'exclude_sheets' with a reason in the incident file.")
    if not chosen:
        raise ExtractError(f"{path}: every sheet is empty or excluded; check the workbook.")
    return chosen


def _looks_like_header(cells: list[str]) -> bool:
    present = [c.strip() for c in cells if c.strip()]
    return len(present) >= 2 and all(len(c) <= 80 and not _DATA_LIKE.search(c) for c in present)


def find_header(sheet: Sheet, header_row: int | None) -> int:
    """The index in ``sheet.rows`` of the header: row ``header_row`` of the sheet if given, else
    the first row among the first few whose cells look like headings and that is at least half
    as wide as the widest row near it (title rows above a header are one or two cells wide)."""
    if header_row is not None:
        for i, (number, _) in enumerate(sheet.rows):
            if number == header_row:
                return i
        raise ExtractError(f"sheet '{sheet.name}': header_row {header_row} is empty; set 'header_row' to the "
                           "row number of the column headings.")
    window = sheet.rows[:HEADER_SEARCH_ROWS]
    widest = max(sum(1 for c in cells if c.strip()) for _, cells in window)
    for i, (_, cells) in enumerate(window):
        width = sum(1 for c in cells if c.strip())
        if width * 2 >= widest and _looks_like_header(cells):
            return i
    return 0
