"""CSV intake integrity: physical records, quotes, long headers and encodings (issue 12)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from riskkit.errors import ExtractError
from riskkit.incident import load_incident
from riskkit.ingest import ingest
from tests.conftest import row, write_incident

HEADER = "Case,Role,Name,DOB,Address,Postcode,District\n"


def _line(i: int, name: str | None = None) -> str:
    return f"C{i},Victim,{name or f'Person {i}'},01/02/1980,{i} High St,HP1 1AA,Dacorum\n"


def _run(tmp_path, text: str | bytes, **kw):
    path = write_incident(tmp_path, [row()], **kw)
    (tmp_path / "extract.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
    return ingest(load_incident(path))


def test_unclosed_quote_stops_naming_its_line(tmp_path):
    lines = [_line(i) for i in range(1, 41)]
    lines[1] = _line(2, '"Bob Unclosed')  # record 2 is on physical line 3
    with pytest.raises(ExtractError) as err:
        _run(tmp_path, HEADER + "".join(lines))
    msg = str(err.value)
    assert "line 3" in msg and "never closes" in msg and "Bob" not in msg and "\n" not in msg


def test_stray_quote_later_closing_an_open_one_stops(tmp_path):
    lines = [_line(i) for i in range(1, 20)]
    lines[1] = _line(2, '"Bob Unclosed')
    lines[9] = _line(10, 'Stray" Quote')
    with pytest.raises(ExtractError, match=r"line 3\b"):
        _run(tmp_path, HEADER + "".join(lines))


def test_stray_quote_that_balances_with_a_delimiter_after_it_stops(tmp_path):
    # The swallowed block ends exactly at a delimiter: no strict-parse error, but a multi-line
    # record with the wrong number of fields.
    lines = [_line(i) for i in range(1, 20)]
    lines[1] = _line(2, '"Bob Unclosed')
    lines[5] = 'C6,Victim,Eve",01/02/1980,x,HP1 1AA,Dacorum\n'
    with pytest.raises(ExtractError, match=r"lines 3 to 7 holds whole lines of 7 fields"):
        _run(tmp_path, HEADER + "".join(lines))


def test_a_value_spanning_many_lines_stops(tmp_path):
    notes = '"' + "\n".join(f"note {i}" for i in range(15)) + '"'
    text = HEADER + _line(1) + f"C2,Victim,Ann,01/02/1980,{notes},HP1 1AA,Dacorum\n" + _line(3)
    with pytest.raises(ExtractError, match="runs over 15 lines"):
        _run(tmp_path, text)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_physical_record_is_read(tmp_path, newline):
    records = [_line(i) for i in range(1, 41)]
    records[4] = 'C5,Victim,Ann,01/02/1980,"1 High St\nFlat 2",HP1 1AA,Dacorum\n'  # a real two-line value
    text = (HEADER + "".join(records) + "\n").replace("\n", newline)  # and a blank line at the end
    data = _run(tmp_path, text)
    assert data.rows_read == 40 == data.rows_analysed + data.rows_quarantined


def test_blank_lines_are_not_records(tmp_path):
    data = _run(tmp_path, HEADER + _line(1) + "\n\n" + _line(2) + "\n")
    assert data.rows_read == 2 == data.rows_analysed


def test_header_longer_than_64_kb(tmp_path):
    extra = [f"Extra column {i:05d} with a long descriptive heading" for i in range(2000)]
    header = HEADER.rstrip("\n") + "," + ",".join(extra) + "\n"
    assert len(header) > 65536
    body = "".join(_line(i).rstrip("\n") + "," * len(extra) + "\n" for i in range(1, 6))
    data = _run(tmp_path, header + body)
    assert data.rows_read == 5 == data.rows_analysed


def test_header_row_override_skips_title_lines(tmp_path):
    path = write_incident(tmp_path, [row()])
    path.write_text(path.read_text().replace("    columns:", "    header_row: 3\n    columns:"))
    (tmp_path / "extract.csv").write_text("Exported from CaseSys,,,,,,\nRun 2026-10-01,,,,,,\n" + HEADER
                                          + _line(1) + _line(2))
    data = ingest(load_incident(path))
    assert data.rows_read == 2 == data.rows_analysed
    assert list(data.records["source_row"]) == [4, 5]


def test_mixed_utf8_file_stops_naming_offset_and_line(tmp_path):
    text = (HEADER + _line(1, "Zoë Brontë")).encode() + _line(2, "Ren\xe9e").encode("cp1252")
    with pytest.raises(ExtractError) as err:
        _run(tmp_path, text)
    msg = str(err.value)
    offset = text.index(b"\xe9")
    assert f"byte {offset:,}" in msg and "line 3" in msg and "encoding" in msg and "Ren" not in msg


def test_cp1252_file_is_detected(tmp_path):
    data = _run(tmp_path, (HEADER + _line(1, "Zoë Brontë") + _line(2, "Renée")).encode("cp1252"))
    assert list(data.records["full_name"]) == ["Zoë Brontë", "Renée"]


def test_utf16_with_bom_is_read(tmp_path):
    data = _run(tmp_path, (HEADER + _line(1, "Zoë Brontë") + _line(2)).encode("utf-16"))
    assert data.rows_read == 2 == data.rows_analysed and data.records["full_name"].iloc[0] == "Zoë Brontë"


def test_utf16_without_bom_stops(tmp_path):
    with pytest.raises(ExtractError, match="utf-16-le"):
        _run(tmp_path, (HEADER + _line(1)).encode("utf-16-le"))


def test_declared_encoding_that_does_not_fit_stops(tmp_path):
    path = write_incident(tmp_path, [row()])
    path.write_text(path.read_text().replace("    columns:", "    encoding: utf-8\n    columns:"))
    (tmp_path / "extract.csv").write_bytes((HEADER + _line(1, "Renée")).encode("cp1252"))
    with pytest.raises(ExtractError, match=re.escape("declared encoding utf-8")):
        ingest(load_incident(path))


def test_parquet_integer_case_refs_stay_integers(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {"case_ref": "Case", "full_name": "Name"}
    path = write_incident(tmp_path, [], columns=cols, file="data.parquet")
    pq.write_table(pa.table({"Case": pa.array([1, None, 3], pa.int64()), "Name": ["A B", "C D", "E F"]}),
                   tmp_path / "data.parquet")
    data = ingest(load_incident(path))
    assert list(data.records["case_ref"].astype(str)) == ["1", "data.parquet#3", "3"]


def test_parquet_column_named_by_a_number_is_an_error(tmp_path):
    import pandas as pd

    cols = {"case_ref": "0", "full_name": "Name"}
    path = write_incident(tmp_path, [], columns=cols, file="data.parquet")
    with pytest.warns(UserWarning):
        pd.DataFrame({0: [1, 2], "Name": ["A B", "C D"]}).to_parquet(tmp_path / "data.parquet")
    with pytest.raises(ExtractError, match=r"column 1 \('0'\) was named by a number"):
        ingest(load_incident(path))


def test_title_lines_above_a_csv_header_are_found_and_reported(tmp_path):
    text = "Anti-social behaviour cases\nExported 2026-10-01 by CaseSys,\n\n" + HEADER + _line(1) + _line(2)
    data = _run(tmp_path, text)
    assert data.rows_read == 2 == data.rows_analysed
    assert list(data.records["source_row"]) == [5, 6]
    assert {"check": "title rows above the header (not read as data)", "count": 2} in data.findings


def test_partitioned_path_accounts_for_physical_records_too(tmp_path):
    lines = [_line(i) for i in range(1, 41)]
    path = write_incident(tmp_path, [row()])
    (tmp_path / "extract.csv").write_text("Title line\n" + HEADER + "".join(lines))
    data = ingest(load_incident(path), partition_bytes=1)  # the streaming reader, as for files over 200 MB
    assert data.rows_read == 40 == data.rows_analysed
    lines[1] = _line(2, '"Bob Unclosed')
    (tmp_path / "extract.csv").write_text("Title line\n" + HEADER + "".join(lines))
    with pytest.raises(ExtractError, match="line 4"):
        ingest(load_incident(path), partition_bytes=1)


def test_unclosed_quote_early_in_a_long_file_names_its_line(tmp_path):
    lines = [_line(i) for i in range(1, 20_001)]
    lines[0] = _line(1, '"Bob Unclosed')
    with pytest.raises(ExtractError, match="line 2"):
        _run(tmp_path, HEADER + "".join(lines))


def test_column_not_found_never_quotes_a_first_row_of_data(tmp_path):
    # A file without its header row: the first record is a person.
    text = "C1,Victim,Zebedee Quartermaine,01/02/1980,1 High St,HP1 1AA,Dacorum\n" + _line(2)
    with pytest.raises(ExtractError) as err:
        _run(tmp_path, text)
    msg = str(err.value)
    assert "looks like data" in msg and "header_row" in msg
    assert "Zebedee" not in msg and "HP1" not in msg and "01/02/1980" not in msg


def test_column_not_found_shows_headers_that_look_like_headers(tmp_path):
    with pytest.raises(ExtractError) as err:
        _run(tmp_path, HEADER.replace("Postcode", "Post Code") + _line(1))
    assert "closest headers found: 'Post Code'" in str(err.value)


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_title_line_above_a_semicolon_or_tab_header_does_not_hide_the_delimiter(tmp_path, sep):
    # The title has a comma and no semicolon/tab: judged on the first line alone the file would
    # look like one comma-separated column with the title as its header.
    rows = [_line(i).replace(",", sep) for i in range(1, 12)]
    data = _run(tmp_path, "Staff list, run on 01/02/2024\n" + HEADER.replace(",", sep) + "".join(rows))
    assert data.rows_read == 11 and data.rows_analysed == 11
    assert set(data.records["full_name"]) == {f"Person {i}" for i in range(1, 12)}
    assert any("title" in f["check"] for f in data.findings)


@pytest.mark.parametrize("bad_row", [False, True])
def test_multithreaded_read_gives_the_single_threaded_rows(tmp_path, bad_row):
    """The whole-file read uses all cores when every row parses and falls back to the
    single-threaded reader (which numbers an unparseable row) when one does not; either way
    the rows, their numbers and the unparseable rows match the single-threaded stream's."""
    from riskkit.readers import _read_csv, iter_csv

    lines = ["Report title", "", "name,town,notes"]
    lines += [f'Person {i},Town {i % 7},"line one\nline two"' if i % 50 == 0 else f"Person {i},Town {i % 7},x"
              for i in range(3000)]
    if bad_row:
        lines.insert(1500, "too,many,fields,here")
    path = tmp_path / "extract.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = _read_csv(path, None, None)
    streamed = list(iter_csv(path, block_bytes=1 << 14))
    expected = pd.concat([b.frame for b in streamed], ignore_index=True)
    pd.testing.assert_frame_equal(whole.frame.reset_index(drop=True), expected)
    assert whole.bad_rows == [r for b in streamed for r in b.bad_rows]
    assert len(whole.bad_rows) == int(bad_row)
    assert whole.title_rows == 1
    # Rows are numbered as records after the header on line 3 (a value over two lines is one
    # record); the unparseable row, when there is one, is the 1,498th record (row 1,501).
    person = whole.frame["name"].str.removeprefix("Person ").astype(int).to_numpy()
    assert (whole.frame["source_row"].to_numpy() == 4 + person + (bad_row & (person >= 1497))).all()
    assert whole.bad_rows == ([(1501, "row has 4 fields, header has 3")] if bad_row else [])
