"""The data-quality report: fields set to missing and sheets read, in summary.json and the
briefing, never with a value from the extract (issue 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from riskkit.analysis import analyse, summary
from riskkit.report.briefing import data_quality
from tests.conftest import row, write_incident

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"


def test_summary_and_briefing_report_fields_set_missing_and_sheets(tmp_path):
    secret_dob, secret_pc = "19551192", "75001 PARIS"
    path = write_incident(tmp_path, [row()], file="data.xlsx")
    book = Workbook()
    ws = book.active
    ws.title = "Cases"
    ws.append(["Case", "Role", "Name", "DOB", "Address", "Postcode", "District"])
    ws.append(["C1", "Victim", "Ann Example", secret_dob, "1 Rue", secret_pc, ""])
    ws.append(["C2", "Victim", "Bob Example", "01/02/1980", "2 High St", "HP1 1AA", "Dacorum"])
    ws.row_dimensions[3].hidden = True
    book.save(tmp_path / "data.xlsx")
    a = analyse(path)
    s = summary(a)
    assert s["rows_read"] == 2 == s["rows_analysed"] and s["people"] == 2
    assert {(m["field"], m["reason"], m["count"]) for m in s["fields_set_missing"]} == {
        ("date_of_birth", "unparseable date", 1), ("postcode", "not a UK postcode", 1)}
    assert s["sheets"] == [{"file": "data.xlsx", "sheet": "Cases", "visibility": "visible", "rows_read": 2,
                            "hidden_rows": 1, "hidden_columns": 0, "title_rows": 0}]
    html = str(data_quality(a).data)
    assert "Set to missing because" in html and "not a UK postcode" in html and "Hidden rows" in html
    for text in (html, str(s)):
        assert secret_dob not in text and "PARIS" not in text and "Ann" not in text


@pytest.mark.parametrize("command", ["assess", "ico-form"])
def test_nothing_to_analyse_ends_in_one_clear_line(tmp_path, command):
    secret = "Quentin Zarathustra"
    path = write_incident(tmp_path, [row(name="", address="", case=secret), row(name="NULL", address="N/A")])
    args = [command, str(path), "--out", str(tmp_path / "out")] + (["--now", NOW, "--quiet"] if command == "assess" else [])
    proc = subprocess.run([RISKKIT, *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing could be analysed: all 2 rows read were quarantined" in lines[0]
    assert "Quentin" not in proc.stderr + proc.stdout and "failed in cell" not in proc.stderr
