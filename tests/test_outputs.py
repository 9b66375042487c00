"""Atomic writes, owner-only restricted files, and spreadsheet formula injection."""

from __future__ import annotations

import stat

import openpyxl
import pandas as pd
import pytest

from riskkit.outputs import atomic_write_text, defuse, write_restricted_csv, write_restricted_xlsx

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "＝1+1", "plain", "O'Neil"]


@pytest.mark.parametrize("value", HOSTILE)
def test_defuse(value):
    out = defuse(value)
    assert not str(out).startswith(("=", "+", "-", "@", "\t", "\r", "＝")) and str(out).endswith(value)


def test_restricted_files_are_owner_only_and_inert(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "n": range(len(HOSTILE))})
    csv = write_restricted_csv(tmp_path / "x.csv", frame)
    xlsx = write_restricted_xlsx(tmp_path / "x.xlsx", {"People": frame})
    for f in (csv, xlsx):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    ws = openpyxl.load_workbook(xlsx).active
    values = [c.value for c in ws["A"][1:]]
    assert all(c.data_type == "s" for c in ws["A"][1:])
    assert values[0] == "'" + HOSTILE[0] and values[-2:] == ["plain", "O'Neil"]
    assert "'=HYPERLINK" in csv.read_text()


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.json"]
