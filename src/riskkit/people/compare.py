"""Comparison levels: how closely two records agree on each detail.

Each function takes the record pairs (a, b) and returns one small integer per pair: -1 when
either record lacks the detail (no evidence either way), 0 for clearly different, and higher
levels for closer agreement. String similarities are computed once per distinct pair of
values (rapidfuzz, all cores) and spread back over the record pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from riskkit.people.fields import Coded, Fields
from riskkit.people.threads import pool, worth_threads

MISSING = -1
DENSE_PAIRS = 2**24  # pairs of distinct values up to which similarities are kept in a table (8 bytes each)
# Score every pair of the values in use when that is at most this many times the pairs needed:
# rapidfuzz's matrix converts each value once and compares in SIMD batches (8.7M street pairs
# took 0.16 s, 0.9M single pairs 0.24 s).
MATRIX_FACTOR = 16


def _below(cutoff: float | None) -> float | None:
    return None if cutoff is None else cutoff - 1e-6


def _similarity(coded: Coded, a: np.ndarray, b: np.ndarray, scorer=JaroWinkler.normalized_similarity,
                other: Coded | None = None, equal: float = 1.0, cutoff: float | None = None) -> np.ndarray:
    """scorer(value at a, value at b) per pair; ``equal`` for equal codes, NaN when either is missing.
    ``other`` compares a's value in ``coded`` with b's value in ``other`` (swapped fields).
    Similarities well below ``cutoff`` come back as 0 (rapidfuzz stops early): the levels only
    ask whether a similarity reaches their thresholds. rapidfuzz compares in double precision
    and returns single, so the cut is a hair lower than asked: a similarity just under a
    threshold that rounds up to it keeps the level it had without a cutoff."""
    right = coded if other is None else other
    out = np.full(len(a), np.nan)
    if not len(coded.values) or not len(right.values):  # a detail the extract does not have
        return out
    ca, cb = coded.codes[a], right.codes[b]
    present = (ca >= 0) & (cb >= 0)
    same = present & (ca == cb) if other is None else np.zeros(len(a), dtype=bool)
    out[same] = equal
    todo = present & ~same
    if todo.any():
        width = np.int64(max(len(right.values), 1))
        key = ca[todo] * width + cb[todo]
        space = len(coded.values) * int(width)
        if space <= DENSE_PAIRS:  # few distinct values (forenames, streets): a table of every pair of them
            seen = np.zeros(space, dtype=bool)
            seen[key] = True
            pair = np.flatnonzero(seen)
            rows, cols = np.flatnonzero(np.bincount(pair // width)), np.flatnonzero(np.bincount(pair % width))
            if len(rows) * len(cols) <= MATRIX_FACTOR * len(pair):
                # Most pairs of the values in use occur: score them all as a matrix, each value
                # converted once, rather than two Python strings per pair.
                matrix = process.cdist(coded.text(rows), right.text(cols), scorer=scorer, workers=-1,
                                       score_cutoff=_below(cutoff))
                row_of, col_of = np.zeros(len(coded.values), np.int64), np.zeros(len(right.values), np.int64)
                row_of[rows], col_of[cols] = np.arange(len(rows)), np.arange(len(cols))
                out[todo] = matrix[row_of[ca[todo]], col_of[cb[todo]]]
            else:
                table = np.empty(space)
                table[pair] = process.cpdist(coded.text(pair // width), right.text(pair % width), scorer=scorer,
                                             workers=-1, score_cutoff=_below(cutoff))
                out[todo] = table[key]
        else:
            # A hash pass, not a sort: the distinct pairs' order does not matter, and hashing the
            # few distinct pairs of a million record pairs is several times faster.
            inverse, pair = pd.factorize(key)
            left_text, right_text = coded.text(pair // width), right.text(pair % width)
            out[todo] = process.cpdist(left_text, right_text, scorer=scorer, workers=-1,
                                       score_cutoff=_below(cutoff))[inverse]
    return out


WIDEST_NEAR = 64  # characters: longer values are compared by rapidfuzz, not packed words
NEAR_CHUNK = 500_000  # pairs compared at a time
PACK_ROWS = 16_384  # values right-aligned at a time


@dataclass(frozen=True)
class _Packed:
    """Distinct values as big-endian 64-bit words, so that whole runs of characters compare in
    one integer operation: ``left`` with the text at the start (zero padding after it),
    ``right`` with it at the end, one array per word; ``unit`` bytes per character (1 when
    every value is ASCII, else 4: UTF-32, so that an accented letter is one keystroke)."""

    left: list[np.ndarray]
    right: list[np.ndarray]
    length: np.ndarray  # characters
    unit: int


def _packed(values: np.ndarray) -> _Packed | None:
    """None when a value is longer than ``WIDEST_NEAR`` characters."""
    arrow = pa.array(values, type=pa.string())
    offsets = np.frombuffer(arrow.buffers()[1], np.int32, len(arrow) + 1, arrow.offset * 4)
    data = np.frombuffer(arrow.buffers()[2], np.uint8, offsets[-1]) if len(arrow) else np.zeros(0, np.uint8)
    data = data[offsets[0]:]
    offsets = (offsets - offsets[0]).astype(np.int64)
    size = np.diff(offsets)
    if int(size.max(initial=0)) > WIDEST_NEAR * 4:
        return None
    if int(data.max(initial=0)) < 128:  # ASCII: a byte per character, straight from Arrow's buffer
        unit, length = 1, size
        width = -(-int(size.max(initial=1)) // 8) * 8
        row = np.repeat(np.arange(len(size)), size)
        col = np.arange(len(data)) - np.repeat(offsets[:-1], size)
        left = np.zeros((len(size), width), np.uint8)
        left[row, col] = data
    else:  # UTF-32 code points, big-endian, so that an accented letter is one keystroke
        text = np.asarray(values, dtype=str)
        chars = max(text.dtype.itemsize // 4, 1)
        unit, length = 4, np.strings.str_len(text).astype(np.int64)
        width = -(-chars * 4 // 8) * 8
        left = np.zeros((len(text), width), np.uint8)
        left[:, :chars * 4] = text.astype(f">U{chars}").view(np.uint8).reshape(len(text), chars * 4)
    if int(length.max(initial=0)) > WIDEST_NEAR:
        return None
    right = np.zeros_like(left)
    for start in range(0, len(left), PACK_ROWS):  # a block of rows at a time: the index matrix is 8 bytes a cell
        rows = slice(start, start + PACK_ROWS)
        shift = np.arange(width)[None, :] - (width - length[rows] * unit)[:, None]
        right[rows] = np.where(shift >= 0, np.take_along_axis(left[rows], np.maximum(shift, 0), axis=1), 0)
    words = width // 8

    def columns(m: np.ndarray) -> list[np.ndarray]:
        w = m.view(">u8").reshape(len(m), words).astype(np.uint64)
        return [np.ascontiguousarray(w[:, i]) for i in range(words)]

    return _Packed(columns(left), columns(right), length, unit)


def _leading_zero_bytes(x: np.ndarray) -> np.ndarray:
    return sum((x < np.uint64(1 << (64 - 8 * k))).astype(np.int64) for k in range(1, 8)) + (x == 0)


def _trailing_zero_bytes(x: np.ndarray) -> np.ndarray:
    return sum(((x & np.uint64((1 << (8 * k)) - 1)) == 0).astype(np.int64) for k in range(1, 9))


def _common(words: list[np.ndarray], ca: np.ndarray, cb: np.ndarray, leading: bool) -> np.ndarray:
    """Bytes the two values share at their start (``leading``) or end, word by word."""
    count = np.zeros(len(ca), np.int64)
    still = np.ones(len(ca), dtype=bool)
    for w in (words if leading else words[::-1]):
        x = w[ca] ^ w[cb]
        count += np.where(still, _leading_zero_bytes(x) if leading else _trailing_zero_bytes(x), 0)
        still &= x == 0
    return count


def _one_keystroke(p: _Packed, ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Whether distinct values ca and cb are one keystroke apart (optimal-string-alignment
    distance 1: a character added, lost or changed, or two neighbours swapped), for all pairs
    at once. The common start and end show where two values differ; a Python string per pair
    for rapidfuzz cost ten times as long on a million pairs of postcodes."""
    la, lb = p.length[ca], p.length[cb]
    shorter = np.minimum(la, lb)
    prefix = np.minimum(_common(p.left, ca, cb, leading=True) // p.unit, shorter)
    suffix = np.minimum(_common(p.right, ca, cb, leading=False) // p.unit, shorter)
    same_length = la == lb
    one = same_length & (prefix + suffix == la - 1)  # one character changed
    one |= (np.abs(la - lb) == 1) & (prefix + suffix >= shorter)  # one character added or lost
    swap = np.flatnonzero(same_length & (prefix + suffix == la - 2))  # two neighbours swapped?
    if len(swap):
        k = prefix[swap]
        x = [_char_at(p, ca[swap], k + j) for j in (0, 1)]
        y = [_char_at(p, cb[swap], k + j) for j in (0, 1)]
        one[swap] = (x[0] == y[1]) & (x[1] == y[0])
    return one


def _char_at(p: _Packed, code: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The k-th character (as its bytes in one integer) of each value."""
    byte = k * p.unit
    word = np.stack(p.left)[byte // 8, code] if len(p.left) > 1 else p.left[0][code]
    shift = (64 - 8 * (byte % 8 + p.unit)).astype(np.uint64)
    return (word >> shift) & np.uint64((1 << (8 * p.unit)) - 1)


def _near(coded: Coded, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Keystrokes apart, capped at 2: 0 for equal codes, 1 one keystroke apart, 2 more; -1 when
    either is missing."""
    out = np.full(len(a), MISSING, dtype=np.int8)
    if not len(coded.values):
        return out
    ca, cb = coded.codes[a], coded.codes[b]
    present = (ca >= 0) & (cb >= 0)
    out[present] = np.where(ca[present] == cb[present], 0, 2)
    todo = np.flatnonzero(out == 2)
    if not len(todo):
        return out
    # Only the values these pairs use are packed: a column of millions of distinct emails,
    # packed whole for every batch, would take gigabytes (found in review).
    used = np.flatnonzero(np.bincount(np.concatenate([ca[todo], cb[todo]]), minlength=len(coded.values)))
    packed = _packed(coded.values[used])
    if packed is None:  # a free-text column mapped by mistake: rapidfuzz, a string per pair
        d = process.cpdist(coded.text(ca[todo]), coded.text(cb[todo]), scorer=OSA.distance, workers=-1)
        out[todo] = np.minimum(d, 2)
        return out
    index = np.full(len(coded.values), -1, np.int64)
    index[used] = np.arange(len(used))
    for i in range(0, len(todo), NEAR_CHUNK):
        part = todo[i:i + NEAR_CHUNK]
        out[part[_one_keystroke(packed, index[ca[part]], index[cb[part]])]] = 1
    return out


@cache
def nicknames() -> dict[str, int]:
    """Each known forename or short form and the groups it belongs to, as a bit mask (Harry is
    both Harold and Henry): two forenames are nicknames of each other when their masks meet.
    Python integers, so the table can grow past 64 groups."""
    text = resources.files("riskkit").joinpath("data/nicknames.csv").read_text(encoding="utf-8")
    out: dict[str, int] = {}
    for bit, line in enumerate(text.splitlines()[1:]):
        for name in (w.strip() for w in line.split(",") if w.strip()):
            out[name] = out.get(name, 0) | (1 << bit)
    return out


def _nickname_masks(coded: Coded) -> np.ndarray:
    """A bit mask per distinct forename (0 when not in the table)."""
    table = nicknames()
    return np.array([table.get(v, 0) for v in coded.values], dtype=object)


def forename(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """4 same; 3 one or two letters out (Jaro-Winkler >= 0.92) or nickname (Bob, Robert);
    2 similar (>= 0.80); 1 an initial that fits (J, John); 0 different."""
    sim = _similarity(f.first, a, b, cutoff=0.80)
    level = np.select([sim >= 1.0, sim >= 0.92, sim >= 0.80], [4, 3, 2], 0)
    masks = _nickname_masks(f.first)
    if len(masks):
        listed = np.array([m != 0 for m in masks], dtype=bool)  # per name, not per pair of object ints
        known = np.flatnonzero((level < 3) & listed[np.maximum(f.first.codes[a], 0)]
                               & listed[np.maximum(f.first.codes[b], 0)] & ~np.isnan(sim))
        ga, gb = masks[f.first.codes[a[known]]], masks[f.first.codes[b[known]]]
        level[known[(ga & gb) != 0]] = 3
    if len(f.first.values):
        short = np.array([len(v) == 1 for v in f.first.values], dtype=bool)
        letter = np.unique(np.array([v[:1] for v in f.first.values], dtype=object), return_inverse=True)[1]
        ca, cb = np.maximum(f.first.codes[a], 0), np.maximum(f.first.codes[b], 0)
        fits = (short[ca] | short[cb]) & (letter[ca] == letter[cb])
        level = np.where((level < 1) & fits, 1, level)
    return np.where(np.isnan(sim), MISSING, level).astype(np.int8)


def surname(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """4 same; 3 one or two letters out (Jaro-Winkler >= 0.92); 2 similar (>= 0.80); 0 different."""
    sim = _similarity(f.last, a, b, cutoff=0.80)
    level = np.select([sim >= 1.0, sim >= 0.92, sim >= 0.80], [4, 3, 2], 0)
    return np.where(np.isnan(sim), MISSING, level).astype(np.int8)


def swapped(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether a's forename is b's surname and a's surname b's forename (each Jaro-Winkler >= 0.92)."""
    out = np.zeros(len(a), dtype=bool)
    x = _similarity(f.first, a, b, other=f.last, cutoff=0.92)
    y = _similarity(f.last, a, b, other=f.first, cutoff=0.92)
    out[(x >= 0.92) & (y >= 0.92)] = True
    return out


def _digit_columns(packed: np.ndarray) -> np.ndarray:
    """``Fields.dob_digits`` as one row of eight digits each, least significant first."""
    return packed.astype("<u8").view(np.uint8).reshape(len(packed), 8)


_BYTE_LOW_BITS = np.uint64(0x0101010101010101)
_TWO_DIGITS = np.uint64(0xFFFF)


def _bytes_set(x: np.ndarray) -> np.ndarray:
    """How many of the eight bytes of each integer are not zero."""
    for shift in (4, 2, 1):  # each byte becomes 1 when any of its bits is set
        x = x | (x >> np.uint64(shift))
    x &= _BYTE_LOW_BITS
    return ((x * _BYTE_LOW_BITS) >> np.uint64(56)).astype(np.int64)  # the sum of the bytes


def date_of_birth(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """4 same; 3 one digit out, two adjacent digits transposed, or day and month swapped;
    2 two digits out; 0 different. Digit by digit on the dates' digits packed a byte each
    (``Fields.dob_digits``): a million pairs in a few whole-array operations."""
    da, db = f.dob[a], f.dob[b]
    level = np.where((da < 0) | (db < 0), MISSING, np.where(da == db, 4, 0)).astype(np.int8)
    idx = np.flatnonzero(level == 0)
    wa, wb = f.dob_digits[a[idx]], f.dob_digits[b[idx]]
    hamming = _bytes_set(wa ^ wb)
    adjacent = np.zeros(len(idx), dtype=bool)
    two = np.flatnonzero(hamming == 2)  # neighbours k-1 and k swapped? digit by digit, for these few
    dx, dy = (_digit_columns(w[two]) for w in (wa, wb))
    differ = dx != dy
    adjacent[two] = (differ[:, 1:] & differ[:, :-1] & (dx[:, 1:] == dy[:, :-1]) & (dy[:, 1:] == dx[:, :-1])).any(axis=1)
    sixteen = np.uint64(16)
    day_month = (((wa ^ wb) >> np.uint64(32)) == 0) & ((wa & _TWO_DIGITS) == ((wb >> sixteen) & _TWO_DIGITS)) \
        & (((wa >> sixteen) & _TWO_DIGITS) == (wb & _TWO_DIGITS))
    level[idx] = np.select([(hamming == 1) | day_month | (adjacent & (hamming == 2)), hamming == 2], [3, 2], 0)
    return level


def street(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3 same street words; 2 nearly (Jaro-Winkler >= 0.90); 1 similar (>= 0.80); 0 different."""
    sim = _similarity(f.street, a, b, cutoff=0.80)
    level = np.select([sim >= 1.0, sim >= 0.90, sim >= 0.80], [3, 2, 1], 0)
    return np.where(np.isnan(sim), MISSING, level).astype(np.int8)


def exact_or_near(coded: Coded, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2 same; 1 one keystroke apart (a character added, lost, changed or two swapped); 0 different."""
    d = _near(coded, a, b)
    return np.select([d < 0, d == 0, d == 1], [MISSING, 2, 1], 0).astype(np.int8)


def exact(coded: Coded, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 same, 0 different."""
    if not len(coded.values):
        return np.full(len(a), MISSING, np.int8)
    ca, cb = coded.codes[a], coded.codes[b]
    return np.where((ca < 0) | (cb < 0), MISSING, (ca == cb).astype(np.int8)).astype(np.int8)


def town(f: Fields, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """2 same; 1 nearly (Jaro-Winkler >= 0.90); 0 different."""
    sim = _similarity(f.town, a, b, cutoff=0.90)
    level = np.select([sim >= 1.0, sim >= 0.90], [2, 1], 0)
    return np.where(np.isnan(sim), MISSING, level).astype(np.int8)


def _names(f: Fields, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Forename and surname levels; names given the other way round are compared crosswise
    and scored as near agreement."""
    first, last = forename(f, a, b), surname(f, a, b)
    weak = (first < 3) | (last < 3)
    swap = np.zeros(len(a), dtype=bool)
    if weak.any():
        idx = np.flatnonzero(weak)
        swap[idx] = swapped(f, a[idx], b[idx])
        first = np.where(swap, np.maximum(first, 3), first).astype(np.int8)
        last = np.where(swap, np.maximum(last, 3), last).astype(np.int8)
    return {"forename": first, "surname": last, "names_swapped": swap.astype(np.int8)}


def _the_rest(f: Fields, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "date_of_birth": date_of_birth(f, a, b), "house_number": exact(f.house, a, b),
        "town": town(f, a, b), "postcode": exact_or_near(f.postcode, a, b), "ni_number": exact_or_near(f.ni, a, b),
        "employee_id": exact_or_near(f.employee, a, b), "email": exact_or_near(f.email, a, b),
        "phone": exact_or_near(f.phone, a, b),
    }


def levels(f: Fields, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Every comparison for the pairs, named as in the model file. The dates and identifiers
    are compared on another thread while the names and streets are (numpy and rapidfuzz work
    without Python's lock, so the two share the cores)."""
    if worth_threads(len(a)):
        with pool(1, "riskkit-compare") as workers:
            rest = workers.submit(_the_rest, f, a, b)
            names = _names(f, a, b)
            street_level = street(f, a, b)
            other = rest.result()
    else:
        names, street_level, other = _names(f, a, b), street(f, a, b), _the_rest(f, a, b)
    order = ["forename", "surname", "names_swapped", "date_of_birth", "street", "house_number", "town", "postcode",
             "ni_number", "employee_id", "email", "phone"]
    found = {**names, "street": street_level, **other}
    return {name: found[name] for name in order}
