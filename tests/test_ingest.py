"""Ingest: every row analysed or quarantined, clear errors for unreadable input."""

from __future__ import annotations

import zipfile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit import normalise
from riskkit.errors import ExtractError
from riskkit.incident import load_incident
from riskkit.ingest import ingest
from tests.conftest import ASB, STAFF, row, write_incident


def _ingest(path):
    return ingest(load_incident(path))


def test_sample_reconciles_and_reports_unusable_fields():
    # Before issue 12 these two rows were quarantined: each holds a person, so both are now
    # analysed, with the unusable field set to missing and counted.
    data = _ingest(ASB)
    assert data.rows_read == data.rows_analysed + data.rows_quarantined == 142
    assert data.rows_quarantined == 0
    assert {(m["field"], m["reason"], m["count"]) for m in data.set_missing} == {
        ("case_ref", "no case reference (the record is a case of its own)", 1),
        ("date_of_birth", "unparseable date", 1)}
    assert data.records["case_ref"].nunique() == 62  # 61 cases and the record without a reference


def test_staff_files_in_three_layouts_and_encodings():
    data = _ingest(STAFF)
    assert [f["rows_read"] for f in data.files] == [230, 245, 250, 170, 172]
    assert data.rows_quarantined == 0
    assert data.records["date_of_birth"].notna().all()
    assert data.records["postcode"].str.match(normalise.POSTCODE_PATTERN).all()


def test_only_rows_without_a_person_are_quarantined(incident_factory):
    rows = [row(), row(case=""), row(dob="31/02/1979"), row(name=""), row(name="NULL", address="N/A"),
            row(postcode="NOT A POSTCODE", district=""), row(dob="01/02/45"), row(dob="01/01/1890")]
    data = _ingest(incident_factory(rows))
    assert data.rows_read == 8 and data.rows_analysed == 7
    assert list(data.quarantine["reasons"]) == ["no name or other identifier: nobody can be identified"]
    assert list(data.quarantine["source_row"]) == [6]
    assert {(m["field"], m["reason"]): m["count"] for m in data.set_missing} == {
        ("case_ref", "no case reference (the record is a case of its own)"): 1,
        ("date_of_birth", "unparseable date"): 1, ("postcode", "not a UK postcode"): 1,
        ("date_of_birth", "over 120 years ago"): 1}
    recs = data.records.set_index("source_row")
    assert recs.loc[3, "case_ref"] == "extract.csv#3" and recs.loc[5, "full_name"] == ""
    assert recs.loc[8, "date_of_birth"] == pd.Timestamp("1945-02-01")  # a two-digit year is never in the future
    assert data.findings[0]["count"] == 1  # the person with no name but an address


def test_future_date_of_birth_is_missing(incident_factory):
    data = _ingest(incident_factory([row(dob="01/01/2099"), row(case="C2", dob="01/01/2999")]))
    assert data.rows_analysed == 2 and data.records["date_of_birth"].isna().sum() == 2
    assert [(m["field"], m["reason"]) for m in data.set_missing] == [("date_of_birth", "unparseable date"),
                                                                     ("date_of_birth", "in the future")]


def test_every_row_quarantined_is_one_clear_error(incident_factory):
    with pytest.raises(ExtractError, match=r"nothing could be analysed: all 2 rows read were quarantined"):
        _ingest(incident_factory([row(name="", address=""), row(name="unknown", address="-")]))


@pytest.mark.parametrize("encoding,bom,delimiter", [
    ("utf-8", False, ","), ("utf-8", True, ";"), ("cp1252", False, "\t"), ("cp1252", False, "|")])
def test_encodings_and_delimiters(incident_factory, encoding, bom, delimiter):
    text = delimiter.join(["Case", "Role", "Name", "DOB", "Address", "Postcode", "District"]) + "\n"
    text += delimiter.join(["C1", "Victim", "Zoë Brontë", "01/02/1980", "1 Rue", "al13xy", "Dacorum"]) + "\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    path = incident_factory([row()])
    (path.parent / "extract.csv").write_bytes(data)
    rec = _ingest(path).records.iloc[0]
    assert rec["full_name"] == "Zoë Brontë" and rec["postcode"] == "AL1 3XY"
    assert rec["date_of_birth"] == pd.Timestamp("1980-02-01")


def test_ragged_rows_and_embedded_newlines_are_not_lost(incident_factory):
    text = ("Case,Role,Name,DOB,Address,Postcode,District\n"
            "C1,Victim,A One,01/02/1980,\"1 High St\nFlat 2\",HP1 1AA,Dacorum\n"
            "C2,Victim,B Two,01/02/1980\n"
            "C3,Victim,C Three,01/02/1980,x,HP1 1AA,Dacorum,extra\n"
            "C4,Victim,D Four,01/02/1980,y,HP1 1AA,Dacorum\n")
    data = _ingest(incident_factory(text))
    assert data.rows_read == 4 and data.rows_analysed == 2 and data.rows_quarantined == 2
    assert set(data.quarantine["source_row"]) == {3, 4}
    assert data.records.loc[0, "address"] == "1 High St Flat 2"


def test_missing_column_names_closest_headers(incident_factory):
    path = incident_factory([row()])
    path.write_text(path.read_text().replace("'Postcode'", "'Post Code'"))
    with pytest.raises(ExtractError) as err:
        _ingest(path)
    assert "'Post Code' (mapped to postcode) not found" in str(err.value) and "'Postcode'" in str(err.value)


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"Case,Role,Name,DOB,Address,Postcode,District\n", "no data rows"),
    (b"Case,Case,Name\n1,2,3\n", "duplicate column header 'Case'"),
])
def test_unusable_csv(incident_factory, content, needle):
    path = incident_factory([row()])
    (path.parent / "extract.csv").write_bytes(content)
    with pytest.raises(ExtractError, match=needle):
        _ingest(path)


def test_workbook_problems(tmp_path):
    cols = {"full_name": "Name", "case_ref": "Case"}
    fake = write_incident(tmp_path, "Case,Name\n1,A\n", columns=cols, file="data.xlsx")
    with pytest.raises(ExtractError, match="not an Excel workbook"):
        _ingest(fake)
    (tmp_path / "data.xlsx").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    with pytest.raises(ExtractError, match="password-protected"):
        _ingest(fake)
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 corrupt")
    with pytest.raises(ExtractError, match="corrupt"):
        _ingest(fake)
    with zipfile.ZipFile(tmp_path / "data.xlsx", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/bomb.xml", b"0" * 50_000_000)
    with pytest.raises(ExtractError, match="expands"):
        _ingest(fake)


def test_missing_extract_file(incident_factory):
    path = incident_factory([row()])
    (path.parent / "extract.csv").unlink()
    with pytest.raises(ExtractError, match="extract file not found"):
        _ingest(path)


def test_errors_never_quote_row_values(incident_factory):
    secret = "Zebedee Quartermaine"
    path = incident_factory([row(name=secret, dob="99/99/9999"), row(name="", address="", dob=secret)])
    data = _ingest(path)
    assert data.rows_quarantined == 1 and secret not in data.quarantine["reasons"].iloc[0]
    assert secret not in str(data.set_missing) and "99/99" not in str(data.set_missing)


def test_postcodes_and_dates_normalise():
    pcs, bad = normalise.postcode(pd.Series(["al13xy", " WD3 1aB ", "SW1A 1AA", "12345", None, "HP2  4NW"]))
    assert list(pcs.fillna("-")) == ["AL1 3XY", "WD3 1AB", "SW1A 1AA", "-", "-", "HP2 4NW"]
    assert list(bad) == [False, False, False, True, False, False]
    d, bad = normalise.dates(pd.Series(["01/02/1980", "1980-02-01", "01.02.1980", "1 Feb 1980", "31/02/1980", ""]))
    assert (d[:4] == pd.Timestamp("1980-02-01")).all() and list(bad) == [False] * 4 + [True, False]


def test_text_normalisation_strips_controls_and_bidi():
    s = normalise.text(pd.Series(["  Ann\u202e  Lee\x07 ", "Cafe\u0301", "   "]))
    assert list(s.fillna("-")) == ["Ann Lee", "Café", "-"]


NAMES = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x17F), min_size=2, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3", ""]), NAMES,
                               st.sampled_from(["01/02/1980", "1980-02-01", "bad", ""])), min_size=1, max_size=25),
       seed=st.integers(0, 1000), encoding=st.sampled_from(["utf-8", "utf-8-sig"]), rename=st.booleans())
def test_property_shuffled_renamed_reencoded_inputs_agree(tmp_path_factory, rows, seed, encoding, rename):
    import random

    def run(rs, enc, header):
        folder = tmp_path_factory.mktemp("p")
        cols = {"case_ref": header + "Case", "full_name": header + "Name", "date_of_birth": header + "DOB"}
        dicts = [{cols["case_ref"]: c, cols["full_name"]: n, cols["date_of_birth"]: d} for c, n, d in rs]
        data = ingest(load_incident(write_incident(folder, dicts, columns=cols, encoding=enc)))
        assert data.rows_read == data.rows_analysed + data.rows_quarantined == len(rs)
        recs = data.records
        # A record without a case reference is a case of its own, named by its row.
        refs = recs.case_ref.astype(str).where(~recs.case_ref.astype(str).str.contains("#"), "own case")
        return sorted(zip(refs, recs.full_name, recs.date_of_birth.dt.strftime("%Y-%m-%d").fillna(""), strict=True)), \
            data.rows_quarantined

    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    assert run(rows, "utf-8", "") == run(shuffled, encoding, "X " if rename else "")
