"""Stable pseudonymous person ids: the smallest keyed digest of a person's records' details.

Without the key nobody can recompute an id from a name; with the same key ids stay stable
across re-runs and do not depend on the order of rows.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from riskkit.errors import RiskkitError
from riskkit.people import keyed
from riskkit.people.fields import Fields
from riskkit.people.keyed import keyed_digests
from riskkit.people.threads import beside, worth_threads

KEY_ENV = "RISKKIT_PSEUDONYM_KEY"
KEY_FILE = Path.home() / ".config" / "riskkit" / "pseudonym.key"


def pseudonym_key() -> bytes:
    """The secret for pseudonymous ids: ``$RISKKIT_PSEUDONYM_KEY`` or a local key file
    created once with owner-only permissions."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode()
    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    try:
        return KEY_FILE.read_text().strip().encode()
    except OSError as exc:
        raise RiskkitError(f"{KEY_FILE}: cannot read the pseudonym key ({exc.strerror}); set "
                           f"{KEY_ENV} instead.") from None


# Each byte's two upper-case hex digits, as the 16-bit number whose bytes in memory are them.
_HEX = np.array([int.from_bytes(f"{b:02X}".encode(), "little") for b in range(256)], dtype="<u2")


def _id_text(digests: np.ndarray) -> pa.Array:
    """'P-' and the 16 upper-case hex digits of each digest, written straight into one buffer."""
    text = np.empty((len(digests), 18), np.uint8)
    text[:, 0], text[:, 1] = ord("P"), ord("-")
    text[:, 2:] = _HEX[digests.astype(">u8").view(np.uint8).reshape(-1, 8)].view(np.uint8)
    return _fixed_width_text(text, np.ones(len(digests), bool))


def _fixed_width_text(rows: np.ndarray, present: np.ndarray) -> pa.Array:
    """Arrow text from the ASCII rows (one per present value, all one width) and '' where a
    value is not present: no Python string per value."""
    offsets = np.r_[0, np.cumsum(np.where(present, rows.shape[1], 0))].astype(np.int64)
    return pa.LargeStringArray.from_buffers(len(present), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(rows)))


class Details:
    """'name|yyyy-mm-dd|postcode' of chosen records: what a person's id is derived from. Names
    and postcodes are made text once per distinct value, dates from their packed digits; a
    record's text is joined only when asked for (records are digested a chunk at a time, and
    nothing here grows with the records beyond what ``Fields`` holds)."""

    def __init__(self, f: Fields) -> None:
        self._names = (_vocabulary(f.full.values), f.full.codes)
        self._postcodes = (pac.replace_substring(_vocabulary(f.postcode.values), " ", ""), f.postcode.codes)
        self._dob, self._dob_digits = f.dob, f.dob_digits

    def text(self, rows: np.ndarray | slice) -> pa.Array:
        parts = [vocabulary.take(pa.array(np.where(codes[rows] < 0, len(vocabulary) - 1, codes[rows])))
                 for vocabulary, codes in (self._names, self._postcodes)]
        return pac.binary_join_element_wise(parts[0], _dob_text(self._dob[rows], self._dob_digits[rows]), parts[1],
                                            pa.scalar("|", pa.large_string()))


def _dob_text(dob: np.ndarray, digits: np.ndarray) -> pa.Array:
    """'yyyy-mm-dd' per date ('' when missing), from the packed digits (a byte each, least
    significant lowest) in one buffer."""
    present = dob >= 0
    text = np.full((int(present.sum()), 10), ord("-"), np.uint8)
    ascii_digits = digits[present].astype("<u8").view(np.uint8).reshape(-1, 8)[:, ::-1] + ord("0")
    text[:, 0:4], text[:, 5:7], text[:, 8:10] = ascii_digits[:, 0:4], ascii_digits[:, 4:6], ascii_digits[:, 6:8]
    return _fixed_width_text(text, present)


def _vocabulary(values: np.ndarray | list[str]) -> pa.Array:
    """Distinct values as Arrow text, with '' last (where missing codes point)."""
    return pa.array([*values, ""], type=pa.large_string())


def record_digests(f: Fields, secret: bytes, stop: threading.Event | None = None) -> tuple[Details, np.ndarray]:
    """The records' details, and the keyed digest of each record's, a chunk of records at a
    time; ``stop`` ends the work between chunks (nobody is waiting for it any more)."""
    details = Details(f)
    digests = np.empty(f.n, np.uint64)
    for start in range(0, f.n, keyed.CHUNK):
        if stop is not None and stop.is_set():
            raise CancelledError
        digests[start:start + keyed.CHUNK] = keyed_digests(details.text(slice(start, start + keyed.CHUNK)), secret)
    return details, digests


@contextmanager
def digests_ahead(f: Fields, secret: bytes) -> Iterator[Callable[[], tuple[Details, np.ndarray]]]:
    """``record_digests``: on a thread beside the comparisons when the extract is large (Arrow
    and AES run without Python's lock), else when first asked for. Digests do not depend on who
    is merged with whom, so they need not wait for it. When the resolution stops early (an
    error, an interrupt in a notebook) the thread stops at its next chunk instead of running on
    for seconds with the records held."""
    stop = threading.Event()
    with beside(worth_threads(f.n), "riskkit-ids") as start:
        try:
            yield start(record_digests, f, secret, stop)
        except BaseException:
            stop.set()
            raise


def _number_namesakes(digest: np.ndarray, order: np.ndarray, rep: np.ndarray, root: np.ndarray, secret: bytes,
                      component: np.ndarray, details: Details) -> bool:
    """Distinct people whose ids would come from identical details (records nothing tells apart
    but a rule kept apart) get "#1", "#2"... after the details, and the digest of that text
    instead (in place; True when any changed). Only people whose digests tie (``order`` sorts
    them) are looked at.

    They are numbered in the order of all their records' details, and only people whose
    records are all alike by the order of their first record: so a person with a further,
    different record keeps one id however the rows are ordered (found by the permutation
    property test), and only people nothing at all tells apart can swap ids."""
    ordered = digest[order]
    tied = np.r_[False, ordered[1:] == ordered[:-1]]
    tied = order[tied | np.r_[tied[1:], False]]
    if not len(tied):
        return False
    key_text = details.text(rep[tied])
    canonical = pac.dictionary_encode(key_text).indices.to_numpy(zero_copy_only=False)
    by = np.lexsort((root[tied], _all_details(tied, component, details), canonical))
    starts = np.r_[True, canonical[by][1:] != canonical[by][:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(tied)), 0))
    suffix = np.empty(len(tied), np.int64)
    suffix[by] = np.arange(len(tied)) - group_start
    numbered = np.flatnonzero(suffix)
    if len(numbered):
        text = pac.binary_join_element_wise(key_text.take(pa.array(numbered)),
                                            pa.array([f"#{x}" for x in suffix[numbered].tolist()], type=pa.large_string()),
                                            pa.scalar("", pa.large_string()))
        digest[tied[numbered]] = keyed_digests(text, secret)
    return bool(len(numbered))


def _all_details(people: np.ndarray, component: np.ndarray, details: Details) -> np.ndarray:
    """A rank per chosen person of the sorted details of all their records (few people: those
    whose ids tie)."""
    records = np.flatnonzero(np.isin(component, people))
    held: dict[int, list[str]] = {}
    for person, text in zip(component[records].tolist(), details.text(records).to_pylist(), strict=True):
        held.setdefault(person, []).append(text)
    signature = np.array(["\x00".join(sorted(held[p])) for p in people.tolist()], dtype=object)
    return np.unique(signature, return_inverse=True)[1].reshape(-1)


def person_ids(component: np.ndarray, n_comp: int, digests: np.ndarray, details: Details, secret: bytes) -> pd.Categorical:
    """An id per record from its person (component): the smallest of their records' keyed
    digests, so it does not depend on the order of rows; the first record only breaks ties
    between distinct people with identical details.

    A categorical whose categories are the people's ids in sorted order: every later step
    groups by person, and the codes spare it factorising a million ids as text."""
    n = len(component)
    digest = np.full(n_comp, np.iinfo(np.uint64).max, dtype=np.uint64)
    np.minimum.at(digest, component, digests)
    smallest = np.flatnonzero(digests == digest[component])
    rep = np.empty(n_comp, dtype=np.int64)
    rep[component[smallest]] = smallest  # a record whose details give the person's digest
    root = np.full(n_comp, n)
    np.minimum.at(root, component, np.arange(n))
    order = np.argsort(digest)  # digests are distinct but for namesakes, numbered next
    if _number_namesakes(digest, order, rep, root, secret, component, details):
        order = np.argsort(digest)
    ordered = digest[order]
    if (ordered[1:] == ordered[:-1]).any():  # two people with one id would be counted as one: never expected
        raise AssertionError("two people were given the same pseudonymous id")
    rank = np.empty(n_comp, dtype=np.int64)
    rank[order] = np.arange(n_comp)
    categories = pd.Index(pd.arrays.ArrowStringArray(_id_text(ordered)))
    return pd.Categorical.from_codes(rank[component], dtype=_known_unique(categories), validate=False)


def _known_unique(categories: pd.Index) -> pd.CategoricalDtype:
    """The dtype for categories already known to be distinct (checked above on the digests):
    pandas would otherwise hash a million ids again to check (a fifth of a second). Its
    unchecked constructor is private, so the public one stands in if it goes."""
    try:
        return pd.CategoricalDtype._from_fastpath(categories, False)
    except (AttributeError, TypeError):
        return pd.CategoricalDtype(categories)
