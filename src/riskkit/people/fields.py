"""Each record's identifying details as integer codes of their distinct, normalised values.

Linkage compares values, not records: a million records hold far fewer distinct surnames,
streets or dates of birth, so every comparison is made once per distinct pair of values and
spread back over the record pairs with integer indexing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from riskkit import normalise
from riskkit.people.threads import pool, worth_threads

# A National Insurance number as HMRC issues them: two prefix letters (not D, F, I, Q, U, V;
# the second not O), six digits, and a suffix A-D that some systems leave off.
NI_PATTERN = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]?$"


@dataclass(frozen=True)
class Coded:
    """One detail: a code per record (-1 when missing) and the distinct values it indexes."""

    codes: np.ndarray  # int32: half the memory of int64 for a dozen details of ten million records
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
    dob_digits: np.ndarray  # its eight digits a byte each, least significant lowest (uint64): compared a whole date at a time
    street: Coded  # address without its house number
    house: Coded  # the house number (first number in the address)
    town: Coded
    postcode: Coded
    ni: Coded
    ni_valid: np.ndarray  # per distinct NI value: a well-formed number
    employee: Coded
    email: Coded
    phone: Coded


Transform = Callable[[pa.Array], pa.Array]


def _coded(series: pd.Series | None, n: int, transform: Transform | None = None) -> Coded:
    """Factorise, normalise the distinct values only (Arrow kernels), and factorise again so
    that values equal after normalisation share one code."""
    return _transformed(_distinct_or_missing(series, n), transform)


def _distinct_or_missing(series: pd.Series | None, n: int) -> tuple[np.ndarray, pa.Array]:
    """``_distinct``, or every record missing when the extract has no such column."""
    return _distinct(series) if series is not None else (np.full(n, -1, np.int64), pa.array([], pa.string()))


def _transformed(distinct: tuple[np.ndarray, pa.Array], transform: Transform | None) -> Coded:
    """One detail from a column's distinct values (several details can share one column's)."""
    codes, values = distinct
    return _recode(codes, transform(values) if transform is not None else values)


def _distinct(series: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A code per record (-1 when missing) and the distinct values as Arrow text. Arrow-backed
    text is encoded by Arrow and its values stay in Arrow: going through Python strings cost a
    tenth of a second for each half-million distinct addresses."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        encoded = pac.dictionary_encode(_one_array(pa.array(series.array)))
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, encoded.dictionary.cast(pa.string())
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), pa.array(np.asarray(uniques, dtype=object), type=pa.string())


def _recode(codes: np.ndarray, values: pa.Array) -> Coded:
    """Codes into ``values`` re-pointed at the distinct non-empty ones."""
    values = pac.if_else(pac.equal(pac.utf8_length(values), 0), pa.scalar(None, pa.string()), values)
    encoded = pac.dictionary_encode(values)
    again = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    out = np.where(codes >= 0, again[np.maximum(codes, 0)], -1) if len(again) else codes
    return Coded(out.astype(np.int32), np.asarray(encoded.dictionary.to_pylist(), dtype=object))


def _alnum_upper(s: pa.Array) -> pa.Array:
    return pac.replace_substring_regex(pac.utf8_upper(s), r"[^0-9A-Z]", "")


def _alnum_lower(s: pa.Array) -> pa.Array:
    return pac.replace_substring_regex(pac.utf8_lower(s), r"[^0-9a-z]", "")


def _email(s: pa.Array) -> pa.Array:
    return pac.utf8_lower(pac.utf8_trim_whitespace(s))


def _phone(s: pa.Array) -> pa.Array:
    """Digits only, the last ten: +44 7700 900123 and 07700900123 are one number."""
    digits = pac.replace_substring_regex(s, r"\D", "")
    return pac.utf8_slice_codeunits(digits, start=-10)


def _street(s: pa.Array) -> pa.Array:
    """Lower-case words of the address with numbers and punctuation dropped (one pass of an
    ASCII character class: a Unicode letter class is several times slower in RE2)."""
    s = pac.replace_substring_regex(pac.utf8_lower(s), r"[\s0-9[:punct:]]+", " ")
    return pac.utf8_trim_whitespace(s)


def _house(s: pa.Array) -> pa.Array:
    """The first number in the address, with a letter suffix (12a)."""
    return pac.utf8_lower(pac.struct_field(pac.extract_regex(s, r"(?P<h>\d+[a-zA-Z]?)"), [0]))


def _name_key(s: pa.Array) -> pa.Array:
    keys = normalise.name_key(pd.Series(pd.arrays.ArrowStringArray(s.cast(pa.large_string()))))
    return _one_array(pa.array(keys.array)).cast(pa.string())


def _one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous Arrow array (pandas keeps Arrow text as chunks, possibly none)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    return values


def _split(full: Coded) -> tuple[Coded, Coded]:
    """Forename(s) (all but the last word; none for a one-word name) and surname (the last
    word, with an O', D', Mc or Mac before it) of name keys, split once per distinct name."""
    key = pa.array(full.values, type=pa.string())
    # O'Neill, D'Arcy, Mc Donald, Mac Kinder: the prefix belongs to the surname.
    key = pac.replace_substring_regex(key, r" (o|d|mc|mac) ([^ ]+)$", r" \1\2")
    first = pac.if_else(pac.match_substring(key, " "), pac.replace_substring_regex(key, r" [^ ]*$", ""),
                        pa.scalar(None, pa.string()))
    last = pac.replace_substring_regex(key, r"^.* ", "")
    return _recode(full.codes, first), _recode(full.codes, last)


def _either(primary: Coded, fallback: Coded, use_primary: np.ndarray) -> Coded:
    """Per record, the primary detail where chosen, else the fallback, in one vocabulary."""
    values = pa.array(list(primary.values) + list(fallback.values), type=pa.string())
    codes = np.where(use_primary, primary.codes, np.where(fallback.codes >= 0, fallback.codes + len(primary.values), -1))
    return _recode(codes, values)


def _names(records: pd.DataFrame, n: int) -> tuple[Coded, Coded, Coded]:
    """Whole name key, forename(s) and surname: from first_name/last_name where the record has
    either, else split from the full name (the last word is the surname)."""
    full = _coded(records["full_name"] if "full_name" in records else None, n, _name_key)
    given = [records[c] if c in records else None for c in ("first_name", "last_name")]
    if all(g is None for g in given):
        return full, *_split(full)
    g_first, g_last = _coded(given[0], n, _name_key), _coded(given[1], n, _name_key)
    either = (g_first.codes >= 0) | (g_last.codes >= 0)
    first, last = _split(_only(full, ~either))  # only the full names of records without given names
    return full, _either(g_first, first, either), _either(g_last, last, either)


def _only(coded: Coded, chosen: np.ndarray) -> Coded:
    """The detail of the chosen records only (missing elsewhere), its vocabulary cut to the
    values they use: splitting a million full names nobody needs cost a third of a second."""
    codes = np.where(chosen, coded.codes, -1)
    if not len(coded.values):  # no names at all
        return Coded(codes.astype(np.int32), coded.values)
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(coded.values)))
    remap = np.full(len(coded.values), -1, np.int64)
    remap[used] = np.arange(len(used))
    return Coded(np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32), coded.values[used])


def _dob(series: pd.Series | None, n: int) -> np.ndarray:
    if series is None:
        return np.full(n, -1, dtype=np.int64)
    d = pd.to_datetime(series, errors="coerce")
    value = (d.dt.year * 10000 + d.dt.month * 100 + d.dt.day).fillna(-1)
    return value.to_numpy(dtype=np.int64)


# Details prepared at once: mostly Arrow kernels and hashing, which run without Python's lock
# (three beat two on two cores, because some steps hold the lock).
PREPARE_THREADS = 3


def digit_bytes(dob: np.ndarray) -> np.ndarray:
    """Each yyyymmdd integer's digits, a byte each in one unsigned integer (0 when missing)."""
    value = np.maximum(dob, 0)
    packed = np.zeros(len(dob), np.uint64)
    for k in range(8):
        packed |= (value // 10 ** k % 10).astype(np.uint64) << np.uint64(8 * k)
    return packed


def _run(jobs: dict[str, Callable[[Callable[[str], object]], object]], threaded: bool) -> dict[str, object]:
    """Every job's result by name. A job reads only jobs listed before it: on threads they
    were queued first, so they are running or done and a job waiting on one cannot stall the
    pool."""
    if not threaded:
        done: dict[str, object] = {}
        for name, job in jobs.items():
            done[name] = job(done.__getitem__)
        return done
    with pool(PREPARE_THREADS, "riskkit-fields") as workers:
        futures: dict[str, Future] = {}
        for name, job in jobs.items():
            futures[name] = workers.submit(job, lambda earlier: futures[earlier].result())
        return {name: future.result() for name, future in futures.items()}


def prepare(records: pd.DataFrame) -> Fields:
    """Every detail linkage uses, coded; columns the extract does not map are all missing.
    The details hardly depend on one another (street and house number share the address's
    distinct values), so from ``PARALLEL_FROM`` records they are prepared on threads."""
    n = len(records)

    def col(name: str) -> pd.Series | None:
        return records[name] if name in records else None

    def ni() -> tuple[Coded, np.ndarray]:
        coded = _coded(col("ni_number"), n, _alnum_upper)
        valid = pac.match_substring_regex(pa.array(coded.values, type=pa.string()), NI_PATTERN)
        return coded, valid.to_numpy(zero_copy_only=False)

    # Each job may read an earlier job's result (``get``): the address's distinct values feed
    # the street and the house number, which then run on two threads (one after the other,
    # they were the last job to finish).
    jobs: dict[str, Callable[[Callable[[str], object]], object]] = {
        "address": lambda get: _distinct_or_missing(col("address"), n), "names": lambda get: _names(records, n),
        "dob": lambda get: _dob(col("date_of_birth"), n), "town": lambda get: _coded(col("town"), n, _street),
        "postcode": lambda get: _coded(col("postcode"), n, _alnum_upper), "ni": lambda get: ni(),
        "employee": lambda get: _coded(col("employee_id"), n, _alnum_lower),
        "email": lambda get: _coded(col("email"), n, _email), "phone": lambda get: _coded(col("phone"), n, _phone),
        "street": lambda get: _transformed(get("address"), _street),
        "house": lambda get: _transformed(get("address"), _house),
    }
    done = _run(jobs, worth_threads(n))
    (full, first, last), (ni_coded, ni_valid), street, house = done["names"], done["ni"], done["street"], done["house"]
    return Fields(n=n, full=full, first=first, last=last, dob=done["dob"], dob_digits=digit_bytes(done["dob"]),
                  street=street, house=house,
                  town=done["town"], postcode=done["postcode"], ni=ni_coded, ni_valid=ni_valid,
                  employee=done["employee"], email=done["email"], phone=done["phone"])
