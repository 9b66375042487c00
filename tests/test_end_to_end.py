"""`riskkit assess` on both samples into a temporary folder: summary, HTML, restricted outputs."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from riskkit.leakcheck import identifiers, scan_folder, scan_text
from tests.conftest import ASB, ROOT, STAFF

RISKKIT = [str(Path(sys.executable).parent / "riskkit")]
NOW = "2026-10-10T09:00:00+01:00"


def _assess(incident: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RISKKIT, "assess", str(incident), "--out", str(out), "--now", NOW, "--quiet", *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def runs(asb_run, staff_run):
    """The session's shared runs of both samples (tests.shared_runs): read, never changed."""
    return {"asb": (asb_run.out, asb_run), "staff": (staff_run.out, staff_run)}


def test_asb_summary(runs):
    out, _ = runs["asb"]
    s = json.loads((out / "summary.json").read_text())
    assert s["incident_id"] == "asb-publication-sample" and s["cases"] == 62
    assert next(d for d in s["districts"] if d["district"] == "Dacorum")["cases"] == 9
    assert s["rows_read"] == s["rows_analysed"] + s["rows_quarantined"] == 142
    assert s["regulator"]["notify"] and s["regulator"]["hours_left"] == pytest.approx(49.5)
    assert s["model_version"] == "riskkit-default-2.0.0"
    assert s["communicate"]["required"] + s["communicate"]["recommended"] == s["people"]
    # the closing summary in the terminal is checked on the plain (not --json) run in
    # test_a_contact_list_past_the_workbook_limit_keeps_everyone_in_the_csv


def test_staff_summary(runs):
    out, _ = runs["staff"]
    s = json.loads((out / "summary.json").read_text())
    assert s["subject_records"] == 1067 and s["people"] == 1020 and s["rows_quarantined"] == 0
    assert len(s["files"]) == 5 and s["unassigned"]["subject_records"] > 0


def test_briefing_html_reads_in_order_and_is_self_contained(runs):
    html = (runs["asb"][0] / "briefing.html").read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert re.search(r"130 people (\(between 1[23]\d and 1[34]\d\) )?in 62 anti-social behaviour cases across 10 "
                     r"districts; .*Report to the ICO within 2 days .*were published on a public web page for 5 days\. "
                     r"Most in Dacorum \(9 of 62 cases\)", text)
    order = ["Decisions and deadline", "Key figures", "Where: anti-social behaviour cases and people per district",
             "Who: people by risk band", "Timeline", "Recommended actions", "Data quality and reconciliation",
             "Method notes", "Appendix: the scoring formula"]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)
    assert text.count("OFFICIAL-SENSITIVE") >= 2 and "schematic boundaries" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html.lower()
    assert html.count('src="data:image/png;base64,') >= 2
    assert "In [" not in text and "import riskkit" not in html  # no code cells


def test_no_personal_data_in_leadership_outputs(runs):
    for name, incident in (("asb", ASB), ("staff", STAFF)):
        assert scan_folder(runs[name][0], incident) == []


def test_the_leak_check_can_fail(runs, tmp_path):
    found = identifiers(ASB)
    name = sorted(found["name"])[0]
    assert scan_text(f"<p>{name.title()}</p>", found) == ["1 name value(s)"]
    assert scan_text("contact 07700 900 409", found)  # a phone number from the sample, spaced differently


def test_restricted_outputs_are_owner_only_and_defused(runs):
    out = runs["asb"][0]
    restricted = out / "restricted"
    assert stat.S_IMODE(restricted.stat().st_mode) == 0o700
    for f in restricted.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    wb = openpyxl.load_workbook(restricted / "contact_list.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:5] == ["priority", "person_id", "band", "channel", "name"]
    priorities = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert priorities == sorted(priorities)
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    # the CSV copy (for mail merge) has the same people in the same order
    csv = pd.read_csv(restricted / "contact_list.csv")
    assert list(csv.columns) == header and csv["person_id"].tolist() == [r[1].value for r in ws.iter_rows(min_row=2)]


def test_a_contact_list_past_the_workbook_limit_keeps_everyone_in_the_csv(runs, tmp_path):
    full = pd.read_csv(runs["asb"][0] / "restricted" / "contact_list.csv")
    proc = subprocess.run([*RISKKIT, "assess", str(ASB), "--out", str(tmp_path / "out"), "--now", NOW, "--quiet"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "RISKKIT_XLSX_MAX_ROWS": "10"})
    assert proc.returncode == 0, proc.stderr
    restricted = tmp_path / "out" / "restricted"
    wb = openpyxl.load_workbook(restricted / "contact_list.xlsx")
    assert wb.sheetnames == ["Read me", "Contact list"]
    assert f"10 highest-priority people of {len(full)}" in wb["Read me"]["A2"].value
    rows = [[c.value for c in r] for r in wb["Contact list"].iter_rows(min_row=2)]
    assert [r[1] for r in rows] == full["person_id"].head(10).tolist()
    assert pd.read_csv(restricted / "contact_list.csv")["person_id"].tolist() == full["person_id"].tolist()
    assert f"the workbook lists the first 10 of {len(full)}" in proc.stdout
    # the closing summary in the terminal (this run has no --json), in the incident's own nouns
    assert "62 anti-social behaviour cases" in proc.stdout and "2 days 1 hour left" in proc.stdout


def test_pdf_is_printed(runs):
    pdf = runs["asb"][0] / "briefing.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    from pypdf import PdfReader

    assert "Dacorum" in "".join(p.extract_text() for p in PdfReader(pdf).pages)


def test_incident_text_is_escaped(tmp_path):
    incident = tmp_path / "incident.yml"
    text = ASB.read_text().replace("title: ASB case list published on the force website",
                                   'title: "<script>alert(1)</script><img src=x onerror=alert(2)>"')
    text = text.replace("path: ../boundaries/", f"path: {ASB.parent.parent}/boundaries/")
    text = text.replace("path: asb_case_list.csv", f"path: {ASB.parent}/asb_case_list.csv")
    incident.write_text(text)
    proc = _assess(incident, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "out" / "briefing.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;alert(1)" in html


def test_failed_run_leaves_no_output_and_keeps_annotated_notebook(tmp_path):
    incident = tmp_path / "incident.yml"
    text = ASB.read_text().replace("path: ../boundaries/", f"path: {ASB.parent.parent}/boundaries/")
    text = text.replace("path: asb_case_list.csv", f"path: {ASB.parent}/asb_case_list.csv")
    incident.write_text(text.replace("case_ref: Case Ref", "case_ref: No Such Column"))
    proc = _assess(incident, tmp_path / "out")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "No Such Column" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    # the runner analyses before the notebook starts (issue 15), so this fails before any notebook exists
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.failed.ipynb").exists()
    assert not list(tmp_path.glob(".out.staging-*"))
    import nbformat

    from riskkit.errors import NotebookError
    from riskkit.paths import BRIEFING_NOTEBOOK
    from riskkit.run import make_briefing

    nb = nbformat.read(BRIEFING_NOTEBOOK, as_version=4)  # a cell that fails while rendering
    nb.cells.insert(4, nbformat.v4.new_code_cell("raise ValueError('a bug in a chart')"))
    failing = tmp_path / "failing.ipynb"
    nbformat.write(nb, failing)
    with pytest.raises(NotebookError, match="failed in cell"):
        make_briefing(ASB, tmp_path / "out", progress=False, notebook=failing)
    assert not (tmp_path / "out").exists() and (tmp_path / "out.failed.ipynb").exists()
    assert not list(tmp_path.glob(".out.staging-*"))


def test_unknown_context_fails_before_any_notebook_starts(tmp_path):
    incident = tmp_path / "incident.yml"
    incident.write_text(ASB.read_text().replace("data_context: [police_asb_case]", "data_context: [no_such_context]"))
    proc = _assess(incident, tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "data_context 'no_such_context'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.failed.ipynb").exists()


@pytest.mark.parametrize("args,needle", [
    (["assess", "missing.yml"], "file not found"),
    (["assess", str(ASB), "--format", "docx"], "unknown format"),
    (["sample", "--check"], "match the generator"),
])
def test_cli_messages(args, needle, tmp_path):
    proc = subprocess.run([*RISKKIT, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PATH": os.environ.get("PATH", "")})
    output = proc.stdout + proc.stderr
    assert needle in output and "Traceback" not in output
    if args[0] == "assess":
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_missing_column_error_from_cli(tmp_path):
    incident = tmp_path / "incident.yml"
    incident.write_text(ASB.read_text().replace("last_name: Surname", "last_name: Surnam")
                        .replace("path: asb_case_list.csv", f"path: {ASB.parent}/asb_case_list.csv"))
    proc = _assess(incident, tmp_path / "out")
    assert proc.returncode == 2 and "'Surnam' (mapped to last_name) not found; closest headers found: 'Surname'" in proc.stderr
    assert "Traceback" not in proc.stderr
