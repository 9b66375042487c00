"""Vectorised clean-up of text, UK postcodes and dates, shared by ingest and geography.

Every function takes and returns a pandas Series. Extract columns repeat themselves (a
million records hold a few thousand dates of birth, three role labels, a few hundred
thousand postcodes), so each function cleans the distinct values once and maps the result
back, and the text passes run as Arrow compute kernels rather than a Python call per value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Unicode characters that make text render in a different order or invisibly; an extract
# typed by the public may carry them, and they would otherwise survive into outputs.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# The Royal Mail format: outward code (area letters, district digits, optional letter)
# and inward code (sector digit, two unit letters from a restricted alphabet).
# Whitespace as literal characters (not \\s), so that Arrow's RE2 kernel gets the pattern.
_SPACE_CHARS = " \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = f"[{_SPACE_CHARS}]+"
_ODD_SPACING = f"[{_SPACE_CHARS.removeprefix(' ')}]|  "  # anything a single plain space does not already say

POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})$")
POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}$"

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d %b %Y", "%d %B %Y",
                "%Y-%m-%d %H:%M:%S", "%Y%m%d")

R = TypeVar("R", pd.Series, tuple)

# Values that case systems and spreadsheets write for "nothing here": missing, not a name
# (a thousand people called "NULL" would be one person to contact, and a wrong one).
_PLACEHOLDER_WORDS = ("null", "n/a", "na", "n.a.", "-", "--", "---", "?", "??", "unknown", "not known", "none",
                      "nil", "not applicable", "not recorded", "tbc", "#n/a", "nan", ".")
PLACEHOLDERS = pa.array(sorted({v for w in _PLACEHOLDER_WORDS for v in (w, w.upper(), w.title())}),
                        type=pa.large_string())


def _back(result: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Spread per-distinct-value results back over the rows; a missing input gives a missing
    output (False for flags)."""
    if result.dtype == bool:
        values = np.where(codes < 0, False, result.to_numpy()[np.maximum(codes, 0)])
        return pd.Series(values, index=index)
    return pd.Series(result.array.take(codes, allow_fill=True), index=index)


def per_distinct(fn: Callable[[pd.Series], R]) -> Callable[[pd.Series], R]:
    """Run ``fn`` on the distinct values only when they are fewer than half the rows: the same
    result, because every function here treats a value the same wherever it occurs."""

    @functools.wraps(fn)
    def wrapper(series: pd.Series) -> R:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if not len(uniques) or len(uniques) * 2 > len(series):
            return fn(series)
        result = fn(pd.Series(uniques))
        if isinstance(result, tuple):
            return tuple(_back(r, codes, series.index) for r in result)  # type: ignore[return-value]
        return _back(result, codes, series.index)  # type: ignore[return-value]

    return wrapper


def _arrow(series: pd.Series) -> pa.Array:
    if series.dtype == object and series.isna().all():  # an unmapped column: no per-value conversion
        return pa.nulls(len(series), pa.large_string())
    arr = pa.array((series if isinstance(series.dtype, pd.StringDtype) else series.astype("string[pyarrow]")).array)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _clean(arr: pa.Array) -> pa.Array:
    # Each costly pass runs only when a cheap test says it would change something: most
    # extracts are plain ASCII with single spaces.
    if not pc.all(pc.string_is_ascii(arr)).as_py():
        arr = pc.utf8_normalize(arr, "NFC")
    if pc.all(pc.ascii_is_printable(arr)).as_py():
        # Printable ASCII has no control character and no space but the plain one: only a
        # doubled space can need collapsing, and a plain substring test finds it.
        if _any(pc.match_substring(arr, "  ")):
            arr = pc.replace_substring_regex(arr, _SPACES, " ")
    else:
        if _any(pc.match_substring_regex(arr, _INVISIBLE.pattern)):
            arr = pc.replace_substring_regex(arr, _INVISIBLE.pattern, "")
        if _any(pc.match_substring_regex(arr, _ODD_SPACING)):
            arr = pc.replace_substring_regex(arr, _SPACES, " ")
    arr = pc.utf8_trim_whitespace(arr)
    missing = pc.or_(pc.equal(arr, ""), pc.is_in(arr.cast(pa.large_string()), value_set=PLACEHOLDERS))
    return pc.if_else(missing, pa.scalar(None, arr.type), arr)


def _series(arr: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())), index=index)


SAMPLE_ROWS = 20_000


def _mostly_distinct(arr: pa.Array) -> bool:
    """Whether more than half the values differ, judged on the first rows: a dictionary of a
    million distinct addresses or coordinates costs as much as cleaning them all. Only the
    speed depends on the answer, never the result."""
    head = arr.slice(0, SAMPLE_ROWS)
    return len(head) > 0 and pc.count_distinct(head, mode="only_valid").as_py() * 2 > len(head)


def text(series: pd.Series) -> pd.Series:
    """Trim, collapse internal whitespace, drop control and bidi-override characters, NFC.

    Empty strings become missing so that "present" always means "has content".
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        encoded = pa.array(series)  # already distinct values and codes
    else:
        arr = _arrow(series)
        if arr.null_count == len(arr):  # an unmapped column: nothing to clean
            return _series(arr, series.index)
        if _mostly_distinct(arr):  # clean the values themselves: encoding them would cost more
            return _series(_clean(arr), series.index)
        encoded = pc.dictionary_encode(arr)
    return _series(_clean(encoded.dictionary.cast(pa.large_string())).take(encoded.indices), series.index)


@per_distinct
def postcode(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Format UK postcodes as ``AL1 3XY``; return (formatted, invalid) where invalid marks
    values that were present but are not a valid postcode (they become missing)."""
    raw = text(series)
    upper = pc.utf8_upper(_arrow(raw))
    compact = pc.replace_substring(upper, " ", "")
    if not pc.all(pc.ascii_is_alnum(compact)).as_py():  # anything but letters, digits and spaces
        compact = pc.replace_substring_regex(upper, "[^A-Z0-9]", "")
    # A match test and two slices: Arrow kernels over the distinct values, no Python call per value.
    valid = pc.fill_null(pc.match_substring_regex(compact, POSTCODE_RE.pattern), False)
    joined = pc.binary_join_element_wise(pc.utf8_slice_codeunits(compact, 0, -3), pc.utf8_slice_codeunits(compact, -3),
                                         pa.scalar(" ", pa.large_string()))
    formatted = _series(pc.if_else(valid, joined, pa.scalar(None, pa.large_string())), raw.index)
    invalid = raw.notna() & formatted.isna()
    return formatted, invalid.astype(bool)


def outward(postcodes: pd.Series) -> pd.Series:
    """The outward code (the part before the space) of formatted postcodes."""
    return postcodes.str.split(" ").str[0]


@per_distinct
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
        found = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        if found.dtype != parsed.dtype:  # a year outside 1677-2262 (nanosecond range): not a date of birth
            found = found.mask((found > pd.Timestamp.max) | (found < pd.Timestamp.min)).astype(parsed.dtype)
        if "%y" in fmt:  # a two-digit year is the most recent one not in the future (45 -> 1945)
            future = found > pd.Timestamp.now()
            found = found.mask(future, found - pd.DateOffset(years=100))
        parsed.loc[todo] = found
    invalid = raw.notna() & parsed.isna()
    return parsed.dt.normalize(), invalid.astype(bool)


def numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse numbers; (values, invalid) with invalid for present but unparseable values."""
    plain = _arrow(series)
    try:  # a clean export (coordinates, ages): one cast of the values as they are, no clean-up
        cast = pc.cast(plain, pa.float64())
        if cast.null_count == plain.null_count and not _any(pc.is_nan(cast)):  # "nan" is a placeholder: below
            values = pd.Series(cast.to_numpy(zero_copy_only=False), index=series.index, dtype="float64")
            return values, pd.Series(False, index=series.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    raw = text(series)
    arr = _arrow(raw)
    if _any(pc.match_substring(arr, ",")):
        arr = pc.replace_substring(arr, ",", "")
    try:  # Arrow's cast is one C pass; it refuses the whole column if one value is not a number
        values = pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), index=raw.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pd.to_numeric(_series(arr, raw.index), errors="coerce")
    values = values.astype("float64")
    invalid = raw.notna() & values.isna()
    return values, invalid.astype(bool)


_TRUE = {"y", "yes", "true", "1", "t", "x"}


@per_distinct
def flags(series: pd.Series) -> pd.Series:
    """Yes/no columns as booleans; anything not clearly yes is False."""
    return text(series).str.lower().isin(_TRUE).fillna(False).astype(bool)


@per_distinct
def name_key(series: pd.Series) -> pd.Series:
    """A comparison key for personal names: lower case, accents dropped, letters of any script
    and spaces only (so Zoë matches Zoe, and Arabic or Chinese names keep their letters)."""
    s = text(series).str.normalize("NFKD").str.replace(r"\p{Mn}", "", regex=True)
    s = s.str.lower().str.replace(r"[^\p{L} ]", " ", regex=True)
    s = s.str.replace(_SPACES, " ", regex=True).str.strip()
    return s.mask(s == "")
