"""riskkit inspect reads files exactly as the intake does (one encoding rule, one header-row
finder, one workbook reader), and the briefing's inventory takes its row counts from ingest and
re-reads only a bounded sample of each table."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from riskkit.errors import ExtractError
from riskkit.incident import load_incident
from riskkit.ingest import ingest
from riskkit.inspect import inspect_paths
from riskkit.inspect.tables import read_tables
from riskkit.inspect.workbook import rows_read, workbook_inventory
from riskkit.readers import read_any
from tests.conftest import ASB


def _csv(path: Path, rows: list[list[str]], title: str | None = None, delimiter: str = ";") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        if title:
            fh.write(title + "\n\n")
        w = csv.writer(fh, delimiter=delimiter)
        w.writerows(rows)
    return path


def test_a_mixed_encoding_file_is_a_one_line_problem_not_a_guess(tmp_path):
    """UTF-8 with one Windows-1252 byte: intake refuses it, and so does inspect (the old reader
    re-read the whole file as cp1252, garbling every accented name)."""
    bad = tmp_path / "mixed.csv"
    bad.write_bytes("Name,Town\nZoë Ávila,St Albans\n".encode() + b"Ren\xe9e Smith,Hitchin\n")
    good = _csv(tmp_path / "good.csv", [["Name", "Postcode"], ["Ann Lee", "AL1 4UD"]], delimiter=",")
    with pytest.raises(ExtractError) as raised:
        list(read_tables(bad))
    with pytest.raises(ExtractError) as intake:
        read_any(bad)
    assert str(raised.value) == str(intake.value)
    reports, skipped = inspect_paths([bad, good])
    assert [r.sheet.path for r in reports] == [good]
    assert len(skipped) == 1 and skipped[0][0] == bad
    reason = skipped[0][1]
    assert "\n" not in reason and "not UTF-8" in reason and "line 3" in reason
    assert "Ren" not in reason and "Smith" not in reason


def test_header_row_encoding_and_rows_are_the_intakes(tmp_path):
    rows = [["Surname", "Forename", "Post Code"]] + [[f"Lee{i}", "Ann", "AL1 4UD"] for i in range(12)]
    path = _csv(tmp_path / "title.csv", rows, title="Staff list run 01/02/2024", delimiter=",")
    raw = read_any(path)
    (sheet,) = read_tables(path)
    assert (sheet.header_row, sheet.rows, sheet.delimiter) == (raw.header_row, raw.rows_read, ",")
    assert sheet.headers == [c for c in raw.frame.columns if c != "source_row"]
    assert sheet.encoding == "utf-8" and sheet.header_row == 3 and sheet.rows == 12


def test_the_sample_is_bounded_and_the_count_can_be_left_to_the_caller(tmp_path):
    rows = [["Name", "Postcode"]] + [[f"Person {i}", "AL1 4UD"] for i in range(50)]
    path = _csv(tmp_path / "many.csv", rows, delimiter=",")
    (full,) = read_tables(path, sample_rows=10)
    assert full.rows == 50 and full.counted and [len(c) for c in full.columns] == [10, 10]
    (sampled,) = read_tables(path, count_rows=False, sample_rows=10)
    assert sampled.rows == 10 and not sampled.counted
    (small,) = read_tables(path, count_rows=False, sample_rows=100)
    assert small.rows == 50 and small.counted  # the sample reached the end: the count is whole


def test_the_inventory_takes_row_counts_from_ingest():
    incident = load_incident(ASB)
    data = ingest(incident)
    counts = rows_read(incident, data.files)
    assert len(counts) == len(data.files) and sum(counts.values()) == data.rows_read > 0
    # Counts come from what ingest read, not from a second count: a changed count shows through.
    doubled = [{**f, "rows_read": 2 * f["rows_read"]} for f in data.files]
    rows = workbook_inventory(incident, doubled, sample_rows=5)
    assert sum(r.rows for r in rows if r.listed) == 2 * data.rows_read
    # And the sample is enough to classify: the same categories as reading every row.
    whole = workbook_inventory(incident)
    assert [r.categories for r in rows] == [r.categories for r in whole]
    assert [r.rows for r in workbook_inventory(incident, data.files)] == [r.rows for r in whole]
