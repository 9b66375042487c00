"""Candidate pairs: records that share a blocking key in any of several passes.

Comparing every pair of a million records is 5 x 10^11 comparisons; blocking compares only
records that agree exactly on something. One pass alone would hide every match whose blocking
field carries a typo, so there are several, each on different fields: a match is found if any
one of them agrees. Keys larger than ``MAX_BLOCK`` records (a hostel's postcode, "John Smith")
form no pairs in that pass; their records still meet in the other passes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pac

from riskkit.people.fields import Coded, Fields
from riskkit.people.threads import pool, worth_threads

MAX_BLOCK = 1_000  # records sharing one key beyond which that key forms no pairs
PAIR_BATCH = 2_000_000  # pairs formed at a time: bounds memory whatever the blocks


def _groups(block: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions with a block key (>= 0), sorted by key, and each key group's start and size.

    Each key and its position are packed into one integer and sorted as values, when they fit:
    a vectorised sort of values is five times faster than an argsort. (Order within a key does
    not matter: pairs are (min, max) and each is kept once.)"""
    present = block >= 0
    pos = np.arange(len(block)) if present.all() else np.flatnonzero(present)
    # int64 whatever the codes' type: an int32 key shifted beside a position wraps around
    # (found in review: NI, payroll, email and phone codes are int32).
    keys = (block[pos] if len(pos) < len(block) else block).astype(np.int64, copy=False)
    bits = max(int(len(block) - 1).bit_length(), 1)
    if len(keys) and int(keys.max()) < 2 ** (62 - bits):
        packed = (keys << bits) | pos
        packed.sort()
        keys, pos = packed >> bits, packed & ((1 << bits) - 1)
    else:  # keys too wide to pack beside a position
        order = np.argsort(keys)
        pos, keys = pos[order], keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
    return pos, starts, np.diff(np.r_[starts, len(keys)])


@dataclass(frozen=True)
class Blocks:
    """One pass's blocks that form pairs (two to ``max_block`` records): the records sorted by
    block and each block's start and size, among ``n`` records."""

    pos: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    n: int

    @property
    def pairs(self) -> int:
        return int((self.sizes * (self.sizes - 1) // 2).sum())

    def labels(self) -> np.ndarray:
        """Each record's block number (int32; -1 for a record in no such block), so that later
        passes can tell whether a pair was already found here."""
        label = np.full(self.n, -1, np.int32)
        total = int(self.sizes.sum())
        offset = np.arange(total) - np.repeat(np.cumsum(self.sizes) - self.sizes, self.sizes)
        label[self.pos[np.repeat(self.starts, self.sizes) + offset]] = np.repeat(
            np.arange(len(self.sizes), dtype=np.int32), self.sizes)
        return label


def _together(label: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each pair (a, b) shares one of a pass's blocks (``Blocks.labels``)."""
    la = label[a]
    return (la >= 0) & (la == label[b])


def blocks(block: np.ndarray, max_block: int | None = None) -> Blocks:
    """The blocks of a pass's key (>= 0 present) that form pairs: keys held by more than
    ``max_block`` records, or by one, form none."""
    limit = MAX_BLOCK if max_block is None else max_block
    pos, starts, sizes = _groups(block)
    ok = (sizes > 1) & (sizes <= limit)
    return Blocks(pos, starts[ok], sizes[ok], len(block))


def _pairs(b: Blocks) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All (i, j), i < j, of records sharing a block, in batches of at most about ``PAIR_BATCH``."""
    for size in np.unique(b.sizes):  # all blocks of one size at once
        group_starts = b.starts[b.sizes == size]
        i, j = np.triu_indices(int(size), k=1)
        step = max(1, PAIR_BATCH // len(i))
        for k in range(0, len(group_starts), step):
            g = group_starts[k:k + step, None]
            x, y = b.pos[(g + i[None, :]).ravel()], b.pos[(g + j[None, :]).ravel()]
            yield np.minimum(x, y), np.maximum(x, y)


def block_pairs(block: np.ndarray, max_block: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All (i, j), i < j, of positions sharing a block key (>= 0), in batches of at most about
    ``PAIR_BATCH`` pairs; keys held by more than ``max_block`` records are skipped."""
    yield from _pairs(blocks(block, max_block))


def combine(*codes: np.ndarray) -> np.ndarray:
    """One key from several codes (-1 when any is missing), re-coded densely only when the
    next step could overflow."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        width = max(int(c.max(initial=-1)) + 1, 1)
        if (int(key.max(initial=0)) + 1) * width >= 2**62:
            present = key >= 0
            _, dense = np.unique(key[present], return_inverse=True)
            key[present] = dense
        key = np.where((key >= 0) & (c >= 0), key * np.int64(width) + c, -1)
    return key


def _unordered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A key for the pair of names whichever way round they were given (first and last names
    swapped), from codes in two vocabularies mapped to one by the caller."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return combine(lo, hi)


def _anagram(c: Coded) -> np.ndarray:
    """A code per record for the value's characters in sorted order: two swapped keystrokes
    give the same code (-1 when missing)."""
    if not len(c.values):
        return c.codes
    _, codes = np.unique(np.array(["".join(sorted(v)) for v in c.values], dtype=object), return_inverse=True)
    return np.where(c.codes >= 0, np.asarray(codes, dtype=np.int64)[np.maximum(c.codes, 0)], -1)


def _prefix(c: Coded, k: int) -> np.ndarray:
    """The code of each record's first k letters of a detail (-1 when missing)."""
    if not len(c.values):
        return c.codes
    # Arrow slices (by characters) and codes the distinct values without Python strings: a
    # sort of a million Python strings took half a second.
    head = pac.utf8_slice_codeunits(pa.array(c.values, type=pa.string()), 0, k)
    codes = pac.dictionary_encode(head).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(c.codes >= 0, codes[np.maximum(c.codes, 0)], -1)


def _initial(c: Coded) -> np.ndarray:
    """The code of each record's first letter of a name (-1 when missing)."""
    return _prefix(c, 1)


def passes(f: Fields) -> dict[str, Callable[[], np.ndarray]]:
    """The blocking keys, one per pass, named for the methodology and the benchmark. Each key is
    built when its pass runs and dropped after it: 25 keys of ten million records held at once
    were 2 GB."""
    # Both name vocabularies in one, so that a forename given as a surname meets its twin.
    vocab = np.unique(np.concatenate([f.first.values, f.last.values]).astype(str))
    first = np.where(f.first.codes >= 0, np.searchsorted(vocab, f.first.values.astype(str))[np.maximum(f.first.codes, 0)]
                     if len(f.first.values) else -1, -1)
    last = np.where(f.last.codes >= 0, np.searchsorted(vocab, f.last.values.astype(str))[np.maximum(f.last.codes, 0)]
                    if len(f.last.values) else -1, -1)
    y, m, d = f.dob // 10000, (f.dob // 100) % 100, f.dob % 100
    # Dates as y*372 + m*31 + d (about 2^20, not yyyymmdd's 2^25), so that keys built from
    # them stay narrow enough to sort packed with a position (see _groups).
    dob = np.where(f.dob >= 0, y * 372 + m * 31 + d, -1)
    dob_any_order = np.where(f.dob >= 0, y * 372 + np.minimum(m, d) * 31 + np.maximum(m, d), -1)
    initials = combine(_initial(f.first), _initial(f.last))
    # Forename and surname (either way round) alone would pair every namesake in a national
    # extract; a coarse second key each (a letter of the street or town, the postcode's first
    # two characters, the decade of birth) keeps the pairs few while one of them still agrees.
    names = _unordered(first, last)
    decade = np.where(f.dob >= 0, f.dob // 100_000, -1)
    return {
        "forename and surname (either way round) and the street's first letter": lambda: combine(names, _initial(f.street)),
        "forename and surname (either way round) and the town's first letter": lambda: combine(names, _initial(f.town)),
        "forename and surname (either way round) and the postcode's first two characters":
            lambda: combine(names, _prefix(f.postcode, 2)),
        "forename and surname (either way round) and the decade of birth": lambda: combine(names, decade),
        "surname and date of birth (day and month either way)": lambda: combine(last, dob_any_order),
        "forename and date of birth (day and month either way)": lambda: combine(first, dob_any_order),
        "date of birth and postcode": lambda: combine(dob, f.postcode.codes),
        "surname and postcode": lambda: combine(last, f.postcode.codes),
        "forename and postcode": lambda: combine(first, f.postcode.codes),
        "surname and street": lambda: combine(last, f.street.codes),
        "initials, house number and street": lambda: combine(initials, f.house.codes, f.street.codes),
        "initials and date of birth": lambda: combine(initials, dob),
        "date of birth and town": lambda: combine(dob, f.town.codes),
        "surname and town": lambda: combine(last, f.town.codes),
        "forename and town": lambda: combine(first, f.town.codes),
        "date of birth and the forename's first three letters": lambda: combine(dob, _prefix(f.first, 3)),
        "date of birth and the surname's first three letters": lambda: combine(dob, _prefix(f.last, 3)),
        "date of birth and street": lambda: combine(dob, f.street.codes),
        "street and town": lambda: combine(f.street.codes, f.town.codes),
        "NI number": lambda: f.ni.codes,
        "employee or payroll number": lambda: f.employee.codes,
        "NI number with its characters sorted (two keys swapped)": lambda: _anagram(f.ni),
        "employee or payroll number with its characters sorted": lambda: _anagram(f.employee),
        "email": lambda: f.email.codes,
        "phone": lambda: f.phone.codes,
    }


COLLECT_PAIRS = 8_000_000  # candidate pairs (8 bytes each) gathered and sorted before ownership takes over


def owned_pairs(f: Fields, collect_pairs: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every distinct record pair (i < j) sharing a key in any pass, each exactly once, in
    batches.

    While the passes' pairs number at most ``collect_pairs`` (``COLLECT_PAIRS``) they are
    gathered and their duplicates dropped by one sort: at a million records that is all of
    them. Beyond that a pair belongs to the first pass that forms it and a later pass drops
    it, so each batch can be compared, scored and mostly discarded as it is made and the
    candidate pairs of all passes are never held at once (at ten million records they ran to
    hundreds of millions). What is held instead is each earlier pass's block number per
    record (4 bytes a record a pass), to tell whether a pair was already formed. Either way
    the pairs are the same; only the work and the memory differ."""
    budget = COLLECT_PAIRS if collect_pairs is None else collect_pairs
    n = np.int64(max(f.n, 1))
    gathered: list[np.ndarray] = []  # pairs as a * n + b
    held: list[Blocks] = []  # the passes gathered so far
    count = 0
    earlier: list[np.ndarray] | None = None  # the passes' block numbers, once ownership took over
    makers = passes(f).values()
    for current in (_ahead(makers) if worth_threads(f.n) else (blocks(make()) for make in makers)):
        if not len(current.sizes):
            continue
        if earlier is None and count + current.pairs <= budget:
            gathered.extend(a * n + b for a, b in _pairs(current))
            held.append(current)
            count += current.pairs
            continue
        if earlier is None:  # too many to gather: what was gathered first, then ownership
            yield from _distinct(gathered, n)
            earlier, gathered, held = [h.labels() for h in held], [], []
        for a, b in _pairs(current):
            new = np.ones(len(a), dtype=bool)
            for label in earlier:
                new &= ~_together(label, a, b)
            if new.any():
                yield a[new], b[new]
        earlier.append(current.labels())
        del current
    if earlier is None:
        yield from _distinct(gathered, n)


def _distinct(keys: list[np.ndarray], n: np.int64) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The distinct pairs among pairs packed as a * n + b, in order, in batches."""
    if not keys:
        return
    pair = np.concatenate(keys)
    pair.sort()
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]]
    for i in range(0, len(pair), PAIR_BATCH):
        part = pair[i:i + PAIR_BATCH]
        yield part // n, part % n


AHEAD = 2  # passes whose blocks are worked out at once on other threads


def _ahead(makers: Iterable[Callable[[], np.ndarray]]) -> Iterator[Blocks]:
    """Each pass's blocks, in order, worked out up to ``AHEAD`` passes ahead on threads while
    the caller forms and scores the pairs of the current one. A pass is mostly sorting and
    indexing, which numpy does without Python's lock, so two cores sort two passes at once.
    Blocks do not depend on one another: the result is the same as one pass after another."""
    makers = iter(makers)
    with pool(AHEAD, "riskkit-blocking") as workers:
        pending: deque[Future[Blocks]] = deque()  # stopped early, ``pool`` cancels those not started
        for make in makers:
            pending.append(workers.submit(lambda m=make: blocks(m())))
            if len(pending) > AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
