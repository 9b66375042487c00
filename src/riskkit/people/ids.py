"""Stable pseudonymous person ids: a keyed hash of each person's smallest record details.

Without the key nobody can recompute an id from a name; with the same key ids stay stable
across re-runs and do not depend on the order of rows.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac

from riskkit.errors import RiskkitError
from riskkit.people.fields import Coded

KEY_ENV = "RISKKIT_PSEUDONYM_KEY"
KEY_FILE = Path.home() / ".config" / "riskkit" / "pseudonym.key"
ID_CHUNK = 1_000_000  # people whose ids are computed at a time (as Python strings)


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


def _digests(details: pa.Array, secret: bytes) -> np.ndarray:
    """A keyed BLAKE2b (8 bytes) per value, as unsigned integers whose order is the order of
    their hex text: the ids sort as numbers, not as a million strings.

    The keyed state is prepared once and copied (saving a compression per person), and the
    digests are gathered in one buffer, a chunk at a time (Python bytes per value)."""
    copy = hashlib.blake2b(key=hashlib.sha256(secret).digest(), digest_size=8).copy

    def digest(blob: bytes) -> bytes:
        h = copy()
        h.update(blob)
        return h.digest()

    chunks = [b"".join(map(digest, details[i:i + ID_CHUNK].cast(pa.large_binary()).to_pylist()))  # map: no bytecode loop
              for i in range(0, len(details), ID_CHUNK)]
    return np.frombuffer(b"".join(chunks), dtype=">u8").astype(np.uint64)


def _id_text(digests: np.ndarray) -> pa.Array:
    """'P-' and the 16 upper-case hex digits of each digest, hex-encoded in one call."""
    hexes = pa.LargeStringArray.from_buffers(len(digests), pa.py_buffer(np.arange(len(digests) + 1, dtype=np.int64) * 16),
                                             pa.py_buffer(digests.astype(">u8").tobytes().hex().upper().encode()))
    return pac.binary_join_element_wise(pa.scalar("P-", pa.large_string()), hexes, pa.scalar("", pa.large_string()))


def _text(values: np.ndarray, codes: np.ndarray) -> pa.Array:
    """The values behind codes as Arrow text ('' when missing), each value converted once."""
    table = pa.array(list(values) + [""], type=pa.large_string())
    return table.take(pa.array(np.where(codes < 0, len(values), codes)))


def _number_namesakes(digest: np.ndarray, order: np.ndarray, key_text: pa.Array, root: np.ndarray,
                      secret: bytes, component: np.ndarray, record_details: pa.Array) -> bool:
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
    canonical = pac.dictionary_encode(key_text.take(pa.array(tied))).indices.to_numpy(zero_copy_only=False)
    by = np.lexsort((root[tied], _all_details(tied, component, record_details), canonical))
    starts = np.r_[True, canonical[by][1:] != canonical[by][:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(tied)), 0))
    suffix = np.empty(len(tied), np.int64)
    suffix[by] = np.arange(len(tied)) - group_start
    numbered = np.flatnonzero(suffix)
    if len(numbered):
        people = tied[numbered]
        text = pac.binary_join_element_wise(key_text.take(pa.array(people)).cast(pa.large_string()),
                                            pa.array([f"#{x}" for x in suffix[numbered].tolist()], type=pa.large_string()),
                                            pa.scalar("", pa.large_string()))
        digest[people] = _digests(text, secret)
    return bool(len(numbered))


def _all_details(people: np.ndarray, component: np.ndarray, record_details: pa.Array) -> np.ndarray:
    """A rank per chosen person of the sorted details of all their records (few people: those
    whose ids tie)."""
    records = np.flatnonzero(np.isin(component, people))
    held: dict[int, list[str]] = {}
    for person, text in zip(component[records].tolist(), record_details.take(pa.array(records)).to_pylist(), strict=True):
        held.setdefault(person, []).append(text)
    signature = np.array(["\x00".join(sorted(held[p])) for p in people.tolist()], dtype=object)
    return np.unique(signature, return_inverse=True)[1].reshape(-1)


def details(full: Coded, dob: np.ndarray, postcode: Coded) -> pa.Array:
    """'name|yyyy-mm-dd|postcode' per record: what a person's id is derived from."""
    dob_codes, dob_values = pd.factorize(dob)
    dob_text = np.array([f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}" if v >= 0 else "" for v in dob_values],
                        dtype=object)
    pc = np.array([v.replace(" ", "") for v in postcode.values], dtype=object)
    return pac.binary_join_element_wise(_text(full.values, full.codes), _text(dob_text, dob_codes),
                                        _text(pc, postcode.codes), pa.scalar("|", pa.large_string()))


def person_ids(component: np.ndarray, n_comp: int, record_details: pa.Array, key: bytes | None) -> pd.Categorical:
    """An id per record from its person (component). Each person's id comes from the smallest
    of their records' details, so it does not depend on the order of rows; the first record
    only breaks ties between distinct people with identical details.

    A categorical whose categories are the people's ids in sorted order: every later step
    groups by person, and the codes spare it factorising a million ids as text."""
    n = len(component)
    rep = np.empty(n_comp, dtype=np.int64)
    rep[component] = np.arange(n)
    shared = np.flatnonzero(np.bincount(component, minlength=n_comp)[component] > 1)
    if len(shared):
        key_codes, _ = pd.factorize(pd.array(record_details.take(pa.array(shared)), dtype="string[pyarrow]"), sort=True)
        smallest = np.full(n_comp, np.iinfo(np.int64).max)
        np.minimum.at(smallest, component[shared], key_codes)
        is_min = key_codes == smallest[component[shared]]
        rep[component[shared][is_min]] = shared[is_min]
    root = np.full(n_comp, n)
    np.minimum.at(root, component, np.arange(n))
    key_text = record_details.take(pa.array(rep))
    secret = key if key is not None else pseudonym_key()
    digest = _digests(key_text, secret)
    order = np.argsort(digest)  # digests are distinct but for namesakes, numbered next
    if _number_namesakes(digest, order, key_text, root, secret, component, record_details):
        order = np.argsort(digest)
    ordered = digest[order]
    if (ordered[1:] == ordered[:-1]).any():  # two people with one id would be counted as one: never expected
        raise AssertionError("two people were given the same pseudonymous id")
    rank = np.empty(n_comp, dtype=np.int64)
    rank[order] = np.arange(n_comp)
    categories = pd.Index(pd.arrays.ArrowStringArray(_id_text(ordered)))
    return pd.Categorical.from_codes(rank[component], categories=categories, validate=False)
