"""riskkit inspect: per-column proposals, the terminal table without values, the draft incident
(placeholders refused, loadable once filled), and the committed samples reproduced."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from riskkit.errors import IncidentError
from riskkit.incident import PLACEHOLDER, load_incident
from riskkit.inspect import classify_column, classify_table, draft_incident, inspect_paths, render
from riskkit.inspect.headers import normalise
from riskkit.inspect.tables import read_tables
from tests.conftest import ASB, ROOT, STAFF

FACT_KEYS = ("id", "title", "controller", "regime", "summary", "subject_noun", "case_noun", "data_context",
             "timestamps", "exposure", "containment", "boundaries")


def _write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",",
               encoding: str = "utf-8", title: str | None = None) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        if title:
            fh.write(title + "\n\n")
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def _fill(draft: Path, facts_from: Path, out: Path) -> Path:
    """What the analyst does: the facts filled in (here copied from a committed incident)."""
    data = yaml.safe_load(draft.read_text())
    facts = yaml.safe_load(facts_from.read_text())
    for key in FACT_KEYS:
        if key in facts:
            data[key] = facts[key]
        elif data.get(key) == PLACEHOLDER:
            data.pop(key)
    if "boundaries" in data:
        data["boundaries"]["path"] = str((facts_from.parent / data["boundaries"]["path"]).resolve())
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


@pytest.mark.parametrize(("header", "expected"), [
    ("PCode", "postcode"), ("Post Code", "postcode"), ("DOB", "date of birth"), ("Employee_No", "employee number"),
    ("Sickness Absence (Y/N)", "sickness absence"), ("StaffRef", "staff reference"), ("E-mail", "email"),
])
def test_headers_are_normalised(header, expected):
    assert normalise(header) == expected


def test_values_decide_when_the_header_says_nothing():
    postcodes = ["AL1 4UD", "SG8 8TB", "HP1 1AA", "MK41 3AR"] * 10
    ninos = ["AB123456C", "JG 10 33 21 D", "PR654321A", "CE112233B"] * 10
    phones = ["01632 960391", "+44 20 7946 0958", "07700 900482", "(0161) 496 0066"] * 10
    assert classify_column("Col7", postcodes).field == "postcode"
    assert classify_column("Col8", ninos).field == "ni_number"
    assert classify_column("Col9", phones).field == "phone"
    # without header support a value-only proposal is never "sure": the draft marks it # check
    assert not classify_column("Col7", postcodes).sure


def test_values_overrule_a_misleading_header():
    dates = ["01/02/2025", "15/03/2025", "30/06/2024"] * 10  # recent dates under a birth-date header
    guess = classify_column("Birth Date", dates)
    assert not guess.sure
    assert classify_column("DOB", ["01/02/1980", "15/03/1975", "30/06/1990"] * 10).profile.date_order == "dmy"
    assert classify_column("DOB", ["02/13/1980", "03/15/1975"] * 10).profile.date_order == "mdy"


def test_role_is_a_case_role_or_a_job_by_its_values():
    assert classify_column("Role", ["Victim", "Alleged Offender", "Witness"] * 5).field == "role"
    assert classify_column("Role", ["HR Advisor", "Finance Officer", "Vetting Officer"] * 5).field == "job_title"


def test_one_column_per_field_and_the_rest_flagged():
    guesses = classify_table(["Address 1", "Address 2", "Address 3", "Forename", "Surname", "Gender"],
                             [["1 High Street"] * 5, ["Flat 2"] * 5, ["Back Lane 3"] * 5, ["Ann"] * 5, ["Lee"] * 5,
                              ["F"] * 5])
    by = {g.header: g for g in guesses}
    assert by["Address 1"].field == "address"
    assert [g.field for g in guesses].count("address") == 1
    for header in ("Address 3", "Gender"):
        assert by[header].field is None and by[header].reason and by[header].personal


def test_hidden_sheets_and_title_rows_are_read(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Staff"
    ws.append(["Monthly HR extract"])
    ws.append([])
    ws.append(["Payroll Number", "Surname", "Forename", "NI Number"])
    ws.append(["100231", "Lee", "Ann", "AB123456C"])
    hidden = book.create_sheet("Lookups")
    hidden.sheet_state = "hidden"
    hidden.append(["Code", "Meaning"])
    hidden.append(["A", "Active"])
    book.save(tmp_path / "hr.xlsx")
    sheets = list(read_tables(tmp_path / "hr.xlsx"))
    assert [(s.name, s.visibility, s.header_row, s.rows) for s in sheets] == [("Staff", "visible", 3, 1),
                                                                           ("Lookups", "hidden", 1, 1)]
    from riskkit.readers import iter_any

    (raw,) = iter_any(tmp_path / "hr.xlsx", sheet="Staff", exclude_sheets={"Lookups": "codes"})
    assert (sheets[0].header_row, sheets[0].rows) == (raw.header_row, raw.rows_read)  # as the intake reads it
    reports, _ = inspect_paths([tmp_path / "hr.xlsx"])
    assert [r.kind for r in reports] == ["extract", "no_names"]
    assert reports[0].mapped["ni_number"].header == "NI Number"


def test_terminal_output_and_draft_never_show_values(tmp_path):
    rows = [["ZX-9912", "Quintessa", "Brightwater", "29/02/1964", "17 Larkspur Mews", "AL3 9QZ", "01632 960777",
             "quintessa@example.org", "Reported shouting at the neighbour's children again"]] * 3
    path = _write_csv(tmp_path / "leak.csv", ["Ref", "First Name", "Last Name", "Date of Birth", "Address",
                                              "Postcode", "Tel", "Email", "Notes"], rows)
    out = tmp_path / "incident.yml"
    proc = subprocess.run([sys.executable, "-c", "from riskkit.cli import main; main()", "inspect", str(path),
                           "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "UK postcode: 100% of 3 values match" in proc.stdout
    shown = proc.stdout + proc.stderr + out.read_text()
    for value in rows[0]:
        for part in value.split():
            if len(part) > 3 and part not in {"Reported", "again"}:
                assert part not in shown


def test_the_draft_is_refused_until_filled_then_loads(tmp_path):
    path = _write_csv(tmp_path / "leak.csv", ["Name", "Post Code", "Mystery"],
                      [["Ann Lee", "AL1 4UD", "x7"], ["Bob Ray", "SG8 8TB", "q2"]], delimiter=";")
    reports, skipped = inspect_paths([path])
    draft = tmp_path / "draft.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    with pytest.raises(IncidentError, match=r"FILL_ME left at .*timestamps\.became_aware"):
        load_incident(draft)
    files = yaml.safe_load(draft.read_text())["files"]
    assert files[0]["columns"] == {"full_name": "Name", "postcode": "Post Code"}
    assert files[0]["delimiter"] == ";" and "Mystery" in files[0]["unmapped"]
    inc = load_incident(_fill(draft, STAFF, tmp_path / "filled.yml"))
    assert inc.resolve(inc.files[0].path) == path.resolve()
    assert inc.files[0].unmapped["Mystery"]


def test_inspect_refuses_to_overwrite_and_skips_non_extracts(tmp_path):
    path = _write_csv(tmp_path / "leak.csv", ["Name", "Postcode"], [["Ann Lee", "AL1 4UD"]])
    (tmp_path / "notes.md").write_text("hello")
    out = tmp_path / "incident.yml"
    out.write_text("keep me")
    proc = subprocess.run([sys.executable, "-c", "from riskkit.cli import main; main()", "inspect", str(path),
                           str(tmp_path / "notes.md"), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "already exists" in proc.stderr and out.read_text() == "keep me"
    reports, skipped = inspect_paths([path, tmp_path / "notes.md"])
    assert len(reports) == 1 and skipped[0][1].startswith("not an extract file")
    assert "Postcode" in render(reports)


def _same_text(path: Path, a: str | None, b: str | None) -> bool:
    """Two encodings are the same choice for a file when they decode it to the same text."""
    data = path.read_bytes()
    return data.decode(a or "utf-8-sig") == data.decode(b or "utf-8-sig")


@pytest.mark.parametrize("committed", [STAFF, ASB], ids=["staff_transfer", "asb_publication"])
def test_inspect_reproduces_the_committed_sample_mappings(tmp_path, committed):
    folder = committed.parent
    reports, skipped = inspect_paths(sorted(folder.iterdir()))
    assert [p.name for p, _ in skipped] == ["incident.yml"]
    draft = tmp_path / "incident.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    assert "# check" not in draft.read_text()  # every mapping is confident, none needs a look
    drafted = load_incident(_fill(draft, committed, tmp_path / "filled.yml"))
    expected = load_incident(committed)
    got = {drafted.resolve(f.path): f for f in drafted.files}
    assert set(got) == {expected.resolve(f.path) for f in expected.files}
    for want in expected.files:
        path = expected.resolve(want.path)
        mine = got[path]
        assert mine.columns == want.columns, path.name
        assert mine.sheet == want.sheet
        assert _same_text(path, mine.encoding, want.encoding) if path.suffix == ".csv" else mine.encoding is None
    if expected.postcode_lookup:
        assert drafted.postcode_lookup is not None
        assert drafted.resolve(drafted.postcode_lookup.path) == expected.resolve(expected.postcode_lookup.path)
        assert (drafted.postcode_lookup.postcode_column, drafted.postcode_lookup.code_column) == \
            (expected.postcode_lookup.postcode_column, expected.postcode_lookup.code_column)


@pytest.mark.parametrize("committed", [STAFF, ASB], ids=["staff_transfer", "asb_publication"])
def test_the_filled_draft_assesses_to_the_same_counts(tmp_path, committed):
    from riskkit.analysis import analyse, summary

    reports, skipped = inspect_paths(sorted(committed.parent.iterdir()))
    draft = tmp_path / "incident.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    theirs = analyse(committed)
    mine = summary(analyse(_fill(draft, committed, tmp_path / "filled.yml"), now=theirs.run_at))
    theirs = summary(theirs)
    for key in ("rows_read", "rows_quarantined", "cases", "subject_records", "people", "districts", "risk_bands"):
        assert mine[key] == theirs[key], key


def test_assess_refuses_a_draft_with_placeholders_in_one_line(tmp_path):
    path = _write_csv(tmp_path / "leak.csv", ["Name", "Postcode"], [["Ann Lee", "AL1 4UD"]])
    reports, skipped = inspect_paths([path])
    draft = tmp_path / "incident.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    proc = subprocess.run([sys.executable, "-c", "from riskkit.cli import main; main()", "assess", str(draft),
                           "--out", str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "FILL_ME left at" in lines[0] and "exposure.channel" in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_workbook_inventory_names_every_sheet_and_what_no_mapping_covers(tmp_path):
    import openpyxl

    from riskkit.inspect.workbook import workbook_inventory

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Staff"
    ws.append(["Payroll Number", "Surname", "Forename", "Ethnicity", "Comments"])
    for i in range(5):
        ws.append([f"10023{i}", "Quimby", "Zelda", "Not stated", "Disciplinary hearing pending"])
    people = book.create_sheet("Sheet2")
    people.sheet_state = "hidden"
    people.append(["Name", "Post Code"])
    people.append(["Zelda Quimby", "AL1 4UD"])
    lookup = book.create_sheet("Lookups")
    lookup.sheet_state = "hidden"
    lookup.append(["Code", "Meaning"])
    lookup.append(["A", "Active"])
    book.save(tmp_path / "hr.xlsx")
    reports, skipped = inspect_paths([tmp_path / "hr.xlsx"])
    draft = tmp_path / "incident.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    data = yaml.safe_load(draft.read_text())
    data["files"] = [f for f in data["files"] if f.get("sheet") == "Staff"]  # the analyst keeps one sheet
    data["files"][0]["columns"].pop("notes", None)
    kept = tmp_path / "kept.yml"
    kept.write_text(yaml.safe_dump(data))
    incident = load_incident(_fill(kept, STAFF, tmp_path / "filled.yml"))
    rows = workbook_inventory(incident)
    assert [(r.sheet, r.visibility, r.rows, r.listed) for r in rows] == [
        ("Staff", "visible", 5, True), ("Sheet2", "hidden", 1, False), ("Lookups", "hidden", 1, False)]
    staff = rows[0]
    assert staff.excluded == 1 and staff.uncovered == 1 and staff.uncovered_personal == 1  # Ethnicity; Comments
    assert "ethnicity" in staff.categories and "names" in staff.categories
    text = " ".join(r.sentence() for r in rows)
    assert "sheet 'Lookups' (hidden): 1 row, 2 columns, not personal data; not used in this assessment." in text
    for secret in ("Quimby", "Zelda", "Payroll", "Comments", "AL1 4UD", "Disciplinary"):
        assert secret not in text


def test_look_alike_values_are_not_taken_for_identifiers():
    from riskkit.inspect.patterns import profile

    assert profile(["12345678"] * 5).share.get("phone") is None  # an account number
    assert profile(["012345678901"] * 5).share.get("phone") is None  # one digit too many
    assert profile(["DA123456A", "QQ123456C"]).share.get("ni_number") is None  # prefixes HMRC never issues
    assert profile(["AB 12 34 56 C"]).share["ni_number"] == 1.0
    assert profile(["SW1A 1AA", "sg8 8tb"]).share["postcode"] == 1.0
    assert profile(["SW1A 1AAA", "12345"]).share.get("postcode") is None
    assert profile(["Ó Rúnaidhe", "Lemaître-Texier", "O'Rourke"]).share["name_like"] == 1.0


def test_an_unexplained_flag_is_personal_and_small_codes_are_not():
    flag = classify_column("HX", ["0", "1", "0", "0"] * 5)
    assert flag.field is None and flag.category == "flag" and flag.personal and flag.reason
    code = classify_column("Code", ["1", "2", "3", "4", "5", "6"])
    assert code.field is None and code.category == "code" and not code.personal
