"""The leak check: every common written form of an identifier is found, riskkit's own district and
band phrases are not mistaken for people, every published text type is scanned, and texts bound
for leadership outputs or the register are refused before anything is published."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from riskkit.errors import OutputError
from riskkit.leakcheck import check_publishable, identifiers, scan_folder, scan_text
from riskkit.paths import OUTPUT_MARKER
from tests.conftest import ASB, row, write_incident

RISKKIT = str(Path(sys.executable).parent / "riskkit")


@pytest.fixture(scope="module")
def asb_found():
    return identifiers(ASB)


# Declan Curtis, 20/08/1990, AL10 6TQ, (07700) 900 409 is a victim in the ASB sample.
@pytest.mark.parametrize("text,kind", [
    ("CURTIS, Declan", "name"), ("curtis declan", "name"), ("Declan CURTIS", "name"), ("D. Curtis", "name"),
    ("Curtis, D.", "name"), ("CURTIS D", "name"),
    ("+44 7700 900409", "phone"), ("07700900409", "phone"), ("+44 (0)7700 900 409", "phone"), ("0044 7700900409", "phone"),
    ("20 August 1990", "date_of_birth"), ("20/08/1990", "date_of_birth"), ("1990-08-20", "date_of_birth"),
    ("20.08.1990", "date_of_birth"), ("20-Aug-1990", "date_of_birth"), ("August 20th, 1990", "date_of_birth"),
    ("20th of Aug 1990", "date_of_birth"), ("20/08/90", "date_of_birth"), ("19900820", "date_of_birth"),
    ("AL10  6TQ", "postcode"), ("al106tq", "postcode"), ("AL10\t6TQ", "postcode"),
    ("0  Rose   Square", "address"),
])
def test_every_common_form_is_found(asb_found, text, kind):
    assert scan_text(f"<p>Someone wrote: {text}.</p>", asb_found) == [f"1 {kind} value(s)"]


def test_ordinary_briefing_text_is_not_flagged(asb_found):
    clean = ("In Welwyn Hatfield, 6 cases; Very high 40, High 58. Deadline 12/10/2026 10:30. Contact the 98 people "
             "in priority order, Very high first. A DPO decides. Call 0300 123 1113 (ICO). ASB/24/0001.")
    assert scan_text(clean, asb_found) == []


def test_a_name_that_is_also_a_district_or_band_is_flagged_only_outside_its_place(tmp_path):
    incident = write_incident(tmp_path, [row(case="C1", name="Welwyn Hatfield"), row(case="C2", name="Very High"),
                                         row(case="C3", name="Alice Example")])
    found = identifiers(incident)
    assert scan_text("<td>Welwyn Hatfield</td><td>6</td> highest individual risk Very high", found) == []
    assert scan_text("Hatfield, Welwyn called", found) == ["1 name value(s)"]
    assert scan_text("W. Hatfield called", found) == ["1 name value(s)"]
    assert scan_text("HIGH, Very", found) == ["1 name value(s)"]
    assert scan_text("Alice Example", found) == ["1 name value(s)"]


def _output(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OUTPUT_MARKER).write_text("riskkit output folder\n")
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)
    return folder


def test_check_output_finds_all_four_forms_of_the_issue(tmp_path):
    out = _output(tmp_path / "out", {"briefing.html": "<p>clean</p>",
                                     "a.html": "<p>CURTIS, Declan</p>", "b.htm": "<p>+44 7700 900409</p>",
                                     "notes/c.md": "born 20 August 1990", "d.txt": "AL10  6TQ"})
    proc = subprocess.run([RISKKIT, "check-output", str(out), "--incident", str(ASB)], capture_output=True, text=True)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert any("a.html: 1 name" in x for x in lines) and any("b.htm: 1 phone" in x for x in lines)
    assert any("c.md: 1 date_of_birth" in x for x in lines) and any("d.txt: 1 postcode" in x for x in lines)
    assert "Curtis" not in proc.stderr and "900409" not in proc.stderr and "6TQ" not in proc.stderr


def test_only_the_restricted_output_folder_is_skipped(tmp_path):
    out = _output(tmp_path / "out", {"briefing.html": "<p>clean</p>", "restricted/contact_list.csv": "Declan Curtis",
                                     "extra/restricted/notes.txt": "Declan Curtis"})
    nested = _output(out / "district", {"briefing.html": "clean", "restricted/people.csv": "Declan Curtis"})
    leaks = scan_folder(out, ASB)
    assert len(leaks) == 1 and "extra/restricted/notes.txt" in leaks[0]
    (nested / OUTPUT_MARKER).unlink()  # a folder called restricted that is not an output's is scanned
    assert len(scan_folder(out, ASB)) == 2


@pytest.mark.parametrize("target", ["missing", "file"])
def test_check_output_of_nothing_is_an_error(tmp_path, target):
    path = tmp_path / "gone"
    if target == "file":
        path.write_text("Declan Curtis")
    with pytest.raises(OutputError, match="give the assessment's output folder"):
        scan_folder(path, ASB)
    proc = subprocess.run([RISKKIT, "check-output", str(path), "--incident", str(ASB)], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and "Curtis" not in proc.stderr


def test_a_corrupt_pdf_is_one_clear_line(tmp_path):
    out = _output(tmp_path / "out", {})
    (out / "briefing.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage Declan Curtis" * 100)
    proc = subprocess.run([RISKKIT, "check-output", str(out), "--incident", str(ASB)], capture_output=True, text=True)
    assert proc.returncode == 2 and "not a readable PDF" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_texts_bound_for_leadership_are_refused_by_field_name(tmp_path):
    folder = tmp_path / "Declan Curtis case"
    folder.mkdir()
    extract = folder / "asb_case_list.csv"
    extract.write_bytes((ASB.parent / "asb_case_list.csv").read_bytes())
    text = ASB.read_text()
    incident = folder / "incident.yml"
    incident.write_text(text)
    with pytest.raises(OutputError, match=r"the incident file's path.*files\[0\]\.path") as caught:
        check_publishable(incident, "assess")
    assert "Curtis" not in str(caught.value)
    title = text.replace("title: ", "title: Complaint by CURTIS, Declan about ", 1)
    (ASB.parent / "x").exists()
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "asb_case_list.csv").write_bytes(extract.read_bytes())
    (clean / "incident.yml").write_text(title)
    with pytest.raises(OutputError, match=r"assess: personal data from the extract in title \(1 name"):
        check_publishable(clean / "incident.yml", "assess")
    (clean / "incident.yml").write_text(text)
    check_publishable(clean / "incident.yml", "assess", {"--analyst": "A. Analyst"})
    with pytest.raises(OutputError, match=r"in --analyst \(1 name"):
        check_publishable(clean / "incident.yml", "assess", {"--analyst": "Declan Curtis"})


@pytest.mark.parametrize("args,field", [
    (["--regulator", "notify", "--by", "Declan Curtis"], "--by"),
    (["--regulator", "no-notify", "--reason", "CURTIS, Declan withdrew the complaint"], "--reason"),
    (["--advice", "call +44 7700 900409 first"], "--advice"),
])
def test_decide_refuses_personal_data_naming_the_field(tmp_path, args, field):
    reg = tmp_path / "r.sqlite"
    proc = subprocess.run([RISKKIT, "decide", str(ASB), *args, "--register", str(reg)], capture_output=True, text=True)
    assert proc.returncode == 2 and f"in {field} (" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert "Curtis" not in proc.stderr and "900409" not in proc.stderr
    assert not reg.exists() or "the register is empty" in subprocess.run(
        [RISKKIT, "register", "list", "--register", str(reg)], capture_output=True, text=True).stdout


def test_assess_and_ico_form_refuse_before_anything_is_written(tmp_path):
    out = tmp_path / "Declan Curtis"
    for args in (["assess", str(ASB), "--out", str(out), "--quiet"], ["ico-form", str(ASB), "--out", str(out)],
                 ["assess", str(ASB), "--out", str(tmp_path / "ok"), "--analyst", "D. Curtis", "--quiet"]):
        proc = subprocess.run([RISKKIT, *args, "--register", str(tmp_path / "r.sqlite")], capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 2 and "personal data from the extract" in proc.stderr, proc.stderr
        assert "Curtis" not in proc.stderr
    assert not out.exists() and not (tmp_path / "ok").exists()
