"""Every error path this issue touched ends in one clear line with its class's exit code, and none
of them lets a planted person's details reach stderr, the batch index, summary.json or the register."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import row, write_incident

RISKKIT = str(Path(sys.executable).parent / "riskkit")
NOW = "2026-10-10T09:00:00+01:00"
# The planted person, in the forms a careless message might quote them.
NAME, PHONE, POSTCODE, DOB = "Quentin Zabriskie-Pemberton", "07700 900 777", "HP2 7QZ", "14/03/1977"
PLANTED = ("Quentin", "Zabriskie", "Pemberton", "900 777", "900777", "HP2 7QZ", "HP27QZ", "14/03/1977", "1977-03-14")


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("planted")
    columns = {"case_ref": "Case", "role": "Role", "full_name": "Name", "date_of_birth": "DOB", "address": "Address",
               "postcode": "Postcode", "district": "District", "phone": "Phone"}
    rows = [{**row(case="C1", name=NAME, postcode=POSTCODE, dob=DOB, address="9 Zabriskie Close"), "Phone": PHONE},
            {**row(case="C2", name="Alice Example"), "Phone": "07700 900 001"}]
    return write_incident(folder, rows, columns=columns)


def _clean(text: str) -> None:
    for value in PLANTED:
        assert value.lower() not in text.lower(), f"planted value {value!r} leaked"


def _variant(incident: Path, name: str, old: str, new: str) -> Path:
    path = incident.parent / name
    path.write_text(incident.read_text().replace(old, new, 1))
    return path


def _one_line(args: list[str], code: int = 2, **kw) -> str:
    proc = subprocess.run([RISKKIT, *args], capture_output=True, text=True, timeout=300, **kw)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code and len(lines) == 1, proc.stderr
    assert "internal error" not in proc.stderr and "failed in cell" not in proc.stderr
    _clean(proc.stderr + proc.stdout)
    return lines[0]


def test_vague_endings_are_one_clear_line_without_personal_data(planted, tmp_path):
    reg = ["--register", str(tmp_path / "r.sqlite")]
    out = ["--out", str(tmp_path / "out"), "--quiet", *reg]
    cases = {
        "does not exist": _variant(planted, "ts.yml", "became_aware: 2026-10-02T09:00:00+01:00",
                                   "became_aware: 2026-02-30T09:00:00+01:00"),
        "time zone offset": _variant(planted, "tz.yml", "became_aware: 2026-10-02T09:00:00+01:00",
                                     "became_aware: 2026-10-02T09:00:00+25:00"),
        "delimiter is one character": _variant(planted, "delim.yml", "  - path: extract.csv",
                                               "  - path: extract.csv\n    delimiter: \"ab\""),
        "is a table, not a boundary file": _variant(planted, "bound.yml", "files:",
                                                    "boundaries:\n  path: extract.csv\n  code_column: Name\nfiles:"),
    }
    deep = tmp_path / "deep.yml"
    deep.write_text(f"title: {NAME}\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    cases["nested too deeply"] = deep
    for needle, incident in cases.items():
        assert needle in _one_line(["assess", str(incident), *out]), needle
    assert "needs a time zone" in _one_line(["assess", str(planted), *out, "--now", "2026-10-10T09:00:00"])
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    assert "loops back" in _one_line(["assess", str(planted), "--out", str(tmp_path / "loop1" / "x"), "--quiet", *reg])
    assert "name is too long" in _one_line(["assess", str(planted), "--out", str(tmp_path / ("n" * 300)), "--quiet", *reg])
    assert not (tmp_path / "out").exists()


def test_texts_naming_the_planted_person_are_refused_everywhere(planted, tmp_path):
    reg = tmp_path / "r.sqlite"
    titled = _variant(planted, "titled.yml", "title: Test incident", f"title: Complaint from {NAME.upper()}")
    assert "in title (1 name" in _one_line(["assess", str(titled), "--out", str(tmp_path / "o"), "--quiet",
                                            "--register", str(reg)])
    assert "in --by (1 name" in _one_line(["decide", str(planted), "--regulator", "notify", "--by", NAME,
                                           "--register", str(reg)])
    assert "in --reason (1 phone" in _one_line(["decide", str(planted), "--regulator", "no-notify", "--reason",
                                                f"they asked us to call {PHONE} only", "--register", str(reg)])
    folder = tmp_path / NAME.replace(" ", "_")
    assert "--out (1 name" in _one_line(["ico-form", str(planted), "--out", str(folder), "--register", str(reg)])
    manifest = tmp_path / "m.yml"
    manifest.write_text(f"runs:\n  - incident: {titled}\n    out: {tmp_path / 'b'}\n    now: '{NOW}'\n"
                        f"index: {tmp_path / 'index.html'}\n")
    proc = subprocess.run([RISKKIT, "batch", str(manifest), "--workers", "1", "--quiet", "--register", str(reg)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "in title" in proc.stderr
    _clean(proc.stderr + proc.stdout + (tmp_path / "index.html").read_text())
    assert not (tmp_path / "o").exists() and not (tmp_path / "b").exists() and not folder.exists()
    if reg.exists():
        _clean(reg.read_bytes().decode("utf-8", "replace"))


def test_register_and_output_folder_errors_do_not_quote_what_they_found(planted, tmp_path):
    from riskkit.register import Register

    reg_path = tmp_path / "r.sqlite"
    reg = Register(reg_path)
    reg.append("inc", "note", {"ok": True}, "tester")
    with reg.engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER events_no_update"))
        conn.execute(sa.text(f"UPDATE events SET payload = '{{\"who\": \"{NAME}' WHERE seq = 1"))
    assert "unreadable payload" in _one_line(["register", "list", "--register", str(reg_path)])
    assert "altered" in _one_line(["register", "verify", "--register", str(reg_path)], code=1)
    junk = tmp_path / "junk.sqlite"
    junk.write_text(f"{NAME}, {POSTCODE}, {DOB}\n" * 100)
    assert "not a readable database" in _one_line(["register", "show", "inc", "--register", str(junk)])
    out = tmp_path / "out"
    out.mkdir()
    (out / ".riskkit-output").write_text("riskkit output folder: replaced whole by the next run\n")
    (out / f"{NAME} {POSTCODE}.docx").write_text("theirs")
    assert "riskkit did not write" in _one_line(["assess", str(planted), "--out", str(out), "--quiet", "--register",
                                                  str(reg_path)])
    leaked = tmp_path / "leaked"
    leaked.mkdir()
    (leaked / "briefing.htm").write_text(f"<p>{NAME.upper()}, {PHONE}, born {DOB}</p>")
    proc = subprocess.run([RISKKIT, "check-output", str(leaked), "--incident", str(planted)], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "name" in proc.stderr and "phone" in proc.stderr
    _clean(proc.stderr)


def test_disk_full_is_one_clear_line(planted, tmp_path, monkeypatch, capsys):
    """ENOSPC from anywhere in a run (here: publishing) is the OutputError class's one line, exit 2."""
    from riskkit import cli, run

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "out"))

    monkeypatch.setattr(run, "make_briefing", full)
    monkeypatch.setattr(sys, "argv", ["riskkit", "assess", str(planted), "--out", str(tmp_path / "out"), "--quiet",
                                      "--register", str(tmp_path / "r.sqlite")])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and "no space left on the device" in err
    _clean(err)
