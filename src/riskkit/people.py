"""Resolving subject records to distinct people, with stable pseudonymous ids.

The same person appears in several cases and files with small variations. Counting records
as people overstates the breach; merging namesakes understates it and sends one person's
letter to another. So: exact keys first, then fuzzy names only inside tight blocks (same date
of birth, or same postcode), and never across two different known dates of birth.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pac
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from riskkit import labels, normalise
from riskkit.errors import RiskkitError

KEY_ENV = "RISKKIT_PSEUDONYM_KEY"
KEY_FILE = Path.home() / ".config" / "riskkit" / "pseudonym.key"
DEFAULT_THRESHOLD = 88.0


def pseudonym_key() -> bytes:
    """The secret for pseudonymous ids: ``$RISKKIT_PSEUDONYM_KEY`` or a local key file
    created once with owner-only permissions. Without the key nobody can recompute an id from
    a name, and with the same key ids stay stable across re-runs."""
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


MAX_BLOCK = 2_000  # records sharing one block key beyond which fuzzy pairs are not formed


def _codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes for a column (-1 for missing) and its distinct values."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Index(uniques)


PAIR_BATCH = 1_000_000  # candidate pairs scored at a time: bounds memory whatever the blocks
ID_CHUNK = 1_000_000  # people whose ids are computed at a time (as Python strings)


def _groups(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions with a block key (>= 0) sorted by key, and each key group's start and size."""
    pos = np.flatnonzero(block >= 0)
    keys = block[pos]
    order = np.argsort(keys, kind="stable")
    pos, keys = pos[order], keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
    return pos, starts, np.diff(np.r_[starts, len(keys)])


def _block_pairs(block: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All (i, j), i < j, of positions sharing a block key (>= 0), in batches of at most about
    ``PAIR_BATCH`` pairs."""
    pos, starts, sizes = _groups(block)
    ok = sizes > 1
    starts, sizes = starts[ok], sizes[ok]
    for size in np.unique(sizes):  # all blocks of one size at once
        group_starts = starts[sizes == size]
        i, j = np.triu_indices(int(size), k=1)
        step = max(1, PAIR_BATCH // len(i))
        for k in range(0, len(group_starts), step):
            g = group_starts[k:k + step, None]
            a, b = pos[(g + i[None, :]).ravel()], pos[(g + j[None, :]).ravel()]
            yield np.minimum(a, b), np.maximum(a, b)


def _cross_pairs(left: np.ndarray, block: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs (i, j), i != j, sharing a block key where i is one of the ``left`` positions and
    j is any position, in batches."""
    pos, starts, sizes = _groups(block)
    left = left[block[left] >= 0]
    if not len(left):
        return
    group = np.searchsorted(block[pos][starts], block[left])
    begin, count = starts[group], sizes[group]
    cum = np.cumsum(count)
    cuts = np.unique(np.r_[0, np.searchsorted(cum, np.arange(PAIR_BATCH, cum[-1] + PAIR_BATCH, PAIR_BATCH),
                                              side="right"), len(left)])
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        lp, lb, lc = left[lo:hi], begin[lo:hi], count[lo:hi]
        offset = np.arange(int(lc.sum())) - np.repeat(np.cumsum(lc) - lc, lc)
        a, b = np.repeat(lp, lc), pos[np.repeat(lb, lc) + offset]
        differ = a != b
        yield np.minimum(a[differ], b[differ]), np.maximum(a[differ], b[differ])


def _candidate_pairs(dob: np.ndarray, initial: np.ndarray, n_initials: int, pc: np.ndarray,
                     n_dob: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Record pairs worth a fuzzy name comparison: same date of birth and surname initial, or
    same postcode where the dates of birth could belong to one person (equal, or one missing).

    Same-postcode pairs with two different dates of birth are never formed: they could never
    be merged. A postcode shared by more than ``MAX_BLOCK`` records (a hostel, a police
    station given as the address) forms no pairs: its records are joined by exact keys only,
    which can count one person twice but never merges two people.
    """
    yield from _block_pairs(np.where(dob >= 0, dob * (n_initials + 2) + initial + 1, -1))
    pos, _, sizes = _groups(pc)
    pc_size = np.zeros(len(pc), dtype=np.int64)
    pc_size[pos] = np.repeat(sizes, sizes)
    pc_ok = np.where(pc_size <= MAX_BLOCK, pc, -1)
    yield from _block_pairs(np.where((pc_ok >= 0) & (dob >= 0), pc_ok * (n_dob + 1) + dob, -1))
    yield from _cross_pairs(np.flatnonzero((dob < 0) & (pc_ok >= 0)), pc_ok)


def _fuzzy_scores(name_codes: np.ndarray, names: pa.Array, lengths: np.ndarray, a: np.ndarray, b: np.ndarray,
                  threshold: float) -> np.ndarray:
    """token_sort_ratio of the names at a and b (0 below ``threshold``), once per distinct pair
    of names, and not at all when their lengths alone rule a match out: the ratio is at most
    100 * (1 - |la - lb| / (la + lb)), because every character of difference costs an edit."""
    na, nb = name_codes[a], name_codes[b]
    scores = np.full(len(a), 100.0)
    la, lb = lengths[na], lengths[nb]
    possible = 100.0 * (1 - np.abs(la - lb) / np.maximum(la + lb, 1)) >= threshold - 1e-9
    scores[~possible] = 0.0
    differ = (na != nb) & possible
    if differ.any():
        width = np.int64(len(names))
        lo, hi = np.minimum(na[differ], nb[differ]), np.maximum(na[differ], nb[differ])
        pair, inverse = np.unique(lo * width + hi, return_inverse=True)
        left, right = (names.take(pa.array(x)).to_pylist() for x in (pair // width, pair % width))
        distinct = process.cpdist(left, right, scorer=fuzz.token_sort_ratio, score_cutoff=threshold, workers=-1)
        scores[differ] = distinct[inverse]
    return scores


def resolve(records: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD,
            key: bytes | None = None) -> pd.Series:
    """A pseudonymous ``person_id`` per record (index aligned with ``records``).

    Records are nodes of a graph, matches are edges, people are its connected components:
    every step works on integer codes of the distinct names, dates and postcodes, so a
    million records need no Python loop over records.
    """
    n = len(records)
    if not n:
        return pd.Series([], index=records.index, dtype="string")
    # Ten million records: every per-record array here is an integer code, the names live once
    # each in Arrow, and intermediates are dropped as soon as they are used.
    names = normalise.name_key(records["full_name"]).fillna("")
    name_codes, name_uniques = pd.factorize(names)
    del names
    name_codes = name_codes.astype(np.int64)
    name_text = pa.array(np.asarray(name_uniques, dtype=object), type=pa.large_string())
    empty = pac.equal(name_text, "").to_numpy(zero_copy_only=False)[name_codes]
    lengths = pac.utf8_length(name_text).to_numpy().astype(np.int64)
    dob, dob_values = _codes(records["date_of_birth"])
    pc, pc_values = _codes(records["postcode"])
    n_dob, n_pc = len(dob_values), len(pc_values)
    initials, _ = _codes(pd.Series(pd.arrays.ArrowStringArray(name_text)).str.split(" ").str[-1].str[:1])
    initial = initials[name_codes]

    # A name alone never merges two records: namesakes are common. It needs a date of birth
    # or, failing that, a postcode to agree as well.
    second = np.where(dob >= 0, dob, np.where(pc >= 0, n_dob + pc, -1))
    exact = np.where(~empty & (second >= 0), name_codes * (n_dob + n_pc + 1) + second, -1)
    del second
    valid = np.flatnonzero(exact >= 0)
    _, first, inverse = np.unique(exact[valid], return_index=True, return_inverse=True)
    del exact
    edges_a, edges_b = [valid[first[inverse]]], [valid]
    del first, inverse

    for a, b in _candidate_pairs(dob, initial, len(initials), pc, n_dob):
        if not len(a):
            continue
        scores = _fuzzy_scores(name_codes, name_text, lengths, a, b, threshold)
        compatible = (dob[a] < 0) | (dob[b] < 0) | (dob[a] == dob[b])
        keep = (scores >= threshold) & compatible & ~empty[a]
        edges_a.append(a[keep])
        edges_b.append(b[keep])
    del initial, empty, valid

    ea, eb = np.concatenate(edges_a), np.concatenate(edges_b)
    del edges_a, edges_b
    graph = coo_matrix((np.ones(len(ea), dtype=np.int8), (ea, eb)), shape=(n, n))
    del ea, eb
    n_comp, component = connected_components(graph, directed=False)
    del graph

    # Each person's id comes from the smallest of their records' details, so it does not
    # depend on the order of rows; the first record (root) only breaks ties between people.
    # Details are joined as Arrow strings from the distinct names, dates and postcodes.
    details = _details(name_text, dob, dob_values, pc, pc_values)
    rep = np.empty(n_comp, dtype=np.int64)
    rep[component] = np.arange(n)  # one record per person; people with several records are set below
    shared = np.flatnonzero(np.bincount(component, minlength=n_comp)[component] > 1)
    if len(shared):
        key_codes, _ = pd.factorize(pd.array(details(name_codes[shared], shared), dtype="string[pyarrow]"), sort=True)
        smallest = np.full(n_comp, np.iinfo(np.int64).max)
        np.minimum.at(smallest, component[shared], key_codes)
        is_min = key_codes == smallest[component[shared]]
        rep[component[shared][is_min]] = shared[is_min]
    root = np.full(n_comp, n)
    np.minimum.at(root, component, np.arange(n))
    key_text = details(name_codes[rep], rep)
    # Distinct people with identical details (a name and nothing else) still get distinct ids.
    canonical = pac.dictionary_encode(key_text).indices.to_numpy(zero_copy_only=False)
    order = np.lexsort((root, canonical))
    starts = np.r_[True, canonical[order][1:] != canonical[order][:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n_comp), 0))
    suffix = np.empty(n_comp, np.int64)
    suffix[order] = np.arange(n_comp) - group_start

    secret = key if key is not None else pseudonym_key()
    tail = np.full(n_comp, "", dtype=object)
    numbered = np.flatnonzero(suffix)
    tail[numbered] = [f"#{x}" for x in suffix[numbered].tolist()]
    blobs = pac.binary_join_element_wise(key_text, pa.array(tail, type=pa.large_string()), pa.scalar("", pa.large_string()))
    del key_text, tail
    ids = pa.concat_arrays([_ids(blobs[i:i + ID_CHUNK], secret) for i in range(0, n_comp, ID_CHUNK)])
    del blobs
    return pd.Series(pd.arrays.ArrowStringArray(ids.take(pa.array(component))), index=records.index)


def _ids(details: pa.Array, secret: bytes) -> pa.Array:
    """'P-' and 16 upper-case hex digits of a keyed BLAKE2b per person.

    Keyed BLAKE2b is a MAC: without the key nobody can recompute an id from a name. The keyed
    state is prepared once and copied (saving a compression per person), the digests are
    concatenated in one buffer and hex-encoded in one call, and Arrow slices that text into ids.
    """
    keyed = hashlib.blake2b(key=hashlib.sha256(secret).digest(), digest_size=8)
    digests = bytearray()
    for blob in details.cast(pa.large_binary()).to_pylist():
        h = keyed.copy()
        h.update(blob)
        digests += h.digest()
    hexes = pa.LargeStringArray.from_buffers(len(details), pa.py_buffer(np.arange(len(details) + 1, dtype=np.int64) * 16),
                                             pa.py_buffer(bytes(digests).hex().upper().encode()))
    return pac.binary_join_element_wise(pa.scalar("P-", pa.large_string()), hexes, pa.scalar("", pa.large_string()))


def _details(names: pa.Array, dob: np.ndarray, dob_values: pd.Index, pc: np.ndarray,
             pc_values: pd.Index) -> Callable[[np.ndarray, np.ndarray], pa.Array]:
    """A function giving 'name|yyyy-mm-dd|postcode' for chosen records, each part formatted
    once per distinct value."""
    dob_text = pa.array(list(pd.Series(dob_values).dt.strftime("%Y-%m-%d")) + [""], type=pa.large_string())
    pc_text = pa.array([str(v).replace(" ", "") for v in pc_values] + [""], type=pa.large_string())

    def details(name_codes: np.ndarray, rows: np.ndarray) -> pa.Array:
        d, p = dob[rows], pc[rows]
        return pac.binary_join_element_wise(names.take(pa.array(name_codes)),
                                            dob_text.take(pa.array(np.where(d < 0, len(dob_text) - 1, d))),
                                            pc_text.take(pa.array(np.where(p < 0, len(pc_text) - 1, p))),
                                            pa.scalar("|", pa.large_string()))

    return details


def person_table(records: pd.DataFrame) -> pd.DataFrame:
    """One row per person: home district (where most of their records place them), roles and
    record count."""
    from riskkit.geography import home_districts

    person, ids = pd.factorize(records["person_id"], sort=True)
    n = len(ids)
    home = home_districts(person, n, records["district_code"])
    case, _ = pd.factorize(records["case_ref"])
    first_in_case = ~pd.Series(person.astype(np.int64) * (case.max() + 2) + case).duplicated().to_numpy()
    # Roles as "victim;witness": a bit per role, and the text built once per distinct set.
    role, role_names = pd.factorize(records["role"])
    order = np.argsort(np.asarray(role_names, dtype=object))  # role names in alphabetical order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    role, role_names = rank[role], [str(role_names[i]) for i in order]
    held = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(held, person, np.left_shift(1, role.astype(np.int64)))
    patterns, names = labels.joined(held, role_names, ";")
    return pd.DataFrame({
        "records": np.bincount(person, minlength=n),
        "cases": np.bincount(person[first_in_case], minlength=n),
        "roles": pd.array(np.asarray(names, dtype=object)[patterns], dtype="string"),
        "district_code": pd.Categorical(np.where(pd.isna(home), "unassigned", home)),
    }, index=pd.Index(ids, name="person_id"))
