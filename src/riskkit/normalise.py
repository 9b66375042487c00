"""Vectorised clean-up of text, UK postcodes and dates, shared by ingest and geography.

Every function takes and returns a pandas Series so that a million-row extract is cleaned in
a handful of C-level passes rather than a Python loop per row.
"""

from __future__ import annotations

import re

import pandas as pd

# Unicode characters that make text render in a different order or invisibly; an extract
# typed by the public may carry them, and they would otherwise survive into outputs.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# The Royal Mail format: outward code (area letters, district digits, optional letter)
# and inward code (sector digit, two unit letters from a restricted alphabet).
# Whitespace as literal characters (not \\s): pandas sends \\s to Python's re one value at a
# time, but a literal class to Arrow's RE2 kernel.
_SPACES = "[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"

POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$"

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y",
                "%Y-%m-%d %H:%M:%S", "%Y%m%d")


def text(series: pd.Series) -> pd.Series:
    """Trim, collapse internal whitespace, drop control and bidi-override characters, NFC.

    Empty strings become missing so that "present" always means "has content".
    """
    s = series.astype("string[pyarrow]")  # Arrow compute kernels, not a Python call per value
    if not s.notna().any():  # an unmapped column: nothing to clean
        return s
    # Patterns go in as strings, not compiled objects: pandas hands strings to Arrow's RE2
    # kernels, but falls back to a Python call per value for a compiled pattern.
    s = s.str.normalize("NFC").str.replace(_INVISIBLE.pattern, "", regex=True)
    s = s.str.replace(_SPACES, " ", regex=True).str.strip()
    return s.mask(s == "")


def postcode(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Format UK postcodes as ``AL1 3XY``; return (formatted, invalid) where invalid marks
    values that were present but are not a valid postcode (they become missing)."""
    raw = text(series)
    compact = raw.str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    parts = compact.str.extract(POSTCODE_RE.pattern)
    formatted = (parts[0] + " " + parts[1]).astype("string")
    invalid = raw.notna() & formatted.isna()
    return formatted, invalid


def outward(postcodes: pd.Series) -> pd.Series:
    """The outward code (the part before the space) of formatted postcodes."""
    return postcodes.str.split(" ").str[0]


def dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse UK-style dates in any of the common export formats (day first).

    Returns (parsed, invalid): invalid marks values that were present but matched no format
    or named an impossible date such as 31 February.
    """
    raw = text(series)
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        todo = raw.notna() & parsed.isna()
        if not todo.any():
            break
        parsed.loc[todo] = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
    invalid = raw.notna() & parsed.isna()
    return parsed.dt.normalize(), invalid


def numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers; (values, invalid) with invalid for present but unparseable values."""
    raw = text(series)
    values = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    invalid = raw.notna() & values.isna()
    return values.astype("float64"), invalid


_TRUE = {"y", "yes", "true", "1", "t", "x"}


def flags(series: pd.Series) -> pd.Series:
    """Yes/no columns as booleans; anything not clearly yes is False."""
    return text(series).str.lower().isin(_TRUE).fillna(False).astype(bool)


def name_key(series: pd.Series) -> pd.Series:
    """A comparison key for personal names: lower case, accents dropped, letters of any script
    and spaces only (so Zoë matches Zoe, and Arabic or Chinese names keep their letters)."""
    s = text(series).str.normalize("NFKD").str.replace(r"\p{Mn}", "", regex=True)
    s = s.str.lower().str.replace(r"[^\p{L} ]", " ", regex=True)
    s = s.str.replace(_SPACES, " ", regex=True).str.strip()
    return s.mask(s == "")
