"""Issue 16 item 4: the whole-workbook inventory in the briefing's data section; and item 3's
``controller`` as what ``riskkit inspect`` proposes for a Force or Organisation column."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import yaml

from riskkit.inspect import classify_column, classify_table
from tests.conftest import STAFF

SECRETS = ("Quimby", "Zelda", "Okonkwo", "Payroll", "Ethnicity", "AL1 4UD", "SG8 8TB", "Not stated")


def _leak(folder: Path) -> Path:
    """A workbook: staff on a visible sheet, people on a hidden one, and a hidden lookup sheet
    the analyst excluded; an incident that leaves the Ethnicity column uncovered."""
    staff = [["Payroll Number", "Surname", "Forename", "Post Code", "Ethnicity"]]
    staff += [[f"P10023{i}", last, first, "AL1 4UD", "Not stated"]
              for i, (last, first) in enumerate([("Quimby", "Zelda"), ("Okonkwo", "Ada"), ("Quimby", "Ada")])]
    sheets = {"Staff": ("visible", staff), "Sheet2": ("hidden", [["Name", "Post Code"], ["Zelda Quimby", "SG8 8TB"]]),
              "Lookups": ("hidden", [["Code"], ["A"]])}
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (state, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.sheet_state = state
        for r in rows:
            sheet.append(r)
    book.save(folder / "hr.xlsx")
    spec = yaml.safe_load(STAFF.read_text())
    spec["postcode_lookup"]["path"] = str(STAFF.parent / "postcode_lookup.csv")
    spec["files"] = [{"path": "hr.xlsx", "exclude_sheets": {"Lookups": "reference codes, no people"},
                      "sheets": {"Staff": {"employee_id": "Payroll Number", "last_name": "Surname",
                                           "first_name": "Forename", "postcode": "Post Code"},
                                 "Sheet2": {"full_name": "Name", "postcode": "Post Code"}}}]
    path = folder / "incident.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_the_briefing_lists_every_sheet_and_what_no_mapping_covers_without_personal_data(tmp_path):
    from riskkit.analysis import analyse, load, save, summary
    from riskkit.report import briefing

    a = analyse(_leak(tmp_path))
    html = briefing.data_quality(a).data
    assert "What the extract holds" in html
    assert "hr.xlsx, sheet &#x27;Staff&#x27;: 3 rows, 5 columns" in html
    assert "4 mapped, 0 excluded by the analyst, 1 not covered by any mapping (1 may be personal data)" in html
    assert "sheet &#x27;Sheet2&#x27; (hidden): 1 row, 2 columns: home addresses, names; every column mapped." in html
    assert "sheet &#x27;Lookups&#x27; (hidden): 1 row, 1 column, not personal data; excluded by the analyst." in html
    assert "2 hidden sheets escaped with the visible ones" in html
    for secret in (*SECRETS, "reference codes"):
        assert secret not in html
    assert not any(secret in json.dumps(summary(a)) for secret in SECRETS)
    # A saved analysis (the batch's per-district briefings) keeps the inventory.
    again = load(save(a, tmp_path / "saved"))
    assert briefing.data_quality(again).data == html


def test_an_old_saved_analysis_without_an_inventory_shows_none(tmp_path):
    from riskkit.analysis import analyse
    from riskkit.report import briefing

    a = analyse(_leak(tmp_path))
    a.inventory = []
    assert "What the extract holds" not in briefing.data_quality(a).data


def test_inspect_proposes_controller_for_a_force_or_organisation_column():
    forces = ["Hertfordshire Constabulary", "Bedfordshire Police", "Cambridgeshire Constabulary"] * 20
    for header in ("Force", "Police Force", "Organisation", "Organisation Name", "Employer", "Data Controller"):
        guess = classify_column(header, forces)
        assert guess.field == "controller" and guess.sure, header
        assert not guess.personal
    # Departments and teams stay organisational units, not controllers.
    assert classify_column("Department", ["Finance", "HR", "Estates"] * 20).field is None
    # Beside the usual staff columns it is still the controller, and names stay names.
    guesses = classify_table(["Employee No", "Surname", "Force"],
                             [[f"H{i:06d}" for i in range(60)], ["Turner", "Jenkins", "Patel"] * 20, forces])
    assert [g.field for g in guesses] == ["employee_id", "last_name", "controller"]


def test_a_draft_from_a_force_column_maps_it_and_assesses_per_controller(tmp_path):
    import csv

    from riskkit.analysis import analyse, summary
    from riskkit.inspect import draft_incident, inspect_paths
    from tests.test_inspect import _fill

    rows = list(csv.DictReader((STAFF.parent / "herts_hr_extract_1.csv").open(encoding="utf-8")))
    with (tmp_path / "staff.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], "Force"])
        writer.writeheader()
        for i, r in enumerate(rows):
            writer.writerow({**r, "Force": ("Hertfordshire Constabulary", "Bedfordshire Police")[i % 2]})
    reports, skipped = inspect_paths([tmp_path / "staff.csv"])
    draft = tmp_path / "draft.yml"
    draft.write_text(draft_incident(reports, draft, skipped))
    data = yaml.safe_load(draft.read_text())
    assert data["files"][0]["columns"]["controller"] == "Force"
    assert "# controllers:  # the column(s) 'Force' name each record's organisation" in draft.read_text()
    s = summary(analyse(_fill(draft, STAFF, tmp_path / "incident.yml")))
    got = {c["name"]: c["subject_records"] for c in s["controllers"]}
    assert got == {"Bedfordshire Police": len(rows) // 2, "Hertfordshire Constabulary": len(rows) - len(rows) // 2}
