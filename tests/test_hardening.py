"""Hostile and broken input, crashes mid-run, concurrent runs and leaks (issue: hardening)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit.errors import RiskkitError
from riskkit.incident import load_incident
from riskkit.ingest import ingest
from riskkit.leakcheck import scan_folder
from tests.conftest import ASB, row, write_incident

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"
HOSTILE_NAMES = [
    "<script>alert('x')</script> Smith", "=HYPERLINK(\"http://evil.example\",\"click\")", "+44 Cmd", "-Dash Person",
    "@Sum Person", "\tTab Person", "\rCarriage Person", "A" * 20_000 + " Long", "Ann\u202eeeL Override", "Жанна Müller 李",
    "Bell\x07 Control\x1b[31m",
]


def _assess(incident: Path, out: Path, *extra: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([RISKKIT, "assess", str(incident), "--out", str(out), "--now", NOW, "--quiet", *extra],
                          capture_output=True, text=True, timeout=300, **kw)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    rows = [row(case=f"C{i}", name=name, address=f"<img src=x onerror=alert({i})> {i} Road", postcode="HP1 1AA")
            for i, name in enumerate(HOSTILE_NAMES)]
    rows.append(row(case="=1+2 Quarantined", name="", address=""))  # nobody identifiable: quarantined
    incident = write_incident(folder, rows, context=["criminal_allegation"])  # everyone High or above: all contacted
    proc = _assess(incident, folder / "out")
    assert proc.returncode == 0, proc.stderr
    return incident, folder / "out"


def test_hostile_text_renders_as_text_and_never_reaches_leadership(hostile_run):
    incident, out = hostile_run
    html = (out / "briefing.html").read_text()
    assert "<script" not in html.lower() and "onerror" not in html and "HYPERLINK" not in html
    assert scan_folder(out, incident) == []


def test_hostile_text_is_inert_in_restricted_spreadsheets(hostile_run):
    _, out = hostile_run
    ws = openpyxl.load_workbook(out / "restricted" / "contact_list.xlsx").active
    cells = [c for r in ws.iter_rows(min_row=2) for c in r if isinstance(c.value, str)]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not any(c.value.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    for name in ("people.csv", "quarantine.csv"):
        for line in (out / "restricted" / name).read_text().splitlines()[1:]:
            for field in line.split(","):
                assert not field.startswith(("=", "+", "@")), (name, field[:20])
    assert "'=1+2 Quarantined" in (out / "restricted" / "quarantine.csv").read_text()


def test_bom_plus_cp1252(incident_factory):
    text = "Case,Role,Name,DOB,Address,Postcode,District\nC1,Victim,Zoë Brontë,01/02/1980,1 Rue,HP1 1AA,Dacorum\n"
    path = incident_factory([row()])
    (path.parent / "extract.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252"))
    data = ingest(load_incident(path))
    assert data.records.loc[0, "full_name"] == "Zoë Brontë" and data.records.loc[0, "case_ref"] == "C1"


def test_truncated_csv(incident_factory):
    whole = "Case,Role,Name,DOB,Address,Postcode,District\nC1,Victim,A B,01/02/1980,1 Rd,HP1 1AA,Dacorum\nC2,Victim,C D,01/0"
    path = incident_factory(whole)
    data = ingest(load_incident(path))
    assert data.rows_read == 2 and data.rows_quarantined == 1  # the cut row is kept, quarantined
    (path.parent / "extract.csv").write_text(whole + '2/1980,"2 Rd')  # cut inside a quoted field
    data = ingest(load_incident(path))
    assert data.rows_read == 2 and data.rows_analysed == 1 and data.rows_quarantined == 1


def test_two_gigabyte_file_is_refused_with_a_limit(incident_factory):
    path = incident_factory([row()])
    with open(path.parent / "extract.csv", "r+b") as fh:
        fh.truncate(2 * 1024**3)  # sparse: costs no disk
    with pytest.raises(RiskkitError, match="over the 1.5 GB limit"):
        ingest(load_incident(path))


def test_output_folder_that_riskkit_did_not_make_is_never_replaced(tmp_path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    proc = _assess(ASB, precious)
    assert proc.returncode == 2 and "not a riskkit output folder" in proc.stderr
    assert (precious / "thesis.docx").read_text() == "years of work"
    (tmp_path / "file").write_text("x")
    assert "is a file" in _assess(ASB, tmp_path / "file").stderr


def test_odd_characters_in_output_path(tmp_path):
    out = tmp_path / "out dir ünïcode; $(echo x) 'quote'"
    proc = _assess(ASB, out)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "summary.json").read_text())["cases"] == 62


def test_errors_never_quote_personal_data(tmp_path):
    secret_name, secret_pc = "Quentin Zabriskie-Pemberton", "HP2 7QZ"
    rows = [row(name=secret_name, postcode=secret_pc, dob="99/99/1999")]
    incident = write_incident(tmp_path, rows)
    incident.write_text(incident.read_text().replace("'DOB'", "'Date of Birth'"))
    proc = _assess(incident, tmp_path / "out")
    assert proc.returncode == 2
    incident.write_text(incident.read_text().replace("'Date of Birth'", "'DOB'").replace("data_context: []",
                                                                                        "data_context: [bogus]"))
    proc2 = _assess(incident, tmp_path / "out2")
    assert proc2.returncode == 2
    for text in (proc.stderr, proc.stdout, proc2.stderr, proc2.stdout):
        assert secret_name.split()[1] not in text and secret_pc not in text and "99/99" not in text


CSV_CHARS = st.sampled_from(list("abcXYZ019,;\t\"'\n\r =+-@é\u202e\x00\xff"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(CSV_CHARS, max_size=300), raw=st.binary(max_size=64), use_raw=st.booleans())
def test_fuzz_ingest_ends_in_analysis_or_one_clear_error(tmp_path_factory, body, raw, use_raw):
    folder = tmp_path_factory.mktemp("fuzz")
    cols = {"case_ref": "Case", "full_name": "Name", "date_of_birth": "DOB"}
    content = raw if use_raw else ("Case,Name,DOB\n" + body).encode("utf-8", "surrogatepass")
    incident = write_incident(folder, [], columns=cols)
    (folder / "extract.csv").write_bytes(content)
    try:
        data = ingest(load_incident(incident))
    except RiskkitError as exc:
        assert "\n" not in str(exc) and str(exc)
    else:
        assert data.rows_read == data.rows_analysed + data.rows_quarantined


YAML_TEXT = st.text(st.sampled_from(list("idtlecnrgmpsx:-[]{}&*!|> \n'\"0123456789_.")), max_size=200)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=YAML_TEXT, base=st.booleans())
def test_fuzz_incident_parser(tmp_path_factory, text, base):
    folder = tmp_path_factory.mktemp("yaml")
    path = folder / "incident.yml"
    path.write_text((ASB.read_text() if base else "") + text)
    try:
        load_incident(path)
    except RiskkitError as exc:
        assert "\n" not in str(exc)


def _complete(out: Path) -> bool:
    need = ["summary.json", "briefing.html", "briefing.ipynb", ".riskkit-output", "restricted/contact_list.xlsx",
            "restricted/people.csv", "restricted/quarantine.csv"]
    return all((out / n).is_file() and (out / n).stat().st_size > 0 for n in need)


def _stable(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("run_at",)}


def test_sigkill_at_several_moments_then_rerun(tmp_path, asb_run):
    # the reference: the session's shared run of the sample with the same --now (tests.shared_runs)
    expected = _stable(json.loads((asb_run.out / "summary.json").read_text()))
    out = tmp_path / "out"
    for delay in (0.5, 2.0, 4.0, 6.5):
        proc = subprocess.Popen([RISKKIT, "assess", str(ASB), "--out", str(out), "--now", NOW, "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Either nothing was published or a complete earlier/later run is there: never a partial folder.
        assert not out.exists() or _complete(out), f"partial output after SIGKILL at {delay}s"
        visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
        assert set(visible) <= {"out"}
        rerun = _assess(ASB, out)
        assert rerun.returncode == 0, rerun.stderr
        assert _complete(out) and _stable(json.loads((out / "summary.json").read_text())) == expected


def test_a_run_is_refused_while_another_holds_the_folder(tmp_path):
    from riskkit.run import output_lock

    out = tmp_path / "out"
    with output_lock(out.resolve()):  # as a concurrent run would hold it
        second = subprocess.run([RISKKIT, "assess", str(ASB), "--out", str(out), "--now", NOW, "--quiet"],
                                capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and "another riskkit run is writing" in second.stderr
    assert not out.exists()


def test_two_simultaneous_runs_never_corrupt_the_folder(tmp_path):
    out = tmp_path / "out"
    args = [RISKKIT, "assess", str(ASB), "--out", str(out), "--now", NOW, "--quiet"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert any(code == 0 for code, _ in outcomes)
    for code, err in outcomes:  # each either finished or was refused cleanly
        assert code == 0 or (code == 2 and "another riskkit run is writing" in err), err
    assert _complete(out) and json.loads((out / "summary.json").read_text())["cases"] == 62


def test_check_output_cli_fails_on_a_leak(tmp_path, hostile_run):
    incident, out = hostile_run
    ok = subprocess.run([RISKKIT, "check-output", str(out), "--incident", str(incident)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    leaked = tmp_path / "leaked"
    leaked.mkdir()
    (leaked / "briefing.html").write_text("<p>Contact Zoë Müller at HP1 1AA</p>")
    bad = subprocess.run([RISKKIT, "check-output", str(leaked), "--incident", str(incident)], capture_output=True, text=True)
    assert bad.returncode == 1 and "postcode" in bad.stderr and "HP1 1AA" not in bad.stderr


def test_yaml_is_only_safe_loaded():
    src = (Path(__file__).resolve().parents[1] / "src" / "riskkit").rglob("*.py")
    for path in src:
        text = path.read_text()
        assert "yaml.load(" not in text and "yaml.unsafe_load" not in text and "Loader=yaml.Loader" not in text, path
    assert yaml.safe_load("a: 1") == {"a": 1}


def test_a_kernel_that_dies_mid_run_is_a_clear_error_and_publishes_nothing(tmp_path):
    import nbformat

    from riskkit.errors import NotebookError
    from riskkit.paths import BRIEFING_NOTEBOOK
    from riskkit.run import make_briefing

    nb = nbformat.read(BRIEFING_NOTEBOOK, as_version=4)  # as the kernel would die when out of memory
    nb.cells.insert(4, nbformat.v4.new_code_cell("import os\nos._exit(137)"))
    dying = tmp_path / "dying.ipynb"
    nbformat.write(nb, dying)
    with pytest.raises(NotebookError, match="kernel died mid-run.*nothing was published") as caught:
        make_briefing(ASB, tmp_path / "out", progress=False, notebook=dying)
    assert "\n" not in str(caught.value)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["dying.ipynb"]


def test_a_rerun_replaces_only_what_riskkit_wrote(tmp_path, asb_run):
    out = tmp_path / "out"
    shutil.copytree(asb_run.out, out)  # a finished run of the sample, as its own folder (tests.shared_runs)
    listed = (out / ".riskkit-output").read_text().splitlines()
    assert "briefing.html" in listed and "restricted/contact_list.csv" in listed
    (out / "my notes.docx").write_text("a user's own file")
    again = _assess(ASB, out)
    assert again.returncode == 2 and "holds 1 file(s) or folder(s) riskkit did not write" in again.stderr
    assert (out / "my notes.docx").read_text() == "a user's own file"
    (out / "my notes.docx").unlink()
    nested = _assess(ASB, out / "restricted" / "second")  # would vanish when out is re-run
    assert nested.returncode == 2 and "is inside the riskkit output folder" in nested.stderr
    assert not (out / "restricted" / "second").exists()
    (out / "restricted" / "extra.csv").write_text("someone's list")
    assert "riskkit did not write" in _assess(ASB, out).stderr
    assert (out / "restricted" / "extra.csv").exists()


def test_output_folder_rules(tmp_path):
    from riskkit.errors import OutputError
    from riskkit.outfolder import check, make_private_dirs, write_marker

    out = tmp_path / "out"
    (out / "restricted").mkdir(parents=True)
    (out / "briefing.html").write_text("x")
    (out / "restricted" / "people.csv").write_text("x")
    write_marker(out)
    check(out)  # only riskkit's files: may be replaced
    (out / ".riskkit-output").write_text("riskkit output folder: replaced whole by the next run\n")
    check(out)  # a marker from an older riskkit: its known file names only
    (out / "thesis.docx").write_text("x")
    with pytest.raises(OutputError, match="did not write"):
        check(out)
    parent = tmp_path / "districts"
    (parent / ".analysis").mkdir(parents=True)
    (parent / ".analysis" / "people.parquet").write_text("x")
    (parent / "dacorum").mkdir()
    (parent / ".dacorum.lock").write_text("")
    write_marker(parent, ["dacorum"])
    check(parent)
    check(parent / "dacorum")  # a listed district folder is not "inside another output"
    with pytest.raises(OutputError, match="inside the riskkit output folder"):
        check(parent / "elsewhere")
    import stat

    deep = make_private_dirs(tmp_path / "a" / "b" / "c")
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in (tmp_path / "a", tmp_path / "a" / "b", deep))


def test_batch_applies_the_out_rule_to_its_per_district_folder(tmp_path):
    from riskkit.batch import run_batch

    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "thesis.docx").write_text("years of work")
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"runs:\n  - incident: {ASB}\n    out: documents\n    per_district: true\n    now: '{NOW}'\n"
                        f"index: {tmp_path}/index.html\n")
    results, _ = run_batch(manifest, workers=1, progress=False, log=lambda m: None, register=str(tmp_path / "r.sqlite"))
    assert [r.status for r in results] == ["failed"] and "not a riskkit output folder" in results[0].reason
    assert sorted(p.name for p in documents.iterdir()) == ["thesis.docx"]  # no .analysis/ written into it
