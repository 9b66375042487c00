"""Each record's identifying details as integer codes of their distinct, normalised values.

Linkage compares values, not records: a million records hold far fewer distinct surnames,
streets or dates of birth, so every comparison is made once per distinct pair of values and
spread back over the record pairs with integer indexing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit import normalise

# A National Insurance number as HMRC issues them: two prefix letters (not D, F, I, Q, U, V;
# the second not O), six digits, and a suffix A-D that some systems leave off.
NI_PATTERN = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]?$"


@dataclass(frozen=True)
class Coded:
    """One detail: a code per record (-1 when missing) and the distinct values it indexes."""

    codes: np.ndarray
    values: np.ndarray  # object array of str

    def text(self, codes: np.ndarray) -> list[str]:
        """The values behind chosen codes (all present)."""
        return self.values[codes].tolist()


@dataclass(frozen=True)
class Fields:
    """The details linkage compares, for n records."""

    n: int
    full: Coded  # the whole name's comparison key (for person ids)
    first: Coded
    last: Coded
    dob: np.ndarray  # yyyymmdd as an integer, -1 when missing
    street: Coded  # address without its house number
    house: Coded  # the house number (first number in the address)
    town: Coded
    postcode: Coded
    ni: Coded
    ni_valid: np.ndarray  # per distinct NI value: a well-formed number
    employee: Coded
    email: Coded
    phone: Coded


def _coded(series: pd.Series | None, n: int, transform: Callable[[pd.Series], pd.Series] | None = None) -> Coded:
    """Factorise, normalise the distinct values only, and factorise again so that values equal
    after normalisation share one code."""
    if series is None:
        return Coded(np.full(n, -1, dtype=np.int64), np.empty(0, dtype=object))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = pd.Series(np.asarray(uniques, dtype=object), dtype="string")
    if transform is not None:
        values = transform(values)
    values = values.mask(values.str.len() == 0)
    again, distinct = pd.factorize(values, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    out = np.where(codes >= 0, np.asarray(again, dtype=np.int64)[np.maximum(codes, 0)], -1) if len(again) else codes
    return Coded(out, np.asarray(distinct, dtype=object).astype(str).astype(object))


def _alnum_upper(s: pd.Series) -> pd.Series:
    return s.str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)


def _alnum_lower(s: pd.Series) -> pd.Series:
    return s.str.lower().str.replace(r"[^0-9a-z]", "", regex=True)


def _email(s: pd.Series) -> pd.Series:
    return s.str.strip().str.lower()


def _phone(s: pd.Series) -> pd.Series:
    """Digits only, the last ten: +44 7700 900123 and 07700900123 are one number."""
    return s.str.replace(r"\D", "", regex=True).str[-10:]


def _street(s: pd.Series) -> pd.Series:
    """Lower-case words of the address with numbers and punctuation dropped."""
    s = s.str.lower().str.replace(r"[^\p{L} ]", " ", regex=True)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def _house(s: pd.Series) -> pd.Series:
    return s.str.extract(r"(\d+[a-zA-Z]?)", expand=False).str.lower()


def _names(records: pd.DataFrame, n: int) -> tuple[Coded, Coded, Coded]:
    """Forename(s) and surname: from first_name/last_name where the record has either, else
    split from the full name (the last word is the surname)."""
    full = normalise.name_key(records["full_name"]) if "full_name" in records else pd.Series([pd.NA] * n, dtype="string")
    full = full.astype("string")
    words = full.str.rsplit(" ", n=1)
    first = words.str[0].where(words.str.len() > 1)
    last = words.str[-1]
    given = [records[c] if c in records else None for c in ("first_name", "last_name")]
    if any(g is not None for g in given):
        f, s = (normalise.name_key(g.astype("string")).astype("string") if g is not None
                else pd.Series([pd.NA] * n, dtype="string", index=records.index) for g in given)
        either = (f.notna() | s.notna()).to_numpy()
        first = first.where(~either, f)
        last = last.where(~either, s)
    return _coded(full, n), _coded(first, n), _coded(last, n)


def _dob(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, -1, dtype=np.int64)
    d = pd.to_datetime(series, errors="coerce")
    value = (d.dt.year * 10000 + d.dt.month * 100 + d.dt.day).fillna(-1)
    return value.to_numpy(dtype=np.int64)


def prepare(records: pd.DataFrame) -> Fields:
    """Every detail linkage uses, coded; columns the extract does not map are all missing."""
    n = len(records)

    def col(name: str) -> pd.Series | None:
        if name not in records:
            return None
        return records[name].astype("string") if records[name].dtype != "string" else records[name]

    full, first, last = _names(records, n)
    address = col("address")
    ni = _coded(col("ni_number"), n, _alnum_upper)
    ni_valid = pd.Series(ni.values, dtype="string").str.fullmatch(NI_PATTERN).fillna(False).to_numpy(dtype=bool)
    return Fields(
        n=n, full=full, first=first, last=last, dob=_dob(records["date_of_birth"] if "date_of_birth" in records else None, n),
        street=_coded(address, n, _street), house=_coded(address, n, _house),
        town=_coded(col("town"), n, _street), postcode=_coded(col("postcode"), n, _alnum_upper),
        ni=ni, ni_valid=ni_valid, employee=_coded(col("employee_id"), n, _alnum_lower),
        email=_coded(col("email"), n, _email), phone=_coded(col("phone"), n, _phone))
