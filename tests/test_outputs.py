"""Atomic writes, owner-only restricted files, and spreadsheet formula injection."""

from __future__ import annotations

import stat
from pathlib import Path

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


def test_a_column_arrow_cannot_type_still_reaches_the_csv(tmp_path):
    frame = pd.DataFrame({"raw": pd.Series(["=1+1", 7, None], dtype=object), "n": [1, 2, 3]})
    csv = write_restricted_csv(tmp_path / "mixed.csv", frame)
    back = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert back["raw"].tolist() == ["'=1+1", "7", ""] and back["n"].tolist() == ["1", "2", "3"]


def test_categorical_and_repeated_text_is_defused(tmp_path):
    frame = pd.DataFrame({"town": pd.Categorical(["=cmd", "Luton", "=cmd", None]), "email": ["@x", "@x", "a@b", "-1"]})
    csv = write_restricted_csv(tmp_path / "c.csv", frame)
    back = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert back["town"].tolist() == ["'=cmd", "Luton", "'=cmd", ""]
    assert back["email"].tolist() == ["'@x", "'@x", "a@b", "'-1"]


def test_case_references_are_distinct_sorted_and_joined():
    import numpy as np

    from riskkit.report.restricted import _case_refs

    person = np.array([0, 0, 0, 1, 2, 2, 3])
    refs = pd.Series(["ASB-9", "ASB-10", "ASB-9", "ASB-3", "ASB-2", "ASB-1", "ASB-3"], dtype="string")
    assert _case_refs(person, refs, 5).tolist() == ["ASB-10; ASB-9", "ASB-3", "ASB-1; ASB-2", "ASB-3", None]
    # nobody with more than one case (a district's share, or a small extract)
    assert _case_refs(np.array([1, 0]), refs.head(2), 2).tolist() == ["ASB-10", "ASB-9"]


def test_the_workbooks_temporary_files_stay_in_the_restricted_folder(tmp_path, monkeypatch):
    """openpyxl streams rows through temporary files it removes at exit; a killed kernel left one,
    holding the contact list, in TMPDIR. They are made beside the workbook instead."""
    import tempfile

    from openpyxl.worksheet import _writer


    made = []
    original = _writer.create_temporary_file

    def spy(suffix=""):
        made.append(Path(original(suffix)))
        return str(made[-1])

    monkeypatch.setattr(_writer, "create_temporary_file", spy)
    folder = tmp_path / "restricted"
    folder.mkdir()
    before = tempfile.tempdir
    write_restricted_xlsx(folder / "contact_list.xlsx", {"Contact list": pd.DataFrame({"name": ["A", "B"]})})
    assert made and all(p.parent == folder for p in made)
    assert tempfile.tempdir == before
