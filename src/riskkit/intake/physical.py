"""Every physical line of a CSV accounted for, so that a stray quote cannot merge records.

The fast Arrow parser accepts line breaks inside quoted values (addresses need them), which
means one unclosed quote silently swallows every following line into one field. The cheap
check: when the parser's records plus the header equal the file's physical lines, no value
spans a line and nothing can have merged. Only when they differ does a second, strict pass
(Python's csv module, ``strict=True``) walk the records with their line numbers and stop on a
quote that never closes, a value spanning more lines than any real one, or a multi-line
record whose field count is wrong: the signature of a quote in the wrong place.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from riskkit.errors import ExtractError

MAX_LINES_IN_RECORD = 10  # an address or a note rarely spans more; a swallowed block always does
FIX = ("fix the quote in the file (a value that starts with a quote must end with one; a quote inside a "
       "value is written twice), or re-export the extract with quoting on.")


def check(path: Path, encoding: str, delimiter: str, physical_lines: int | None, header_lines: int,
          records: int, width: int) -> None:
    """Raise unless the ``records`` the fast parser returned account for every physical line.

    ``header_lines`` are the lines up to and including the header row; ``width`` the header's
    number of fields. Blank lines are not records: they make the counts differ, and the strict
    pass then accounts for them."""
    if physical_lines is not None and physical_lines == header_lines + records:
        return
    strict = strict_records(path, encoding, delimiter, header_lines, width)
    if strict != records:
        raise ExtractError(f"{path}: the file holds {strict:,} records by a strict reading but {records:,} by the "
                           f"fast one; {FIX}")


def _holds_records(fields: list[str], delimiter: str, width: int) -> bool:
    """Whether a multi-line value holds a line with a record's worth of delimiters."""
    return any(line.count(delimiter) >= width - 1 for value in fields if "\n" in value or "\r" in value
               for line in value.splitlines())


def strict_records(path: Path, encoding: str, delimiter: str, header_lines: int, width: int) -> int:
    """The number of data records, read strictly; raises naming the lines of any quote trouble."""
    csv.field_size_limit(sys.maxsize)
    records = 0
    with path.open("r", encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        end = 0
        try:
            for fields in reader:
                start, end = end + 1, reader.line_num
                if end <= header_lines or not fields:
                    continue  # header (or title rows above it), or a blank line
                records += 1
                if end - start + 1 > MAX_LINES_IN_RECORD:
                    raise ExtractError(f"{path}: the record starting on line {start:,} runs over "
                                       f"{end - start + 1:,} lines (to line {end:,}), which looks like an "
                                       f"unclosed quote; {FIX}")
                if end > start and len(fields) != width:
                    raise ExtractError(f"{path}: the record on lines {start:,} to {end:,} has {len(fields)} fields "
                                       f"where the header has {width}, which looks like a stray quote; {FIX}")
                if end > start and width >= 3 and _holds_records(fields, delimiter, width):
                    raise ExtractError(f"{path}: a value in the record on lines {start:,} to {end:,} holds whole "
                                       f"lines of {width} fields, which looks like records swallowed by a stray "
                                       f"quote; {FIX}")
        except csv.Error as exc:
            start = end + 1
            what = {"unexpected end of data": "a quoted value that never closes"}.get(
                str(exc), "a quote that closes in the middle of a value" if "expected after" in str(exc)
                else "a value that cannot be read strictly")
            raise ExtractError(f"{path}: the record starting on line {start:,} has {what} (found by line "
                               f"{reader.line_num:,}); {FIX}") from None
        except UnicodeDecodeError as exc:
            raise ExtractError(f"{path}: cannot be decoded as {encoding} ({exc.reason}); set 'encoding' for this "
                               "file in the incident file.") from None
    return records
