"""Workbook intake: every sheet, stale dimensions, header rows, hidden rows (issue 12)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from riskkit.errors import ExtractError
from riskkit.incident import load_incident
from riskkit.ingest import ingest
from tests.conftest import row, write_incident

HEAD = ["Case", "Role", "Name", "DOB", "Address", "Postcode", "District"]


def _people(n: int, start: int = 1) -> list[list]:
    return [[f"C{i}", "Victim", f"Person {i}", "01/02/1980", f"{i} High St", "HP1 1AA", "Dacorum"]
            for i in range(start, start + n)]


def _incident(tmp_path: Path, extra: str = "") -> Path:
    """An incident naming data.xlsx, keeping the workbook already saved there."""
    book = (tmp_path / "data.xlsx").read_bytes()
    path = write_incident(tmp_path, [row()], file="data.xlsx")
    (tmp_path / "data.xlsx").write_bytes(book)
    if extra:
        path.write_text(path.read_text().replace("    columns:", extra + "    columns:"))
    return path


def _save(book: Workbook, tmp_path: Path) -> Path:
    target = tmp_path / "data.xlsx"
    book.save(target)
    return target


def _sheet(book: Workbook, title: str, rows: list[list], state: str = "visible", first: bool = False):
    ws = book.active if first else book.create_sheet(title)
    ws.title = title
    ws.sheet_state = state
    for r in rows:
        ws.append(r)
    return ws


def test_stale_dimension_is_not_trusted(tmp_path):
    book = Workbook()
    _sheet(book, "Data", [HEAD, *_people(4)], first=True)
    target = _save(book, tmp_path)
    # Rewrite the sheet's <dimension> to claim one data row, as other tools often do.
    with zipfile.ZipFile(target) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:G2"', parts[sheet])
    assert b'ref="A1:G2"' in parts[sheet]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    data = ingest(load_incident(_incident(tmp_path)))
    assert data.rows_read == 4 == data.rows_analysed


def test_hidden_sheet_and_second_sheet_stop_the_run_listing_them(tmp_path):
    book = Workbook()
    _sheet(book, "Secret", [HEAD, *_people(3)], state="hidden", first=True)
    _sheet(book, "Data", [HEAD, *_people(5, 10)])
    _sheet(book, "Blank", [])
    _save(book, tmp_path)
    with pytest.raises(ExtractError) as err:
        ingest(load_incident(_incident(tmp_path)))
    msg = str(err.value)
    assert "'Secret' (hidden, 4 non-empty rows)" in msg and "'Data' (visible, 6 non-empty rows)" in msg
    assert "exclude_sheets" in msg and "Person" not in msg


def test_every_sheet_read_with_sheets_all(tmp_path):
    book = Workbook()
    _sheet(book, "Secret", [HEAD, *_people(3)], state="veryHidden", first=True)
    _sheet(book, "Data", [HEAD, *_people(5, 10)])
    _sheet(book, "Lookups", [["Code", "Meaning"], ["V", "Victim"]])
    _save(book, tmp_path)
    extra = "    sheets: all\n    exclude_sheets: {Lookups: 'reference table, no people'}\n"
    data = ingest(load_incident(_incident(tmp_path, extra)))
    assert data.rows_read == 8 == data.rows_analysed
    sheets = {f["sheet"]: (f["visibility"], f["rows_read"]) for f in data.files}
    assert sheets == {"Secret": ("veryHidden", 3), "Data": ("visible", 5)}
    assert set(data.records["source_file"].astype(str)) == {"data.xlsx [Secret]", "data.xlsx [Data]"}


def test_one_columns_block_per_sheet(tmp_path):
    book = Workbook()
    _sheet(book, "A", [HEAD, *_people(2)], first=True)
    _sheet(book, "B", [["Ref", "Full name"], ["X1", "Ann Other"]])
    _save(book, tmp_path)
    path = _incident(tmp_path)
    text = path.read_text()
    text = text[:text.index("    columns:")] + (
        "    sheets:\n      A: {case_ref: Case, full_name: Name, postcode: Postcode, district: District}\n"
        "      B: {case_ref: Ref, full_name: Full name}\n")
    path.write_text(text)
    data = ingest(load_incident(path))
    assert data.rows_read == 3 == data.rows_analysed


def test_title_rows_above_the_header_are_found_and_reported(tmp_path):
    book = Workbook()
    ws = _sheet(book, "Export", [["Staff list export"], ["Run on 2026-10-01 by HR"], [], HEAD, *_people(3)], first=True)
    ws.row_dimensions[6].hidden = True
    ws.column_dimensions["E"].hidden = True
    _save(book, tmp_path)
    data = ingest(load_incident(_incident(tmp_path)))
    assert data.rows_read == 3 == data.rows_analysed
    assert list(data.records["source_row"]) == [5, 6, 7]
    entry = data.files[0]
    assert entry["title_rows"] == 2 and entry["header_row"] == 4
    assert entry["hidden_rows"] == 1 and entry["hidden_columns"] == 1


def test_header_row_override(tmp_path):
    book = Workbook()
    _sheet(book, "Export", [["A", "B"], ["C", "D"], HEAD, *_people(2)], first=True)
    _save(book, tmp_path)
    data = ingest(load_incident(_incident(tmp_path, "    header_row: 3\n")))
    assert data.rows_read == 2 == data.rows_analysed


def test_cells_beyond_the_header_are_quarantined_with_their_row(tmp_path):
    book = Workbook()
    _sheet(book, "Data", [HEAD, *_people(2), [*_people(1, 5)[0], "stray"]], first=True)
    _save(book, tmp_path)
    data = ingest(load_incident(_incident(tmp_path)))
    assert data.rows_read == 3 and data.rows_analysed == 2 and data.rows_quarantined == 1
    assert list(data.quarantine["source_row"]) == [4]
    assert "8 fields, header has 7" in data.quarantine["reasons"].iloc[0]


def test_time_of_day_is_not_a_date(tmp_path):
    book = Workbook()
    people = _people(2)
    people[0][3] = dt.time(10, 30)
    people[1][3] = dt.datetime(1980, 2, 1)
    _sheet(book, "Data", [HEAD, *people], first=True)
    _save(book, tmp_path)
    data = ingest(load_incident(_incident(tmp_path)))
    dobs = [d for d in data.records["date_of_birth"].dropna()] if data.rows_analysed else []
    assert dt.datetime(1900, 1, 1) not in dobs
